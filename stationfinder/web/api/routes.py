"""Read endpoints: stations, nearest stations, amenities, the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify, request

from stationfinder.core import hours
from stationfinder.core.vocabulary import (
    AMENITIES,
    AMENITY_CODES,
    KIND_NAMES,
    KINDS,
    STREET_NAMES,
    STREETS,
)
from stationfinder.db import get_session
from stationfinder.geo import crs, map_view
from stationfinder.geo.point import CRS, Point
from stationfinder.registry import geojson as schemas
from stationfinder.registry import stations as registry
from stationfinder.registry.locator import nearest_stations_json
from stationfinder.web.api import bp, compression, params
from stationfinder.web.api.openapi import openapi_document
from stationfinder.web.context import current_index
from stationfinder.web.errors import InvalidParameter, NotFound


@bp.get("/stations")
def list_stations() -> Response:
    since = params.moment(request.args, "changed_since")
    session = get_session()
    if since is None:
        stations = registry.active_stations(session)
    else:
        # Retired stations are included (with active=false) so that a cached copy can
        # drop them.
        stations = registry.stations_changed_since(session, since)
    body = schemas.feature_collection(
        [schemas.station_feature(s) for s in stations],
        crs="wgs84",
        registry_version=registry.registry_version(session),
        generated_at=datetime.now(params.SHANGHAI).isoformat(),
    )
    return jsonify(body)


@bp.get("/stations/nearest")
def nearest() -> Response:
    args = request.args
    query_crs = CRS(params.choice(args, "crs", [c.value for c in CRS], default="wgs84"))
    lat = params.number(args, "lat", low=-90, high=90, required=True)
    lon = params.number(args, "lon", low=-180, high=180, required=True)
    assert lat is not None and lon is not None
    k = params.integer(args, "k", low=1, high=50, default=5)
    radius = params.number(args, "radius_m", low=0, high=20_037_509)
    amenities = params.choices(args, "amenity", AMENITY_CODES)
    kind = params.choice(args, "kind", KIND_NAMES)
    street = params.choice(args, "street", STREET_NAMES)
    open_now = params.boolean(args, "open_now")
    at = params.moment(args, "at") or datetime.now(params.SHANGHAI)
    try:
        query_point = crs.to_wgs84(Point(lon, lat, query_crs))
    except ValueError as exc:  # a GCJ-02/BD-09 point that converts off the globe
        raise InvalidParameter(f"lat/lon in {query_crs.value}: {exc}", field="lat") from None

    config = current_app.config
    features = nearest_stations_json(
        current_index().current(),
        query_point,
        k=k,
        radius_m=radius,
        amenities=amenities,
        kind=kind,
        street=street,
        open_now=open_now,
        at=at,
        walk_kmh=config["WALK_SPEED_KMH"],
        ride_kmh=config["RIDE_SPEED_KMH"],
    )
    query = {
        "point_wgs84": [round(query_point.lon, 7), round(query_point.lat, 7)],
        "crs": query_crs.value,
        "k": k,
        "radius_m": radius,
        "amenity": amenities,
        "kind": kind,
        "street": street,
        "open_now": open_now,
        "at": at.isoformat(),
    }
    # The same document as schemas.feature_collection(features, query=query), written
    # from the stations' JSON each snapshot encodes once: re-encoding every feature was
    # most of a request's time.
    body = (
        '{"type":"FeatureCollection","query":'
        + schemas.encode(query)
        + ',"features":'
        + features
        + "}"
    )
    return compression.json_response(body, current_app.json.mimetype)  # type: ignore[attr-defined]


@bp.get("/stations/in_view")
def stations_in_view() -> Response:
    """What a map shows of a box: its stations when few, else counts on a grid."""
    args = request.args
    box_crs = CRS(params.choice(args, "crs", [c.value for c in CRS], default="wgs84"))
    west, south, east, north = params.bbox(args, "bbox")
    kind = params.choice(args, "kind", KIND_NAMES)
    amenity = params.choice(args, "amenity", AMENITY_CODES)
    limit = params.integer(args, "limit", low=1, high=MAX_IN_VIEW, default=DEFAULT_IN_VIEW)
    try:  # the corners in WGS-84 (a map on GCJ-02 tiles sends GCJ-02)
        sw = crs.to_wgs84(Point(west, south, box_crs))
        ne = crs.to_wgs84(Point(east, north, box_crs))
    except ValueError as exc:
        raise InvalidParameter(f"bbox in {box_crs.value}: {exc}", field="bbox") from None
    box = map_view.Box(sw.lon, max(-90.0, sw.lat), ne.lon, min(90.0, ne.lat))
    snapshot = current_index().current()
    view = map_view.in_view(
        snapshot.index, box, kind=kind, amenity=amenity, max_stations=limit
    )  # fmt: skip
    if view.clustered:
        features = [schemas.cluster_feature(c.lon, c.lat, c.count) for c in view.clusters]
    else:
        features = [
            schemas.with_gcj02(feature) for feature in snapshot.features.many(view.station_ids)
        ]
    return jsonify(
        {
            "type": "FeatureCollection",
            "bbox": [round(v, 7) for v in (box.west, box.south, box.east, box.north)],
            "total": view.total,
            "clustered": view.clustered,
            "features": features,
        }
    )


MAX_IN_VIEW = 500
DEFAULT_IN_VIEW = 300


@bp.get("/stations/<station_id>")
def get_station(station_id: str) -> Response:
    if len(station_id) > 32:
        raise InvalidParameter("station id is too long", field="station_id")
    station = registry.get_station(get_session(), station_id)
    if station is None:
        raise NotFound(f"no station {station_id!r}", field="station_id")
    feature = schemas.station_feature(station)
    now = datetime.now(params.SHANGHAI)
    state = hours.state_at(station.opening_hours, now)
    feature["properties"].update(
        open_now=state.open,
        next_change=state.next_change.isoformat() if state.next_change else None,
        coordinates_gcj02=schemas.gcj02_lonlat(station.lon, station.lat),
        navigation=schemas.navigation_links(station.name, station.lon, station.lat),
    )
    response = jsonify(feature)
    response.headers["ETag"] = f'"{station.id}-v{station.version}"'
    return response


@bp.get("/amenities")
def amenities() -> Response:
    return jsonify(
        {
            "amenities": [
                {"code": a.code, "zh": a.zh, "en": a.en, "osm": a.osm, "icon": a.icon}
                for a in AMENITIES
            ],
            "kinds": [{"name": k.name, "en": k.en} for k in KINDS],
            "streets": [
                {"name": s.name, "en": s.en, "code": s.code, "division": s.division}
                for s in STREETS
            ],
        }
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    document: dict[str, Any] = openapi_document()
    return jsonify(document)
