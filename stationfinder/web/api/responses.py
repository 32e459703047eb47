"""What the API answers and accepts as JSON bodies, as typed models.

These models are the OpenAPI document's schemas (`openapi.py` generates them with
pydantic's JSON Schema), and the tests validate every real answer against that document
(tests/api/test_openapi.py, tests/test_schema_fuzz.py). They are not run on each
response: the nearest answer is written from JSON each snapshot encodes once
(registry/locator.py), and checking it again per request would cost more than making it.

A station's own properties are one component, `StationProperties`, which the richer
answers extend with `allOf` (`Extends`): when the one declaration of a station's fields
(registry/fields.py, issue 11 item 2) lands, that component comes from it and every
answer follows.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from stationfinder.core.vocabulary import AMENITY_CODES, KIND_NAMES, STREET_NAMES
from stationfinder.geo.point import CRS
from stationfinder.registry.editing import MAX_REASON

REF = "#/components/schemas/{model}"


def ref(model: type[BaseModel] | str) -> dict[str, str]:
    name = model if isinstance(model, str) else model.__name__
    return {"$ref": REF.format(model=name)}


def Extends(base: type[BaseModel], extra: type[BaseModel]) -> Any:
    """A JSON object that is both ``base`` and ``extra`` (``extra`` adds members)."""
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
Street = Literal[STREET_NAMES]  # type: ignore[valid-type]
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


class StationProperties(Schema):
    name: str = Field(description="Name in Chinese")
    name_en: str | None = None
    kind: Kind
    street: Street = Field(description="Subdistrict")
    address: str
    amenities: list[Amenity]
    out_of_service: dict[str, str] = Field(
        default_factory=dict,
        description="Amenities out of service until fixed: {code: public note}",
    )
    opening_hours: str | None = Field(
        description="OpenStreetMap opening_hours syntax, Asia/Shanghai; null = unknown"
    )
    phone: str | None = Field(description="The station's public phone")
    active: bool = True
    last_confirmed_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    updated_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    version: int = Field(1, ge=1)


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
    properties: StationProperties


class StationDetail(Station):
    """One station, with open/closed now and navigation links."""

    properties: Extends(StationProperties, LiveProperties)  # type: ignore[valid-type]


class NearestStation(Station):
    properties: Extends(StationProperties, DistanceProperties)  # type: ignore[valid-type]


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


class NearestCollection(Schema):
    type: Literal["FeatureCollection"]
    query: NearestQueryEcho
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


class KindTerm(Schema):
    name: str
    en: str


class StreetTerm(Schema):
    name: str
    en: str
    code: str
    division: str


class Vocabulary(Schema):
    amenities: list[AmenityTerm]
    kinds: list[KindTerm]
    streets: list[StreetTerm]


# --- write endpoints --------------------------------------------------------------------

STATION_INPUT_PROPERTIES = "StationInputProperties"  # StationProperties' editable subset


class StationInput(Schema):
    type: Literal["Feature"]
    id: str | SkipJsonSchema[None] = Omittable(
        description="e.g. QT-BY-030; leave out to get the subdistrict's next free id"
    )
    geometry: PointWgs84 = Field(
        description="A Point in the system named by the `crs` query parameter"
    )
    properties: Annotated[
        dict[str, Any], WithJsonSchema({"allOf": [ref(STATION_INPUT_PROPERTIES)]})
    ]
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
    StationProperties,
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
    StationInput,
    StationPatch,
    WriteResult,
)
"""Every model the document names; the models they use are collected with them."""
