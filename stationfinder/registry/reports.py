"""Couriers' problem reports ("信息有误 / 设施坏了"): filed without an account, triaged by staff.

A report says one of seven things about a station. What confirming it does:

- `amenity_broken`: the amenity is marked out of service with the public note staff
  type ("饮水机维修中"), through `editing.set_out_of_service`, so it has a revision in the
  station's history and the locator stops offering the station for that amenity until
  staff mark it back in service.
- `gone`: nothing changes by itself; staff are sent to retire the station on its edit
  page, where retiring asks for a reason and keeps the record.
- `closed_when_open`, `wrong_hours`, `wrong_place`, `wrong_phone`: a note for staff, who
  correct the hours, the position or the phone on the edit page.
- `no_entry` ("进不了": locked, or not let in, the failure news reports cite most for
  such stations): staff are sent to the station's edit page to check how couriers get in
  (the hours, the public notes, or retiring a station that no longer takes couriers).

street_staff see and handle the reports of their own subdistrict only, district_admin
those of their district's; union_admin all.
No Flask here: callers own the transaction (`with session.begin():`); functions flush.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from stationfinder.core.errors import DomainError
from stationfinder.models import ProblemReport, Station, utcnow
from stationfinder.registry import editing
from stationfinder.registry.editing import Editor, NotAllowed

CATEGORIES = (
    "closed_when_open",
    "wrong_hours",
    "no_entry",
    "amenity_broken",
    "wrong_phone",
    "wrong_place",
    "gone",
)
NEW, CONFIRMED, DISMISSED = "new", "confirmed", "dismissed"
STATUSES = (NEW, CONFIRMED, DISMISSED)
MAX_MESSAGE = 500
MAX_STAFF_NOTE = 500
INBOX_LIMIT = 200

# What confirming each category leads to; the inbox page words each one.
ACTIONS = {
    "amenity_broken": "out_of_service",
    "gone": "propose_retire",
    "closed_when_open": "check_hours",
    "wrong_hours": "check_hours",
    "wrong_phone": "check_phone",
    "wrong_place": "check_position",
    "no_entry": "check_access",
}


class ReportError(DomainError):
    """A report or a triage step that was refused; nothing was written."""

    code = "invalid_report"


class ReportNotFound(ReportError):
    status = 404
    code = "not_found"


@dataclass(frozen=True)
class Triaged:
    report: ProblemReport
    station: Station
    action: str | None  # ACTIONS[category] when confirmed, None when dismissed


def clean_message(text: str | None, *, limit: int = MAX_MESSAGE) -> str:
    """What a courier typed, trimmed; line breaks kept, other control characters dropped."""
    text = unicodedata.normalize("NFC", (text or "").strip())
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cf"}
    )
    if len(text) > limit:
        raise ReportError(f"the message is longer than {limit} characters", field="message")
    return text


def reportable_station(session: Session, station_id: str) -> Station | None:
    """The station a courier may report on: it exists and has not been retired."""
    station = session.get(Station, station_id) if len(station_id) <= 32 else None
    return station if station is not None and station.active else None


def file_report(
    session: Session,
    station_id: str,
    category: str,
    *,
    device_hash: str,
    amenity: str | None = None,
    message: str | None = None,
    photo_id: str | None = None,
) -> ProblemReport:
    """Add a courier's report (status "new"); ReportError when it does not make sense."""
    station = reportable_station(session, station_id)
    if station is None:
        raise ReportNotFound(f"no station {station_id!r}", field="station_id")
    if category not in CATEGORIES:
        raise ReportError("choose what is wrong", field="category")
    if category == "amenity_broken":
        if not amenity or amenity not in (station.amenities or []):
            raise ReportError("choose which facility is broken", field="amenity")
    else:
        amenity = None
    report = ProblemReport(
        station_id=station.id,
        category=category,
        amenity=amenity,
        message=clean_message(message),
        photo_id=photo_id,
        device_hash=device_hash,
        status=NEW,
    )
    session.add(report)
    session.flush()
    return report


def _check_reader(editor: Editor) -> None:
    if not editor.edits_stations:
        raise NotAllowed("only street staff and the union's admins handle reports")


def inbox(
    session: Session, editor: Editor, *, status: str = NEW, limit: int = INBOX_LIMIT
) -> list[tuple[ProblemReport, Station]]:
    """Reports in the editor's scope with this status, newest first."""
    _check_reader(editor)
    if status not in STATUSES:
        raise ReportError(f"unknown status {status!r}", field="status")
    query = (
        select(ProblemReport, Station)
        .join(Station, Station.id == ProblemReport.station_id)
        .where(ProblemReport.status == status)
        .order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc())
        .limit(limit)
    )
    scope = editor.limit()
    if scope is not None:
        query = query.where(Station.street.in_(sorted(scope)))
    return [(report, station) for report, station in session.execute(query)]


def get_report(session: Session, report_id: int, editor: Editor) -> tuple[ProblemReport, Station]:
    """A report and its station; NotAllowed outside the editor's subdistrict."""
    _check_reader(editor)
    report = session.get(ProblemReport, report_id)
    if report is None:
        raise ReportNotFound(f"no report {report_id}")
    station = session.get_one(Station, report.station_id)
    if not editor.may_edit(station.street):
        raise NotAllowed(f"report {report_id} is about a station in {station.street}")
    return report, station


def _open(report: ProblemReport) -> None:
    if report.status != NEW:
        raise ReportError(
            f"report {report.id} was already {report.status} by {report.handled_by}",
            field="status",
        )


def confirm(
    session: Session, report_id: int, editor: Editor, *, note: str | None = None
) -> Triaged:
    """Confirm a report and do what its category calls for.

    For `amenity_broken`, `note` is the public notice ("饮水机维修中") and is required;
    for the other categories it is an optional note for staff.
    """
    report, station = get_report(session, report_id, editor)
    _open(report)
    if report.category == "amenity_broken" and report.amenity:
        editing.set_out_of_service(session, station.id, report.amenity, note or "", editor)
        note = (note or "").strip()
    else:
        note = clean_message(note, limit=MAX_STAFF_NOTE) or None
    _close(session, report, CONFIRMED, editor, note)
    return Triaged(report, station, ACTIONS.get(report.category))


def dismiss(
    session: Session, report_id: int, editor: Editor, *, note: str | None = None
) -> Triaged:
    """Dismiss a report (nothing wrong, or already fixed); the station is untouched."""
    report, station = get_report(session, report_id, editor)
    _open(report)
    _close(session, report, DISMISSED, editor, clean_message(note, limit=MAX_STAFF_NOTE) or None)
    return Triaged(report, station, None)


def _close(
    session: Session, report: ProblemReport, status: str, editor: Editor, note: str | None
) -> None:
    report.status = status
    report.handled_by = editor.username
    report.handled_at = utcnow()
    report.staff_note = note
    session.flush()


def back_in_service(session: Session, station_id: str, amenity: str, editor: Editor) -> Station:
    """The amenity works again: the locator offers the station for it once more."""
    return editing.set_out_of_service(session, station_id, amenity, None, editor)


def out_of_service(session: Session, editor: Editor) -> list[Station]:
    """Active stations in the editor's scope with an amenity marked out of service."""
    _check_reader(editor)
    query = select(Station).where(Station.active).order_by(Station.id)
    scope = editor.limit()
    if scope is not None:
        query = query.where(Station.street.in_(sorted(scope)))
    # JSON emptiness is not portable SQL; a district's stations are few.
    return [s for s in session.scalars(query) if s.out_of_service]
