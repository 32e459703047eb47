"""The registry's models: stations, their history, photos, reports, staff.

Coordinates are WGS-84 (RFC 7946), always.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stationfinder.models.base import Base, utcnow


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    street: Mapped[str] = mapped_column(String(60), index=True)  # a subdistrict key
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)  # WGS-84
    lat: Mapped[float] = mapped_column(Float)  # WGS-84
    amenities: Mapped[list[str]] = mapped_column(JSON, default=list)
    opening_hours: Mapped[str | None] = mapped_column(String(255))
    # Lengths are registry/fields.py's, held to it by tests/registry/test_fields.py.
    phone: Mapped[str | None] = mapped_column(String(30))  # 40 until migration 0008
    # How a courier gets in (core.vocabulary.ACCESSES code), a short public note, seats and
    # whether the door has no step; None = not recorded (migration 0010). Whether it is
    # open 24 hours is derived from opening_hours, never stored (registry/fields.py).
    access: Mapped[str | None] = mapped_column(String(20))
    access_note: Mapped[str | None] = mapped_column(String(60))
    seats: Mapped[int | None] = mapped_column(Integer)
    step_free: Mapped[bool | None]
    active: Mapped[bool] = mapped_column(default=True)
    retired_reason: Mapped[str | None] = mapped_column(String(500))
    last_confirmed_at: Mapped[datetime | None]
    # Amenities staff confirmed broken, {code: public note}: {"drinking_water": "饮水机维修中"}
    out_of_service: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    photo_id: Mapped[str | None] = mapped_column(ForeignKey("photos.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class StationRevision(Base):
    """One change to one station: who, when, why, and each field's old and new value."""

    __tablename__ = "station_revisions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    version: Mapped[int]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    batch: Mapped[str | None] = mapped_column(String(40))  # one import = one batch
    changes: Mapped[dict[str, list[object]]] = mapped_column(JSON)

    __table_args__ = (Index("ix_station_revisions_station", "station_id", "version"),)


class RegistryState(Base):
    """A single row whose version goes up with every change to the registry.

    Each worker compares it with the version its in-memory index was built from, so an
    edit made through one worker reaches every worker within a second.
    """

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffAccount(Base):
    """A street-office or union staff member who keeps the registry or runs the council."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))  # street_staff, district_admin, …
    street: Mapped[str | None] = mapped_column(String(60))  # street_staff's own subdistrict
    district: Mapped[str | None] = mapped_column(String(6))  # district_admin's (its code)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moves on when the account's sessions must end (logout, password reset, disabling);
    # a session made in an older generation opens nothing (accounts/staff.py).
    session_generation: Mapped[int] = mapped_column(Integer, default=0)


class ApiToken(Base):
    """A staff member's token for integrations; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Photo(Base):
    """An uploaded image, already resized and stripped of metadata (EXIF location)."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    mime: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProblemReport(Base):
    """A courier's "信息有误 / 设施坏了" report about a station; no account needed."""

    __tablename__ = "problem_reports"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    # closed_when_open, amenity_broken, wrong_place, gone, other
    category: Mapped[str] = mapped_column(String(32))
    amenity: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    photo_id: Mapped[str | None] = mapped_column(ForeignKey("photos.id"))
    device_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new, confirmed, dismissed
    handled_by: Mapped[str | None] = mapped_column(String(100))
    handled_at: Mapped[datetime | None]
    staff_note: Mapped[str | None] = mapped_column(Text)


class StationConfirmation(Base):
    """A courier pressed "信息准确": once per device per station per day."""

    __tablename__ = "station_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    device_hash: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("station_id", "device_hash", "day"),)


class AreaSet(Base):
    """District and subdistrict outlines loaded by staff, replacing the shipped ones.

    Kept in the database rather than on one host's disk so every worker on every host
    checks stations against the same outlines.
    """

    __tablename__ = "area_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(255), default="")
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
