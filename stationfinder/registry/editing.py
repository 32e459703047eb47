"""Editing single stations: create, edit, retire, reinstate, restore an earlier version,
mark an amenity out of service; each change with a history record and no lost updates.

No Flask here: the staff pages, the write API and the report inbox call these functions
with a session inside a transaction they own (`with session.begin():`). Every function
flushes, so a stale version or a bad value surfaces before the caller commits, and the
caller's rollback leaves nothing half-written.

Lost updates are refused twice over: the version the editor started from is compared
with the stored one (a clear conflict), and SQLAlchemy's `version_id_col` makes the
UPDATE itself conditional on that version, which catches two saves racing each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from stationfinder.accounts.roles import DISTRICT_ADMIN, STATION_EDITORS, STREET_STAFF, UNION_ADMIN
from stationfinder.core.clock import SHANGHAI
from stationfinder.core.text import N_
from stationfinder.core.vocabulary import AMENITY_BY_CODE
from stationfinder.geo.areas import Areas
from stationfinder.models import Station, StationRevision, utcnow
from stationfinder.registry.stations import (
    FIELDS,
    RegistryError,
    StationData,
    _FieldError,
    bump_version,
    record_revision,
)
from stationfinder.registry.stations import validate_station as _validate_station

TRACKED = (*FIELDS, "photo_id")  # what an edit may change and a restore brings back
NEARBY_M = 30.0
MAX_REASON = 500
MAX_NOTE = 100
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Editor:
    """Who makes a change (their username goes into the history) and what they may edit."""

    username: str
    role: str
    street: str | None = None  # street_staff's subdistrict (its key)
    district: str | None = None  # district_admin's district (its 6-digit code)
    # The subdistrict keys a district_admin keeps, and the district's name, from the
    # loaded areas at sign-in.
    district_streets: frozenset[str] = frozenset()
    district_name: str | None = None

    @property
    def edits_stations(self) -> bool:
        return self.role in STATION_EDITORS

    @property
    def scope(self) -> str | None:
        """What the editor is limited to, in words for refusals: their subdistrict or
        district; None for union_admin."""
        if self.role == STREET_STAFF:
            return self.street
        if self.role == DISTRICT_ADMIN:
            return self.district_name or self.district
        return None

    def may_edit(self, street: str) -> bool:
        """union_admin edits everywhere; district_admin in their district's subdistricts;
        street_staff only in their own subdistrict."""
        if self.role == UNION_ADMIN:
            return True
        if self.role == DISTRICT_ADMIN:
            return street in self.district_streets
        return self.role == STREET_STAFF and self.street is not None and self.street == street

    def limit(self) -> frozenset[str] | None:
        """The subdistrict keys whose stations this editor's lists show; None for all."""
        if self.role == STREET_STAFF:
            return frozenset({self.street}) if self.street else frozenset()
        if self.role == DISTRICT_ADMIN:
            return self.district_streets
        return None


# --- errors ---------------------------------------------------------------------------


class EditError(RegistryError):
    """An edit that was refused; nothing was written. `field` names the bad input.

    The base case is a step the station's state does not allow (retiring a retired
    station): a conflict with how things are, 409.
    """

    status = 409
    code = "conflict"


class InvalidStation(EditError):
    status = 400
    code = "invalid_parameter"


class StationNotFound(EditError):
    status = 404
    code = "not_found"


class NotAllowed(EditError):
    status = 403
    code = "forbidden"


class DuplicateStation(EditError):
    status = 409
    code = "conflict"


class VersionConflict(EditError):
    """Someone saved the station after the editor loaded it."""

    status = 409
    code = "version_conflict"

    def __init__(self, station_id: str, expected: int, current: int | None) -> None:
        super().__init__(
            N_(
                "station %(station)s was changed by someone else (you started from version "
                "%(expected)s, it is now at version %(current)s)"
            ),
            field="version",
            params={
                "station": station_id,
                "expected": expected,
                "current": "a newer one" if current is None else current,
            },
        )
        self.station_id = station_id
        self.expected = expected
        self.current = current


@dataclass(frozen=True)
class NearbyWarning:
    """Not an error: another station is very close or has the same name."""

    station_id: str
    name: str
    distance_m: float
    same_name: bool

    @property
    def close(self) -> bool:
        return self.distance_m <= NEARBY_M


@dataclass(frozen=True)
class FieldConflict:
    field: str
    yours: Any
    theirs: Any
    changed_by_them: bool  # they changed it since the version you started from


@dataclass
class LogFilter:
    person: str | None = None
    street: str | None = None
    start: date | None = None  # Asia/Shanghai calendar days, both inclusive
    end: date | None = None
    limit: int = 200
    station_ids: Sequence[str] = field(default_factory=tuple)


# --- reading --------------------------------------------------------------------------


def station_values(station: Station) -> dict[str, Any]:
    """The tracked values of a station, as plain data."""
    values = {key: getattr(station, key) for key in TRACKED}
    values["amenities"] = list(station.amenities or [])
    return values


def get_for_edit(session: Session, station_id: str, editor: Editor) -> Station:
    # populate_existing: check the version against the database, not a copy read earlier
    station = (
        session.get(Station, station_id, populate_existing=True) if len(station_id) <= 32 else None
    )
    if station is None:
        raise StationNotFound(
            N_("no station %(id)s"), field="station_id", params={"id": repr(station_id)}
        )
    _check_allowed(editor, station.street)
    return station


def history(session: Session, station_id: str) -> list[StationRevision]:
    """Every change to one station, newest first."""
    return list(
        session.scalars(
            select(StationRevision)
            .where(StationRevision.station_id == station_id)
            .order_by(StationRevision.version.desc(), StationRevision.id.desc())
        )
    )


def values_at(session: Session, station_id: str, version: int) -> dict[str, Any]:
    """The tracked values a station had at `version`, replayed from its history."""
    values: dict[str, Any] = {}
    found = False
    for revision in session.scalars(
        select(StationRevision)
        .where(StationRevision.station_id == station_id, StationRevision.version <= version)
        .order_by(StationRevision.version, StationRevision.id)
    ):
        found = found or revision.version == version
        for key, pair in (revision.changes or {}).items():
            values[key] = pair[1]
    if not found:
        raise EditError(
            N_("station %(id)s has no version %(version)s"),
            field="version",
            params={"id": station_id, "version": version},
        )
    return values


def change_log(session: Session, filters: LogFilter) -> list[tuple[StationRevision, str]]:
    """Changes across the registry, newest first, with each station's subdistrict."""
    query = select(StationRevision, Station.street).join(
        Station, Station.id == StationRevision.station_id
    )
    if filters.person:
        query = query.where(StationRevision.changed_by == filters.person)
    if filters.street:
        query = query.where(Station.street == filters.street)
    if filters.start:
        query = query.where(StationRevision.changed_at >= _day_start(filters.start))
    if filters.end:
        query = query.where(
            StationRevision.changed_at < _day_start(filters.end + timedelta(days=1))
        )
    if filters.station_ids:
        query = query.where(StationRevision.station_id.in_(filters.station_ids))
    query = query.order_by(StationRevision.changed_at.desc(), StationRevision.id.desc())
    return [(rev, street) for rev, street in session.execute(query.limit(filters.limit))]


def people_in_log(session: Session) -> list[str]:
    return list(
        session.scalars(select(StationRevision.changed_by).distinct().order_by("changed_by"))
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


def nearby_warnings(
    session: Session, lon: float, lat: float, name: str, exclude: str | None = None
) -> list[NearbyWarning]:
    """Active stations within 30 m (geodesic, WGS-84) or with the same name."""
    rows = session.execute(
        select(Station.id, Station.name, Station.lon, Station.lat).where(Station.active)
    ).all()
    rows = [r for r in rows if r.id != exclude]
    if not rows:
        return []
    lons = np.array([r.lon for r in rows])
    lats = np.array([r.lat for r in rows])
    _, _, distances = _GEOD.inv(np.full(len(rows), lon), np.full(len(rows), lat), lons, lats)
    wanted = _name_key(name)
    warnings = [
        NearbyWarning(r.id, r.name, round(float(d), 1), _name_key(r.name) == wanted)
        for r, d in zip(rows, distances, strict=True)
        if d <= NEARBY_M or _name_key(r.name) == wanted
    ]
    return sorted(warnings, key=lambda w: w.distance_m)


def _name_key(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def next_station_id(session: Session, street: str, areas: Areas) -> str:
    """The next free id in a subdistrict: its stem and a serial, e.g. QT-BY-024 or
    D330191-003-007 (the stem is D and the division code unless the outlines give another)."""
    found = areas.subdistrict(street)
    if found is None:
        raise InvalidStation(N_("unknown subdistrict %(value)s"), field="street",
                             params={"value": street})  # fmt: skip
    prefix = f"{found.id_prefix}-"
    taken = session.scalars(select(Station.id).where(Station.id.like(prefix + "%")))
    numbers = [int(s[len(prefix) :]) for s in taken if s[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


# --- checking -------------------------------------------------------------------------


def validate(raw: Mapping[str, Any], areas: Areas) -> StationData:
    """registry.validate_station, raising InvalidStation (a public error) instead."""
    try:
        return _validate_station(raw, areas)
    except _FieldError as exc:
        raise InvalidStation(exc.template, field=exc.field, params=exc.params) from None


def conflicts(
    session: Session, station: Station, expected: int, yours: Mapping[str, Any]
) -> list[FieldConflict]:
    """Field by field: what you tried to save against what is stored now."""
    theirs = station_values(station)
    try:
        started = values_at(session, station.id, expected)
    except EditError:
        started = {}
    result = []
    for key in TRACKED:
        if key not in yours:
            continue
        mine = list(yours[key]) if key == "amenities" else yours[key]
        changed = key in started and started[key] != theirs[key]
        if mine != theirs[key] or changed:
            result.append(FieldConflict(key, mine, theirs[key], changed))
    return result


def _check_allowed(editor: Editor, street: str) -> None:
    if not editor.edits_stations:
        raise NotAllowed(N_("your role does not edit stations"))
    if not editor.may_edit(street):
        raise NotAllowed(
            N_("you edit the stations of %(mine)s only; this one is in %(street)s"),
            params={"mine": editor.scope, "street": street},
        )


def _check_id_prefix(station_id: str, street: str, areas: Areas) -> None:
    """An id that names a subdistrict (QT-BY-001, D330191-003-007) must name the station's
    own: one that claims another's would file the station under the wrong street office
    at a glance (and in every list sorted by id)."""
    stem, _, serial = station_id.rpartition("-")
    own = areas.subdistrict(street)
    claimed = areas.with_id_prefix(stem) if serial else None
    if claimed is not None and own is not None and claimed != own:
        raise InvalidStation(
            N_(
                "the id %(id)s names %(claimed)s, but the station is in %(street)s"
                " (use %(prefix)s…)"
            ),
            field="id",
            params={
                "id": station_id,
                "claimed": claimed.key,
                "street": own.key,
                "prefix": f"{own.id_prefix}-",
            },
        )


def _check_version(station: Station, expected: int | None) -> None:
    if expected is not None and expected != station.version:
        raise VersionConflict(station.id, expected, station.version)


def _reason(text: str | None, *, required: bool = False) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidStation(N_("a reason is required"), field="reason")
    if len(text) > MAX_REASON:
        raise InvalidStation(
            N_("the reason is longer than %(n)s characters"),
            field="reason",
            params={"n": MAX_REASON},
        )
    return text


# --- writing --------------------------------------------------------------------------


def create_station(
    session: Session, raw: Mapping[str, Any], areas: Areas, editor: Editor, reason: str = ""
) -> Station:
    """Add a station (an id is made when none is given)."""
    reason = _reason(reason)
    raw = dict(raw)
    if not raw.get("id"):
        data = validate({**raw, "id": "QT-XX-000"}, areas)
        raw["id"] = next_station_id(session, data.street, areas)
    data = validate(raw, areas)
    _check_allowed(editor, data.street)
    _check_id_prefix(data.id, data.street, areas)
    if session.get(Station, data.id) is not None:
        raise DuplicateStation(
            N_("there is already a station %(id)s"), field="id", params={"id": data.id}
        )
    now = utcnow()
    values = data.values()
    station = Station(id=data.id, created_at=now, updated_at=now, **values)
    if raw.get("photo_id"):
        station.photo_id = raw["photo_id"]
    session.add(station)
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateStation(
            N_("there is already a station %(id)s"), field="id", params={"id": data.id}
        ) from None
    created = {k: [None, v] for k, v in station_values(station).items()}
    record_revision(session, station, created, editor.username, reason or "created", None, now)
    bump_version(session)
    return station


def update_station(
    session: Session,
    station_id: str,
    changes: Mapping[str, Any],
    areas: Areas,
    editor: Editor,
    *,
    expected_version: int | None,
    reason: str = "",
) -> Station:
    """Change some of a station's values. Moving it without naming a subdistrict lets the
    subdistrict follow the point."""
    reason = _reason(reason)
    station = get_for_edit(session, station_id, editor)
    _check_version(station, expected_version)
    current = station_values(station)
    merged = {**current, **changes, "id": station.id}
    moved = any(k in changes and changes[k] != current[k] for k in ("lon", "lat"))
    if moved and "street" not in changes:
        merged["street"] = None
    data = validate(merged, areas)
    _check_allowed(editor, data.street)
    new = {**data.values(), "photo_id": merged.get("photo_id")}
    return _apply(session, station, new, editor, reason)


def retire_station(
    session: Session, station_id: str, editor: Editor, *, reason: str, expected_version: int | None
) -> Station:
    """Take a station out of the locator; the record and its history stay."""
    reason = _reason(reason, required=True)
    station = get_for_edit(session, station_id, editor)
    _check_version(station, expected_version)
    if not station.active:
        raise EditError(
            N_("station %(id)s is already retired"), field="active", params={"id": station_id}
        )
    return _apply(session, station, {"active": False, "retired_reason": reason}, editor, reason)


def reinstate_station(
    session: Session,
    station_id: str,
    areas: Areas,
    editor: Editor,
    *,
    reason: str,
    expected_version: int | None,
) -> Station:
    """Bring a retired station back (its point must still be in its subdistrict)."""
    reason = _reason(reason)
    station = get_for_edit(session, station_id, editor)
    _check_version(station, expected_version)
    if station.active:
        raise EditError(
            N_("station %(id)s is not retired"), field="active", params={"id": station_id}
        )
    values = {**station_values(station), "id": station.id, "active": True, "retired_reason": None}
    validate(values, areas)
    return _apply(
        session, station, {"active": True, "retired_reason": None}, editor, reason or "reinstated"
    )


def restore_version(
    session: Session,
    station_id: str,
    version: int,
    areas: Areas,
    editor: Editor,
    *,
    expected_version: int | None,
    reason: str = "",
) -> Station:
    """A new version whose values equal those of `version`.

    Out-of-service marks are left as they are: they describe today's broken dispenser,
    not the registry entry, and come and go with couriers' reports.
    """
    reason = _reason(reason)
    station = get_for_edit(session, station_id, editor)
    _check_version(station, expected_version)
    old = {"photo_id": None, **values_at(session, station_id, version)}
    merged = {**station_values(station), **old, "id": station.id}
    data = validate(merged, areas)
    _check_allowed(editor, data.street)
    new = {**data.values(), "photo_id": merged.get("photo_id")}
    return _apply(session, station, new, editor, reason or f"restored version {version}")


def set_out_of_service(
    session: Session,
    station_id: str,
    amenity: str,
    note: str | None,
    actor: Editor,
    expected_version: int | None = None,
) -> Station:
    """Mark an amenity out of service with a public note (`note=None` clears the mark).

    While marked, the locator does not offer the station for that amenity.
    """
    station = get_for_edit(session, station_id, actor)
    _check_version(station, expected_version)
    if amenity not in AMENITY_BY_CODE:
        raise InvalidStation(
            N_("unknown amenity code %(code)s"), field="amenity", params={"code": repr(amenity)}
        )
    marks = dict(station.out_of_service or {})
    if note is None:
        if amenity not in marks:
            return station
        del marks[amenity]
        reason = f"{amenity} back in service"
    else:
        note = note.strip()
        if not note:
            raise InvalidStation(
                N_("say what couriers should know (e.g. water dispenser under repair)"),
                field="note",
            )
        if len(note) > MAX_NOTE:
            raise InvalidStation(
                N_("the note is longer than %(n)s characters"), field="note", params={"n": MAX_NOTE}
            )
        if amenity not in (station.amenities or []):
            raise InvalidStation(
                N_("this station has no %(amenity)s"), field="amenity", params={"amenity": amenity}
            )
        marks[amenity] = note
        reason = f"{amenity} out of service: {note}"
    changes = {"out_of_service": [dict(station.out_of_service or {}), marks]}
    station.out_of_service = marks
    return _write(session, station, changes, actor, reason)


def _apply(
    session: Session, station: Station, new: Mapping[str, Any], editor: Editor, reason: str
) -> Station:
    old = station_values(station)
    changes = {k: [old[k], v] for k, v in new.items() if k in old and old[k] != v}
    if not changes:
        return station
    for key, (_old, value) in changes.items():
        setattr(station, key, value)
    return _write(session, station, changes, editor, reason)


def _write(
    session: Session,
    station: Station,
    changes: dict[str, list[Any]],
    editor: Editor,
    reason: str,
) -> Station:
    now = utcnow()
    station.updated_at = now
    station_id, expected = station.id, station.version  # readable after a rollback
    try:
        session.flush()
    except StaleDataError:  # a save that raced ours got there first
        raise VersionConflict(station_id, expected, None) from None
    record_revision(session, station, changes, editor.username, reason, None, now)
    bump_version(session)
    return station
