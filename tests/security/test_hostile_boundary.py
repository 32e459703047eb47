"""Hostile text, deep JSON and database failures get a clear 4xx/5xx answer, never a 500."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from stationfinder.db import get_db

CONTROL = st.sampled_from([chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\x7f"])


@settings(
    max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(prefix=st.text(alphabet="ab驿站", max_size=5), bad=CONTROL)
def test_control_character_in_api_json_is_400(client, prefix, bad):
    body = {"name": prefix + bad + "站", "lat": 30.27, "lon": 120.15}
    response = client.post("/api/v1/stations", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "control_character"


def test_nul_in_a_courier_form_is_stripped_and_the_text_kept(client):
    """A courier's form is never thrown away for an invisible character: the NUL goes,
    the words stay on the form (here refused for its missing category)."""
    response = client.post(
        "/council/new", data={"title": "厕所\x00坏了", "description": "冲水\x07按钮坏了两天"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "厕所坏了" in page and "冲水按钮坏了两天" in page
    assert "\x00" not in page and "\x07" not in page


def test_control_character_in_an_open311_form_is_400(client):
    response = client.post(
        "/open311/v2/requests.json", data={"service_code": "toilet", "description": "a\x00b"}
    )
    assert response.status_code == 400


def test_nul_in_query_is_400(client):
    response = client.get("/api/v1/stations?q=a%00b")
    assert response.status_code == 400


def test_deep_json_is_400_not_500(client):
    deep = "[" * 100000 + "]" * 100000
    response = client.post("/api/v1/stations", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "json_too_deep"


@pytest.fixture
def broken_db(app, monkeypatch):
    engine = get_db(app).engine

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(engine, "connect", refuse)
    monkeypatch.setattr(engine, "raw_connection", refuse)
    return app


def test_database_outage_is_503_with_retry_after(broken_db):
    client = broken_db.test_client()
    for path, wants_json in (("/api/v1/stations", True), ("/council", False)):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 503, path
        assert response.headers["Retry-After"]
        if wants_json:
            assert response.get_json()["error"]["code"] == "database_unavailable"
        else:
            assert "数据库暂时无法连接" in response.get_data(as_text=True)


def test_disk_full_is_507_chinese(app, monkeypatch):
    engine = get_db(app).engine

    def full(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(engine, "connect", full)
    monkeypatch.setattr(engine, "raw_connection", full)
    response = app.test_client().get("/council", headers={"Accept": "text/html"})
    assert response.status_code == 507
    assert "磁盘已满" in response.get_data(as_text=True)


def test_disk_full_while_posting_shows_back_what_the_courier_typed(app, monkeypatch):
    client = app.test_client()
    page = client.get("/council/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    typed = {"title": "遮雨棚漏水", "description": "下雨天座位全湿，没法休息"}
    form = {
        **typed,
        "csrf_token": token.group(1) if token else "",
        "device_key": "a1" * 32,
        "category": "rest_facilities",
        "lon": "120.35",
        "lat": "30.31",
        "confirmed": "1",
    }
    engine = get_db(app).engine

    def full(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(engine, "connect", full)
    monkeypatch.setattr(engine, "raw_connection", full)
    response = client.post("/council/new", data=form, headers={"Accept": "text/html"})
    page = response.get_data(as_text=True)
    assert response.status_code == 507
    assert 'data-testid="kept-input"' in page
    assert typed["title"] in page and typed["description"] in page
    assert form["device_key"] not in page  # machinery is not shown back


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+14:00", "1900-01-01T00:00:00"]
)
def test_calendar_edge_dates_are_400(client, value):
    response = client.get("/open311/v2/requests.json", query_string={"start_date": value})
    assert response.status_code == 400
    response = client.get("/api/v1/stations", query_string={"changed_since": value})
    assert response.status_code == 400


def test_a_failed_sign_in_never_shows_the_password_back(app, monkeypatch):
    """Words typed are shown back when a save fails, but never a password."""
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    engine = get_db(app).engine

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(engine, "connect", down)
    monkeypatch.setattr(engine, "raw_connection", down)
    secret = "correct horse battery staple"
    for form in (
        {"username": "mishu", "password": secret, "csrf_token": token.group(1) if token else ""},
        {"username": "mishu", "password": secret},  # no CSRF token: refused before the view
    ):
        answer = client.post("/staff/login", data=form, headers={"Accept": "text/html"})
        assert answer.status_code >= 400
        assert secret not in answer.get_data(as_text=True)
