"""Probes and the request log: what a load balancer and an operator see."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from stationfinder.config import load_settings
from stationfinder.db import get_db, make_engine
from stationfinder.web.context import current_index, replace_index


def _with_ops(app: Flask) -> Flask:
    assert "ops" in app.blueprints  # create_app wires the probes in
    return app


@pytest.fixture
def ops_app(make_app: Callable[..., Flask]) -> Flask:
    return _with_ops(make_app())


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "stationfinder.requests"
    ]


def test_healthz_says_the_process_is_alive(ops_app: Flask) -> None:
    response = ops_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_loads_the_index_and_counts_its_stations(ops_app: Flask) -> None:
    response = ops_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "stations": 158,
        "registry_version": 1,
        "index": "built",  # by this process (not gunicorn's master: see test_workers)
    }
    assert current_index(ops_app).loaded


def test_readyz_is_503_in_the_error_shape_when_the_database_is_gone(
    make_app: Callable[..., Flask], tmp_path: Path, seeded_sqlite: Path
) -> None:
    folder = tmp_path / "doomed"
    folder.mkdir()
    shutil.copyfile(seeded_sqlite, folder / "stationfinder.sqlite3")
    app = _with_ops(make_app(DATABASE_URL=f"sqlite:///{folder / 'stationfinder.sqlite3'}"))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200

    get_db(app).engine.dispose()  # no open handle keeps the file
    shutil.rmtree(folder)
    response = client.get("/readyz", headers={"Accept": "text/html"})  # JSON all the same
    assert response.status_code == 503
    assert response.get_json() == {
        "error": {
            "code": "database_unavailable",
            "message": "the database does not answer",
            "field": "database",
        }
    }
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_is_503_when_postgresql_refuses_connections(ops_app: Flask) -> None:
    database = get_db(ops_app)
    database.engine.dispose()
    database.engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere")
    response = ops_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "1"


def test_readyz_is_503_when_the_index_cannot_be_built(
    ops_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenIndex:
        def current(self) -> None:
            raise RuntimeError("registry unreadable")

    replace_index(ops_app, BrokenIndex())
    with caplog.at_level(logging.ERROR, logger="stationfinder.ops.probes"):
        response = ops_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "index_unavailable"
    assert response.get_json()["error"]["field"] == "index"
    assert "registry unreadable" in caplog.text


def test_every_request_is_one_json_log_line(
    ops_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = ops_app.test_client()
    caplog.set_level(logging.INFO, logger="stationfinder.requests")
    client.get(
        "/api/v1/stations/nearest?lat=30.305&lon=120.318&k=2",
        headers={"X-Request-ID": "probe-42"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    client.get("/api/v1/stations/QT-NOPE-999")
    lines = _request_lines(caplog)
    assert len(lines) == 2
    first, second = lines
    assert first["method"] == "GET"
    assert first["path"] == "/api/v1/stations/nearest"
    assert "lat" not in json.dumps(first)  # a courier's position stays out of the log
    assert first["status"] == 200
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert first["remote_addr"] == "10.1.2.3"
    assert first["request_id"] == "probe-42"
    assert second["status"] == 404
    assert isinstance(second["request_id"], str) and len(second["request_id"]) == 32


def test_request_id_is_echoed_and_a_hostile_one_replaced(
    ops_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = ops_app.test_client()
    caplog.set_level(logging.INFO, logger="stationfinder.requests")
    kept = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    hostile = 'x", "status": 200, "y": "' + "z" * 80
    replaced = client.get("/healthz", headers={"X-Request-ID": hostile})
    assert kept.headers["X-Request-ID"] == "abc-123"
    assert replaced.headers["X-Request-ID"] != hostile
    assert [line["request_id"] for line in _request_lines(caplog)] == [
        "abc-123",
        replaced.headers["X-Request-ID"],
    ]
    assert re.fullmatch(r"[0-9a-f]{12}", kept.headers["X-Worker"])  # opaque, not the pid


def test_an_unexpected_error_is_logged_as_a_500(
    ops_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    class ExplodingIndex:
        def current(self) -> None:
            raise RuntimeError("boom")

    replace_index(ops_app, ExplodingIndex())
    caplog.set_level(logging.INFO, logger="stationfinder.requests")
    response = ops_app.test_client().get("/api/v1/stations/nearest?lat=30.3&lon=120.3")
    assert response.status_code == 500
    assert [(line["path"], line["status"]) for line in _request_lines(caplog)] == [
        ("/api/v1/stations/nearest", 500)
    ]


def test_bare_bench_endpoint_exists_only_when_asked_for(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _with_ops(make_app()).test_client().get("/bench/bare").status_code == 404
    on = _with_ops(make_app(BENCH_ENDPOINTS=True)).test_client().get("/bench/bare")
    assert on.status_code == 200
    assert on.get_json()["bench"] == "bare"
    # Under gunicorn the setting comes from the environment.
    assert load_settings({"STATIONFINDER_BENCH_ENDPOINTS": "true"})["BENCH_ENDPOINTS"] is True
