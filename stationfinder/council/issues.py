"""The couriers' council (小哥议事厅): issues couriers raise and back, without an account.

A courier's device keeps a private random key; only its keyed hash (`device_hash`, see
privacy.hash_device_key) reaches these functions, and it is what "my issues", backing
once per device and flagging once per device go by. Titles and descriptions have mobile
and ID-card numbers masked before they are stored, so no page, export or API can show
them. Suggestions of similar issues live in council_similar.py, staff triage in
council_triage.py, meetings in council_meetings.py and the union's figures in
council_stats.py.

No Flask here: callers own the transaction (`with session.begin():`); functions flush,
so a refused step raises before the caller commits and nothing is half-written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from stationfinder.core.clock import SHANGHAI
from stationfinder.core.errors import DomainError
from stationfinder.core.privacy import mask_personal_numbers, normalise_phone
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.models import CouncilIssue, IssueBacking, IssueEvent, IssueFlag, Station, utcnow


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    zh: str
    en: str


CATEGORIES: tuple[Category, ...] = (
    Category("workload", "派件压力与快递量", "Delivery pressure and parcel volume"),
    Category("storage_points", "存放与投递点位", "Parcel storage and drop-off points"),
    Category("rest_facilities", "休息与站点设施", "Rest and station facilities"),
    Category("traffic_parking", "交通与停车", "Traffic and parking"),
    Category("income_rights", "收入与权益", "Income and rights"),
    Category("safety", "安全", "Safety"),
    Category("other", "其他", "Other"),
)
CATEGORY_BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}

NEW, ACCEPTED, ON_AGENDA, DISCUSSED = "new", "accepted", "on_agenda", "discussed"
RESOLVED, DECLINED, MERGED = "resolved", "declined", "merged"
STATUSES = (NEW, ACCEPTED, ON_AGENDA, DISCUSSED, RESOLVED, DECLINED, MERGED)
OPEN_STATUSES = (NEW, ACCEPTED, ON_AGENDA, DISCUSSED)
CLOSED_STATUSES = (RESOLVED, DECLINED)
RATINGS = ("satisfied", "mostly_satisfied", "unsatisfied")

TITLE_MAX = 60
DESCRIPTION_MAX = 2000
# Open311 GeoReport v2: description optional, "limited to 4,000 characters".
OPEN311_DESCRIPTION_MAX = 4000
ADDITION_MAX = 1000
PLACE_LABEL_MAX = 100
FLAG_REASON_MAX = 200
FLAGS_TO_HIDE = 3  # established keys from this many distinct networks
YOUNG_BACKINGS_PER_NETWORK = 3  # counted backings young keys of one network may add
BOARD_LIMIT = 50
COURIER = "courier"  # the actor of what couriers do in an issue's story
_NUMBER = re.compile(r"^YS-(\d{8})-(\d{4,9})$")


class CouncilError(DomainError):
    """A step that was refused; nothing was written. `field` names the bad input."""

    code = "invalid"


class IssueNotFound(CouncilError):
    status = 404
    code = "not_found"


class NotYours(CouncilError):
    """The device key does not belong to the courier who raised the issue."""

    status = 403
    code = "not_yours"


# --- text -------------------------------------------------------------------------


def clean_text(
    text: str | None, field: str, *, limit: int, required: bool = False, mask: bool = True
) -> str:
    """Trimmed NFC text without control characters (line breaks kept), personal
    numbers masked; CouncilError when it is empty but required, or too long."""
    raw = text or ""
    if len(raw) > limit * 4:  # refuse a 100 KB post before normalising it
        raise CouncilError(
            f"{field} is longer than {limit} characters", field=field, code="too_long"
        )
    cleaned = unicodedata.normalize("NFC", raw.strip())
    cleaned = "".join(
        ch for ch in cleaned if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cf"}
    ).strip()
    if required and not cleaned:
        raise CouncilError(f"{field} is required", field=field)
    if len(cleaned) > limit:
        raise CouncilError(
            f"{field} is longer than {limit} characters", field=field, code="too_long"
        )
    return mask_personal_numbers(cleaned) if mask else cleaned


# --- numbers ----------------------------------------------------------------------


def work_order_number(issue: CouncilIssue) -> str:
    """工单号: YS-<day raised, Shanghai time>-<id>, e.g. YS-20261124-0007."""
    day = issue.created_at.astimezone(SHANGHAI).strftime("%Y%m%d")
    return f"YS-{day}-{issue.id:04d}"


def get_issue(session: Session, issue_id: int) -> CouncilIssue:
    issue = session.get(CouncilIssue, issue_id) if 0 < issue_id < 2**31 else None
    if issue is None:
        raise IssueNotFound(f"no issue {issue_id}")
    return issue


def find_issue(session: Session, number: str) -> CouncilIssue:
    """The issue with this work-order number; IssueNotFound for any other string."""
    match = _NUMBER.match(number.strip().upper())
    if match is None:
        raise IssueNotFound(f"no issue {number[:40]!r}")
    issue = session.get(CouncilIssue, int(match.group(2)))
    if issue is None or work_order_number(issue) != number.strip().upper():
        raise IssueNotFound(f"no issue {number[:40]!r}")
    return issue


def survivor(session: Session, issue: CouncilIssue) -> CouncilIssue:
    """The issue a merged one lives on in (merges are one level deep by construction)."""
    while issue.merged_into_id is not None:
        issue = get_issue(session, issue.merged_into_id)
    return issue


def add_event(
    session: Session,
    issue: CouncilIssue,
    kind: str,
    actor: str,
    body: str = "",
    *,
    public: bool = True,
    to_status: str | None = None,
    decision_id: int | None = None,
    now: datetime | None = None,
) -> IssueEvent:
    now = now or utcnow()
    event = IssueEvent(
        issue_id=issue.id,
        kind=kind,
        public=public,
        actor=actor,
        from_status=issue.status if to_status else None,
        to_status=to_status,
        body=body,
        decision_id=decision_id,
        created_at=now,
    )
    session.add(event)
    if to_status:
        issue.status = to_status
    issue.updated_at = now
    if public and actor != COURIER and issue.first_reply_at is None:
        issue.first_reply_at = now
    return event


# --- raising ----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    point: Point | None = None  # WGS-84
    station_id: str | None = None
    label: str | None = None


def locate(session: Session, areas: Areas, place: Place) -> tuple[Point | None, str | None]:
    """(point, subdistrict) of a place; CouncilError when it is outside the district."""
    point = place.point
    if place.station_id:
        station = session.get(Station, place.station_id) if len(place.station_id) <= 32 else None
        if station is None or not station.active:
            raise CouncilError("no such station", field="station_id")
        # The station's own point, public already, is the place: a courier's position
        # sent with it would say where the courier stood, which is nobody's business.
        point = Point(station.lon, station.lat)
    if point is None:
        return None, None
    street = areas.street_at(point)
    if street is None:
        raise CouncilError(
            "the place is outside Qiantang district", field="place", code="outside_district"
        )
    return point, street


def raise_issue(
    session: Session,
    areas: Areas,
    *,
    title: str | None,
    description: str | None,
    category: str | None,
    device_hash: str,
    place: Place | None = None,
    phone: str | None = None,
    photo_id: str | None = None,
    media_url: str | None = None,
    source: str = "web",
    now: datetime | None = None,
    description_max: int = DESCRIPTION_MAX,
    description_required: bool = True,
) -> CouncilIssue:
    """Add a courier's issue (status new), backed by its raiser.

    The courier's form keeps its rule (a description of up to DESCRIPTION_MAX, required);
    Open311 passes `description_max=OPEN311_DESCRIPTION_MAX, description_required=False`
    because GeoReport v2 makes the description optional and allows 4,000 characters.
    """
    now = now or utcnow()
    if category not in CATEGORY_BY_CODE:
        raise CouncilError("choose a category from the list", field="category")
    clean_title = clean_text(title, "title", limit=TITLE_MAX, required=True)
    clean_description = clean_text(
        description, "description", limit=description_max, required=description_required
    )
    try:
        clean_phone = normalise_phone(phone or "")
    except ValueError:
        raise CouncilError("the phone number is not valid", field="phone") from None
    if media_url is not None and (
        len(media_url) > 500 or not re.match(r"^https?://[^\s<>\"']+$", media_url)
    ):
        raise CouncilError("media_url must be an http(s) URL", field="media_url")
    place = place or Place()
    point, street = locate(session, areas, place)
    if point is not None and not place.station_id:
        point = point.coarse()  # a courier's own position: only ~100 m is ever kept
    label = clean_text(place.label, "place", limit=PLACE_LABEL_MAX) or None
    issue = CouncilIssue(
        title=clean_title,
        description=clean_description,
        category=category,
        lon=round(point.lon, 6) if point else None,
        lat=round(point.lat, 6) if point else None,
        street=street,
        station_id=place.station_id or None,
        place_label=label,
        photo_id=photo_id,
        media_url=media_url,
        phone=clean_phone,
        device_hash=device_hash,
        source=source,
        status=NEW,
        backing_count=1,
        created_at=now,
        updated_at=now,
    )
    session.add(issue)
    session.flush()
    session.add(IssueBacking(issue_id=issue.id, device_hash=device_hash, created_at=now))
    add_event(session, issue, "raised", COURIER, now=now)
    session.flush()
    return issue


# --- backing, flags, additions, rating -----------------------------------------------


def _visible_open(session: Session, issue: CouncilIssue) -> CouncilIssue:
    issue = survivor(session, issue)
    if issue.hidden:
        raise CouncilError("this issue is hidden", field="issue")
    return issue


def back_issue(
    session: Session,
    issue: CouncilIssue,
    device_hash: str,
    *,
    network_hash: str | None = None,
    established: bool = True,
) -> tuple[CouncilIssue, bool]:
    """ "我也遇到": (the issue backed, whether this device's backing is new). A merged
    issue's backing goes to its survivor; backing twice changes nothing."""
    issue = _visible_open(session, issue)
    if issue.status in CLOSED_STATUSES:
        raise CouncilError("this issue is closed", field="issue", code="issue_closed")
    seen = session.scalar(
        select(IssueBacking.id).where(
            IssueBacking.issue_id == issue.id, IssueBacking.device_hash == device_hash
        )
    )
    if seen is not None:
        return issue, False
    pending = False
    if not established:
        # Young or unminted keys of one network add a handful; the rest wait for the
        # secretary (待核实), so rotating keys behind one address buys nothing.
        # Count under the issue row's write lock, or sixteen keys arriving at once all
        # read "fewer than 3". A no-op UPDATE takes that lock on both databases:
        # PostgreSQL holds the row until commit (the next backer's UPDATE waits, and
        # its count, a new statement under READ COMMITTED, sees the committed row);
        # SQLite takes the database's write lock, and as pysqlite begins the
        # transaction at this first write, the count after it cannot be stale.
        # SELECT ... FOR UPDATE alone would not do: SQLite has no row locks.
        session.execute(
            update(CouncilIssue)
            .where(CouncilIssue.id == issue.id)
            .values(backing_count=CouncilIssue.backing_count)
        )
        young = session.scalar(
            select(func.count()).where(
                IssueBacking.issue_id == issue.id,
                IssueBacking.network_hash == network_hash,
                IssueBacking.established.is_(False),
                IssueBacking.pending.is_(False),
            )
        )
        pending = (young or 0) >= YOUNG_BACKINGS_PER_NETWORK
    session.add(
        IssueBacking(
            issue_id=issue.id,
            device_hash=device_hash,
            network_hash=network_hash,
            established=established,
            pending=pending,
        )
    )
    if pending:
        issue.needs_review = True
        session.flush()
        return issue, True
    # In SQL, so two couriers backing at once both count.
    session.execute(
        update(CouncilIssue)
        .where(CouncilIssue.id == issue.id)
        .values(backing_count=CouncilIssue.backing_count + 1)
    )
    session.flush()
    session.refresh(issue, ["backing_count"])
    return issue, True


def backed_by(session: Session, issue_ids: Iterable[int], device_hash: str) -> set[int]:
    ids = list(issue_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(IssueBacking.issue_id).where(
                IssueBacking.issue_id.in_(ids), IssueBacking.device_hash == device_hash
            )
        )
    )


def flag_issue(
    session: Session,
    issue: CouncilIssue,
    device_hash: str,
    reason: str | None = None,
    *,
    network_hash: str | None = None,
    established: bool = True,
) -> bool:
    """A device says the content is abusive: the issue is queued for staff review, and
    hidden only once established keys from FLAGS_TO_HIDE distinct networks said so.
    Returns whether the issue is now hidden."""
    reason_text = clean_text(reason, "reason", limit=FLAG_REASON_MAX)
    seen = session.scalar(
        select(IssueFlag.id).where(
            IssueFlag.issue_id == issue.id, IssueFlag.device_hash == device_hash
        )
    )
    if seen is None:
        session.add(
            IssueFlag(
                issue_id=issue.id,
                device_hash=device_hash,
                reason=reason_text,
                network_hash=network_hash,
                established=established,
            )
        )
        session.flush()
    networks = session.scalars(
        select(IssueFlag.network_hash).where(
            IssueFlag.issue_id == issue.id, IssueFlag.established.is_(True)
        )
    ).all()
    flags = len({n if n is not None else f"legacy-{i}" for i, n in enumerate(networks)})
    if flags >= FLAGS_TO_HIDE and not issue.hidden and not issue.needs_review:
        issue.hidden = True
        issue.needs_review = True
        issue.hidden_reason = "flagged"
        add_event(session, issue, "flag_hidden", COURIER, f"{flags}", public=False)
        session.flush()
    elif not issue.hidden and not issue.needs_review:
        issue.needs_review = True  # the secretary looks; the board keeps showing it
        add_event(session, issue, "flag_queued", COURIER, "", public=False)
        session.flush()
    return issue.hidden


def _own(issue: CouncilIssue, device_hash: str) -> None:
    if issue.device_hash != device_hash:
        raise NotYours("only the courier who raised this issue may do this", field="device_key")


def add_to_issue(session: Session, issue: CouncilIssue, device_hash: str, text: str) -> IssueEvent:
    """The raiser adds something to their issue's story (public)."""
    _own(issue, device_hash)
    if issue.hidden:
        raise CouncilError("this issue is hidden", field="issue")
    body = clean_text(text, "text", limit=ADDITION_MAX, required=True)
    event = add_event(session, issue, "addition", COURIER, body)
    session.flush()
    return event


def rate_outcome(
    session: Session, issue: CouncilIssue, device_hash: str, rating: str, comment: str | None = None
) -> CouncilIssue:
    """The raiser rates a resolved issue; 不满意 reopens it for triage (as 12345 does)."""
    _own(issue, device_hash)
    if rating not in RATINGS:
        raise CouncilError("choose 满意, 基本满意 or 不满意", field="rating")
    if issue.status != RESOLVED:
        raise CouncilError(
            "only a resolved issue can be rated", field="rating", code="not_resolved"
        )
    body = clean_text(comment, "comment", limit=ADDITION_MAX)
    issue.rating = rating
    if rating == "unsatisfied":
        add_event(session, issue, "reopened", COURIER, body, to_status=NEW)
        issue.resolved_at = None
        # The old resolution is history now (its status event keeps it in the story);
        # shown as current it would tell the courier the matter was settled.
        issue.public_reason = None
    else:
        add_event(session, issue, "rated", COURIER, body)
    session.flush()
    return issue


# --- reading ------------------------------------------------------------------------


def board(
    session: Session,
    *,
    category: str | None = None,
    street: str | None = None,
    streets: Collection[str] | None = None,
    status: str | None = None,
    limit: int = BOARD_LIMIT,
    offset: int = 0,
) -> list[CouncilIssue]:
    """Visible issues, most backed and newest first; open ones unless `status` says.
    `street` keeps one subdistrict's, `streets` those of several (a district's)."""
    query = select(CouncilIssue).where(CouncilIssue.hidden.is_(False))
    if status in STATUSES and status != MERGED:
        query = query.where(CouncilIssue.status == status)
    else:
        query = query.where(CouncilIssue.status.in_(OPEN_STATUSES))
    if category:
        query = query.where(CouncilIssue.category == category)
    if street:
        query = query.where(CouncilIssue.street == street)
    if streets is not None:
        query = query.where(CouncilIssue.street.in_(list(streets)))
    query = query.order_by(
        CouncilIssue.backing_count.desc(), CouncilIssue.created_at.desc(), CouncilIssue.id.desc()
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def story(session: Session, issue: CouncilIssue, *, public_only: bool = True) -> list[IssueEvent]:
    query = select(IssueEvent).where(IssueEvent.issue_id == issue.id)
    if public_only:
        query = query.where(IssueEvent.public.is_(True))
    return list(session.scalars(query.order_by(IssueEvent.created_at, IssueEvent.id)))


def my_issues(session: Session, device_hash: str) -> tuple[list[CouncilIssue], list[CouncilIssue]]:
    """(issues this device raised, other issues it backs), newest first. An unknown or
    forged key simply has none."""
    raised = list(
        session.scalars(
            select(CouncilIssue)
            .where(CouncilIssue.device_hash == device_hash)
            .order_by(CouncilIssue.created_at.desc())
        )
    )
    backed = list(
        session.scalars(
            select(CouncilIssue)
            .join(IssueBacking, IssueBacking.issue_id == CouncilIssue.id)
            .where(
                IssueBacking.device_hash == device_hash,
                CouncilIssue.device_hash != device_hash,
                CouncilIssue.hidden.is_(False),
            )
            .order_by(CouncilIssue.created_at.desc())
        )
    )
    return raised, backed
