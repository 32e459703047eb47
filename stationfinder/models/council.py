"""The couriers' council (小哥议事厅): issues, their backing and story, meetings, decisions.

Couriers have no accounts: what a device did is known by the keyed hash of its private
key (`device_hash`), never the key itself. Coordinates are WGS-84.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from stationfinder.models.base import Base, utcnow


class CouncilIssue(Base):
    """A problem a courier raised. Its work-order number (工单号) is derived from the
    id and the day it was raised, so there is no counter to race on."""

    __tablename__ = "council_issues"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), index=True)
    # The place, all optional: a point (WGS-84), the station it was raised at, a label.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    street: Mapped[str | None] = mapped_column(String(60), index=True)
    station_id: Mapped[str | None] = mapped_column(ForeignKey("stations.id"))
    place_label: Mapped[str | None] = mapped_column(String(200))
    photo_id: Mapped[str | None] = mapped_column(ForeignKey("photos.id"))
    media_url: Mapped[str | None] = mapped_column(String(500))  # Open311 clients send links
    phone: Mapped[str | None] = mapped_column(String(20))  # for call-back; staff see it masked
    device_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), default="web", server_default="web")
    # new, accepted, on_agenda, discussed, resolved, declined, merged
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    responsible: Mapped[str | None] = mapped_column(String(32))
    public_reason: Mapped[str | None] = mapped_column(Text)  # why it was resolved or declined
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("council_issues.id"))
    backing_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    rating: Mapped[str | None] = mapped_column(String(16))  # satisfied, mostly, unsatisfied
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_reply_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class IssueBacking(Base):
    """ "我也遇到": one device backs one issue once. The raiser backs their own issue."""

    __tablename__ = "council_backings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("council_issues.id"), index=True)
    device_hash: Mapped[str] = mapped_column(String(64), index=True)
    # Keyed hash of the network (IPv4 /24, IPv6 /48) it came from; never the address.
    network_hash: Mapped[str | None] = mapped_column(String(64))
    # Whether the key was server-minted and old enough when it backed.
    established: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # 待核实: beyond what young keys of one network may add; not counted until confirmed.
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("issue_id", "device_hash", name="uq_council_backings_issue_device"),
    )


class IssueFlag(Base):
    """A device's report that an issue's content is abusive. Established keys from
    enough distinct networks hide it; any flag queues it for staff review."""

    __tablename__ = "council_flags"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("council_issues.id"), index=True)
    device_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")
    network_hash: Mapped[str | None] = mapped_column(String(64))
    established: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("issue_id", "device_hash", name="uq_council_flags_issue_device"),
    )


class IssueEvent(Base):
    """One step in an issue's story: a status change, a reply, a merge, a decision...

    `public` events are shown on the issue's page; the others are staff notes.
    """

    __tablename__ = "council_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("council_issues.id"))
    kind: Mapped[str] = mapped_column(String(24))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    actor: Mapped[str] = mapped_column(String(100))  # a staff username, or "courier"
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("council_decisions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_council_events_issue", "issue_id", "id"),)


class Meeting(Base):
    """A council meeting (议事会): when, where, who came."""

    __tablename__ = "council_meetings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    place: Mapped[str] = mapped_column(String(200))
    station_id: Mapped[str | None] = mapped_column(ForeignKey("stations.id"))
    street: Mapped[str] = mapped_column(String(60), index=True)
    organisations: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The sign-in record: [{"organisation": "...", "present": 3}, ...]
    sign_in: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned, held
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgendaItem(Base):
    """One item on a meeting's agenda, in order, with its minutes."""

    __tablename__ = "council_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("council_meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[str] = mapped_column(Text, default="")


class AgendaIssue(Base):
    """Which issues an agenda item takes up."""

    __tablename__ = "council_agenda_issues"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("council_agenda_items.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("council_issues.id"), index=True)

    __table_args__ = (
        UniqueConstraint("item_id", "issue_id", name="uq_council_agenda_issues_item_issue"),
    )


class Decision(Base):
    """What a meeting decided on an agenda item: who does it, by when, the vote, and
    how the follow-up stands."""

    __tablename__ = "council_decisions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("council_agenda_items.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date | None] = mapped_column(Date)
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    votes_abstain: Mapped[int | None] = mapped_column(Integer)
    follow_up: Mapped[str] = mapped_column(String(16), default="open")  # open, in_progress, done
    follow_up_note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
