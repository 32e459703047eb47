"""Weather alerts, set by the union's admins: /staff/alerts (alerts/weather.py holds the rules)."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from stationfinder.accounts.roles import UNION_ADMIN
from stationfinder.alerts import weather
from stationfinder.core.clock import SHANGHAI, local_now
from stationfinder.db import get_session
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.context import current_alerts
from stationfinder.web.staff import bp
from stationfinder.web.staff.forms import ActionForm, options

_FORMAT = "%Y-%m-%dT%H:%M"


class AlertForm(FlaskForm):
    kind = SelectField(
        lazy_gettext("Alert"),
        choices=options((k.code, lazy_gettext(k.label)) for k in weather.KINDS),
    )
    level = SelectField(
        lazy_gettext("Level"),
        choices=options((code, lazy_gettext(label)) for code, label in weather.LEVELS.items()),
    )
    starts_at = DateTimeLocalField(
        lazy_gettext("From (Beijing time)"), format=_FORMAT, validators=[DataRequired()]
    )
    ends_at = DateTimeLocalField(
        lazy_gettext("Until (Beijing time)"), format=_FORMAT, validators=[DataRequired()]
    )
    max_temp_c = IntegerField(
        lazy_gettext("Forecast maximum, °C (heat)"),
        validators=[Optional(), NumberRange(min=-40, max=50)],
    )
    note = StringField(lazy_gettext("Note for couriers"), validators=[Length(max=weather.NOTE_MAX)])


def _page(form: AlertForm, status: int = 200) -> tuple[str, int]:
    session = get_session()
    alerts = weather.alerts_for_staff(session)
    return (
        render_template(
            "staff/alerts.html",
            form=form,
            alerts=alerts,
            active=weather.active_alert(session),
            end_form=ActionForm(),
            kinds={k.code: k.label for k in weather.KINDS},
            levels=weather.LEVELS,
        ),
        status,
    )


@bp.get("/alerts")
@staff_required(UNION_ADMIN)
def alerts() -> tuple[str, int]:
    form = AlertForm()
    now = local_now().replace(second=0, microsecond=0, tzinfo=None)
    form.starts_at.data = form.starts_at.data or now
    return _page(form)


@bp.post("/alerts")
@staff_required(UNION_ADMIN)
def set_alert() -> tuple[str, int] | BaseResponse:
    form = AlertForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    staff = current_staff()
    assert staff is not None
    session = get_session()
    try:
        with session.begin():
            weather.issue_alert(
                session,
                kind=form.kind.data or "",
                level=form.level.data or "",
                starts_at=_aware(form.starts_at.data),
                ends_at=_aware(form.ends_at.data),
                max_temp_c=form.max_temp_c.data,
                note=form.note.data or "",
                by=staff.username,
            )
    except weather.AlertError as exc:
        field = getattr(form, exc.field or "", None)
        if field is not None:
            field.errors = [*field.errors, exc.message]
        return _page(form, 400)
    current_alerts().invalidate()
    flash("alert_set")
    return redirect(url_for("staff.alerts"))


@bp.post("/alerts/<int:alert_id>/end")
@staff_required(UNION_ADMIN)
def end_alert(alert_id: int) -> BaseResponse:
    if not ActionForm().validate_on_submit():
        return redirect(url_for("staff.alerts"))
    staff = current_staff()
    assert staff is not None
    session = get_session()
    with session.begin():
        weather.end_alert(session, alert_id, staff.username)
    current_alerts().invalidate()
    flash("alert_ended")
    return redirect(url_for("staff.alerts"))


def _aware(local: datetime | None) -> datetime:
    """A datetime-local value is Beijing time."""
    assert local is not None  # DataRequired
    return local.replace(tzinfo=SHANGHAI)
