"""Figures for the union: issues by category, subdistrict and month; how long first
replies and resolutions take; decisions past their due date. Also as CSV rows.

Months and due dates are in Shanghai time. Merged issues are not counted (their
survivor is). No Flask here.
"""

from __future__ import annotations

import statistics as pystats
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stationfinder.council.issues import (
    CATEGORIES,
    CLOSED_STATUSES,
    MERGED,
    OPEN_STATUSES,
    RESOLVED,
    SHANGHAI,
    work_order_number,
)
from stationfinder.geo.areas import Areas
from stationfinder.models import AgendaItem, CouncilIssue, Decision, Meeting, utcnow

NO_PLACE = ""  # issues raised without a place


@dataclass(frozen=True)
class Durations:
    count: int
    median_hours: float | None
    mean_hours: float | None

    @classmethod
    def of(cls, hours: list[float]) -> Durations:
        if not hours:
            return cls(0, None, None)
        return cls(len(hours), round(pystats.median(hours), 1), round(pystats.fmean(hours), 1))


@dataclass(frozen=True)
class OverdueDecision:
    decision: Decision
    meeting: Meeting
    days_late: int


@dataclass
class CouncilStatistics:
    total: int = 0
    open: int = 0
    closed: int = 0
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_street: list[tuple[str, int]] = field(default_factory=list)
    by_district: list[tuple[str, int]] = field(default_factory=list)  # (division code, n)
    by_month: list[tuple[str, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    first_reply: Durations = Durations(0, None, None)
    resolution: Durations = Durations(0, None, None)
    overdue_decisions: list[OverdueDecision] = field(default_factory=list)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


# Up to this many loaded subdistricts every one is listed, issues or none; beyond (a
# city's or a province's areas) only those with issues, so the table stays readable.
LIST_EVERY_SUBDISTRICT_UP_TO = 60


def council_statistics(
    session: Session, areas: Areas, now: datetime | None = None
) -> CouncilStatistics:
    """Figures over every issue not merged into another; per subdistrict and district in
    the loaded areas' one order (issues without a place last)."""
    now = now or utcnow()
    issues = list(session.scalars(select(CouncilIssue).where(CouncilIssue.status != MERGED)))
    stats = CouncilStatistics(total=len(issues))
    stats.open = sum(1 for i in issues if i.status in OPEN_STATUSES)
    stats.closed = sum(1 for i in issues if i.status in CLOSED_STATUSES)
    categories = Counter(i.category for i in issues)
    stats.by_category = [(c.code, categories.get(c.code, 0)) for c in CATEGORIES]
    streets = Counter(i.street or NO_PLACE for i in issues)
    every = len(areas.subdistrict_keys()) <= LIST_EVERY_SUBDISTRICT_UP_TO
    known = [k for k in areas.subdistrict_keys() if every or streets.get(k)]
    unknown = sorted(k for k in streets if k != NO_PLACE and areas.subdistrict(k) is None)
    stats.by_street = [(s, streets.get(s, 0)) for s in (*known, *unknown, NO_PLACE)]
    districts: Counter[str] = Counter()
    for key, n in streets.items():
        found = areas.district_of(key)
        if found is not None:
            districts[found.code] += n
    stats.by_district = [
        (d.code, districts.get(d.code, 0))
        for d in areas.districts()
        if every or districts.get(d.code)
    ]
    months = Counter(i.created_at.astimezone(SHANGHAI).strftime("%Y-%m") for i in issues)
    stats.by_month = sorted(months.items())
    statuses = Counter(i.status for i in issues)
    stats.by_status = sorted(statuses.items())
    stats.first_reply = Durations.of(
        [_hours(i.created_at, i.first_reply_at) for i in issues if i.first_reply_at]
    )
    stats.resolution = Durations.of(
        [
            _hours(i.created_at, i.resolved_at)
            for i in issues
            if i.status == RESOLVED and i.resolved_at
        ]
    )
    today = now.astimezone(SHANGHAI).date()
    late = session.execute(
        select(Decision, Meeting)
        .join(AgendaItem, AgendaItem.id == Decision.item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            Decision.due_on.is_not(None),
            Decision.due_on < today,
            Decision.follow_up.not_in(("done", "dropped")),
        )
        .order_by(Decision.due_on)
    ).all()
    stats.overdue_decisions = [
        OverdueDecision(d, m, (today - d.due_on).days) for d, m in late if d.due_on is not None
    ]
    return stats


CSV_HEADER = (
    "work_order",
    "category",
    "subdistrict",
    "status",
    "backing",
    "responsible",
    "raised_at",
    "first_reply_at",
    "resolved_at",
    "hours_to_first_reply",
    "hours_to_resolution",
    "rating",
)


def csv_rows(session: Session) -> list[tuple[object, ...]]:
    """One row per issue (no text, no phone: figures only), oldest first."""
    rows: list[tuple[object, ...]] = []
    query = select(CouncilIssue).order_by(CouncilIssue.created_at, CouncilIssue.id)
    for i in session.scalars(query):
        rows.append(
            (
                work_order_number(i),
                i.category,
                i.street or "",
                i.status,
                i.backing_count,
                i.responsible or "",
                _local(i.created_at),
                _local(i.first_reply_at),
                _local(i.resolved_at),
                round(_hours(i.created_at, i.first_reply_at), 1) if i.first_reply_at else "",
                round(_hours(i.created_at, i.resolved_at), 1) if i.resolved_at else "",
                i.rating or "",
            )
        )
    return rows


def _local(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""
