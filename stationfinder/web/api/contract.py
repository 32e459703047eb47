"""The /api/v1 contract, declared once: each operation's parameters, body and answers.

Views parse their parameters with these models (``NearestQuery.from_args(request.args)``),
so a limit written here (k at most 50, the in-view limit, the CRS enum, ...) is the one the
API enforces, the one its 400 message states and the one `openapi.py` publishes. Nothing
else in the code base writes those numbers down again; tests/api/test_contract.py reads
them back from the served document and probes the API on each side of them.

`OPERATIONS` maps each Flask endpoint and method to what the document says of it; the
document's paths come from the app's URL map, so a route and its documented path cannot
drift apart, and a route under /api/ with no operation here stops the document from
being built at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from stationfinder.geo.point import CRS
from stationfinder.registry.editing import MAX_REASON
from stationfinder.web.api.params import Bbox, Moment, QueryModel, bounds
from stationfinder.web.api.responses import (
    Amenity,
    AreaList,
    Error,
    InViewCollection,
    Kind,
    NearestCollection,
    StationCollection,
    StationDetail,
    StationHours,
    StationInput,
    StationPatch,
    Street,
    Vocabulary,
    WriteResult,
)

HOURS_DAYS = 8  # GET /stations/hours: today and the 7 days after it
HALF_EQUATOR_M = 20_037_509  # no two points on Earth are farther apart along the ground


class AreasQuery(QueryModel):
    district: str | None = Field(
        None,
        pattern=r"^\d{6}(\d{6})?$",
        description="Only this district (its 6-digit division code; GET /api/v1/areas lists them)",
    )
    street: Street | None = Field(  # type: ignore[valid-type]
        None, description="Only this subdistrict (its name or division code)"
    )


class StationsQuery(AreasQuery):
    changed_since: Moment | None = Field(
        None,
        description="Only stations changed after this moment, retired ones included "
        "(active=false), to refresh a cached copy",
    )


class StationHoursQuery(QueryModel):
    at: Moment | None = Field(
        None,
        description="The window starts at 00:00 of this moment's day, Asia/Shanghai "
        "(default today)",
    )


class NearestQuery(QueryModel):
    lat: float = Field(
        ge=-90, le=90, allow_inf_nan=False, description="Latitude of the query point, in `crs`"
    )
    lon: float = Field(
        ge=-180, le=180, allow_inf_nan=False, description="Longitude of the query point, in `crs`"
    )
    crs: CRS = Field(
        CRS.WGS84,
        description="System of lat/lon: wgs84 (browser geolocation), gcj02 (WeChat, Amap, "
        "Tencent) or bd09 (Baidu)",
    )
    k: int = Field(5, ge=1, le=50, description="How many stations")
    radius_m: float | None = Field(
        None,
        ge=0,
        le=HALF_EQUATOR_M,
        allow_inf_nan=False,
        description="Only stations within this many metres; default unlimited",
    )
    amenity: list[Amenity] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="Stations must have all of these (repeat the parameter, or commas)",
    )
    kind: Kind | None = Field(None, description="Only this kind")  # type: ignore[valid-type]
    street: Street | None = Field(None, description="Only this subdistrict")  # type: ignore[valid-type]
    open_now: bool = Field(False, description="Only stations open at `at`")
    at: Moment | None = Field(
        None, description="Moment for open_now and open/closed (default now, Asia/Shanghai)"
    )


class InViewQuery(QueryModel):
    bbox: Bbox = Field(
        description="west,south,east,north in `crs` (west > east crosses the antimeridian)"
    )
    crs: CRS = Field(CRS.WGS84, description="System of bbox: the map tiles' (gcj02 for Amap)")
    kind: Kind | None = Field(None, description="Only this kind")  # type: ignore[valid-type]
    amenity: Amenity | None = Field(  # type: ignore[valid-type]
        None, description="Only stations with this amenity"
    )
    limit: int = Field(
        300, ge=1, le=500, description="At most this many stations; more come as clusters"
    )


MAX_IN_VIEW = int(bounds(InViewQuery.model_fields["limit"])[1] or 0)
"""The in-view limit's maximum, for the map page that asks for as many as it may."""


class StationPath(QueryModel):
    station_id: str = Field(max_length=32, description="e.g. QT-BY-001")


class WriteQuery(QueryModel):
    crs: CRS = Field(
        CRS.WGS84,
        description="System of the geometry's coordinates (Amap: gcj02); stored as WGS-84",
    )


class RetireQuery(QueryModel):
    reason: str | None = Field(
        None,
        max_length=MAX_REASON,
        description="Why it closes (required here or as `reason` in a JSON body)",
    )


# --- operations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One status of an operation: what it means, its body's model, its headers."""

    description: str
    model: type[BaseModel] | None = Error
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    answers: Mapping[int, Answer]
    query: type[QueryModel] | None = None
    path: type[QueryModel] | None = None
    body: type[BaseModel] | None = None
    if_match: bool = False  # needs the ETag of a GET (PATCH, DELETE)
    token: bool = False  # needs a staff member's API token


BAD_PARAMETER = Answer("A parameter is missing or invalid; `field` names it")
ETAG = {"ETag": "The new version"}
_WRITE_ERRORS = {
    400: Answer("A value is missing or invalid; `field` names it"),
    401: Answer("No token, or a token that is unknown or revoked"),
    403: Answer("The token's owner may not edit this station (role or subdistrict)"),
}
_VERSIONED_ERRORS = {
    **_WRITE_ERRORS,
    404: Answer("No station with this id"),
    409: Answer("The station is already retired"),
    412: Answer("If-Match names an older version; GET the station again"),
    428: Answer("If-Match is missing"),
}

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("api.list_stations", "GET"): Operation(
        "listStations",
        "Active stations as a GeoJSON FeatureCollection",
        {200: Answer("Stations", StationCollection), 400: BAD_PARAMETER},
        query=StationsQuery,
    ),
    ("api.station_hours", "GET"): Operation(
        "stationHours",
        f"Open/closed spans for today and the next {HOURS_DAYS - 1} days, for an offline copy",
        {
            200: Answer(
                "Spans per opening-hours expression",
                StationHours,
                {"ETag": "Changes when the answer does (registry, calendar, day)"},
            ),
            304: Answer("If-None-Match names the current ETag: the copy is current", None),
            400: BAD_PARAMETER,
        },
        query=StationHoursQuery,
    ),
    ("api.nearest", "GET"): Operation(
        "nearestStations",
        "The k nearest stations that match, nearest first",
        {200: Answer("Nearest stations", NearestCollection), 400: BAD_PARAMETER},
        query=NearestQuery,
    ),
    ("api.stations_in_view", "GET"): Operation(
        "stationsInView",
        "What a map shows of a box: its stations, or counts on a grid",
        {200: Answer("Stations in view", InViewCollection), 400: BAD_PARAMETER},
        query=InViewQuery,
    ),
    ("api.get_station", "GET"): Operation(
        "getStation",
        "One station, with open/closed now and navigation links",
        {
            200: Answer("The station", StationDetail, {"ETag": "Its version, for If-Match"}),
            400: BAD_PARAMETER,
            404: Answer("No station with this id"),
        },
        path=StationPath,
    ),
    ("api.amenities", "GET"): Operation(
        "listAmenities",
        "Amenity codes with zh/en labels and OSM tags; kinds; the loaded subdistricts",
        {200: Answer("The vocabulary", Vocabulary)},
    ),
    ("api.areas", "GET"): Operation(
        "listAreas",
        "The loaded districts and their subdistricts: names, division codes, bounds, "
        "station counts; of one district with `district`, or of the district a "
        "subdistrict is in with `street`",
        {200: Answer("The areas", AreaList), 400: BAD_PARAMETER},
        query=AreasQuery,
    ),
    ("api.openapi", "GET"): Operation(
        "openapi", "This document", {200: Answer("OpenAPI 3.1 document", None)}
    ),
    ("api.create_station", "POST"): Operation(
        "createStation",
        "Add a station",
        {
            201: Answer("The new station (Location: its URL)", WriteResult, ETAG),
            **_WRITE_ERRORS,
            409: Answer("There is already a station with this id"),
        },
        query=WriteQuery,
        body=StationInput,
        token=True,
    ),
    ("api.update_station", "PATCH"): Operation(
        "updateStation",
        "Change some of a station's values",
        {200: Answer("The changed station", WriteResult, ETAG), **_VERSIONED_ERRORS},
        query=WriteQuery,
        path=StationPath,
        body=StationPatch,
        if_match=True,
        token=True,
    ),
    ("api.retire_station", "DELETE"): Operation(
        "retireStation",
        "Retire a station (the record and its history are kept)",
        {200: Answer("The retired station (active=false)", WriteResult, ETAG), **_VERSIONED_ERRORS},
        query=RetireQuery,
        path=StationPath,
        if_match=True,
        token=True,
    ),
}
