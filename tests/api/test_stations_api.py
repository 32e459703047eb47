"""The read API as an integration would use it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from shipped_areas import STREET_NAMES
from sqlalchemy import update

from stationfinder.core.resources import data_file
from stationfinder.core.vocabulary import AMENITY_CODES
from stationfinder.db import session_scope
from stationfinder.models import Station


def test_lists_the_158_seeded_stations_as_geojson(client: FlaskClient) -> None:
    response = client.get("/api/v1/stations")
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 158
    shipped = json.loads(data_file("stations.geojson").read_text(encoding="utf-8"))
    assert {f["id"] for f in body["features"]} == {f["id"] for f in shipped["features"]}


def test_each_feature_carries_what_a_courier_asks_about(client: FlaskClient) -> None:
    feature = client.get("/api/v1/stations").get_json()["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 120.25 <= lon <= 120.80 and 30.15 <= lat <= 30.45  # [lon, lat] order
    props = feature["properties"]
    for key in ("name", "kind", "street", "address", "amenities", "opening_hours", "phone"):
        assert key in props
    assert props["street"] in STREET_NAMES
    assert set(props["amenities"]) <= set(AMENITY_CODES)


def test_one_station_by_id(client: FlaskClient) -> None:
    first = client.get("/api/v1/stations").get_json()["features"][0]
    response = client.get(f"/api/v1/stations/{first['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == first["id"]
    assert body["properties"]["name"] == first["properties"]["name"]
    assert body["properties"]["open_now"] in (True, False, None)
    nav = body["properties"]["navigation"]
    assert nav["amap"]["crs"] == "gcj02" and nav["baidu"]["crs"] == "bd09"
    assert response.headers["ETag"]


def test_unknown_station_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/stations/QT-XX-999")
    assert response.status_code == 404
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    assert "QT-XX-999" in error["message"]


def test_unknown_route_and_wrong_method_answer_json(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert set(missing.get_json()["error"]) == {"code", "message", "field"}
    wrong = client.post("/api/v1/amenities")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_amenities_vocabulary_has_labels_and_osm_tags(client: FlaskClient) -> None:
    body = client.get("/api/v1/amenities").get_json()
    codes = [a["code"] for a in body["amenities"]]
    assert codes == list(AMENITY_CODES)
    water = next(a for a in body["amenities"] if a["code"] == "drinking_water")
    assert water["zh"] == "饮水" and water["osm"] == "drinking_water=yes"
    assert [s["name"] for s in body["streets"]] == list(STREET_NAMES)


def test_changed_since_returns_only_later_changes(app: Flask, client: FlaskClient) -> None:
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with session_scope(app) as session:
        session.execute(update(Station).values(updated_at=hour_ago, last_confirmed_at=None))
    everything = client.get("/api/v1/stations").get_json()
    later = client.get(
        "/api/v1/stations", query_string={"changed_since": everything["generated_at"]}
    ).get_json()
    assert later["features"] == []
    early = client.get(
        "/api/v1/stations", query_string={"changed_since": "2000-01-01T00:00:00+08:00"}
    ).get_json()
    assert len(early["features"]) == 158


def test_an_edit_committed_while_a_copy_was_read_comes_in_the_next_delta(
    app: Flask, client: FlaskClient
) -> None:
    """The copy's stamp is taken before it is read, and early: an edit whose transaction
    began before the read (updated_at a few seconds before the answer) is not lost."""
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with session_scope(app) as session:
        session.execute(update(Station).values(updated_at=hour_ago, last_confirmed_at=None))
    copy = client.get("/api/v1/stations").get_json()
    with session_scope(app) as session:
        station = session.get_one(Station, "QT-BY-001")
        station.address = "边读边改的地址"
        station.updated_at = datetime.now(UTC) - timedelta(seconds=5)  # began before the read
    delta = client.get(
        "/api/v1/stations", query_string={"changed_since": copy["generated_at"]}
    ).get_json()
    assert [f["id"] for f in delta["features"]] == ["QT-BY-001"]


def test_bad_changed_since_is_400_naming_the_field(client: FlaskClient) -> None:
    response = client.get("/api/v1/stations?changed_since=yesterday")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "changed_since"


def test_responses_are_gzipped_for_clients_that_ask(client: FlaskClient) -> None:
    response = client.get("/api/v1/stations", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


def test_the_public_api_sets_no_cookie_and_ignores_a_forged_session(client: FlaskClient) -> None:
    """Couriers' phones get no cookie from the API; a session cookie that was not signed
    by the app reads as an empty session (nobody is logged in by forging one)."""
    for url in ("/api/v1/stations", "/api/v1/stations/nearest?lat=30.3&lon=120.35"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    client.set_cookie("session", "eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    page = client.get("/staff/", follow_redirects=False)
    assert page.status_code in (302, 303)
    assert "/staff/login" in page.headers["Location"]
