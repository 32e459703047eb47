"""Staff triage of council issues: the inbox with overdue flags, the status workflow,
public replies, the body responsible, merging duplicates, hiding abusive content.

`actor` is the staff member's username; it goes into the issue's story. The roles that
may call these (council_secretary, union_admin) are checked by the views. No Flask here;
callers own the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from stationfinder.core.text import N_
from stationfinder.council.issues import (
    ACCEPTED,
    ADDITION_MAX,
    CLOSED_STATUSES,
    DECLINED,
    DISCUSSED,
    MERGED,
    NEW,
    ON_AGENDA,
    OPEN_STATUSES,
    RESOLVED,
    CouncilError,
    add_event,
    clean_text,
    get_issue,
)
from stationfinder.models import CouncilIssue, IssueBacking, IssueFlag, utcnow

RESPONSIBLE = ("union", "street_office", "delivery_firm", "city_management")
REASON_MAX = 1000
INBOX_LIMIT = 300

# Where each status may go by a staff member's hand. Agenda and decisions move issues
# to on_agenda and discussed too (council_meetings); merging to merged.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    NEW: (ACCEPTED, ON_AGENDA, RESOLVED, DECLINED),
    ACCEPTED: (ON_AGENDA, RESOLVED, DECLINED),
    ON_AGENDA: (ACCEPTED, DISCUSSED, RESOLVED, DECLINED),
    DISCUSSED: (ON_AGENDA, RESOLVED, DECLINED),
    RESOLVED: (ACCEPTED,),
    DECLINED: (ACCEPTED,),
    MERGED: (),
}


@dataclass(frozen=True)
class Deadlines:
    """How soon staff must first answer an issue, and resolve it (settings)."""

    first_reply: timedelta = timedelta(hours=48)
    resolution: timedelta = timedelta(days=30)

    @classmethod
    def from_config(cls, config: object) -> Deadlines:
        get = getattr(config, "get", lambda _k, d=None: d)
        return cls(
            first_reply=timedelta(hours=float(get("COUNCIL_FIRST_REPLY_HOURS", 48))),
            resolution=timedelta(days=float(get("COUNCIL_RESOLUTION_DAYS", 30))),
        )


@dataclass(frozen=True)
class Overdue:
    reply: bool
    resolution: bool

    def __bool__(self) -> bool:
        return self.reply or self.resolution


def overdue(issue: CouncilIssue, deadlines: Deadlines, now: datetime | None = None) -> Overdue:
    now = now or utcnow()
    if issue.status not in OPEN_STATUSES or issue.hidden:
        return Overdue(False, False)
    age = now - issue.created_at
    return Overdue(
        reply=issue.first_reply_at is None and age > deadlines.first_reply,
        resolution=age > deadlines.resolution,
    )


@dataclass(frozen=True)
class InboxRow:
    issue: CouncilIssue
    overdue: Overdue
    flags: int


def inbox(
    session: Session,
    deadlines: Deadlines,
    *,
    view: str = "new",
    now: datetime | None = None,
    limit: int = INBOX_LIMIT,
) -> list[InboxRow]:
    """`new`: issues awaiting triage; `open`: every open issue; `review`: hidden by
    flags, awaiting a look; `overdue`: open issues past a deadline. Oldest first."""
    query = select(CouncilIssue)
    if view == "new":
        query = query.where(CouncilIssue.status == NEW, CouncilIssue.hidden.is_(False))
    elif view == "review":
        query = query.where(CouncilIssue.needs_review.is_(True))
    elif view in ("open", "overdue"):
        query = query.where(CouncilIssue.status.in_(OPEN_STATUSES), CouncilIssue.hidden.is_(False))
    else:
        raise CouncilError(f"unknown inbox {view!r}", field="view")
    issues = list(
        session.scalars(query.order_by(CouncilIssue.created_at, CouncilIssue.id).limit(limit))
    )
    counts = dict(
        session.execute(
            select(IssueFlag.issue_id, func.count())
            .where(IssueFlag.issue_id.in_([i.id for i in issues]))
            .group_by(IssueFlag.issue_id)
        ).all()
    )
    rows = [InboxRow(i, overdue(i, deadlines, now), int(counts.get(i.id, 0))) for i in issues]
    if view == "overdue":
        rows = [r for r in rows if r.overdue]
    return rows


def change_status(
    session: Session, issue_id: int, to: str, actor: str, *, reason: str | None = None
) -> CouncilIssue:
    """Move an issue along the workflow; resolving or declining needs a public reason."""
    issue = get_issue(session, issue_id)
    if to not in TRANSITIONS.get(issue.status, ()):
        raise CouncilError(f"an issue that is {issue.status} cannot become {to}", field="status")
    body = clean_text(reason, "reason", limit=REASON_MAX, required=to in CLOSED_STATUSES)
    now = utcnow()
    if to in CLOSED_STATUSES:
        issue.public_reason = body
        issue.resolved_at = now
    elif issue.status in CLOSED_STATUSES:  # reopened: the old reason stays in the story only
        issue.resolved_at = None
        issue.public_reason = None
    add_event(session, issue, "status", actor, body, to_status=to, now=now)
    session.flush()
    return issue


def reply(session: Session, issue_id: int, actor: str, text: str, *, public: bool = True) -> None:
    """A public reply to the courier (counts as the first reply), or a staff-only note."""
    issue = get_issue(session, issue_id)
    body = clean_text(text, "reply", limit=ADDITION_MAX, required=True)
    add_event(session, issue, "reply" if public else "note", actor, body, public=public)
    session.flush()


def assign(session: Session, issue_id: int, actor: str, responsible: str) -> CouncilIssue:
    if responsible not in RESPONSIBLE:
        raise CouncilError(N_("choose who is responsible from the list"), field="responsible")
    issue = get_issue(session, issue_id)
    issue.responsible = responsible
    add_event(session, issue, "assigned", actor, responsible)
    session.flush()
    return issue


def merge(session: Session, source_id: int, target_id: int, actor: str) -> CouncilIssue:
    """Merge a duplicate into the issue that survives: backing and followers carry over
    (a device backing both counts once), and the duplicate points to the survivor."""
    if source_id == target_id:
        raise CouncilError(N_("an issue cannot be merged into itself"), field="target")
    source = get_issue(session, source_id)
    target = get_issue(session, target_id)
    if source.status == MERGED:
        raise CouncilError(N_("this issue was already merged"), field="source")
    if target.status == MERGED or target.hidden:
        raise CouncilError(N_("merge into an issue that is visible and not merged"), field="target")
    if target.status in CLOSED_STATUSES:
        raise CouncilError(N_("merge into an open issue"), field="target")
    already = set(
        session.scalars(select(IssueBacking.device_hash).where(IssueBacking.issue_id == target.id))
    )
    for backing in session.scalars(select(IssueBacking).where(IssueBacking.issue_id == source.id)):
        if backing.device_hash in already:
            session.delete(backing)
        else:
            backing.issue_id = target.id
            already.add(backing.device_hash)
    session.flush()
    # Held-back backings (待核实) move with the rest but stay out of the count.
    target.backing_count = session.scalar(
        select(func.count()).where(
            IssueBacking.issue_id == target.id, IssueBacking.pending.is_(False)
        )
    )
    source.backing_count = 0
    source.merged_into_id = target.id
    add_event(session, source, "merged", actor, str(target.id), to_status=MERGED)
    add_event(session, target, "merged_in", actor, str(source.id))
    session.flush()
    return target


def hide(session: Session, issue_id: int, actor: str, reason: str) -> CouncilIssue:
    """Hide abusive content; the public reason stays on the page in its place."""
    issue = get_issue(session, issue_id)
    issue.hidden = True
    issue.needs_review = False
    issue.hidden_reason = clean_text(reason, "reason", limit=REASON_MAX, required=True)
    add_event(session, issue, "hidden", actor, issue.hidden_reason)
    session.flush()
    return issue


def restore(session: Session, issue_id: int, actor: str) -> CouncilIssue:
    """Show a hidden issue again (flags found unfounded); its flags are cleared."""
    issue = get_issue(session, issue_id)
    if not issue.hidden:
        raise CouncilError(N_("this issue is not hidden"), field="issue")
    issue.hidden = False
    issue.needs_review = False
    issue.hidden_reason = None
    session.execute(delete(IssueFlag).where(IssueFlag.issue_id == issue.id))
    add_event(session, issue, "restored", actor, public=False)
    session.flush()
    return issue


# --- participation the secretary checks (待核实) ------------------------------------


@dataclass(frozen=True)
class PendingGroup:
    """Backings held back from one network: young keys beyond the ration (issues.py)."""

    network: str  # the network's keyed hash (never the address); "" for none recorded
    count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class Participation:
    counted: int  # backings in the public count
    pending: list[PendingGroup]  # held back, by network, largest burst first
    flags: int
    flag_networks: int  # distinct networks among established flaggers
    young_flags: int  # flags from young or unminted keys (they never hide)


def participation(session: Session, issue: CouncilIssue) -> Participation:
    """Who backs and who flags, as the secretary needs to judge a burst."""
    rows = session.execute(
        select(
            IssueBacking.network_hash,
            func.count(),
            func.min(IssueBacking.created_at),
            func.max(IssueBacking.created_at),
        )
        .where(IssueBacking.issue_id == issue.id, IssueBacking.pending.is_(True))
        .group_by(IssueBacking.network_hash)
    ).all()
    pending = sorted(
        (PendingGroup(n or "", c, first, last) for n, c, first, last in rows),
        key=lambda g: (-g.count, g.network),
    )
    flags = session.execute(
        select(IssueFlag.network_hash, IssueFlag.established).where(IssueFlag.issue_id == issue.id)
    ).all()
    return Participation(
        counted=issue.backing_count,
        pending=pending,
        flags=len(flags),
        flag_networks=len({n for n, established in flags if established and n}),
        young_flags=sum(1 for _, established in flags if not established),
    )


def _pending_of(issue: CouncilIssue, network: str) -> Any:
    return (
        IssueBacking.issue_id == issue.id,
        IssueBacking.pending.is_(True),
        IssueBacking.network_hash == network if network else IssueBacking.network_hash.is_(None),
    )


def confirm_pending(session: Session, issue_id: int, actor: str, network: str) -> int:
    """The secretary judges a held-back burst genuine (a room of couriers on one Wi-Fi):
    its backings join the public count. Returns how many."""
    issue = get_issue(session, issue_id)
    ids = list(session.scalars(select(IssueBacking.id).where(*_pending_of(issue, network))))
    if not ids:
        raise CouncilError(N_("nothing is waiting from that network"), field="network")
    session.execute(update(IssueBacking).where(IssueBacking.id.in_(ids)).values(pending=False))
    session.execute(
        update(CouncilIssue)
        .where(CouncilIssue.id == issue.id)
        .values(backing_count=CouncilIssue.backing_count + len(ids))
    )
    session.refresh(issue, ["backing_count"])
    add_event(session, issue, "backings_confirmed", actor, str(len(ids)), public=False)
    _review_done_if_nothing_left(session, issue)
    session.flush()
    return len(ids)


def discard_pending(session: Session, issue_id: int, actor: str, network: str) -> int:
    """The secretary judges a held-back burst forged: its backings are dropped (never
    counted; the story keeps how many). Returns how many."""
    issue = get_issue(session, issue_id)
    ids = list(session.scalars(select(IssueBacking.id).where(*_pending_of(issue, network))))
    if not ids:
        raise CouncilError(N_("nothing is waiting from that network"), field="network")
    session.execute(delete(IssueBacking).where(IssueBacking.id.in_(ids)))
    add_event(session, issue, "backings_discarded", actor, str(len(ids)), public=False)
    _review_done_if_nothing_left(session, issue)
    session.flush()
    return len(ids)


def _review_done_if_nothing_left(session: Session, issue: CouncilIssue) -> None:
    waiting = session.scalar(
        select(func.count()).where(
            IssueBacking.issue_id == issue.id, IssueBacking.pending.is_(True)
        )
    )
    flags = session.scalar(select(func.count()).where(IssueFlag.issue_id == issue.id))
    if not waiting and not flags and not issue.hidden:
        issue.needs_review = False


def search_issues(session: Session, text: str, limit: int = 20) -> list[CouncilIssue]:
    """Staff's look-up for a merge target: by work-order number or words in the title."""
    text = text.strip()[:60]
    if not text:
        return []
    tail = text.rsplit("-", 1)[-1]
    conditions = [CouncilIssue.title.contains(text)]
    if tail.isdigit() and len(tail) < 10:
        conditions.append(CouncilIssue.id == int(tail))
    query = select(CouncilIssue).where(or_(*conditions)).order_by(CouncilIssue.id.desc())
    return list(session.scalars(query.limit(limit)))
