"""SQLAlchemy 2.0 declarative models. Coordinates are WGS-84 (RFC 7946), always."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    street: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)  # WGS-84
    lat: Mapped[float] = mapped_column(Float)  # WGS-84
    amenities: Mapped[list[str]] = mapped_column(JSON, default=list)
    opening_hours: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    retired_reason: Mapped[str | None] = mapped_column(String(500))
    last_confirmed_at: Mapped[datetime | None]
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
    role: Mapped[str] = mapped_column(String(32))  # street_staff, council_secretary, union_admin
    street: Mapped[str | None] = mapped_column(String(20))  # street_staff's own subdistrict
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
