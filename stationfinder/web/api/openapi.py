"""The OpenAPI 3.1 document of /api/v1. Tests validate every response against it."""

from __future__ import annotations

from functools import cache
from typing import Any

from stationfinder.core.vocabulary import AMENITY_CODES, KIND_NAMES, STREET_NAMES

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description, **extra}


NULLABLE_STRING = {"type": ["string", "null"]}


def _crs_query(description: str) -> dict[str, Any]:
    """The `crs` parameter: which system the request's coordinates are in."""
    schema = {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"}
    return _query("crs", schema, description)


STATION_PROPERTIES: dict[str, Any] = {
    "type": "object",
    "required": ["name", "kind", "street", "address", "amenities", "opening_hours", "phone"],
    "properties": {
        "name": {"type": "string", "description": "Name in Chinese"},
        "name_en": NULLABLE_STRING,
        "kind": {"type": "string", "enum": list(KIND_NAMES)},
        "street": {"type": "string", "enum": list(STREET_NAMES), "description": "Subdistrict"},
        "address": {"type": "string"},
        "amenities": {"type": "array", "items": {"type": "string", "enum": list(AMENITY_CODES)}},
        "out_of_service": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Amenities out of service until fixed: {code: public note}",
        },
        "opening_hours": {
            **NULLABLE_STRING,
            "description": "OpenStreetMap opening_hours syntax, Asia/Shanghai; null = unknown",
        },
        "phone": {**NULLABLE_STRING, "description": "The station's public phone"},
        "active": {"type": "boolean"},
        "last_confirmed_at": {**NULLABLE_STRING, "format": "date-time"},
        "updated_at": {**NULLABLE_STRING, "format": "date-time"},
        "version": {"type": "integer", "minimum": 1},
    },
}

POINT_WGS84 = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"const": "Point"},
        "coordinates": {
            "type": "array",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "minItems": 2,
            "maxItems": 2,
            "description": "[longitude, latitude] in WGS-84 (RFC 7946)",
        },
    },
}

LINK = {
    "type": "object",
    "required": ["url", "crs"],
    "properties": {
        "url": {"type": "string", "format": "uri"},
        "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
    },
}

LIVE_PROPERTIES = {
    "open_now": {
        "type": ["boolean", "null"],
        "description": "Open at `at` (default now); null when the hours are unknown",
    },
    "next_change": {
        **NULLABLE_STRING,
        "format": "date-time",
        "description": "Next opening or closing moment, Asia/Shanghai",
    },
    "coordinates_gcj02": {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
        "description": "[longitude, latitude] in GCJ-02, for Amap/Tencent/WeChat",
    },
    "navigation": {
        "type": "object",
        "required": ["amap", "baidu", "tencent", "apple"],
        "properties": {
            k: {"$ref": "#/components/schemas/Link"} for k in ("amap", "baidu", "tencent", "apple")
        },
        "description": "Deep links into map apps; each says the system of its coordinates",
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": NULLABLE_STRING,
                },
            }
        },
    },
    "Link": LINK,
    "StationProperties": STATION_PROPERTIES,
    "Station": {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "string"},
            "geometry": POINT_WGS84,
            "properties": {"$ref": "#/components/schemas/StationProperties"},
        },
    },
    "StationDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Station"},
            {
                "type": "object",
                "properties": {
                    "properties": {
                        "type": "object",
                        "required": ["open_now", "coordinates_gcj02", "navigation"],
                        "properties": LIVE_PROPERTIES,
                    }
                },
            },
        ]
    },
    "StationCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "crs": {"const": "wgs84"},
            "registry_version": {"type": "integer"},
            "generated_at": {"type": "string", "format": "date-time"},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/Station"}},
        },
    },
    "NearestStation": {
        "allOf": [
            {"$ref": "#/components/schemas/StationDetail"},
            {
                "type": "object",
                "properties": {
                    "properties": {
                        "type": "object",
                        "required": ["distance_m", "walk_min", "ride_min"],
                        "properties": {
                            "distance_m": {
                                "type": "number",
                                "minimum": 0,
                                "description": "Geodesic metres on WGS-84, one decimal",
                            },
                            "walk_min": {"type": "integer", "minimum": 1},
                            "ride_min": {"type": "integer", "minimum": 1},
                        },
                    }
                },
            },
        ]
    },
    "NearestCollection": {
        "type": "object",
        "required": ["type", "features", "query"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "query": {
                "type": "object",
                "required": ["point_wgs84", "crs", "k"],
                "properties": {
                    "point_wgs84": {"type": "array", "items": {"type": "number"}},
                    "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
                    "k": {"type": "integer"},
                },
            },
            "features": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/NearestStation"},
            },
        },
    },
    "Cluster": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "geometry": POINT_WGS84,
            "properties": {
                "type": "object",
                "required": ["cluster", "count", "coordinates_gcj02"],
                "properties": {
                    "cluster": {"const": True},
                    "count": {"type": "integer", "minimum": 1},
                    "coordinates_gcj02": LIVE_PROPERTIES["coordinates_gcj02"],
                },
            },
        },
        "description": "`count` stations around their mean position",
    },
    "InViewCollection": {
        "type": "object",
        "required": ["type", "bbox", "total", "clustered", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "bbox": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 4,
                "maxItems": 4,
                "description": "The box asked about, in WGS-84: west, south, east, north",
            },
            "total": {"type": "integer", "minimum": 0},
            "clustered": {
                "type": "boolean",
                "description": "true: features are Clusters (more than `limit` stations)",
            },
            "features": {
                "type": "array",
                "items": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/Station"},
                        {"$ref": "#/components/schemas/Cluster"},
                    ]
                },
            },
        },
    },
    "Vocabulary": {
        "type": "object",
        "required": ["amenities", "kinds", "streets"],
        "properties": {
            "amenities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "zh", "en", "osm"],
                    "properties": {
                        "code": {"type": "string"},
                        "zh": {"type": "string"},
                        "en": {"type": "string"},
                        "osm": {**NULLABLE_STRING, "description": "Matching OSM tag"},
                        "icon": {"type": "string"},
                    },
                },
            },
            "kinds": {"type": "array", "items": {"type": "object"}},
            "streets": {"type": "array", "items": {"type": "object"}},
        },
    },
}


# --- write endpoints (token authentication, If-Match) ---------------------------------

WRITE_SCHEMAS: dict[str, Any] = {
    "StationInput": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {
                "type": "string",
                "description": "e.g. QT-BY-030; leave out to get the next free id of the "
                "subdistrict",
            },
            "geometry": {
                **POINT_WGS84,
                "description": "A Point in the system named by the `crs` query parameter",
            },
            "properties": {
                "type": "object",
                "required": ["name", "kind"],
                "properties": {
                    k: v
                    for k, v in STATION_PROPERTIES["properties"].items()
                    if k
                    in (
                        "name",
                        "name_en",
                        "kind",
                        "street",
                        "address",
                        "amenities",
                        "opening_hours",
                        "phone",
                    )
                },
                "additionalProperties": False,
                "description": "`street` may be left out: it follows from the point",
            },
            "reason": {"type": "string", "maxLength": 500, "description": "Kept in the history"},
        },
    },
    "StationPatch": {
        "type": "object",
        "properties": {
            "geometry": {"$ref": "#/components/schemas/StationInput/properties/geometry"},
            "properties": {
                "type": "object",
                "description": "Only the values to change (same names as StationInput); "
                "moving the point without `street` lets the subdistrict follow it",
            },
            "reason": {"type": "string", "maxLength": 500},
        },
    },
    "WriteResult": {
        "allOf": [
            {"$ref": "#/components/schemas/Station"},
            {
                "type": "object",
                "required": ["warnings"],
                "properties": {
                    "warnings": {
                        "type": "array",
                        "description": "Not errors: other active stations within 30 m or "
                        "with the same name",
                        "items": {
                            "type": "object",
                            "required": ["station_id", "name", "distance_m", "same_name"],
                            "properties": {
                                "station_id": {"type": "string"},
                                "name": {"type": "string"},
                                "distance_m": {"type": "number", "minimum": 0},
                                "same_name": {"type": "boolean"},
                            },
                        },
                    }
                },
            },
        ]
    },
}

_STATION_ID_PARAM = {
    "name": "station_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "e.g. QT-BY-001",
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": 'The ETag from GET /api/v1/stations/{station_id}, e.g. "QT-BY-001-v3"',
}
_CRS_PARAM = _query(
    "crs",
    {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
    "System of the geometry's coordinates (Amap: gcj02); stored as WGS-84",
)
_ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "The new version"}}


def _write_result(description: str) -> dict[str, Any]:
    return {
        **_json({"$ref": "#/components/schemas/WriteResult"}, description),
        "headers": _ETAG_HEADER,
    }


_WRITE_ERRORS = {
    "400": _error_response("A value is missing or invalid; `field` names it"),
    "401": _error_response("No token, or a token that is unknown or revoked"),
    "403": _error_response("The token's owner may not edit this station (role or subdistrict)"),
}
_VERSIONED_ERRORS = {
    **_WRITE_ERRORS,
    "404": _error_response("No station with this id"),
    "409": _error_response("The station is already retired"),
    "412": _error_response("If-Match names an older version; GET the station again"),
    "428": _error_response("If-Match is missing"),
}

WRITE_OPERATIONS: dict[str, Any] = {
    "post": {
        "operationId": "createStation",
        "summary": "Add a station",
        "security": [{"bearerToken": []}],
        "parameters": [_CRS_PARAM],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/StationInput"}}
            },
        },
        "responses": {
            "201": _write_result("The new station (Location: its URL)"),
            **_WRITE_ERRORS,
            "409": _error_response("There is already a station with this id"),
        },
    },
    "patch": {
        "operationId": "updateStation",
        "summary": "Change some of a station's values",
        "security": [{"bearerToken": []}],
        "parameters": [_STATION_ID_PARAM, _IF_MATCH, _CRS_PARAM],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/StationPatch"}}
            },
        },
        "responses": {"200": _write_result("The changed station"), **_VERSIONED_ERRORS},
    },
    "delete": {
        "operationId": "retireStation",
        "summary": "Retire a station (the record and its history are kept)",
        "security": [{"bearerToken": []}],
        "parameters": [
            _STATION_ID_PARAM,
            _IF_MATCH,
            _query(
                "reason",
                {"type": "string", "maxLength": 500},
                "Why it closes (required here or as `reason` in a JSON body)",
            ),
        ],
        "responses": {
            "200": _write_result("The retired station (active=false)"),
            **_VERSIONED_ERRORS,
        },
    },
}


@cache
def openapi_document() -> dict[str, Any]:
    bad = _error_response("A parameter is missing or invalid; `field` names it")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "stationfinder API",
            "version": "1",
            "description": (
                "Rest stations (小哥之家) for couriers in Hangzhou's Qiantang district. "
                "Geometry is WGS-84 (RFC 7946) everywhere; fields named *_gcj02 are GCJ-02; "
                "navigation links say their own system. Distances are geodesic metres."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/stations": {
                "get": {
                    "operationId": "listStations",
                    "summary": "Active stations as a GeoJSON FeatureCollection",
                    "parameters": [
                        _query(
                            "changed_since",
                            {"type": "string", "format": "date-time", "maxLength": 200},
                            "Only stations changed after this moment, retired ones included "
                            "(active=false), to refresh a cached copy",
                        )
                    ],
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/StationCollection"}, "Stations"
                        ),
                        "400": bad,
                    },
                },
                "post": WRITE_OPERATIONS["post"],
            },
            "/api/v1/stations/nearest": {
                "get": {
                    "operationId": "nearestStations",
                    "summary": "The k nearest stations that match, nearest first",
                    "parameters": [
                        _query(
                            "lat",
                            {"type": "number", "minimum": -90, "maximum": 90},
                            "Latitude of the query point, in `crs`",
                            required=True,
                        ),
                        _query(
                            "lon",
                            {"type": "number", "minimum": -180, "maximum": 180},
                            "Longitude of the query point, in `crs`",
                            required=True,
                        ),
                        _crs_query(
                            "System of lat/lon: wgs84 (browser geolocation), gcj02 "
                            "(WeChat, Amap, Tencent) or bd09 (Baidu)",
                        ),
                        _query(
                            "k",
                            {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
                            "How many stations",
                        ),
                        _query(
                            "radius_m",
                            {"type": "number", "minimum": 0, "maximum": 20037509},
                            "Only stations within this many metres; default unlimited",
                        ),
                        _query(
                            "amenity",
                            {
                                "type": "array",
                                "items": {"type": "string", "enum": list(AMENITY_CODES)},
                            },
                            "Stations must have all of these (repeat the parameter)",
                            style="form",
                            explode=True,
                        ),
                        _query(
                            "kind", {"type": "string", "enum": list(KIND_NAMES)}, "Only this kind"
                        ),
                        _query(
                            "street",
                            {"type": "string", "enum": list(STREET_NAMES)},
                            "Only this subdistrict",
                        ),
                        _query(
                            "open_now",
                            {"type": "boolean", "default": False},
                            "Only stations open at `at`",
                        ),
                        _query(
                            "at",
                            {"type": "string", "format": "date-time", "maxLength": 200},
                            "Moment for open_now and open/closed (default now, Asia/Shanghai)",
                        ),
                    ],
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/NearestCollection"}, "Nearest stations"
                        ),
                        "400": bad,
                    },
                }
            },
            "/api/v1/stations/in_view": {
                "get": {
                    "operationId": "stationsInView",
                    "summary": "What a map shows of a box: its stations, or counts on a grid",
                    "parameters": [
                        _query(
                            "bbox",
                            {"type": "string", "maxLength": 200},
                            "west,south,east,north in `crs` (west > east crosses the antimeridian)",
                            required=True,
                        ),
                        _crs_query(
                            "System of bbox: the map tiles' (gcj02 for Amap tiles)",
                        ),
                        _query(
                            "kind", {"type": "string", "enum": list(KIND_NAMES)}, "Only this kind"
                        ),
                        _query(
                            "amenity",
                            {"type": "string", "enum": list(AMENITY_CODES)},
                            "Only stations with this amenity",
                        ),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": 500, "default": 300},
                            "At most this many stations; more are answered as clusters",
                        ),
                    ],
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/InViewCollection"}, "Stations in view"
                        ),
                        "400": bad,
                    },
                }
            },
            "/api/v1/stations/{station_id}": {
                "get": {
                    "operationId": "getStation",
                    "summary": "One station, with open/closed now and navigation links",
                    "parameters": [
                        {
                            "name": "station_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "e.g. QT-BY-001",
                        }
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/StationDetail"}, "The station"),
                        "400": bad,
                        "404": _error_response("No station with this id"),
                    },
                },
                "patch": WRITE_OPERATIONS["patch"],
                "delete": WRITE_OPERATIONS["delete"],
            },
            "/api/v1/amenities": {
                "get": {
                    "operationId": "listAmenities",
                    "summary": "Amenity codes with zh/en labels and OSM tags; kinds; streets",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Vocabulary"}, "The vocabulary")
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1 document",
                            "content": {"application/json": {}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {**SCHEMAS, **WRITE_SCHEMAS},
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token made by a staff member on /staff/tokens; it acts "
                    "with its owner's role and subdistrict",
                }
            },
        },
    }
