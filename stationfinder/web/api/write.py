"""Write endpoints for integrations: create, change and retire stations.

Token authentication only (`Authorization: Bearer <token>`, made on /staff/tokens); a
token acts with its owner's role and subdistrict. Cookies are never accepted here, which
is why these views need no CSRF token. PATCH and DELETE require `If-Match` with the
ETag of a GET (`"<id>-v<version>"`): missing answers 428, stale answers 412 and nothing
is written.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify, request, url_for

from stationfinder.core.errors import DomainError
from stationfinder.db import get_session
from stationfinder.geo import crs
from stationfinder.geo.point import Point
from stationfinder.models import Station
from stationfinder.registry import editing, fields
from stationfinder.registry import geojson as schemas
from stationfinder.web.api import bp
from stationfinder.web.api.contract import WriteQuery
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.errors import ApiError, InvalidParameter

EDITABLE = fields.EDITABLE  # the properties a POST or PATCH may set, as declared
_TAG = re.compile(r'^"(?P<id>.+)-v(?P<version>[0-9]{1,9})(?::(?:gzip|br|deflate|zstd))?"$')


def etag(station: Station) -> str:
    return f'"{station.id}-v{station.version}"'


def _expected_version(station_id: str) -> int:
    """The version named by If-Match. Flask-Compress may have added ':gzip' to the tag
    the client saw; it names the same version."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise ApiError(
            "send If-Match with the ETag from GET /api/v1/stations/{id}",
            status=428,
            code="precondition_required",
            field="If-Match",
        )
    for tag in (t.strip() for t in header.split(",")):
        match = _TAG.match(tag)
        if match and match["id"] == station_id:
            return int(match["version"])
    raise ApiError(
        "If-Match does not name a version of this station (a specific ETag is needed, not *)",
        status=412,
        code="precondition_failed",
        field="If-Match",
    )


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object", field="body")
    return body


def _values(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Station values from a GeoJSON Feature (whole for POST, some for PATCH)."""
    properties = body.get("properties", {} if partial else None)
    if not isinstance(properties, dict):
        raise InvalidParameter("properties must be an object", field="properties")
    unknown = sorted(set(properties) - set(EDITABLE))
    if unknown:
        hint = " (retire with DELETE)" if {"active", "retired_reason"} & set(unknown) else ""
        raise InvalidParameter(
            f"properties that cannot be set here: {', '.join(unknown)}{hint}", field=unknown[0]
        )
    values = dict(properties)
    geometry = body.get("geometry")
    if geometry is not None or not partial:
        values.update(_point(geometry))
    return values


def _point(geometry: Any) -> dict[str, float]:
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (
        not isinstance(geometry, dict)
        or geometry.get("type") != "Point"
        or not isinstance(coordinates, list)
        or len(coordinates) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
    ):
        raise InvalidParameter("geometry must be a GeoJSON Point [lon, lat]", field="geometry")
    system = WriteQuery.from_args(request.args).crs
    try:
        point = crs.to_wgs84(Point(float(coordinates[0]), float(coordinates[1]), system))
    except ValueError as exc:
        raise InvalidParameter(str(exc), field="geometry") from None
    return {"lon": point.lon, "lat": point.lat}


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise InvalidParameter("reason must be text", field="reason")
    return reason


def _answer(station: Station, status: int, warnings: list[editing.NearbyWarning]) -> Response:
    feature = schemas.station_feature(station)
    feature["warnings"] = [
        {
            "station_id": w.station_id,
            "name": w.name,
            "distance_m": w.distance_m,
            "same_name": w.same_name,
        }
        for w in warnings
    ]
    response = jsonify(feature)
    response.status_code = status
    response.headers["ETag"] = etag(station)
    return response


def _public(exc: editing.EditError) -> DomainError:
    """The refusal as the API says it: the error's own status and code, except that a
    stale version is the If-Match precondition failing (412), as HTTP names it."""
    if isinstance(exc, editing.VersionConflict):
        return ApiError(
            exc.template,
            status=412,
            code="precondition_failed",
            field="If-Match",
            params=exc.params,
        )
    return exc


def _staff() -> editing.Editor:
    staff = current_staff()
    assert staff is not None
    return staff


def _areas() -> Any:
    return current_areas()


@staff_required(*editing.STATION_EDITORS)
def create_station() -> Response:
    body = _body()
    values = _values(body, partial=False)
    if body.get("id") is not None:
        values["id"] = body["id"]
    db = get_session()
    try:
        with db.begin():
            station = editing.create_station(db, values, _areas(), _staff(), _reason(body))
            warnings = editing.nearby_warnings(
                db, station.lon, station.lat, station.name, exclude=station.id
            )
    except editing.EditError as exc:
        raise _public(exc) from None
    response = _answer(station, 201, warnings)
    response.headers["Location"] = url_for("api.get_station", station_id=station.id)
    return response


@staff_required(*editing.STATION_EDITORS)
def update_station(station_id: str) -> Response:
    expected = _expected_version(station_id)
    body = _body()
    values = _values(body, partial=True)
    db = get_session()
    try:
        with db.begin():
            before = db.get(Station, station_id)
            old = (before.name, before.lon, before.lat) if before else None
            station = editing.update_station(
                db,
                station_id,
                values,
                _areas(),
                _staff(),
                expected_version=expected,
                reason=_reason(body),
            )
            warnings = (
                editing.nearby_warnings(
                    db, station.lon, station.lat, station.name, exclude=station.id
                )
                if old != (station.name, station.lon, station.lat)
                else []
            )
    except editing.EditError as exc:
        raise _public(exc) from None
    return _answer(station, 200, warnings)


@staff_required(*editing.STATION_EDITORS)
def retire_station(station_id: str) -> Response:
    expected = _expected_version(station_id)
    reason = request.args.get("reason")
    if reason is None and request.get_data():
        reason = _reason(_body())
    db = get_session()
    try:
        with db.begin():
            station = editing.retire_station(
                db, station_id, _staff(), reason=reason or "", expected_version=expected
            )
    except editing.EditError as exc:
        raise _public(exc) from None
    return _answer(station, 200, [])


bp.add_url_rule("/stations", view_func=create_station, methods=["POST"])
bp.add_url_rule("/stations/<station_id>", view_func=update_station, methods=["PATCH"])
bp.add_url_rule("/stations/<station_id>", view_func=retire_station, methods=["DELETE"])
VIEWS = (create_station, update_station, retire_station)  # exempt from CSRF (no cookies)
