"""Staff pages for council meetings (/staff/council/meetings): plan a meeting, build its
agenda from the proposed issues, keep the sign-in record, minutes, decisions and their
follow-up. The printable record and the ICS file are public (public.py)."""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.council import meetings as council_meetings
from stationfinder.council.issues import SHANGHAI, CouncilError
from stationfinder.council.meetings import MeetingNotFound, Votes
from stationfinder.db import get_session
from stationfinder.web.auth import staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.council import bp
from stationfinder.web.council.common import public_error
from stationfinder.web.council.staff_issues import COUNCIL_STAFF, actor
from stationfinder.web.errors import public_message


def _int(form: MultiDict[str, str], name: str, *, required: bool = False) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise CouncilError(f"{name} is required", field=name)
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise CouncilError(f"{name} must be a whole number", field=name)
    return int(raw)


def _date(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise CouncilError("a date looks like 2026-12-31", field=field) from None


def _starts_at(form: MultiDict[str, str]) -> datetime:
    try:
        local = datetime.fromisoformat((form.get("starts_at") or "").strip())
    except ValueError:
        raise CouncilError("the start looks like 2026-11-28T14:00", field="starts_at") from None
    return local.replace(tzinfo=SHANGHAI) if local.tzinfo is None else local


@bp.route("/staff/council/meetings", methods=["GET", "POST"])
@staff_required(*COUNCIL_STAFF)
def meetings() -> BaseResponse | tuple[str, int]:
    session = get_session()
    problem = None
    if request.method == "POST":
        form = request.form
        session.commit()
        try:
            with session.begin():
                meeting = council_meetings.create_meeting(
                    session,
                    title=form.get("title", ""),
                    starts_at=_starts_at(form),
                    duration_minutes=_int(form, "duration_minutes") or 90,
                    place=form.get("place", ""),
                    station_id=(form.get("station_id") or "").strip() or None,
                    street=form.get("street", ""),
                    organisations=(form.get("organisations") or "").splitlines(),
                    actor=actor(),
                    areas=current_areas(),
                )
            return redirect(url_for("council.staff_meeting", meeting_id=meeting.id))
        except CouncilError as exc:
            problem = public_message(exc)
    html = render_template(
        "council/staff_meetings.html",
        meetings=council_meetings.meetings(session),
        problem=problem,
        form=request.form,
    )
    return html, 400 if problem else 200


@bp.get("/staff/council/meetings/<int:meeting_id>")
@staff_required(*COUNCIL_STAFF)
def staff_meeting(
    meeting_id: int, problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    session = get_session()
    try:
        record = council_meetings.meeting_record(session, meeting_id)
    except MeetingNotFound:
        abort(404)
    html = render_template(
        "council/staff_meeting.html",
        record=record,
        proposals=council_meetings.propose_agenda(session, record.meeting),
        follow_ups=council_meetings.FOLLOW_UPS,
        problem=problem,
    )
    return html, status


def _agenda(session: Session, meeting_id: int, form: MultiDict[str, str]) -> None:
    ids = [int(v) for v in form.getlist("issue_id") if v.isdigit() and len(v) < 10]
    council_meetings.add_agenda_item(
        session, meeting_id, actor(), title=form.get("title"), issue_ids=ids
    )


def _move(session: Session, meeting_id: int, form: MultiDict[str, str]) -> None:
    step = -1 if form.get("direction") == "up" else 1
    council_meetings.move_item(session, meeting_id, _int(form, "item_id", required=True) or 0, step)


def _sign_in(session: Session, meeting_id: int, form: MultiDict[str, str]) -> None:
    names = form.getlist("organisation")
    counts = form.getlist("present")
    rows = []
    for name, count in zip(names, counts, strict=False):
        if name.strip():
            if not count.strip().isdigit() or len(count.strip()) > 4:
                raise CouncilError("the number present must be a whole number", field="present")
            rows.append((name, int(count)))
    council_meetings.record_sign_in(session, meeting_id, rows)


def _minutes(session: Session, meeting_id: int, form: MultiDict[str, str]) -> None:
    council_meetings.record_minutes(
        session, meeting_id, _int(form, "item_id", required=True) or 0, form.get("minutes", "")
    )


def _decision(session: Session, meeting_id: int, form: MultiDict[str, str]) -> None:
    council_meetings.record_decision(
        session,
        meeting_id,
        _int(form, "item_id", required=True) or 0,
        actor(),
        text=form.get("text", ""),
        owner=form.get("owner", ""),
        due_on=_date(form.get("due_on"), "due_on"),
        votes=Votes(
            _int(form, "votes_for"), _int(form, "votes_against"), _int(form, "votes_abstain")
        ),
    )


def _follow_up(session: Session, meeting_id: int, form: MultiDict[str, str]) -> None:
    decision_id = _int(form, "decision_id", required=True) or 0
    record = council_meetings.meeting_record(session, meeting_id)
    if decision_id not in {d.id for r in record.items for d in r.decisions}:
        raise MeetingNotFound(f"no decision {decision_id} in this meeting", field="decision")
    council_meetings.set_follow_up(
        session, decision_id, actor(), form.get("follow_up", ""), form.get("note")
    )


def _held(session: Session, meeting_id: int, form: MultiDict[str, str]) -> None:
    council_meetings.mark_held(session, meeting_id)


_STEPS = {
    "agenda": _agenda,
    "move": _move,
    "sign-in": _sign_in,
    "minutes": _minutes,
    "decisions": _decision,
    "follow-up": _follow_up,
    "held": _held,
}


@bp.post("/staff/council/meetings/<int:meeting_id>/<step>")
@staff_required(*COUNCIL_STAFF)
def staff_meeting_step(meeting_id: int, step: str) -> BaseResponse | tuple[str, int]:
    if step not in _STEPS:
        abort(404)
    session = get_session()
    try:
        with session.begin():
            _STEPS[step](session, meeting_id, request.form)
    except MeetingNotFound as exc:
        raise public_error(exc) from None
    except CouncilError as exc:
        if exc.status == 404:
            raise public_error(exc) from None
        return staff_meeting(meeting_id, problem=public_message(exc), status=400)
    return redirect(url_for("council.staff_meeting", meeting_id=meeting_id, done=step))
