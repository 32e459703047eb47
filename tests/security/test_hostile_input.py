"""Hostile input the other suites do not pin yet: SQL metacharacters and control
characters in search and filter parameters, overlong values, and a street_staff member
reaching another subdistrict's station by id through every staff route."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from stationfinder.db import session_scope
from stationfinder.models import Station, StationRevision
from stationfinder.web import security

PASSWORD = "correct horse battery"
OTHER = "QT-XS-001"  # in 下沙街道, not the logged-in member's 白杨街道

HOSTILE = [
    "' OR '1'='1",
    "'; DROP TABLE stations; --",
    '" OR 1=1 --',
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(5); --",
    "_%_%",
    "\x00\x01\x1b[31m",
    "\u202e\u200b\ufeff",
    "x" * 10_000,
]


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app()
    security.init_app(app)  # refuses NUL before PostgreSQL sees it; a no-op once wired
    return app


def _counts(app: Flask) -> tuple[int, int]:
    with session_scope(app) as session:
        return (
            session.scalar(select(func.count()).select_from(Station)),
            session.scalar(select(func.count()).select_from(StationRevision)),
        )


def _staff_client(app: Flask) -> FlaskClient:
    from stationfinder.models import StaffAccount

    with session_scope(app) as session:
        session.add(
            StaffAccount(
                username="baiyang",
                display_name="baiyang",
                password_hash=PasswordHasher().hash(PASSWORD),
                role="street_staff",
                street="白杨街道",
            )
        )
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/staff/login", data={"username": "baiyang", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def _csrf(client: FlaskClient) -> str:
    page = client.get("/staff/stations").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_public_parameters_are_refused_or_harmless(
    app: Flask, client: FlaskClient, value: str
) -> None:
    before = _counts(app)
    for path, params in [
        ("/api/v1/stations/nearest", {"lat": "30.3", "lon": "120.35", "street": value}),
        ("/api/v1/stations/nearest", {"lat": "30.3", "lon": "120.35", "kind": value}),
        ("/api/v1/stations/nearest", {"lat": value, "lon": "120.35"}),
        ("/api/v1/stations/nearest", {"lat": "30.3", "lon": "120.35", "amenity": value}),
        ("/api/v1/stations", {"changed_since": value}),
        (f"/api/v1/stations/{value[:200]}", {}),
        ("/places", {"q": value}),
        ("/nearest", {"lat": "30.3", "lon": "120.35", "amenity": value}),
        ("/map", {"amenity": value, "street": value}),
        ("/map/pins.json", {"amenity": value}),
        ("/map/pins.json", {"kind": value, "lang": value}),
    ]:
        json_wanted = path.startswith("/api/") or path.endswith(".json")
        headers = {"Accept": "application/json"} if path.endswith(".json") else {}
        response = client.get(path, query_string=params, headers=headers)
        assert response.status_code < 500, (path, params, response.status_code)
        if response.status_code >= 400 and json_wanted:
            assert set(response.get_json()["error"]) == {"code", "message", "field"}
        assert "Traceback" not in response.get_data(as_text=True)
    assert _counts(app) == before


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_the_staff_search_are_text(app: Flask, value: str) -> None:
    client = _staff_client(app)
    before = _counts(app)
    for params in ({"q": value}, {"street": value}, {"kind": value}, {"status": value}):
        response = client.get("/staff/stations", query_string=params)
        assert response.status_code < 500, params
    response = client.get("/staff/changes", query_string={"who": value, "street": value})
    assert response.status_code < 500
    # A LIKE wildcard typed as a search is a literal, not "everything".
    if value == "_%_%":
        listed = client.get("/staff/stations", query_string={"q": value}).get_data(as_text=True)
        assert "QT-BY-001" not in listed
    assert _counts(app) == before


def test_street_staff_reach_no_other_subdistrict_by_id(app: Flask) -> None:
    client = _staff_client(app)
    token = _csrf(client)
    with session_scope(app) as session:
        version = session.get(Station, OTHER).version
    gets = [
        f"/staff/stations/{OTHER}/edit",
    ]
    posts = [
        (f"/staff/stations/{OTHER}/edit", {"name": "改名", "version": str(version)}),
        (f"/staff/stations/{OTHER}/retire", {"reason": "x", "version": str(version)}),
        (f"/staff/stations/{OTHER}/reinstate", {"reason": "x", "version": str(version)}),
        (f"/staff/stations/{OTHER}/out-of-service", {"amenity": "toilet", "note": "x"}),
        (
            f"/staff/stations/{OTHER}/history/restore",
            {"target": "1", "version": str(version), "reason": "x"},
        ),
        (f"/staff/reports/back-in-service/{OTHER}/toilet", {}),
    ]
    for path in gets:
        assert client.get(path).status_code in (403, 404), path
    for path, data in posts:
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code in (403, 404), (path, response.status_code)
    with session_scope(app) as session:
        station = session.get(Station, OTHER)
        assert station.version == version and station.active and station.name != "改名"
        assert not station.out_of_service
