"""The staff inbox of couriers' problem reports: confirm or dismiss, and amenities back in
service. street_staff see and act on their own subdistrict's reports only."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField
from wtforms.validators import Length, Optional

from stationfinder.accounts.roles import STATION_EDITORS
from stationfinder.core.errors import DomainError
from stationfinder.core.vocabulary import AMENITY_BY_CODE
from stationfinder.db import get_session
from stationfinder.registry import editing, photos, reports
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.staff import bp, no_store
from stationfinder.web.staff.forms import ActionForm

EDITORS = STATION_EDITORS


class TriageForm(FlaskForm):
    note = StringField(validators=[Optional(), Length(max=reports.MAX_STAFF_NOTE)])


def _staff() -> Any:
    staff = current_staff()
    assert staff is not None
    return staff


def _public(exc: DomainError) -> DomainError:
    """Refusals raised as they are: each carries its status and code (core/errors.py)."""
    return exc


def _inbox(status: str, problem: str | None = None, code: int = 200) -> tuple[str, int]:
    session = get_session()
    staff = _staff()
    try:
        rows = reports.inbox(session, staff, status=status)
        broken = reports.out_of_service(session, staff)
    except (reports.ReportError, editing.EditError) as exc:
        raise _public(exc) from None
    html = render_template(
        "staff/reports.html",
        rows=rows,
        broken=broken,
        status=status,
        statuses=reports.STATUSES,
        actions=reports.ACTIONS,
        amenity_by_code=AMENITY_BY_CODE,
        triage=TriageForm(formdata=None),
        action=ActionForm(formdata=None),
        problem=problem,
    )
    return html, code


@bp.get("/reports")
@staff_required(*EDITORS)
def report_inbox() -> Response:
    status = request.args.get("status", reports.NEW)
    if status not in reports.STATUSES:
        abort(404)
    html, code = _inbox(status)
    return no_store(current_app.make_response((html, code)))


def _triage(report_id: int, verb: str) -> BaseResponse | tuple[str, int]:
    form = TriageForm()
    if not form.validate_on_submit():
        return _inbox(reports.NEW, gettext("The note is too long."), 400)
    session = get_session()
    try:
        with session.begin():
            step = reports.confirm if verb == "confirm" else reports.dismiss
            done = step(session, report_id, _staff(), note=form.note.data)
    except (editing.NotAllowed, reports.ReportNotFound) as exc:
        raise _public(exc) from None
    except (reports.ReportError, editing.EditError) as exc:
        return _inbox(reports.NEW, getattr(exc, "message", str(exc)), 400)
    if done.action == "propose_retire":
        # Retiring asks for a reason and keeps the record: that is the edit page's job.
        return redirect(url_for("staff.edit_station", station_id=done.station.id, retire=1))
    if done.action == "check_access":
        # Couriers could not get in: the hours, the notes (or retiring a station that no
        # longer takes couriers) are on the edit page, so staff go there at once.
        return redirect(url_for("staff.edit_station", station_id=done.station.id, check="access"))
    return redirect(url_for("staff.report_inbox", done=report_id))


@bp.post("/reports/<int:report_id>/confirm")
@staff_required(*EDITORS)
def confirm_report(report_id: int) -> BaseResponse | tuple[str, int]:
    return _triage(report_id, "confirm")


@bp.post("/reports/<int:report_id>/dismiss")
@staff_required(*EDITORS)
def dismiss_report(report_id: int) -> BaseResponse | tuple[str, int]:
    return _triage(report_id, "dismiss")


@bp.post("/reports/back-in-service/<station_id>/<amenity>")
@staff_required(*EDITORS)
def back_in_service(station_id: str, amenity: str) -> BaseResponse:
    ActionForm().validate_on_submit()  # CSRFProtect has already checked the token
    session = get_session()
    try:
        with session.begin():
            reports.back_in_service(session, station_id, amenity, _staff())
    except (reports.ReportError, editing.EditError) as exc:
        raise _public(exc) from None
    return redirect(url_for("staff.report_inbox"))


@bp.get("/reports/<int:report_id>/photo")
@staff_required(*EDITORS)
def report_photo(report_id: int) -> Response:
    """A report's photo, for the staff who may see the report (not a public URL)."""
    session = get_session()
    try:
        report, _station = reports.get_report(session, report_id, _staff())
    except (reports.ReportError, editing.EditError) as exc:
        raise _public(exc) from None
    photo = photos.get_photo(session, report.photo_id) if report.photo_id else None
    if photo is None:
        abort(404)
    response = Response(photo.content, mimetype=photo.mime)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return no_store(response)
