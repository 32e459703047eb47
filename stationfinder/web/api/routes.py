"""Read endpoints: stations, nearest stations, amenities, the OpenAPI document.

Each view reads its parameters through its model in `contract.py` (the one declaration
of what it accepts); `MAX_IN_VIEW` is re-exported for the map page.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_babel import gettext
from sqlalchemy import func, select

from stationfinder.alerts.weather import AlertNotice
from stationfinder.core import hours
from stationfinder.core.clock import SHANGHAI, local_now
from stationfinder.core.vocabulary import ACCESSES, AMENITIES, KINDS
from stationfinder.db import get_session
from stationfinder.geo import crs, map_view, navigation
from stationfinder.geo.areas import Subdistrict
from stationfinder.geo.point import Point
from stationfinder.models import Station
from stationfinder.registry import geojson as schemas
from stationfinder.registry import stations as registry
from stationfinder.registry.locator import nearest_stations_json
from stationfinder.web.api import bp, compression
from stationfinder.web.api.contract import (
    HOURS_DAYS,
    MAX_IN_VIEW,  # noqa: F401  (the map page asks for as many as the API allows)
    AreasQuery,
    InViewQuery,
    NearestQuery,
    StationHoursQuery,
    StationPath,
    StationsQuery,
)
from stationfinder.web.api.openapi import openapi_document
from stationfinder.web.context import current_alerts, current_areas, current_index
from stationfinder.web.errors import InvalidParameter, NotFound

CHANGE_OVERLAP = timedelta(seconds=30)  # how far a delta reaches back (see list_stations)


@bp.get("/stations")
def list_stations() -> Response:
    q = StationsQuery.from_args(request.args)
    since = q.changed_since
    keep = _kept_streets(q.district, q.street)
    session = get_session()
    # Stamped before reading and CHANGE_OVERLAP early: the next delta asks from there, so
    # an edit committed while this answer was read (its updated_at earlier than the
    # stamp) comes in it instead of being missed for good. The copy merges by id, so a
    # station sent twice costs nothing.
    generated_at = local_now() - CHANGE_OVERLAP
    if since is None:
        stations = registry.active_stations(session, keep)
    else:
        # Retired stations are included (with active=false) so that a cached copy can
        # drop them.
        stations = registry.stations_changed_since(session, since, keep)
    body = schemas.feature_collection(
        [schemas.station_feature(s) for s in stations],
        crs="wgs84",
        registry_version=registry.registry_version(session),
        generated_at=generated_at.isoformat(),
    )
    return jsonify(body)


@bp.get("/stations/hours")
def station_hours() -> Response:
    """Open/closed spans for the coming days, so the offline copy answers as the API does.

    A separate document rather than a member of each feature in /stations: the registry
    copy on a phone is refreshed by deltas (`changed_since`) that carry only edited
    stations, while these spans move with the calendar every day for every station. It
    is keyed by expression (a few dozen serve a whole registry), so a phone uses a span
    only for a station whose cached `opening_hours` is the one it was computed from.
    The ETag is the body's digest: a phone revalidating an unchanged day gets a 304.
    """
    q = StationHoursQuery.from_args(request.args)
    day = (q.at or local_now()).astimezone(SHANGHAI).date()
    # Only the distinct expressions, from the index in memory: a DISTINCT over the
    # table took ~60 ms at 400,000 stations (and loading every station ~10 ms at 158).
    snapshot = current_index().current()
    expressions = snapshot.index.hours_expressions()
    schedules: dict[str, list[dict[str, Any]]] = {}
    for expr in expressions:
        spans = hours.state_spans(expr, day, HOURS_DAYS)
        if spans is not None:
            schedules[expr] = [
                {
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat() if s.end else None,
                    "open": s.open,
                }
                for s in spans
            ]
    start = datetime.combine(day, time(), tzinfo=SHANGHAI)
    body = schemas.encode(
        {
            "registry_version": snapshot.version,
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(days=HOURS_DAYS)).isoformat(),
            "schedules": schedules,
        }
    )
    response = Response(body, mimetype=current_app.json.mimetype)  # type: ignore[attr-defined]
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:24])
    response.cache_control.no_cache = True  # revalidate: the answer changes at midnight
    return response.make_conditional(request)


@bp.get("/stations/nearest")
def nearest() -> Response:
    q = NearestQuery.from_args(request.args)
    street = _street(q.street)
    at = q.at or local_now()
    try:
        query_point = crs.to_wgs84(Point(q.lon, q.lat, q.crs))
    except ValueError as exc:  # a GCJ-02/BD-09 point that converts off the globe
        raise InvalidParameter(f"lat/lon in {q.crs.value}: {exc}", field="lat") from None

    config = current_app.config
    # While a weather alert holds, the stations that help against it come first (the
    # same k nearest), unless the courier asked for amenities of their own.
    alert = current_alerts().current()
    first = alert.helps if alert is not None and not q.amenity else None
    features = nearest_stations_json(
        current_index().current(),
        query_point,
        k=q.k,
        radius_m=q.radius_m,
        amenities=q.amenity,
        kind=q.kind,
        street=street,
        open_now=q.open_now,
        at=at,
        walk_kmh=config["WALK_SPEED_KMH"],
        ride_kmh=config["RIDE_SPEED_KMH"],
        first=first,
    )
    query = {
        "point_wgs84": [round(query_point.lon, 7), round(query_point.lat, 7)],
        "crs": q.crs.value,
        "k": q.k,
        "radius_m": q.radius_m,
        "amenity": q.amenity,
        "kind": q.kind,
        "street": street,
        "open_now": q.open_now,
        "at": at.isoformat(),
    }
    # The same document as schemas.feature_collection(features, query=query), written
    # from the stations' JSON each snapshot encodes once: re-encoding every feature was
    # most of a request's time.
    body = (
        '{"type":"FeatureCollection","query":'
        + schemas.encode(query)
        + ',"alert":'
        + ("null" if alert is None else schemas.encode(_alert_json(alert, first is not None)))
        + ',"features":'
        + features
        + "}"
    )
    return compression.json_response(body, current_app.json.mimetype)  # type: ignore[attr-defined]


def _alert_json(alert: AlertNotice, listed_first: bool) -> dict[str, Any]:
    return {
        "kind": alert.kind,
        "level": alert.level,
        "starts_at": alert.starts_at.astimezone(SHANGHAI).isoformat(),
        "ends_at": alert.ends_at.astimezone(SHANGHAI).isoformat(),
        "max_temp_c": alert.max_temp_c,
        "note": alert.note,
        "rules": [gettext(rule) for rule in alert.rules],
        "helps": alert.helps,
        "listed_first": listed_first,
    }


@bp.get("/stations/in_view")
def stations_in_view() -> Response:
    """What a map shows of a box: its stations when few, else counts on a grid."""
    q = InViewQuery.from_args(request.args)
    west, south, east, north = q.bbox
    box_crs = q.crs
    try:  # the corners in WGS-84 (a map on GCJ-02 tiles sends GCJ-02)
        sw = crs.to_wgs84(Point(west, south, box_crs))
        ne = crs.to_wgs84(Point(east, north, box_crs))
    except ValueError as exc:
        raise InvalidParameter(f"bbox in {box_crs.value}: {exc}", field="bbox") from None
    box = map_view.Box(sw.lon, max(-90.0, sw.lat), ne.lon, min(90.0, ne.lat))
    snapshot = current_index().current()
    view = map_view.in_view(
        snapshot.index, box, kind=q.kind, amenity=q.amenity, max_stations=q.limit
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


@bp.get("/stations/<station_id>")
def get_station(station_id: str) -> Response:
    StationPath.validated({"station_id": station_id})
    station = registry.get_station(get_session(), station_id)
    if station is None:
        raise NotFound(f"no station {station_id!r}", field="station_id")
    feature = schemas.station_feature(station)
    now = local_now()
    state = hours.state_at(station.opening_hours, now)
    feature["properties"].update(
        open_now=state.open,
        next_change=state.next_change.isoformat() if state.next_change else None,
        coordinates_gcj02=navigation.gcj02_lonlat(station.lon, station.lat),
        navigation=navigation.navigation_links(station.name, station.lon, station.lat),
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
            "accesses": [{"code": a.code, "zh": a.zh, "en": a.en} for a in ACCESSES],
            "kinds": [{"name": k.name, "en": k.en} for k in KINDS],
            "streets": [_subdistrict_term(s) for s in current_areas().listed()],
        }
    )


def _subdistrict_term(s: Subdistrict) -> dict[str, Any]:
    return {
        "name": s.key,
        "en": s.key_en or s.name_en,
        "code": s.id_prefix,
        "division": s.code,
        "district": s.district,
    }


@bp.get("/areas")
def areas() -> Response:
    """Every loaded district with its subdistricts, bounds and active-station counts;
    only one district with `district`, or the district a subdistrict is in with
    `street` (at national scale the page's script asks which district a station is in)."""
    q = AreasQuery.from_args(request.args)
    loaded = current_areas()
    keep = _kept_streets(q.district, q.street)
    if keep and q.street is not None:
        keep = frozenset(loaded.subdistrict_keys(loaded.district_of(q.street).code))  # type: ignore[union-attr]
    counted = select(Station.street, func.count()).where(Station.active)
    if keep is not None:
        counted = counted.where(Station.street.in_(sorted(keep)))
    counts = dict(get_session().execute(counted.group_by(Station.street)).all())
    districts = []
    for d in loaded.districts():
        if keep is not None and not keep.intersection(loaded.subdistrict_keys(d.code)):
            continue
        members = [
            {
                **_subdistrict_term(s),
                "short_name": s.name,
                "short_en": s.name_en,
                "stations": counts.get(s.key, 0),
                "bbox": _rounded(loaded.outline(s.key).bounds),
            }
            for s in loaded.listed(d.code)
        ]
        districts.append(
            {
                "division": d.code,
                "name": d.name,
                "en": d.name_en,
                "city": d.city,
                "city_en": d.city_en,
                "stations": sum(m["stations"] for m in members),
                "bbox": _rounded(loaded.district_bounds(d.code)),
                "subdistricts": members,
            }
        )
    response = jsonify({"crs": "wgs84", "districts": districts})
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _rounded(bounds: tuple[float, ...]) -> list[float]:
    return [round(float(v), 6) for v in bounds]


def _kept_streets(district: str | None, street: str | None) -> frozenset[str] | None:
    """The subdistrict keys a list is limited to by `district` and `street`; None for
    all. 400 for a district or subdistrict not loaded."""
    keep: frozenset[str] | None = None
    if district is not None:
        found = current_areas().district(district)
        if found is None:
            raise InvalidParameter(
                f"district {district!r} is not loaded (GET /api/v1/areas lists them)",
                field="district",
            )
        keep = frozenset(current_areas().subdistrict_keys(found.code))
    key = _street(street)
    if key is not None:
        keep = frozenset({key}) if keep is None else keep & {key}
    return keep


def _street(value: str | None) -> str | None:
    """A `street` parameter as the key the registry stores (a key or a division code);
    400 for one not loaded."""
    if value is None:
        return None
    found = current_areas().subdistrict(value.strip())
    if found is None:
        raise InvalidParameter(
            f"street {value!r} is not a loaded subdistrict (GET /api/v1/areas lists them)",
            field="street",
        )
    return found.key


@bp.get("/openapi.json")
def openapi() -> Response:
    document: dict[str, Any] = openapi_document(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(document)
