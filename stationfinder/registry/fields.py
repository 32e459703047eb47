"""A station's fields, each declared once: name, type, limits, label, headers, GeoJSON, OSM.

Everything else that knows a station's fields is derived from `STATION_FIELDS`:
`registry.stations` (validation, the import headers, the GeoJSON export),
`registry.geojson` (the API's properties), `registry.spreadsheets` (CSV/XLSX columns),
the staff form's validators, the API's `EDITABLE` and the JSON Schema that the OpenAPI
document uses (`station_properties_schema`, `station_input_schema`). The model's column
lengths cannot import from here (models sit below the registry), so
tests/registry/test_fields.py holds them to these numbers.

Labels are English, marked with `N_` for `pybabel extract`; their Chinese is in the
zh_Hans_CN catalogue (stationfinder/translations). No Flask here.

The phone limit is 30 characters. The registry's validation always refused longer
numbers (its pattern allows 30, whatever the form said), so no stored phone is longer;
the seed's longest is 13 ("0571-86xxxxxx"); an international number is at most 15
digits (E.164) and a plus, which leaves room for spaces and dashes. The model's 40 and
the form's 40 let a 31–40 character number pass the form only to be refused by the
registry; migration 0008 brings the column to 30 as well (PostgreSQL; SQLite
enforces no VARCHAR length).

How a courier gets in (`access`, `access_note`, `seats`, `step_free`) is stored, with its
limits here (migration 0010 adds the columns). `open_24h` is not: it is derived from
`opening_hours` (`source` and `derive`), because a stored flag could say 24 hours beside
hours that say otherwise, and the hours are what "open now" is computed from. It is
public and read-only: imports, the staff form and the API's writes never set it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from stationfinder.core import hours
from stationfinder.core.text import N_
from stationfinder.core.vocabulary import ACCESS_CODES, AMENITY_CODES, KIND_NAMES


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CODES = "codes"  # a list of codes from a vocabulary (amenities)
    NOTES = "notes"  # {code: public note} (out_of_service)
    DATETIME = "datetime"


def _codes(value: Any) -> list[str]:
    return list(value or [])


def _notes(value: Any) -> dict[str, str]:
    return dict(value or {})


def _moment(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


_TO_JSON: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.CODES: _codes,
    FieldType.NOTES: _notes,
    FieldType.DATETIME: _moment,
}


@dataclass(frozen=True, slots=True)
class StationField:
    """One field of a station and every rule about it.

    `imported` fields are the columns of CSV/XLSX/GeoJSON imports and exports, the
    values `validate_station` checks. `editable` ones may be set through the API and the
    staff form. `public` ones are properties of the public API's features; `geojson` is
    their property name there (None: the field is the feature's id or its geometry).
    A derived field (`source` set) is no column: its value is `derive(station.<source>)`.
    """

    name: str
    type: FieldType
    label: str
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    header_zh: str | None = None  # the Chinese spreadsheet header; the English one is `name`
    imported: bool = False
    editable: bool = False
    public: bool = False
    geojson: str | None = None
    osm: str | None = None
    description: str = ""
    source: str | None = None  # the stored field a derived field is computed from
    derive: Callable[[Any], Any] | None = None

    @property
    def attribute(self) -> str:
        """The station's attribute this field's value is read from."""
        return self.source or self.name

    @property
    def headers(self) -> tuple[str, ...]:
        """Spreadsheet headers that name this column: the Chinese one (exports' default)
        and the English one."""
        return (self.header_zh, self.name) if self.header_zh else (self.name,)

    @property
    def to_json(self) -> Callable[[Any], Any] | None:
        """How a stored value becomes JSON (lists for codes, ISO 8601 for moments); None
        where it already is JSON, so that building a snapshot skips a call per value.
        A derived field's is its derivation, applied to its source's value."""
        return self.derive or _TO_JSON.get(self.type)

    def json_schema(self) -> dict[str, Any]:
        """This field's JSON Schema (2020-12, as OpenAPI 3.1 uses it)."""
        base = {
            FieldType.TEXT: "string",
            FieldType.NUMBER: "number",
            FieldType.INTEGER: "integer",
            FieldType.BOOLEAN: "boolean",
            FieldType.CODES: "array",
            FieldType.NOTES: "object",
            FieldType.DATETIME: "string",
        }[self.type]
        schema: dict[str, Any] = {"type": [base, "null"] if self.nullable else base}
        if self.type is FieldType.CODES:
            items: dict[str, Any] = {"type": "string"}
            if self.choices is not None:
                items["enum"] = list(self.choices)
            schema["items"] = items
        elif self.choices is not None:
            schema["enum"] = [*self.choices, None] if self.nullable else list(self.choices)
        if self.type is FieldType.NOTES:
            schema["additionalProperties"] = {"type": "string"}
            if self.max_length is not None:
                schema["additionalProperties"]["maxLength"] = self.max_length
        elif self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.type is FieldType.DATETIME:
            schema["format"] = "date-time"
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.source is not None:
            schema["readOnly"] = True
        if self.description:
            schema["description"] = self.description
        return schema


PHONE_MAX = 30
# Digits, spaces and dashes, a leading plus: the limit is in the pattern as well.
PHONE_PATTERN = rf"^\+?[0-9][0-9 \-]{{4,{PHONE_MAX - 2}}}[0-9]$"
ID_PATTERN = r"^[A-Z][A-Z0-9]{1,7}(-[A-Z0-9]{1,8}){1,3}$"

STATION_FIELDS: tuple[StationField, ...] = (
    StationField(
        "id",
        FieldType.TEXT,
        N_("ID"),
        required=True,
        max_length=32,
        pattern=ID_PATTERN,
        header_zh="编号",
        imported=True,
        description="Like QT-BY-001; given by the registry when left out",
    ),
    StationField(
        "name",
        FieldType.TEXT,
        N_("Name"),
        required=True,
        max_length=100,
        header_zh="名称",
        imported=True,
        editable=True,
        public=True,
        geojson="name",
        osm="name",
        description="Name in Chinese",
    ),
    StationField(
        "name_en",
        FieldType.TEXT,
        N_("English name"),
        nullable=True,
        max_length=100,
        header_zh="英文名称",
        imported=True,
        editable=True,
        public=True,
        geojson="name_en",
        osm="name:en",
    ),
    StationField(
        "kind",
        FieldType.TEXT,
        N_("Kind"),
        required=True,
        max_length=40,
        choices=KIND_NAMES,
        header_zh="类型",
        imported=True,
        editable=True,
        public=True,
        geojson="kind",
    ),
    StationField(
        "street",
        FieldType.TEXT,
        N_("Subdistrict"),
        max_length=60,  # a subdistrict's key (geo/areas.py); the loaded outlines list them
        header_zh="街道",
        imported=True,
        editable=True,
        public=True,
        geojson="street",
        description="Subdistrict",
    ),
    StationField(
        "address",
        FieldType.TEXT,
        N_("Address"),
        max_length=200,
        header_zh="地址",
        imported=True,
        editable=True,
        public=True,
        geojson="address",
        osm="addr:full",
    ),
    StationField(
        "lon",
        FieldType.NUMBER,
        N_("Longitude"),
        required=True,
        minimum=-180.0,
        maximum=180.0,
        header_zh="经度",
        imported=True,
        editable=True,
        description="WGS-84 longitude; in GeoJSON the geometry's first coordinate",
    ),
    StationField(
        "lat",
        FieldType.NUMBER,
        N_("Latitude"),
        required=True,
        minimum=-90.0,
        maximum=90.0,
        header_zh="纬度",
        imported=True,
        editable=True,
        description="WGS-84 latitude; in GeoJSON the geometry's second coordinate",
    ),
    StationField(
        "amenities",
        FieldType.CODES,
        N_("Amenities"),
        choices=AMENITY_CODES,
        header_zh="设施",
        imported=True,
        editable=True,
        public=True,
        geojson="amenities",
        # Each code has its own OSM tag (core.vocabulary.Amenity.osm), e.g. toilets=yes.
        description="Amenity codes (GET /api/v1/amenities names them and their OSM tags)",
    ),
    StationField(
        "out_of_service",
        FieldType.NOTES,
        N_("Out of service"),
        max_length=100,
        public=True,
        geojson="out_of_service",
        description="Amenities out of service until fixed: {code: public note}",
    ),
    StationField(
        "opening_hours",
        FieldType.TEXT,
        N_("Opening hours"),
        nullable=True,
        max_length=255,
        header_zh="开放时间",
        imported=True,
        editable=True,
        public=True,
        geojson="opening_hours",
        osm="opening_hours",
        description="OpenStreetMap opening_hours syntax, Asia/Shanghai; null = unknown",
    ),
    StationField(
        "open_24h",
        FieldType.BOOLEAN,
        N_("Open 24 hours"),
        public=True,
        geojson="open_24h",
        source="opening_hours",
        derive=hours.always_open,
        description="Derived from opening_hours: true when they say 24/7 with no exception",
    ),
    StationField(
        "phone",
        FieldType.TEXT,
        N_("Phone"),
        nullable=True,
        max_length=PHONE_MAX,
        pattern=PHONE_PATTERN,
        header_zh="电话",
        imported=True,
        editable=True,
        # The station's own published line (the card's call button), never a person's.
        public=True,
        geojson="phone",
        osm="phone",
        description="The station's public phone",
    ),
    StationField(
        "access",
        FieldType.TEXT,
        N_("How to get in"),
        nullable=True,
        max_length=20,
        choices=ACCESS_CODES,
        header_zh="进入方式",
        imported=True,
        editable=True,
        public=True,
        geojson="access",
        description="How a courier gets in: walk_in, bell, scan_code, call_ahead or "
        "door_entry (GET /api/v1/amenities names them); null = not recorded",
    ),
    StationField(
        "access_note",
        FieldType.TEXT,
        N_("Getting in: note"),
        nullable=True,
        max_length=60,
        header_zh="进入说明",
        imported=True,
        editable=True,
        public=True,
        geojson="access_note",
        description="A short public note on getting in, e.g. 门卫处登记",
    ),
    StationField(
        "seats",
        FieldType.INTEGER,
        N_("Seats"),
        nullable=True,
        minimum=0,
        maximum=200,
        header_zh="座位数",
        imported=True,
        editable=True,
        public=True,
        geojson="seats",
        description="How many can sit down; null = not counted",
    ),
    StationField(
        "step_free",
        FieldType.BOOLEAN,
        N_("Step-free entrance"),
        nullable=True,
        header_zh="无台阶",
        imported=True,
        editable=True,
        public=True,
        geojson="step_free",
        description="No step or a ramp at the door (e-bikes, wheelchairs); null = unknown",
    ),
    StationField(
        "active",
        FieldType.BOOLEAN,
        N_("Active"),
        header_zh="在用",
        imported=True,
        public=True,
        geojson="active",
    ),
    StationField(
        "retired_reason",
        FieldType.TEXT,
        N_("Why retired"),
        nullable=True,
        max_length=500,
        header_zh="停用原因",
        imported=True,
        geojson="retired_reason",  # in the registry's export, not the public API
    ),
    StationField("photo_id", FieldType.TEXT, N_("Photo"), nullable=True, max_length=32),
    StationField(
        "last_confirmed_at",
        FieldType.DATETIME,
        N_("Last confirmed"),
        nullable=True,
        public=True,
        geojson="last_confirmed_at",
    ),
    StationField(
        "updated_at",
        FieldType.DATETIME,
        N_("Updated"),
        nullable=True,
        public=True,
        geojson="updated_at",
    ),
    StationField(
        "version",
        FieldType.INTEGER,
        N_("Version"),
        minimum=1,
        public=True,
        geojson="version",
    ),
)

BY_NAME: dict[str, StationField] = {f.name: f for f in STATION_FIELDS}
# Columns of imports and exports, in the order staff see them (the id first).
COLUMNS: tuple[str, ...] = tuple(f.name for f in STATION_FIELDS if f.imported)
# What a load compares and writes (everything a file says but the id).
LOADED: tuple[str, ...] = tuple(name for name in COLUMNS if name != "id")
# What the API's POST/PATCH may set in `properties` (the point travels as the geometry).
EDITABLE: tuple[str, ...] = tuple(
    f.name for f in STATION_FIELDS if f.editable and f.geojson is not None
)
PUBLIC: tuple[StationField, ...] = tuple(f for f in STATION_FIELDS if f.public)
# Every header a spreadsheet may use for a column (Chinese or English) -> field name.
HEADERS: dict[str, str] = {
    header: f.name for f in STATION_FIELDS if f.imported for header in f.headers
}
LABELS: dict[str, str] = {f.name: f.label for f in STATION_FIELDS}


def json_value(spec: StationField, value: Any) -> Any:
    """`value` of the field `spec` as JSON holds it."""
    convert = spec.to_json
    return value if convert is None else convert(value)


def field(name: str) -> StationField:
    """The declaration of one field; KeyError for a name that is not a station field."""
    return BY_NAME[name]


def station_properties_schema() -> dict[str, Any]:
    """JSON Schema of a station feature's public `properties`, as the API answers them.

    Every property is always present (null when unknown), so all are required.
    """
    return {
        "type": "object",
        "required": [f.geojson for f in PUBLIC],
        "properties": {f.geojson: f.json_schema() for f in PUBLIC},
    }


def station_input_schema() -> dict[str, Any]:
    """JSON Schema of the `properties` a POST may send (a PATCH sends some of them).

    `street` may be left out: it follows from the point.
    """
    editable = [BY_NAME[name] for name in EDITABLE]
    return {
        "type": "object",
        "required": [f.name for f in editable if f.required],
        "properties": {f.name: f.json_schema() for f in editable},
        "additionalProperties": False,
    }
