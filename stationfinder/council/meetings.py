"""Council meetings (议事会): the agenda, the sign-in record, minutes, decisions and their
follow-up, and the record printed on A4 or put in a calendar.

Putting an issue on an agenda moves it to on_agenda; a decision on an agenda item moves
its issues to discussed and shows publicly on each issue's page.

A meeting counts as held once its start time has passed, or earlier when staff mark it
held themselves (a meeting brought forward). Recording a decision does not hold a
meeting: secretaries draft decisions before the day, and a board that read 已召开 a
week early told couriers something that had not happened. No Flask here; callers
own the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stationfinder.core.text import N_
from stationfinder.council.issues import (
    ACCEPTED,
    ADDITION_MAX,
    DISCUSSED,
    NEW,
    ON_AGENDA,
    SHANGHAI,
    CouncilError,
    add_event,
    clean_text,
    get_issue,
)
from stationfinder.geo.areas import Areas
from stationfinder.models import (
    AgendaIssue,
    AgendaItem,
    CouncilIssue,
    Decision,
    Meeting,
    Station,
    utcnow,
)

PLANNED, HELD = "planned", "held"
FOLLOW_UPS = ("open", "in_progress", "done", "dropped")
TITLE_MAX = 100
PLACE_MAX = 200
MINUTES_MAX = 5000
ORGANISATIONS_MAX = 20
PROPOSALS = 8


class MeetingNotFound(CouncilError):
    status = 404
    code = "not_found"


@dataclass(frozen=True)
class Votes:
    for_: int | None = None
    against: int | None = None
    abstain: int | None = None


@dataclass
class ItemRecord:
    item: AgendaItem
    issues: list[CouncilIssue]
    decisions: list[Decision]


@dataclass
class MeetingRecord:
    meeting: Meeting
    items: list[ItemRecord]


def _organisations(names: list[str]) -> list[str]:
    cleaned = [clean_text(n, "organisations", limit=100) for n in names]
    cleaned = list(dict.fromkeys(n for n in cleaned if n))
    if len(cleaned) > ORGANISATIONS_MAX:
        raise CouncilError(f"at most {ORGANISATIONS_MAX} organisations", field="organisations")
    return cleaned


def create_meeting(
    session: Session,
    *,
    title: str,
    starts_at: datetime,
    place: str,
    street: str,
    actor: str,
    areas: Areas,
    duration_minutes: int = 90,
    station_id: str | None = None,
    organisations: list[str] | None = None,
) -> Meeting:
    found = areas.subdistrict(street)
    if found is None:
        raise CouncilError(N_("choose a subdistrict"), field="street")
    street = found.key
    if starts_at.tzinfo is None:
        raise CouncilError(N_("the start needs a time zone"), field="starts_at")
    if not 15 <= duration_minutes <= 8 * 60:
        raise CouncilError(N_("a meeting lasts 15 minutes to 8 hours"), field="duration_minutes")
    if station_id and session.get(Station, station_id[:32]) is None:
        raise CouncilError(N_("no such station"), field="station_id")
    meeting = Meeting(
        title=clean_text(title, "title", limit=TITLE_MAX, required=True),
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=clean_text(place, "place", limit=PLACE_MAX, required=True),
        station_id=station_id or None,
        street=street,
        organisations=_organisations(organisations or []),
        sign_in=[],
        status=PLANNED,
        created_by=actor,
    )
    session.add(meeting)
    session.flush()
    return meeting


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id) if 0 < meeting_id < 2**31 else None
    if meeting is None:
        raise MeetingNotFound(f"no meeting {meeting_id}", field="meeting")
    return meeting


def meetings(session: Session, limit: int = 100) -> list[Meeting]:
    return list(session.scalars(select(Meeting).order_by(Meeting.starts_at.desc()).limit(limit)))


def _item(session: Session, meeting: Meeting, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id) if 0 < item_id < 2**31 else None
    if item is None or item.meeting_id != meeting.id:
        raise MeetingNotFound(f"no agenda item {item_id} in this meeting", field="item")
    return item


def propose_agenda(
    session: Session, meeting: Meeting, limit: int = PROPOSALS
) -> list[CouncilIssue]:
    """The most-backed unresolved issues of the meeting's subdistrict not yet on its agenda."""
    on_agenda = (
        select(AgendaIssue.issue_id)
        .join(AgendaItem, AgendaItem.id == AgendaIssue.item_id)
        .where(AgendaItem.meeting_id == meeting.id)
    )
    query = (
        select(CouncilIssue)
        .where(
            CouncilIssue.street == meeting.street,
            CouncilIssue.status.in_((NEW, ACCEPTED, ON_AGENDA)),
            CouncilIssue.hidden.is_(False),
            CouncilIssue.id.not_in(on_agenda),
        )
        .order_by(CouncilIssue.backing_count.desc(), CouncilIssue.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def add_agenda_item(
    session: Session, meeting_id: int, actor: str, *, title: str | None, issue_ids: list[int]
) -> AgendaItem:
    """An item at the end of the agenda, taking up `issue_ids` (titled after the first
    issue when no title is given)."""
    meeting = get_meeting(session, meeting_id)
    issues = [get_issue(session, i) for i in dict.fromkeys(issue_ids)]
    for issue in issues:
        if issue.status not in (NEW, ACCEPTED, ON_AGENDA, DISCUSSED) or issue.hidden:
            raise CouncilError(f"issue {issue.id} is not open", field="issue_ids")
    name = clean_text(title, "title", limit=TITLE_MAX) or (issues[0].title if issues else "")
    if not name:
        raise CouncilError(N_("give the item a title or pick an issue"), field="title")
    last = session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    )
    item = AgendaItem(meeting_id=meeting.id, position=(last or 0) + 1, title=name, minutes="")
    session.add(item)
    session.flush()
    when = meeting.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    for issue in issues:
        session.add(AgendaIssue(item_id=item.id, issue_id=issue.id))
        to = ON_AGENDA if issue.status in (NEW, ACCEPTED, DISCUSSED) else None
        add_event(session, issue, "agenda", actor, f"{when} {meeting.title}", to_status=to)
    session.flush()
    return item


def move_item(session: Session, meeting_id: int, item_id: int, step: int) -> None:
    """Move an agenda item one place up (step -1) or down (+1)."""
    meeting = get_meeting(session, meeting_id)
    item = _item(session, meeting, item_id)
    items = list(
        session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position)
        )
    )
    at = items.index(item)
    other = at + (1 if step > 0 else -1)
    if 0 <= other < len(items):
        items[at], items[other] = items[other], items[at]
    for position, each in enumerate(items, start=1):
        each.position = position
    session.flush()


def record_sign_in(session: Session, meeting_id: int, rows: list[tuple[str, int]]) -> Meeting:
    """The sign-in record: organisations present and how many people each sent."""
    meeting = get_meeting(session, meeting_id)
    record = []
    for name, present in rows:
        clean = clean_text(name, "organisation", limit=100)
        if not clean:
            continue
        if not 0 <= present <= 500:
            raise CouncilError(N_("the number present must be 0 to 500"), field="present")
        record.append({"organisation": clean, "present": present})
    meeting.sign_in = record
    meeting.organisations = _organisations(
        [r["organisation"] for r in record] or meeting.organisations
    )
    session.flush()
    return meeting


def record_minutes(session: Session, meeting_id: int, item_id: int, minutes: str) -> AgendaItem:
    item = _item(session, get_meeting(session, meeting_id), item_id)
    item.minutes = clean_text(minutes, "minutes", limit=MINUTES_MAX)
    session.flush()
    return item


def record_decision(
    session: Session,
    meeting_id: int,
    item_id: int,
    actor: str,
    *,
    text: str,
    owner: str,
    due_on: date | None = None,
    votes: Votes | None = None,
) -> Decision:
    """A decision on an agenda item; its issues become discussed and show it publicly."""
    meeting = get_meeting(session, meeting_id)
    item = _item(session, meeting, item_id)
    votes = votes or Votes()
    for count in (votes.for_, votes.against, votes.abstain):
        if count is not None and not 0 <= count <= 1000:
            raise CouncilError(N_("votes must be 0 to 1000"), field="votes")
    decision = Decision(
        item_id=item.id,
        text=clean_text(text, "text", limit=ADDITION_MAX, required=True),
        owner=clean_text(owner, "owner", limit=100, required=True),
        due_on=due_on,
        votes_for=votes.for_,
        votes_against=votes.against,
        votes_abstain=votes.abstain,
        follow_up="open",
        follow_up_note="",
        created_by=actor,
    )
    session.add(decision)
    session.flush()
    for issue in item_issues(session, item.id):
        to = DISCUSSED if issue.status in (NEW, ACCEPTED, ON_AGENDA) else None
        add_event(
            session, issue, "decision", actor, decision.text, to_status=to, decision_id=decision.id
        )
    session.flush()
    return decision


def set_follow_up(
    session: Session, decision_id: int, actor: str, status: str, note: str | None = None
) -> Decision:
    if status not in FOLLOW_UPS:
        raise CouncilError(N_("unknown follow-up status"), field="follow_up")
    decision = session.get(Decision, decision_id) if 0 < decision_id < 2**31 else None
    if decision is None:
        raise MeetingNotFound(f"no decision {decision_id}", field="decision")
    decision.follow_up = status
    decision.follow_up_note = clean_text(note, "note", limit=ADDITION_MAX)
    decision.updated_at = utcnow()
    decision.done_at = decision.updated_at if status == "done" else None
    body = f"{status}: {decision.follow_up_note}".rstrip(": ")
    for issue in item_issues(session, decision.item_id):
        add_event(session, issue, "follow_up", actor, body, decision_id=decision.id)
    session.flush()
    return decision


def item_issues(session: Session, item_id: int) -> list[CouncilIssue]:
    return list(
        session.scalars(
            select(CouncilIssue)
            .join(AgendaIssue, AgendaIssue.issue_id == CouncilIssue.id)
            .where(AgendaIssue.item_id == item_id)
            .order_by(CouncilIssue.id)
        )
    )


def meeting_record(session: Session, meeting_id: int) -> MeetingRecord:
    meeting = get_meeting(session, meeting_id)
    items = session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
    )
    records = []
    for item in items:
        decisions = list(
            session.scalars(
                select(Decision).where(Decision.item_id == item.id).order_by(Decision.id)
            )
        )
        records.append(ItemRecord(item, item_issues(session, item.id), decisions))
    return MeetingRecord(meeting, records)


@dataclass(frozen=True)
class IssueDecision:
    meeting: Meeting
    item: AgendaItem
    decision: Decision | None  # None: on the agenda, not decided yet


def issue_meetings(session: Session, issue_id: int) -> list[IssueDecision]:
    """Where an issue was taken up, and what was decided (the public part of its story)."""
    rows = session.execute(
        select(Meeting, AgendaItem)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .join(AgendaIssue, AgendaIssue.item_id == AgendaItem.id)
        .where(AgendaIssue.issue_id == issue_id)
        .order_by(Meeting.starts_at, AgendaItem.position)
    ).all()
    found: list[IssueDecision] = []
    for meeting, item in rows:
        decisions = list(
            session.scalars(
                select(Decision).where(Decision.item_id == item.id).order_by(Decision.id)
            )
        )
        found.extend(IssueDecision(meeting, item, d) for d in decisions or [None])
    return found


def is_held(meeting: Meeting, now: datetime | None = None) -> bool:
    """Held when staff said so, or once the start time has passed."""
    return meeting.status == HELD or meeting.starts_at <= (now or utcnow())


def mark_held(session: Session, meeting_id: int) -> Meeting:
    """Staff say the meeting has taken place (say, brought forward before its date)."""
    meeting = get_meeting(session, meeting_id)
    meeting.status = HELD
    session.flush()
    return meeting


def meeting_end(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
