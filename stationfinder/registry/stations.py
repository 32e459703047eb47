"""The station registry: validate, load (all or nothing), export, and read.

No Flask here: the CLI, the API and the staff pages all call these functions with a
SQLAlchemy session they own.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from stationfinder.core import hours
from stationfinder.core.errors import DomainError
from stationfinder.core.vocabulary import AMENITY_BY_CODE, AMENITY_CODES, KIND_NAMES, STREET_NAMES
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.models import RegistryState, Station, StationRevision, utcnow
from stationfinder.registry.changes import mark_changed

ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,7}(-[A-Z0-9]{1,8}){1,3}$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,28}[0-9]$")
COORDINATE_DECIMALS = 7  # about 1 cm: more would be noise, less would move stations
FIELDS = (
    "name",
    "name_en",
    "kind",
    "street",
    "address",
    "lon",
    "lat",
    "amenities",
    "opening_hours",
    "phone",
    "active",
    "retired_reason",
)


class RegistryError(DomainError):
    """A request to the registry that cannot be carried out."""


@dataclass(frozen=True)
class StationData:
    """A validated station, as a file or a form describes it."""

    id: str
    name: str
    name_en: str | None
    kind: str
    street: str
    address: str
    lon: float
    lat: float
    amenities: tuple[str, ...]
    opening_hours: str | None
    phone: str | None
    active: bool = True
    retired_reason: str | None = None

    def values(self) -> dict[str, Any]:
        values = asdict(self)
        values["amenities"] = list(self.amenities)
        del values["id"]
        return values


@dataclass(frozen=True)
class Problem:
    """Why one feature (or the whole file) was refused."""

    where: str  # "feature 12 (QT-BY-001)" or "file"
    field: str | None
    message: str

    def __str__(self) -> str:
        target = f"{self.where}, {self.field}" if self.field else self.where
        return f"{target}: {self.message}"


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- validation -------------------------------------------------------------------


def _clean_text(value: Any, field_name: str, *, required: bool, max_len: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _FieldError(field_name, "is required")
        return None
    if not isinstance(value, str):
        raise _FieldError(field_name, "must be text")
    value = unicodedata.normalize("NFC", value.strip())
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise _FieldError(field_name, "must not contain control characters")
    if len(value) > max_len:
        raise _FieldError(field_name, f"is longer than {max_len} characters")
    return value


class _FieldError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _coordinate(value: Any, field_name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _FieldError(field_name, "must be a number")
    try:
        number = float(value)
    except ValueError:
        raise _FieldError(field_name, f"{value!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _FieldError(field_name, f"{value} is outside {low:g}..{high:g}")
    return round(number, COORDINATE_DECIMALS)


def _amenities(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[;,，、；|\s]+", value) if part]
    if not isinstance(value, list | tuple):
        raise _FieldError("amenities", "must be a list of amenity codes")
    codes = set()
    for code in value:
        if not isinstance(code, str) or code not in AMENITY_BY_CODE:
            raise _FieldError("amenities", f"unknown amenity code {code!r}")
        codes.add(code)
    return tuple(c for c in AMENITY_CODES if c in codes)


def validate_station(raw: Mapping[str, Any], areas: Areas) -> StationData:
    """Check one station's values; raise _FieldError for the first bad one."""
    station_id = raw.get("id")
    if not isinstance(station_id, str) or not ID_PATTERN.match(station_id):
        raise _FieldError("id", f"{station_id!r} is not a station id like QT-BY-001")
    lon = _coordinate(raw.get("lon"), "lon", -180.0, 180.0)
    lat = _coordinate(raw.get("lat"), "lat", -90.0, 90.0)
    point = Point(lon, lat)
    if not areas.in_district(point):
        raise _FieldError("geometry", f"point ({lon}, {lat}) lies outside the district")
    located = areas.street_at(point)
    street = _clean_text(raw.get("street"), "street", required=False, max_len=20)
    if street is None:
        street = located
    elif street not in STREET_NAMES:
        raise _FieldError("street", f"unknown subdistrict {street!r}")
    elif street != located:
        raise _FieldError("street", f"point ({lon}, {lat}) lies in {located}, not in {street}")
    kind = _clean_text(raw.get("kind"), "kind", required=True, max_len=40)
    if kind not in KIND_NAMES:
        raise _FieldError("kind", f"unknown kind {kind!r}; one of {', '.join(KIND_NAMES)}")
    opening = _clean_text(raw.get("opening_hours"), "opening_hours", required=False, max_len=255)
    if opening is not None and (problem := hours.validate(opening)) is not None:
        raise _FieldError("opening_hours", problem)
    phone = _clean_text(raw.get("phone"), "phone", required=False, max_len=30)
    if phone is not None and not PHONE_PATTERN.match(phone):
        raise _FieldError("phone", f"{phone!r} is not a phone number")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise _FieldError("active", "must be true or false")
    return StationData(
        id=station_id,
        name=_clean_text(raw.get("name"), "name", required=True, max_len=100) or "",
        name_en=_clean_text(raw.get("name_en"), "name_en", required=False, max_len=100),
        kind=kind,
        street=street or "",
        address=_clean_text(raw.get("address"), "address", required=False, max_len=200) or "",
        lon=lon,
        lat=lat,
        amenities=_amenities(raw.get("amenities")),
        opening_hours=opening,
        phone=phone,
        active=active,
        retired_reason=_clean_text(
            raw.get("retired_reason"), "retired_reason", required=False, max_len=500
        ),
    )


# --- reading files ----------------------------------------------------------------

CSV_HEADERS: dict[str, str] = {
    "id": "id",
    "编号": "id",
    "name": "name",
    "名称": "name",
    "name_en": "name_en",
    "英文名称": "name_en",
    "kind": "kind",
    "类型": "kind",
    "street": "street",
    "街道": "street",
    "address": "address",
    "地址": "address",
    "lon": "lon",
    "经度": "lon",
    "lat": "lat",
    "纬度": "lat",
    "amenities": "amenities",
    "设施": "amenities",
    "opening_hours": "opening_hours",
    "开放时间": "opening_hours",
    "phone": "phone",
    "电话": "phone",
    "active": "active",
    "在用": "active",
    "retired_reason": "retired_reason",
    "停用原因": "retired_reason",
}


def read_geojson(data: bytes | str) -> list[dict[str, Any]]:
    """Rows (flat dicts) from a GeoJSON FeatureCollection; RegistryError if not one."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(f"not a JSON file: {exc}") from None
    except RecursionError:  # a few hundred kilobytes of "[[[[..." (a 500 otherwise)
        raise RegistryError("not a GeoJSON file: it is nested too deeply") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise RegistryError("not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise RegistryError("a FeatureCollection needs a list of features")
    rows = []
    for feature in features:
        row: dict[str, Any] = {}
        if isinstance(feature, dict):
            props = feature.get("properties")
            if isinstance(props, dict):
                row.update(props)
            row["id"] = feature.get("id", row.get("id"))
            geometry = feature.get("geometry")
            if (
                isinstance(geometry, dict)
                and geometry.get("type") == "Point"
                and isinstance(geometry.get("coordinates"), list)
                and len(geometry["coordinates"]) in (2, 3)
            ):
                row["lon"], row["lat"] = geometry["coordinates"][:2]
            else:
                row["_geometry_error"] = "geometry must be a GeoJSON Point [lon, lat]"
        else:
            row["_geometry_error"] = "not a GeoJSON Feature"
        rows.append(row)
    return rows


# --- loading ----------------------------------------------------------------------


def validate_rows(
    rows: Sequence[Mapping[str, Any]], areas: Areas
) -> tuple[list[StationData], list[Problem]]:
    stations: list[StationData] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        label = f"feature {number}"
        if isinstance(row.get("id"), str):
            label += f" ({row['id']})"
        if "_geometry_error" in row:
            problems.append(Problem(label, "geometry", row["_geometry_error"]))
            continue
        try:
            station = validate_station(row, areas)
        except _FieldError as exc:
            problems.append(Problem(label, exc.field, exc.message))
            continue
        if station.id in seen:
            problems.append(Problem(label, "id", f"duplicate id {station.id}"))
            continue
        seen.add(station.id)
        stations.append(station)
    return stations, problems


def plan_load(
    session: Session, rows: Sequence[Mapping[str, Any]], areas: Areas, *, retire_missing: bool
) -> tuple[LoadReport, list[StationData]]:
    """What loading these rows would change; nothing is written."""
    report = LoadReport()
    stations, report.problems = validate_rows(rows, areas)
    existing = {s.id: s for s in session.scalars(select(Station))}
    for data in stations:
        current = existing.get(data.id)
        if current is None:
            report.added.append(data.id)
            continue
        diff = _diff(current, data.values())
        if diff:
            report.changed[data.id] = diff
        else:
            report.unchanged += 1
    if retire_missing:
        incoming = {s.id for s in stations}
        report.retired = sorted(
            sid for sid, s in existing.items() if s.active and sid not in incoming
        )
    return report, stations


def apply_load(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    areas: Areas,
    *,
    actor: str,
    reason: str,
    retire_missing: bool = False,
) -> LoadReport:
    """Validate and write every row, or write nothing when any row is bad.

    The caller owns the transaction: this flushes, it does not commit.
    """
    report, stations = plan_load(session, rows, areas, retire_missing=retire_missing)
    if not report.ok:
        return report
    batch = uuid.uuid4().hex[:12]
    now = utcnow()
    # Every row in one flush, then every history record in one more: a 20,000-station
    # load then holds SQLite's write lock for seconds, not the minute that a flush per
    # station took, which made couriers' writes behind it wait out the busy timeout (15 s)
    # and fail with "database is locked".
    added = set(report.added)
    written: list[tuple[Station, dict[str, list[Any]]]] = []
    with session.no_autoflush:  # reading a station to change must not flush the new ones
        for data in stations:
            if data.id in added:
                values = data.values()
                station = Station(id=data.id, created_at=now, updated_at=now, **values)
                session.add(station)
                written.append((station, {k: [None, v] for k, v in values.items()}))
            elif data.id in report.changed:
                station = session.get_one(Station, data.id)
                for key, (_old, new) in report.changed[data.id].items():
                    setattr(station, key, new)
                station.updated_at = now
                written.append((station, report.changed[data.id]))
        for station_id in report.retired:
            station = session.get_one(Station, station_id)
            changes = {"active": [True, False], "retired_reason": [station.retired_reason, reason]}
            station.active = False
            station.retired_reason = reason
            station.updated_at = now
            written.append((station, changes))
    session.flush()  # the versions the history records name are set here
    for station, changes in written:
        record_revision(session, station, changes, actor, reason, batch, now)
    if written:
        bump_version(session)
    return report


def _diff(station: Station, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    diff = {}
    for key in FIELDS:
        old = getattr(station, key)
        new = values[key]
        if key == "amenities":
            old = list(old or [])
        if old != new:
            diff[key] = [old, new]
    return diff


def record_revision(
    session: Session,
    station: Station,
    changes: dict[str, list[Any]],
    actor: str,
    reason: str,
    batch: str | None,
    when: datetime,
) -> None:
    """Keep one change to a station in its history: who, when, why, each field old → new."""
    session.add(
        StationRevision(
            station_id=station.id,
            version=station.version,
            changed_at=when,
            changed_by=actor,
            reason=reason,
            batch=batch,
            changes=changes,
        )
    )


def bump_version(session: Session) -> None:
    """Tell every worker that the registry changed (they rebuild their index)."""
    result = session.execute(
        update(RegistryState)
        .where(RegistryState.id == 1)
        .values(version=RegistryState.version + 1, changed_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(RegistryState(id=1, version=1, changed_at=utcnow()))
    session.flush()
    mark_changed(session)


def registry_version(session: Session) -> int:
    return session.scalar(select(RegistryState.version).where(RegistryState.id == 1)) or 0


# --- reading ----------------------------------------------------------------------


def is_empty(session: Session) -> bool:
    return session.scalar(select(Station.id).limit(1)) is None


def active_stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).where(Station.active).order_by(Station.id)))


def stations_named_like(session: Session, pattern: str, limit: int = 200) -> list[Any]:
    """Active stations whose lower-cased Chinese or English name matches a LIKE
    ``pattern`` (escape character ``\\``), shortest names first (an exact or prefix
    match is among them): id, name, name_en, street, lon, lat."""
    name = func.lower(Station.name).like(pattern, escape="\\")
    name_en = func.lower(func.coalesce(Station.name_en, "")).like(pattern, escape="\\")
    query = (
        select(Station.id, Station.name, Station.name_en, Station.street, Station.lon, Station.lat)
        .where(Station.active, or_(name, name_en))
        .order_by(func.length(Station.name), Station.id)
        .limit(limit)
    )
    return list(session.execute(query))


def all_stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.id)))


def stations_changed_since(session: Session, since: datetime) -> list[Station]:
    return list(
        session.scalars(
            select(Station)
            .where(or_(Station.updated_at > since, Station.last_confirmed_at > since))
            .order_by(Station.id)
        )
    )


def get_station(session: Session, station_id: str) -> Station | None:
    return session.get(Station, station_id)


def export_geojson(stations: Iterable[Station]) -> str:
    """The registry as RFC 7946 GeoJSON; the same registry always gives the same bytes."""
    features = []
    for station in sorted(stations, key=lambda s: s.id):
        properties: dict[str, Any] = {
            "name": station.name,
            "name_en": station.name_en,
            "kind": station.kind,
            "street": station.street,
            "address": station.address,
            "amenities": list(station.amenities or []),
            "opening_hours": station.opening_hours,
            "phone": station.phone,
        }
        if not station.active:
            properties["active"] = False
            properties["retired_reason"] = station.retired_reason
        features.append(
            {
                "type": "Feature",
                "id": station.id,
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(station.lon, COORDINATE_DECIMALS),
                        round(station.lat, COORDINATE_DECIMALS),
                    ],
                },
                "properties": properties,
            }
        )
    document = {
        "type": "FeatureCollection",
        "properties": {"exported_by": "stationfinder", "crs": "WGS84 (RFC 7946)"},
        "features": features,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
