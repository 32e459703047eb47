"""What the API answers and accepts as JSON bodies, as typed models.

These models are the OpenAPI document's schemas (`openapi.py` generates them with
pydantic's JSON Schema), and the tests validate every real answer against that document
(tests/api/test_openapi.py, tests/test_schema_fuzz.py). They are not run on each
response: the nearest answer is written from JSON each snapshot encodes once
(registry/locator.py), and checking it again per request would cost more than making it.

A station's own properties are not declared here: the components `StationProperties`
and `StationInputProperties` are the JSON Schema of the one declaration of a station's
fields (`registry.fields.station_properties_schema()` / `station_input_schema()`), and the
richer answers extend the former with `allOf` (`Extends`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from stationfinder.core.vocabulary import AMENITY_CODES, KIND_NAMES
from stationfinder.geo.point import CRS
from stationfinder.registry.editing import MAX_REASON

REF = "#/components/schemas/{model}"


def ref(model: type[BaseModel] | str) -> dict[str, str]:
    name = model if isinstance(model, str) else model.__name__
    return {"$ref": REF.format(model=name)}


STATION_PROPERTIES = "StationProperties"  # from registry.fields
STATION_INPUT_PROPERTIES = "StationInputProperties"  # from registry.fields


def Component(name: str) -> Any:
    """A member whose schema is the named component, one not declared as a model here."""
    return Annotated[dict[str, Any], WithJsonSchema({"allOf": [ref(name)]})]


def Extends(base: str, extra: type[BaseModel]) -> Any:
    """A JSON object that is both the component ``base`` and ``extra`` (which adds members)."""
    return Annotated[dict[str, Any], WithJsonSchema({"allOf": [ref(base), ref(extra)]})]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def Omittable(**kwargs: Any) -> Any:
    """A body member that may be left out but is never null (the views refuse null).

    Declare it as ``x: T | SkipJsonSchema[None] = Omittable(...)``.
    """
    return Field(None, json_schema_extra=_no_default, **kwargs)


class Schema(BaseModel):
    """A response or body schema; extra members are allowed unless a model says not."""

    model_config = ConfigDict(extra="allow")


Amenity = Literal[AMENITY_CODES]  # type: ignore[valid-type]
Kind = Literal[KIND_NAMES]  # type: ignore[valid-type]
# A subdistrict: its key as the loaded areas give it (GET /api/v1/areas), or its 9-digit
# division code. Areas are data, so the schema cannot list them.
Street = Annotated[str, Field(min_length=1, max_length=60)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
LonLat = Annotated[
    list[float], Field(min_length=2, max_length=2, description="[longitude, latitude]")
]


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = Field(description="The parameter or member at fault, if one is")


class Error(Schema):
    """The API's one error shape, for every 4xx and 5xx."""

    error: ErrorDetail


class PointWgs84(Schema):
    type: Literal["Point"]
    coordinates: tuple[Longitude, Latitude] = Field(
        description="[longitude, latitude] in WGS-84 (RFC 7946)"
    )


class Link(Schema):
    url: str = Field(json_schema_extra={"format": "uri"})
    crs: CRS


class Navigation(Schema):
    """Deep links into map apps; each says the system of its coordinates."""

    amap: Link
    baidu: Link
    tencent: Link
    apple: Link


class LiveProperties(Schema):
    """What a station's answer adds to its stored properties."""

    open_now: bool | None = Field(
        description="Open at `at` (default now); null when the hours are unknown"
    )
    next_change: str | None = Field(
        None,
        description="Next opening or closing moment, Asia/Shanghai",
        json_schema_extra={"format": "date-time"},
    )
    coordinates_gcj02: LonLat = Field(description="[longitude, latitude] in GCJ-02")
    navigation: Navigation


class DistanceProperties(LiveProperties):
    distance_m: float = Field(ge=0, description="Geodesic metres on WGS-84, one decimal")
    walk_min: int = Field(ge=1)
    ride_min: int = Field(ge=1)


class Station(Schema):
    type: Literal["Feature"]
    id: str
    geometry: PointWgs84
    properties: Component(STATION_PROPERTIES)  # type: ignore[valid-type]


class StationDetail(Station):
    """One station, with open/closed now and navigation links."""

    properties: Extends(STATION_PROPERTIES, LiveProperties)  # type: ignore[valid-type]


class NearestStation(Station):
    properties: Extends(STATION_PROPERTIES, DistanceProperties)  # type: ignore[valid-type]


class StationCollection(Schema):
    type: Literal["FeatureCollection"]
    crs: Literal["wgs84"] = "wgs84"
    registry_version: int | None = None
    generated_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    features: list[Station]


class NearestQueryEcho(Schema):
    """The query as understood: the point in WGS-84 whatever `crs` it came in."""

    point_wgs84: LonLat
    crs: CRS
    k: int


class WeatherAlert(Schema):
    """The weather alert the union has set, while it holds (the courier pages' banner)."""

    kind: Literal["heat", "cold_wave", "rainstorm"]
    level: Literal["yellow", "orange", "red"]
    starts_at: str = Field(description="ISO 8601, with its offset")
    ends_at: str = Field(description="ISO 8601, with its offset")
    max_temp_c: int | None = Field(description="The forecast maximum staff gave, if any")
    note: str
    rules: list[str] = Field(description="The working-time rules that apply, in words")
    helps: Amenity = Field(description="The amenity that helps against it")
    listed_first: bool = Field(
        description="Whether the stations with `helps` working are listed first (each "
        "group nearest first): so while no amenity is asked for"
    )


class NearestCollection(Schema):
    type: Literal["FeatureCollection"]
    query: NearestQueryEcho
    alert: WeatherAlert | None = Field(description="The weather alert in force, or null")
    features: list[NearestStation]


class ClusterProperties(Schema):
    cluster: Literal[True]
    count: int = Field(ge=1)
    coordinates_gcj02: LonLat


class Cluster(Schema):
    """`count` stations around their mean position."""

    type: Literal["Feature"]
    geometry: PointWgs84
    properties: ClusterProperties


class InViewCollection(Schema):
    type: Literal["FeatureCollection"]
    bbox: list[float] = Field(
        min_length=4,
        max_length=4,
        description="The box asked about, in WGS-84: west, south, east, north",
    )
    total: int = Field(ge=0)
    clustered: bool = Field(description="true: features are Clusters (more than `limit`)")
    features: list[Station | Cluster]


class AmenityTerm(Schema):
    code: str
    zh: str
    en: str
    osm: str | None = Field(description="Matching OSM tag")
    icon: str | None = None


class AccessTerm(Schema):
    """A way in: a station's `access` code and what to call it."""

    code: str
    zh: str
    en: str


class KindTerm(Schema):
    name: str
    en: str


class SubdistrictTerm(Schema):
    name: str = Field(description="The key stations' `street` holds (unique among the loaded)")
    en: str
    code: str = Field(description="Stem of station ids, e.g. QT-BY")
    division: str = Field(description="The statistics bureau's 9-digit division code")
    district: str = Field(description="The district's 6-digit division code")


class Vocabulary(Schema):
    amenities: list[AmenityTerm]
    accesses: list[AccessTerm] = Field(description="The codes of a station's `access`")
    kinds: list[KindTerm]
    streets: list[SubdistrictTerm] = Field(description="The loaded subdistricts")


class SubdistrictArea(SubdistrictTerm):
    short_name: str = Field(description="The bare name (keys of repeated names are qualified)")
    short_en: str
    stations: int = Field(description="Active stations in it")
    bbox: list[float] = Field(description="west, south, east, north (WGS-84)")


class DistrictArea(Schema):
    division: str = Field(description="The statistics bureau's 6-digit division code")
    name: str
    en: str
    city: str | None
    city_en: str | None
    stations: int = Field(description="Active stations in it")
    bbox: list[float] = Field(description="west, south, east, north (WGS-84)")
    subdistricts: list[SubdistrictArea]


class AreaList(Schema):
    """The districts and subdistricts the app has loaded, in division-code order."""

    crs: Literal["wgs84"]
    districts: list[DistrictArea]


DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class HoursSpan(Schema):
    """From `start` until `end` the station is open, closed, or its hours are unknown."""

    start: DateTime
    end: DateTime | None = Field(
        description="The next change, as `next_change` elsewhere in this API; may lie "
        "after `window_end`; null when nothing changes within a year"
    )
    open: bool | None = Field(description="true open, false closed, null unknown")


class StationHours(Schema):
    """Open/closed for the coming days, per opening-hours expression, for a copy kept
    offline: a phone finds the span holding a moment and says what the API would say
    (China's holidays and make-up working days included). After `window_end` it does not
    know."""

    registry_version: int | None = Field(description="The registry these hours were read from")
    window_start: DateTime = Field(description="00:00 of the first day, Asia/Shanghai")
    window_end: DateTime = Field(description="The spans say nothing from this moment on")
    schedules: dict[str, list[HoursSpan]] = Field(
        description="Keyed by a station's `opening_hours` as in GET /api/v1/stations; an "
        "expression that cannot be evaluated is left out (its hours are unknown)"
    )


# --- write endpoints --------------------------------------------------------------------


class StationInput(Schema):
    type: Literal["Feature"]
    id: str | SkipJsonSchema[None] = Omittable(
        description="e.g. QT-BY-030; leave out to get the subdistrict's next free id"
    )
    geometry: PointWgs84 = Field(
        description="A Point in the system named by the `crs` query parameter"
    )
    properties: Component(STATION_INPUT_PROPERTIES)  # type: ignore[valid-type]
    reason: str | SkipJsonSchema[None] = Omittable(
        max_length=MAX_REASON, description="Kept in the history"
    )


class StationPatch(Schema):
    geometry: PointWgs84 | SkipJsonSchema[None] = Omittable()
    properties: dict[str, Any] | SkipJsonSchema[None] = Omittable(
        description="Only the values to change (same names as StationInput); moving the "
        "point without `street` lets the subdistrict follow it",
    )
    reason: str | SkipJsonSchema[None] = Omittable(max_length=MAX_REASON)


class NearbyWarning(Schema):
    station_id: str
    name: str
    distance_m: float = Field(ge=0)
    same_name: bool


class WriteResult(Station):
    warnings: list[NearbyWarning] = Field(
        description="Not errors: other active stations within 30 m or with the same name"
    )


COMPONENTS: tuple[type[BaseModel], ...] = (
    Error,
    Link,
    LiveProperties,
    DistanceProperties,
    Station,
    StationDetail,
    StationCollection,
    NearestStation,
    NearestCollection,
    Cluster,
    InViewCollection,
    Vocabulary,
    AreaList,
    StationHours,
    StationInput,
    StationPatch,
    WriteResult,
)
"""Every model the document names; the models they use are collected with them."""
