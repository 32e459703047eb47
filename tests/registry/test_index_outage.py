"""A database outage does not take nearest answers away from couriers."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy.exc import OperationalError

from stationfinder.db import get_db

NEAREST = "/api/v1/stations/nearest?lat=30.305&lon=120.318&k=3"


def test_nearest_is_answered_from_memory_while_the_database_is_away(
    app: Flask, monkeypatch
) -> None:
    client = app.test_client()
    before = client.get(NEAREST)
    assert before.status_code == 200
    engine = get_db(app).engine
    calls = {"n": 0}

    def refuse(*args, **kwargs):
        calls["n"] += 1
        raise OperationalError("SELECT version", {}, Exception("connection refused"))

    monkeypatch.setattr(engine, "connect", refuse)
    monkeypatch.setattr(engine, "raw_connection", refuse)
    time.sleep(0.05)  # past INDEX_CHECK_SECONDS: the next request would look at the database
    for _ in range(20):
        during = client.get(NEAREST)
        assert during.status_code == 200
        assert during.get_json()["features"] == before.get_json()["features"]
    assert calls["n"] <= 2  # it looked once, then backs off instead of asking every request
    # What needs the database still says so (503), never a 500.
    assert client.get("/api/v1/stations").status_code == 503
