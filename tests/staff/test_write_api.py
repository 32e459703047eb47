"""The write API: tokens made on a page, If-Match against lost updates, roles and
subdistricts respected, errors in the shared shape, responses as documented."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from staff_login import api_token, csrf_from, staff_client

from stationfinder.db import session_scope
from stationfinder.models import ApiToken, Station
from stationfinder.registry import stations as registry

OWN = "QT-BY-001"
OTHER = "QT-XS-001"


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    return {
        "baiyang": api_token(staff_client(app, "baiyang", "street_staff", "白杨街道")),
        "secretary": api_token(staff_client(app, "secretary", "council_secretary", None)),
        "admin": api_token(staff_client(app, "admin", "union_admin", None)),
    }


def _auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def _etag(client: FlaskClient, station_id: str) -> str:
    return client.get(f"/api/v1/stations/{station_id}").headers["ETag"]


def _station(app: Flask, station_id: str) -> Station | None:
    with session_scope(app) as session:
        station = session.get(Station, station_id)
        if station is not None:
            session.expunge(station)
        return station


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code
    return body["error"]


NEW_STATION = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [120.34, 30.315]},
    "properties": {
        "name": "白杨接口驿站",
        "kind": "工会驿站",
        "amenities": ["rest", "toilet"],
        "opening_hours": "Mo-Su 08:00-20:00",
    },
    "reason": "from the union's system",
}


def test_a_token_is_shown_once_and_kept_only_as_its_hash(app: Flask) -> None:
    client = staff_client(app, "baiyang", "street_staff", "白杨街道")
    token = api_token(client, "街道系统")
    assert token.startswith("sf_") and len(token) > 40
    assert token not in client.get("/staff/tokens").get_data(as_text=True)
    with session_scope(app) as session:
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert stored.name == "街道系统"


def test_patch_needs_the_current_etag(app: Flask, client: FlaskClient, tokens: dict) -> None:
    version_before = _registry_version(app)
    body = {"properties": {"phone": "0571-86001234"}, "reason": "new line"}
    missing = client.patch(f"/api/v1/stations/{OWN}", json=body, headers=_auth(tokens["baiyang"]))
    _error(missing, 428, "precondition_required")

    etag = _etag(client, OWN)
    assert etag == f'"{OWN}-v1"'
    ok = client.patch(
        f"/api/v1/stations/{OWN}", json=body, headers=_auth(tokens["baiyang"], **{"If-Match": etag})
    )
    assert ok.status_code == 200
    assert ok.headers["ETag"] == f'"{OWN}-v2"'
    assert ok.get_json()["properties"]["phone"] == "0571-86001234"
    assert client.get(f"/api/v1/stations/{OWN}").get_json()["properties"]["phone"] == (
        "0571-86001234"
    )
    assert _registry_version(app) == version_before + 1

    stale = client.patch(
        f"/api/v1/stations/{OWN}",
        json={"properties": {"phone": "0571-80000000"}},
        headers=_auth(tokens["admin"], **{"If-Match": etag}),
    )
    _error(stale, 412, "precondition_failed")
    assert _station(app, OWN).phone == "0571-86001234"


def _registry_version(app: Flask) -> int:
    with session_scope(app) as session:
        return registry.registry_version(session)


def test_a_compressed_etag_names_the_same_version(
    app: Flask, client: FlaskClient, tokens: dict
) -> None:
    response = client.patch(
        f"/api/v1/stations/{OWN}",
        json={"properties": {"address": "文海北路"}},
        headers=_auth(tokens["admin"], **{"If-Match": f'"{OWN}-v1:gzip"'}),
    )
    assert response.status_code == 200


def test_tokens_must_be_real_and_unrevoked(app: Flask, client: FlaskClient, tokens: dict) -> None:
    etag = _etag(client, OWN)
    for headers in ({}, _auth("sf_made_up"), {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        response = client.patch(
            f"/api/v1/stations/{OWN}", json={}, headers={**headers, "If-Match": etag}
        )
        _error(response, 401, "unauthorized")

    owner = staff_client(app, "owner", "union_admin", None)
    token = api_token(owner)
    with session_scope(app) as session:
        token_id = session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1))
    page = owner.get("/staff/tokens").get_data(as_text=True)
    owner.post(f"/staff/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page)})
    revoked = client.patch(
        f"/api/v1/stations/{OWN}", json={}, headers=_auth(token, **{"If-Match": etag})
    )
    _error(revoked, 401, "unauthorized")


def test_a_signed_in_browser_cannot_write_through_the_api(app: Flask) -> None:
    """The API takes tokens only, so another site cannot use a staff member's cookie."""
    browser = staff_client(app, "admin", "union_admin", None)
    assert browser.get("/staff/").status_code == 200
    response = browser.post("/api/v1/stations", json=NEW_STATION)
    _error(response, 401, "unauthorized")


def test_each_role_writes_only_its_own(app: Flask, client: FlaskClient, tokens: dict) -> None:
    other_etag = _etag(client, OTHER)
    for method in (client.patch, client.delete):
        response = method(
            f"/api/v1/stations/{OTHER}?reason=closed",
            json={"properties": {"name": "hijacked"}},
            headers=_auth(tokens["baiyang"], **{"If-Match": other_etag}),
        )
        _error(response, 403, "forbidden")
    in_xiasha = {**NEW_STATION, "geometry": {"type": "Point", "coordinates": [120.305, 30.3275]}}
    _error(
        client.post("/api/v1/stations", json=in_xiasha, headers=_auth(tokens["baiyang"])),
        403,
        "forbidden",
    )
    _error(
        client.post("/api/v1/stations", json=NEW_STATION, headers=_auth(tokens["secretary"])),
        403,
        "forbidden",
    )
    assert _station(app, OTHER).version == 1
    admin = client.patch(
        f"/api/v1/stations/{OTHER}",
        json={"properties": {"address": "九沙大道"}},
        headers=_auth(tokens["admin"], **{"If-Match": other_etag}),
    )
    assert admin.status_code == 200


def test_create_then_retire(app: Flask, client: FlaskClient, tokens: dict) -> None:
    created = client.post("/api/v1/stations", json=NEW_STATION, headers=_auth(tokens["baiyang"]))
    assert created.status_code == 201
    body = created.get_json()
    new_id = body["id"]
    assert re.fullmatch(r"QT-BY-\d{3}", new_id)
    assert body["properties"]["street"] == "白杨街道"
    assert created.headers["Location"] == f"/api/v1/stations/{new_id}"
    assert created.headers["ETag"] == f'"{new_id}-v1"'

    duplicate = client.post(
        "/api/v1/stations", json={**NEW_STATION, "id": new_id}, headers=_auth(tokens["admin"])
    )
    _error(duplicate, 409, "conflict")

    no_reason = client.delete(
        f"/api/v1/stations/{new_id}",
        headers=_auth(tokens["baiyang"], **{"If-Match": f'"{new_id}-v1"'}),
    )
    assert _error(no_reason, 400, "invalid_parameter")["field"] == "reason"
    retired = client.delete(
        f"/api/v1/stations/{new_id}",
        json={"reason": "场地收回"},
        headers=_auth(tokens["baiyang"], **{"If-Match": f'"{new_id}-v1"'}),
    )
    assert retired.status_code == 200
    assert retired.get_json()["properties"]["active"] is False
    listed = client.get("/api/v1/stations").get_json()
    assert new_id not in {f["id"] for f in listed["features"]}
    again = client.delete(
        f"/api/v1/stations/{new_id}?reason=again",
        headers=_auth(tokens["baiyang"], **{"If-Match": f'"{new_id}-v2"'}),
    )
    _error(again, 409, "conflict")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {**NEW_STATION, "geometry": {"type": "Point", "coordinates": [120.15, 30.25]}},
            "geometry",
        ),
        ({**NEW_STATION, "geometry": {"type": "Point", "coordinates": ["a", 1]}}, "geometry"),
        ({**NEW_STATION, "properties": {**NEW_STATION["properties"], "kind": "x"}}, "kind"),
        (
            {**NEW_STATION, "properties": {**NEW_STATION["properties"], "amenities": ["spa"]}},
            "amenities",
        ),
        (
            {**NEW_STATION, "properties": {**NEW_STATION["properties"], "opening_hours": "9-5"}},
            "opening_hours",
        ),
        ({**NEW_STATION, "properties": {**NEW_STATION["properties"], "active": False}}, "active"),
        ([1, 2], "body"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    app: Flask, client: FlaskClient, tokens: dict, body: Any, field: str
) -> None:
    count = len(client.get("/api/v1/stations").get_json()["features"])
    response = client.post("/api/v1/stations", json=body, headers=_auth(tokens["admin"]))
    assert _error(response, 400, "invalid_parameter")["field"] == field
    assert len(client.get("/api/v1/stations").get_json()["features"]) == count


def test_gcj02_input_is_stored_as_wgs84(app: Flask, client: FlaskClient, tokens: dict) -> None:
    from stationfinder.geo import crs
    from stationfinder.geo.point import CRS, Point

    target = Point(120.3450, 30.3290)
    gcj = crs.from_wgs84(target, CRS.GCJ02)
    response = client.patch(
        f"/api/v1/stations/{OWN}?crs=gcj02",
        json={"geometry": {"type": "Point", "coordinates": [gcj.lon, gcj.lat]}},
        headers=_auth(tokens["admin"], **{"If-Match": _etag(client, OWN)}),
    )
    assert response.status_code == 200
    lon, lat = response.get_json()["geometry"]["coordinates"]
    assert lon == pytest.approx(target.lon, abs=2e-7)
    assert lat == pytest.approx(target.lat, abs=2e-7)


# --- the OpenAPI document ---------------------------------------------------------------


def _check(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    operation = document["paths"][path][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    validator = Draft202012Validator(
        _rebase(schema),
        registry=Registry().with_resource("urn:openapi", resource),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = list(validator.iter_errors(body))
    assert not errors, [e.message for e in errors[:5]]


def _rebase(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: ("urn:openapi" + v if k == "$ref" and v.startswith("#") else _rebase(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


def test_write_responses_are_as_documented(client: FlaskClient, tokens: dict) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    one = "/api/v1/stations/{station_id}"
    created = client.post("/api/v1/stations", json=NEW_STATION, headers=_auth(tokens["admin"]))
    _check(document, "/api/v1/stations", "post", 201, created.get_json())
    new_id = created.get_json()["id"]
    headers = _auth(tokens["admin"], **{"If-Match": created.headers["ETag"]})
    patched = client.patch(
        f"/api/v1/stations/{new_id}",
        json={"properties": {"phone": "0571-86001111"}},
        headers=headers,
    )
    _check(document, one, "patch", 200, patched.get_json())
    stale = client.patch(f"/api/v1/stations/{new_id}", json={}, headers=headers)
    _check(document, one, "patch", 412, stale.get_json())
    _check(
        document,
        one,
        "patch",
        428,
        client.patch(
            f"/api/v1/stations/{new_id}", json={}, headers=_auth(tokens["admin"])
        ).get_json(),
    )
    retired = client.delete(
        f"/api/v1/stations/{new_id}?reason=closed",
        headers=_auth(tokens["admin"], **{"If-Match": patched.headers["ETag"]}),
    )
    _check(document, one, "delete", 200, retired.get_json())
    _check(
        document,
        "/api/v1/stations",
        "post",
        401,
        client.post("/api/v1/stations", json=NEW_STATION).get_json(),
    )
