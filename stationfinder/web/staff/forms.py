"""The staff area's forms (Flask-WTF: every one carries a CSRF token).

Labels are bilingual, Chinese first; the templates show them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from stationfinder.accounts.roles import ROLES
from stationfinder.core.vocabulary import AMENITIES, KINDS, STREETS

ROLE_LABELS = {
    "street_staff": "街道工作人员 street staff",
    "council_secretary": "议事会秘书 council secretary",
    "union_admin": "工会管理员 union admin",
}
MIN_PASSWORD = 10


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def street_choices(blank: str | None = None) -> list[SelectChoice]:
    choices = [(s.name, f"{s.name} {s.en}") for s in STREETS]
    return options([("", blank), *choices] if blank is not None else choices)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LoginForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码 Password", validators=[DataRequired(), Length(max=200)])


class StationForm(FlaskForm):
    version = HiddenField()
    confirmed = HiddenField()  # "1" once the editor has seen the nearby/same-name warning
    station_id = StringField(
        "编号 ID",
        validators=[Optional(), Length(max=32)],
        description="留空自动生成 blank: automatic",
    )
    name = StringField("名称 Name", validators=[DataRequired(), Length(max=100)])
    name_en = StringField("英文名称 English name", validators=[Optional(), Length(max=100)])
    kind = SelectField("类型 Kind", choices=options((k.name, f"{k.name} {k.en}") for k in KINDS))
    street = SelectField("街道 Subdistrict", choices=street_choices("按位置确定 from the position"))
    address = StringField("地址 Address", validators=[Optional(), Length(max=200)])
    crs = SelectField(
        "坐标系 Coordinate system",
        choices=options(
            [
                ("wgs84", "WGS-84（GPS、OpenStreetMap）"),
                ("gcj02", "GCJ-02（高德、腾讯地图 Amap, Tencent）"),
            ]
        ),
        default="wgs84",
    )
    lon = DecimalField("经度 Longitude", places=None, validators=[InputRequired()])
    lat = DecimalField("纬度 Latitude", places=None, validators=[InputRequired()])
    amenities = MultiCheckboxField(
        "设施 Amenities", choices=options((a.code, f"{a.icon} {a.zh} {a.en}") for a in AMENITIES)
    )
    opening_hours = StringField(
        "开放时间 Opening hours",
        validators=[Optional(), Length(max=255)],
        description="OpenStreetMap 格式，如 Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00; PH off",
    )
    phone = StringField("电话 Phone", validators=[Optional(), Length(max=40)])
    photo = FileField("门头照片 Photo of the front (JPEG/PNG/WebP)")
    reason = StringField("修改说明 Reason", validators=[Optional(), Length(max=500)])


class RetireForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField("撤销原因 Why it closes", validators=[DataRequired(), Length(max=500)])


class ReasonForm(FlaskForm):
    version = HiddenField()
    reason = StringField("说明 Reason", validators=[Optional(), Length(max=500)])


class OutOfServiceForm(FlaskForm):
    version = HiddenField()
    amenity = SelectField(
        "设施 Amenity", choices=options((a.code, f"{a.zh} {a.en}") for a in AMENITIES)
    )
    note = StringField(
        "公开说明 Public note",
        validators=[Optional(), Length(max=100)],
        description="如：饮水机维修中 — 留空表示已恢复 blank: back in service",
    )


class ChangeLogForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    person = SelectField("修改人 Person", choices=[], validate_choice=False)
    street = SelectField("街道 Subdistrict", choices=street_choices("全部 all"))
    start = StringField("从 From (YYYY-MM-DD)", validators=[Optional(), Length(max=10)])
    end = StringField("到 To (YYYY-MM-DD)", validators=[Optional(), Length(max=10)])


class AccountForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField("姓名 Name", validators=[Optional(), Length(max=100)])
    role = SelectField("角色 Role", choices=options((r, ROLE_LABELS[r]) for r in ROLES))
    street = SelectField("街道 Subdistrict", choices=street_choices("—"))
    password = PasswordField(
        "初始密码 Password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)]
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        "新密码 New password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)]
    )


class TokenForm(FlaskForm):
    name = StringField("用途 What it is for", validators=[DataRequired(), Length(max=100)])


class RestoreVersionForm(FlaskForm):
    version = HiddenField()
    target = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    reason = StringField("说明 Reason", validators=[Optional(), Length(max=500)])


class ListFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("搜索 Search", validators=[Optional(), Length(max=60)])
    street = SelectField("街道 Subdistrict", choices=street_choices("全部 all"))
    kind = SelectField(
        "类型 Kind", choices=options([("", "全部 all"), *((k.name, k.name) for k in KINDS)])
    )
    state = SelectField(
        "状态 State",
        choices=options(
            [("active", "在用 active"), ("retired", "已撤销 retired"), ("all", "全部 all")]
        ),
        default="active",
    )
