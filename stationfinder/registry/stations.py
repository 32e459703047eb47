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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from stationfinder.core import hours
from stationfinder.core.errors import DomainError
from stationfinder.core.text import N_
from stationfinder.core.vocabulary import ACCESSES
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.models import RegistryState, Station, StationRevision, utcnow
from stationfinder.registry import fields
from stationfinder.registry.changes import mark_changed
from stationfinder.registry.fields import StationField

ID_PATTERN = re.compile(fields.ID_PATTERN)
PHONE_PATTERN = re.compile(fields.PHONE_PATTERN)
COORDINATE_DECIMALS = 7  # about 1 cm: more would be noise, less would move stations
FIELDS = fields.LOADED  # what a file sets, in column order (the id aside)
# A way in by its code or by its label in either language -> its code.
ACCESS_BY_LABEL: dict[str, str] = {
    key: a.code for a in ACCESSES for key in (a.code, a.zh, a.en, a.en.lower())
}
_F = fields.BY_NAME


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
    access: str | None = None
    access_note: str | None = None
    seats: int | None = None
    step_free: bool | None = None
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
    code: str | None = None  # FieldError.code when validation refused the value
    # The message as a gettext msgid and its values, for the web layer to translate.
    template: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

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


class FieldError(Exception):
    """One refused value: which `field`, a stable `code` (what kind of refusal), and the
    English `message`, written as a gettext msgid (`template`) with its `params`, so the
    web layer can say it in the reader's language without matching substrings."""

    def __init__(self, field_name: str, code: str, template: str, **params: Any) -> None:
        self.field = field_name
        self.code = code
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(self.message)


_FieldError = FieldError  # the name registry.editing imports
_T = TypeVar("_T")


def _clean_text(value: Any, spec: StationField, *, required: bool | None = None) -> str | None:
    """Text as the declaration of `spec` allows it: trimmed, NFC, no control characters,
    at most its max_length; None when blank (refused when required)."""
    name = spec.name
    if value is None or (isinstance(value, str) and not value.strip()):
        if spec.required if required is None else required:
            raise FieldError(name, "required", N_("is required"))
        return None
    if not isinstance(value, str):
        raise FieldError(name, "not_text", N_("must be text"))
    value = unicodedata.normalize("NFC", value.strip())
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise FieldError(name, "control_characters", N_("must not contain control characters"))
    if spec.max_length is not None and len(value) > spec.max_length:
        raise FieldError(
            name,
            "too_long",
            N_("is longer than %(max_length)s characters"),
            max_length=spec.max_length,
        )
    return value


def _coordinate(value: Any, spec: StationField) -> float:
    name = spec.name
    low, high = spec.minimum, spec.maximum
    assert low is not None and high is not None, f"{name} is declared without a range"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(name, "not_a_number", N_("must be a number"))
    try:
        number = float(value)
    except ValueError:
        raise FieldError(
            name, "not_a_number", N_("%(value)s is not a number"), value=repr(value)
        ) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise FieldError(
            name,
            "out_of_range",
            N_("%(value)s is outside %(minimum)s..%(maximum)s"),
            value=str(value),
            minimum=f"{low:g}",
            maximum=f"{high:g}",
        )
    return round(number, COORDINATE_DECIMALS)


def _amenities(value: Any) -> tuple[str, ...]:
    allowed = _F["amenities"].choices or ()
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[;,，、；|\s]+", value) if part]
    if not isinstance(value, list | tuple):
        raise FieldError("amenities", "not_a_list", N_("must be a list of amenity codes"))
    unknown = [code for code in value if not isinstance(code, str) or code not in allowed]
    if unknown:  # every one of them, so one correction fixes the cell
        raise FieldError(
            "amenities",
            "unknown_amenity",
            N_("unknown amenity code %(value)s"),
            value=", ".join(repr(code) for code in dict.fromkeys(unknown)),
        )
    return tuple(c for c in allowed if c in set(value))


def _access(value: Any) -> str | None:
    """A way-in code; staff may also write its Chinese or English label (按铃, "Ring the
    bell"), as a spreadsheet typed by hand will, and the code is what is kept."""
    spec = _F["access"]
    text = _clean_text(value, spec)
    if text is None:
        return None
    found = ACCESS_BY_LABEL.get(text) or ACCESS_BY_LABEL.get(text.lower())
    if found is None:
        raise FieldError(
            "access",
            "unknown_access",
            N_("unknown way in %(value)s; one of %(choices)s"),
            value=repr(text),
            choices=", ".join(spec.choices or ()),
        )
    return found


def _count(value: Any, spec: StationField) -> int | None:
    """A whole number within the declared range; None when blank (Excel's 12.0 is 12)."""
    name = spec.name
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+]?[0-9]{1,6}", value.strip()):
        number = int(value.strip())
    if number is None:
        raise FieldError(name, "not_a_whole_number", N_("must be a whole number"))
    low, high = spec.minimum, spec.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        raise FieldError(
            name,
            "out_of_range",
            N_("%(value)s is outside %(minimum)s..%(maximum)s"),
            value=str(number),
            minimum=f"{low:g}" if low is not None else "",
            maximum=f"{high:g}" if high is not None else "",
        )
    return number


def _flag(value: Any, spec: StationField) -> bool | None:
    """True or false; None (unknown) when blank and the field may be unknown."""
    if value is None and spec.nullable:
        return None
    if not isinstance(value, bool):
        raise FieldError(spec.name, "not_boolean", N_("must be true or false"))
    return value


def validate_station(raw: Mapping[str, Any], areas: Areas) -> StationData:
    """Check one station's values against the declaration (registry.fields); raise
    FieldError for the first bad one (station_problems names them all)."""
    station, problems = station_problems(raw, areas)
    if problems:
        raise problems[0]
    assert station is not None
    return station


def station_problems(
    raw: Mapping[str, Any], areas: Areas
) -> tuple[StationData | None, list[FieldError]]:
    """Every bad value of one station, in field order, or the clean station.

    Each field is checked on its own, so staff fixing a spreadsheet see all of a row's
    mistakes in one preview instead of one per upload; a check that needs another
    field (the subdistrict a point lies in, a phone for call-ahead) is left out when
    that field is itself refused, rather than reporting a consequence as a second fault.
    """
    problems: list[FieldError] = []

    def attempt(check: Callable[[], _T]) -> _T | None:
        try:
            return check()
        except FieldError as exc:
            problems.append(exc)
            return None

    station_id = attempt(lambda: _station_id(raw.get("id")))
    lon = attempt(lambda: _coordinate(raw.get("lon"), _F["lon"]))
    lat = attempt(lambda: _coordinate(raw.get("lat"), _F["lat"]))
    located = None
    if lon is not None and lat is not None:
        located = attempt(lambda: _located(lon, lat, areas))
    street = attempt(lambda: _street(raw.get("street"), located, lon, lat, areas))
    kind = attempt(lambda: _kind(raw.get("kind")))
    opening = attempt(lambda: _opening_hours(raw.get("opening_hours")))
    phone_problems = len(problems)
    phone = attempt(lambda: _phone(raw.get("phone")))
    phone_refused = len(problems) > phone_problems
    access = attempt(lambda: _access(raw.get("access")))
    if access == "call_ahead" and phone is None and not phone_refused:
        # A courier told to phone ahead, with no number to ring, is left at the door.
        problems.append(
            FieldError(
                "access", "call_ahead_without_phone", N_("phoning ahead needs the station's phone")
            )
        )
    amenities = attempt(lambda: _amenities(raw.get("amenities")))
    texts = {
        name: attempt(lambda name=name: _clean_text(raw.get(name), _F[name]))
        for name in ("name", "name_en", "address", "access_note", "retired_reason")
    }
    seats = attempt(lambda: _count(raw.get("seats"), _F["seats"]))
    step_free = attempt(lambda: _flag(raw.get("step_free"), _F["step_free"]))
    active = raw.get("active", True)
    if not isinstance(active, bool):
        problems.append(FieldError("active", "not_boolean", N_("must be true or false")))
    if problems:
        return None, problems
    assert station_id is not None and lon is not None and lat is not None and kind is not None
    return StationData(
        id=station_id,
        name=texts["name"] or "",
        name_en=texts["name_en"],
        kind=kind,
        street=street or "",
        address=texts["address"] or "",
        lon=lon,
        lat=lat,
        amenities=amenities or (),
        opening_hours=opening,
        phone=phone,
        access=access,
        access_note=texts["access_note"],
        seats=seats,
        step_free=step_free,
        active=active,
        retired_reason=texts["retired_reason"],
    ), []


def _station_id(value: Any) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise FieldError(
            "id",
            "invalid_id",
            N_("%(value)s is not a station id like QT-BY-001"),
            value=repr(value),
        )
    # The pattern alone admits 35 characters; the column holds the declared length.
    _clean_text(value, _F["id"])
    return value


def _located(lon: float, lat: float, areas: Areas) -> str | None:
    """The subdistrict a point lies in; refused outside the district."""
    point = Point(lon, lat)
    if not areas.in_district(point):
        raise FieldError(
            "geometry",
            "outside_district",
            N_("point (%(lon)s, %(lat)s) lies outside the district"),
            lon=lon,
            lat=lat,
        )
    return areas.street_at(point)


def _street(
    value: Any, located: str | None, lon: float | None, lat: float | None, areas: Areas
) -> str | None:
    """The subdistrict given, or the one the point lies in; a given one must be known
    and, when the point is known, agree with it. It may be given by key, division code
    or name: a name that several districts share means the one the point lies in."""
    given = _clean_text(value, _F["street"])
    if given is None:
        return located
    here = areas.subdistrict(located)
    if here is not None and given in (here.key, here.code, here.name, here.name_en, here.key_en):
        return here.key
    street = areas.resolve(given)
    if street is None:
        raise FieldError(
            "street", "unknown_street", N_("unknown subdistrict %(value)s"), value=repr(given)
        )
    if located is not None and street != located:
        raise FieldError(
            "street",
            "street_mismatch",
            N_("point (%(lon)s, %(lat)s) lies in %(located)s, not in %(street)s"),
            lon=lon,
            lat=lat,
            located=located,
            street=street,
        )
    return street


def _kind(value: Any) -> str:
    kinds = _F["kind"].choices or ()
    kind = _clean_text(value, _F["kind"])
    if kind not in kinds:
        raise FieldError(
            "kind",
            "unknown_kind",
            N_("unknown kind %(value)s; one of %(choices)s"),
            value=repr(kind),
            choices=", ".join(kinds),
        )
    assert kind is not None
    return kind


def _opening_hours(value: Any) -> str | None:
    opening = _clean_text(value, _F["opening_hours"])
    if opening is not None and (problem := hours.validate(opening)) is not None:
        raise FieldError("opening_hours", "invalid_opening_hours", "%(problem)s", problem=problem)
    return opening


def _phone(value: Any) -> str | None:
    phone = _clean_text(value, _F["phone"])
    if phone is not None and not PHONE_PATTERN.match(phone):
        raise FieldError(
            "phone", "invalid_phone", N_("%(value)s is not a phone number"), value=repr(phone)
        )
    return phone


# --- reading files ----------------------------------------------------------------

# Chinese or English, as an export writes them (registry.fields declares each column's).
CSV_HEADERS: dict[str, str] = fields.HEADERS


def read_geojson(data: bytes | str) -> list[dict[str, Any]]:
    """Rows (flat dicts) from a GeoJSON FeatureCollection; RegistryError if not one."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(N_("not a JSON file: %(error)s"), params={"error": str(exc)}) from None
    except RecursionError:  # a few hundred kilobytes of "[[[[..." (a 500 otherwise)
        raise RegistryError(N_("not a GeoJSON file: it is nested too deeply")) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise RegistryError(N_("not a GeoJSON FeatureCollection"))
    features = document.get("features")
    if not isinstance(features, list):
        raise RegistryError(N_("a FeatureCollection needs a list of features"))
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
        refused = []
        if "_geometry_error" in row:
            refused.append(Problem(label, "geometry", row["_geometry_error"]))
        station, errors = station_problems(row, areas)
        refused.extend(
            Problem(label, exc.field, exc.message, exc.code, exc.template, exc.params)
            for exc in errors
        )
        if refused or station is None:
            problems.extend(refused)
            continue
        if station.id in seen:
            problems.append(
                Problem(
                    label,
                    "id",
                    f"duplicate id {station.id}",
                    "duplicate_id",
                    N_("duplicate id %(id)s"),
                    {"id": station.id},
                )
            )
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


def active_stations(session: Session, streets: Collection[str] | None = None) -> list[Station]:
    """Active stations by id; of the subdistricts `streets` (keys) only, when given."""
    query = select(Station).where(Station.active)
    if streets is not None:
        query = query.where(Station.street.in_(sorted(streets)))
    return list(session.scalars(query.order_by(Station.id)))


def all_stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.id)))


def stations_changed_since(
    session: Session, since: datetime, streets: Collection[str] | None = None
) -> list[Station]:
    """Stations (retired ones too) changed or confirmed after `since`; of `streets` only,
    when given."""
    query = select(Station).where(
        or_(Station.updated_at > since, Station.last_confirmed_at > since)
    )
    if streets is not None:
        query = query.where(Station.street.in_(sorted(streets)))
    return list(session.scalars(query.order_by(Station.id)))


def get_station(session: Session, station_id: str) -> Station | None:
    return session.get(Station, station_id)


# A file's properties: every imported field the geometry and the feature id do not carry.
_RETIREMENT = tuple(_F[name] for name in ("active", "retired_reason"))
_EXPORTED = tuple(
    f
    for f in fields.STATION_FIELDS
    if f.imported and f.geojson is not None and f not in _RETIREMENT
)


def export_geojson(stations: Iterable[Station]) -> str:
    """The registry as RFC 7946 GeoJSON; the same registry always gives the same bytes."""
    features = []
    for station in sorted(stations, key=lambda s: s.id):
        properties: dict[str, Any] = {
            f.geojson: fields.json_value(f, getattr(station, f.name)) for f in _EXPORTED
        }
        if not station.active:  # the seed's stations are all in use and say nothing of it
            for f in _RETIREMENT:
                properties[f.geojson] = fields.json_value(f, getattr(station, f.name))
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
