"""The staff area's forms (Flask-WTF: every one carries a CSRF token).

Labels are gettext msgids (lazy: translated when a page renders them). Kinds,
subdistricts and amenities are the vocabulary's bilingual data, shown in the page's
language by `VocabularyLabel`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import lazy_gettext, lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import escape
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
from stationfinder.core.vocabulary import ACCESSES, AMENITIES, KINDS
from stationfinder.registry import fields
from stationfinder.registry.fields import FieldType

ROLE_LABELS = {
    "street_staff": lazy_gettext("street staff"),
    "district_admin": lazy_gettext("district admin"),
    "council_secretary": lazy_gettext("council secretary"),
    "union_admin": lazy_gettext("union admin"),
}
MIN_PASSWORD = 10
_MAX_RETIRED_REASON = fields.field("retired_reason").max_length
_MAX_NOTE = fields.field("out_of_service").max_length  # one note per amenity out of service


class VocabularyLabel:
    """A vocabulary entry's name in the page's language, chosen when it is rendered
    (the forms are declared once, at import). Kinds, subdistricts and amenities are
    bilingual data in core/vocabulary.py, not catalogue entries: they are names the
    registry, the imports and OpenStreetMap share."""

    def __init__(self, zh: str, en: str, icon: str = "") -> None:
        self.zh, self.en, self.icon = zh, en, icon

    def __str__(self) -> str:
        from stationfinder.web.i18n import current_lang

        name = self.en if current_lang() == "en" else self.zh
        return f"{self.icon} {name}" if self.icon else name

    def __html__(self) -> str:
        return str(escape(str(self)))


def declared_label(name: str) -> Any:
    """A station field's label as registry/fields.py declares it, translated when shown."""
    return lazy_gettext(fields.field(name).label)


def declared_validators(name: str, *, optional: bool = False) -> list[Any]:
    """The validators registry/fields.py implies for a station field: a blank refused
    when the field is required (else allowed), and its length limit, so the form and
    the registry refuse the same text. `optional` where the form may leave a required
    field blank for the registry to fill (the id)."""
    spec = fields.field(name)
    chain: list[Any] = []
    if spec.required and not optional:
        chain.append(InputRequired() if spec.type is FieldType.NUMBER else DataRequired())
    else:
        chain.append(Optional())
    if spec.max_length is not None:
        chain.append(Length(max=spec.max_length))
    if spec.type is FieldType.INTEGER and (spec.minimum is not None or spec.maximum is not None):
        chain.append(NumberRange(min=spec.minimum, max=spec.maximum))
    return chain


def yes_no_unknown(value: Any) -> bool | None:
    """A yes/no/unknown select's value: True, False, or None for "unknown" (left blank).
    Also what it is given back (a stored True/False/None), so the choice shows selected."""
    if value is True or value in ("yes", "true", "1"):
        return True
    if value is False or value in ("no", "false", "0"):
        return False
    return None


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def street_choices(blank: Any = None) -> Callable[[], list[SelectChoice]]:
    """The loaded subdistricts as a select's choices, read when a form is made (areas
    are data: `load-areas` may have loaded a city's). With more than one district they
    are grouped by district (optgroups), in the one division-code order."""

    def choices() -> list[SelectChoice]:
        from stationfinder.web.context import current_areas
        from stationfinder.web.i18n import current_lang

        areas = current_areas()
        english = current_lang() == "en"
        grouped = len(areas.districts()) > 1
        result = [SelectChoice("", blank)] if blank is not None else []
        for district in areas.districts():
            group = district.label(english) if grouped else None
            result.extend(
                SelectChoice(s.key, s.short_label(english) if grouped else s.label(english),
                             optgroup=group)
                for s in areas.listed(district.code)
            )  # fmt: skip
        return result

    return choices


def district_choices(blank: Any = None) -> Callable[[], list[SelectChoice]]:
    """The loaded districts as a select's choices (code, name in the page's language)."""

    def choices() -> list[SelectChoice]:
        from stationfinder.web.context import current_areas
        from stationfinder.web.i18n import current_lang

        english = current_lang() == "en"
        result = [SelectChoice("", blank)] if blank is not None else []
        result.extend(SelectChoice(d.code, d.label(english)) for d in current_areas().districts())
        return result

    return choices


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=200)])


class StationForm(FlaskForm):
    version = HiddenField()
    confirmed = HiddenField()  # "1" once the editor has seen the nearby/same-name warning
    station_id = StringField(
        declared_label("id"),
        validators=declared_validators("id", optional=True),
        description=lazy_gettext("blank: automatic"),
    )
    name = StringField(declared_label("name"), validators=declared_validators("name"))
    name_en = StringField(declared_label("name_en"), validators=declared_validators("name_en"))
    kind = SelectField(
        declared_label("kind"),
        choices=options((k.name, VocabularyLabel(k.name, k.en)) for k in KINDS),
    )
    street = SelectField(
        declared_label("street"),
        choices=street_choices(lazy_gettext("from the position")),
        validators=declared_validators("street"),
    )
    address = StringField(declared_label("address"), validators=declared_validators("address"))
    crs = SelectField(
        lazy_gettext("Coordinate system"),
        choices=options(
            [
                ("wgs84", lazy_gettext("WGS-84 (GPS, OpenStreetMap)")),
                ("gcj02", lazy_gettext("GCJ-02 (Amap, Tencent)")),
            ]
        ),
        default="wgs84",
    )
    lon = DecimalField(declared_label("lon"), places=None, validators=declared_validators("lon"))
    lat = DecimalField(declared_label("lat"), places=None, validators=declared_validators("lat"))
    amenities = MultiCheckboxField(
        declared_label("amenities"),
        choices=options((a.code, VocabularyLabel(a.zh, a.en, a.icon)) for a in AMENITIES),
    )
    opening_hours = StringField(
        declared_label("opening_hours"),
        validators=declared_validators("opening_hours"),
        description=lazy_gettext(
            "OpenStreetMap syntax, e.g. Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00; PH off"
        ),
    )
    phone = StringField(declared_label("phone"), validators=declared_validators("phone"))
    # Left out of a post (a script's or an older page's), like a text box left out: unknown.
    access = SelectField(
        declared_label("access"),
        default="",
        choices=options(
            [
                ("", lazy_gettext("unknown")),
                *((a.code, VocabularyLabel(a.zh, a.en)) for a in ACCESSES),
            ]
        ),
    )
    access_note = StringField(
        declared_label("access_note"),
        validators=declared_validators("access_note"),
        description=lazy_gettext("Short and public, e.g. sign in at the gatehouse"),
    )
    seats = IntegerField(declared_label("seats"), validators=declared_validators("seats"))
    step_free = SelectField(
        declared_label("step_free"),
        choices=options(
            [
                ("", lazy_gettext("unknown")),
                ("yes", lazy_gettext("yes")),
                ("no", lazy_gettext("no")),
            ]
        ),
        coerce=yes_no_unknown,
        validators=declared_validators("step_free"),
        description=lazy_gettext("No step, or a ramp: for e-bikes and wheelchairs"),
    )
    photo = FileField(lazy_gettext("Photo of the front (JPEG/PNG/WebP)"))
    reason = StringField(lazy_pgettext("edit", "Reason"), validators=[Optional(), Length(max=500)])


class RetireForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(
        lazy_gettext("Why it closes"), validators=[DataRequired(), Length(max=_MAX_RETIRED_REASON)]
    )


class ReasonForm(FlaskForm):
    version = HiddenField()
    reason = StringField(lazy_gettext("Reason"), validators=[Optional(), Length(max=500)])


class OutOfServiceForm(FlaskForm):
    version = HiddenField()
    amenity = SelectField(
        lazy_gettext("Amenity"),
        choices=options((a.code, VocabularyLabel(a.zh, a.en)) for a in AMENITIES),
    )
    note = StringField(
        lazy_gettext("Public note"),
        validators=[Optional(), Length(max=_MAX_NOTE)],
        description=lazy_gettext("e.g. water dispenser under repair; blank: back in service"),
    )


class ChangeLogForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    person = SelectField(lazy_gettext("Person"), choices=[], validate_choice=False)
    street = SelectField(lazy_gettext("Subdistrict"), choices=street_choices(lazy_gettext("all")))
    start = StringField(lazy_gettext("From (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    end = StringField(lazy_gettext("To (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])


class AccountForm(FlaskForm):
    username = StringField(
        lazy_gettext("Username"), validators=[DataRequired(), Length(min=2, max=64)]
    )
    display_name = StringField(
        lazy_pgettext("person", "Name"), validators=[Optional(), Length(max=100)]
    )
    role = SelectField(lazy_gettext("Role"), choices=options((r, ROLE_LABELS[r]) for r in ROLES))
    street = SelectField(lazy_gettext("Subdistrict"), choices=street_choices("—"))
    district = SelectField(lazy_gettext("District"), choices=district_choices("—"), default="")
    password = PasswordField(
        lazy_pgettext("initial", "Password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)],
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)]
    )


class TokenForm(FlaskForm):
    name = StringField(lazy_gettext("What it is for"), validators=[DataRequired(), Length(max=100)])


class RestoreVersionForm(FlaskForm):
    version = HiddenField()
    target = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    reason = StringField(lazy_gettext("Reason"), validators=[Optional(), Length(max=500)])


class ListFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(lazy_pgettext("staff", "Search"), validators=[Optional(), Length(max=60)])
    district = SelectField(
        lazy_gettext("District"), choices=district_choices(lazy_gettext("all")), default=""
    )
    street = SelectField(lazy_gettext("Subdistrict"), choices=street_choices(lazy_gettext("all")))
    kind = SelectField(
        lazy_gettext("Kind"),
        choices=options(
            [("", lazy_gettext("all")), *((k.name, VocabularyLabel(k.name, k.en)) for k in KINDS)]
        ),
    )
    state = SelectField(
        lazy_gettext("State"),
        choices=options(
            [
                ("active", lazy_gettext("active")),
                ("retired", lazy_pgettext("state", "retired")),
                ("all", lazy_gettext("all")),
            ]
        ),
        default="active",
    )
