"""Hostile text, deep JSON and database failures get a clear 4xx/5xx answer, never a 500."""

from __future__ import annotations

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


def test_nul_in_council_form_is_400_with_chinese_page(client):
    response = client.post("/council/new", data={"title": "厕所\x00坏了", "body": "x"})
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)


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


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+14:00", "1900-01-01T00:00:00"]
)
def test_calendar_edge_dates_are_400(client, value):
    response = client.get("/open311/v2/requests.json", query_string={"start_date": value})
    assert response.status_code == 400
    response = client.get("/api/v1/stations", query_string={"changed_since": value})
    assert response.status_code == 400
