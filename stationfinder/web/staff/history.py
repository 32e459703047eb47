"""History pages: the staff home, a station's changes with "restore this version", and
the change log across the registry, filterable by person, subdistrict and date."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext, pgettext
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.core import hours
from stationfinder.core.vocabulary import AMENITY_BY_CODE
from stationfinder.db import get_session
from stationfinder.models import Station
from stationfinder.registry import editing
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.errors import ApiError
from stationfinder.web.i18n import current_lang, vocabulary_label
from stationfinder.web.staff import bp
from stationfinder.web.staff.forms import ROLE_LABELS, ChangeLogForm, RestoreVersionForm, options
from stationfinder.web.staff.stations import EDITORS


@bp.app_template_filter("staff_time")
def staff_time(moment: datetime | None) -> str:
    """A stored UTC moment as Asia/Shanghai wall time."""
    if moment is None:
        return ""
    return moment.astimezone(hours.TZ).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("staff_value")
def staff_value(value: Any, key: str | None = None) -> str:
    """A history value in words, in the page's language: amenity codes by their names
    (the codes themselves are for the API and the import files), yes/no, lists joined,
    empty shown as a dash."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return pgettext("list", ", ").join(_amenity(v) for v in value)
    if isinstance(value, dict):
        return gettext("; ").join(f"{_amenity(k)}: {v}" for k, v in value.items())
    if key in ("kind", "street", "access"):
        return vocabulary_label(key, str(value))
    return str(value)


# What the system itself writes into the registry's history (ops/startup.py's seed).
_SEEDED = re.compile(r"^first start: seeded from (\S+)$")


@bp.app_template_filter("staff_reason")
def staff_reason(reason: str | None) -> str:
    """A revision's reason: what people typed as typed; the system's own in words."""
    match = _SEEDED.match(reason or "")
    if match:
        return gettext("first start: seeded from %(file)s", file=match.group(1))
    return reason or ""


@bp.app_template_filter("staff_actor")
def staff_actor(actor: str | None) -> str:
    """Who changed a station: a username, or the system (the first start's seed)."""
    return gettext("system") if actor == "system" else (actor or "")


def _amenity(code: object) -> str:
    amenity = AMENITY_BY_CODE.get(str(code))
    if amenity is None:
        return str(code)
    return amenity.en if current_lang() == "en" else amenity.zh


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "current_staff": current_staff(),
        "amenity_by_code": AMENITY_BY_CODE,
        "role_label": lambda role: str(ROLE_LABELS.get(role, role)),
    }


@bp.get("/")
@staff_required()
def home() -> str:
    return render_template("staff/home.html", staff=current_staff())


@bp.get("/stations/<station_id>/history")
@staff_required()
def station_history(station_id: str) -> str:
    db = get_session()
    station = db.get(Station, station_id) if len(station_id) <= 32 else None
    if station is None:
        raise ApiError(f"no station {station_id!r}", status=404, code="not_found")
    staff = current_staff()
    assert staff is not None
    may_restore = staff.edits_stations and staff.may_edit(station.street)
    return render_template(
        "staff/history.html",
        station=station,
        revisions=editing.history(db, station_id),
        may_restore=may_restore,
        form=RestoreVersionForm(formdata=None, version=str(station.version)),
    )


@bp.post("/stations/<station_id>/history/restore")
@staff_required(*EDITORS)
def restore_version(station_id: str) -> BaseResponse:
    form = RestoreVersionForm()
    if not form.validate_on_submit():
        raise ApiError("pick a version to restore", field="target")
    staff = current_staff()
    assert staff is not None
    db = get_session()
    # A refusal (no right, no such station, a newer version saved meanwhile: 409) is
    # answered by the app's one error handler with its own status and words.
    with db.begin():
        editing.restore_version(
            db,
            station_id,
            form.target.data,
            current_areas(),
            staff,
            expected_version=int(form.version.data) if form.version.data.isdigit() else None,
            reason=form.reason.data or "",
        )
    flash("version_restored")
    return redirect(url_for("staff.station_history", station_id=station_id))


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


@bp.get("/changes")
@staff_required()
def changes() -> tuple[str, int]:
    db = get_session()
    form = ChangeLogForm(formdata=request.args)
    people = editing.people_in_log(db)
    form.person.choices = options(
        [("", lazy_gettext("all")), *((p, staff_actor(p)) for p in people)]
    )
    form.validate()
    start, end = _day(form.start.data), _day(form.end.data)
    bad_date = (form.start.data and start is None) or (form.end.data and end is None)
    rows = editing.change_log(
        db,
        editing.LogFilter(
            person=form.person.data or None,
            street=form.street.data or None,
            start=start,
            end=end,
        ),
    )
    page = render_template("staff/changes.html", form=form, rows=rows, bad_date=bad_date, limit=200)
    return page, 400 if bad_date else 200
