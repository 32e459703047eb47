"""A large index is rebuilt beside the requests after an edit: couriers keep getting
answers from the index the worker has instead of all waiting for the rebuild (at 400,000
stations ~4 s after every staff edit), and the edit is served once it is built."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from stationfinder.db import session_scope
from stationfinder.models import Station
from stationfinder.registry import live_index
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_index

NEAREST = "/api/v1/stations/nearest?lat=30.305&lon=120.318&k=3"


class SlowBuild:
    """Once armed, index builds wait for `release` (as if the registry were national)."""

    def __init__(self) -> None:
        self.armed = False
        self.release = threading.Event()


@pytest.fixture
def slow_build(monkeypatch: pytest.MonkeyPatch) -> SlowBuild:
    slow = SlowBuild()
    build: Callable[..., object] = live_index._build_index

    def waiting(session: object) -> object:
        if slow.armed:
            assert slow.release.wait(20), "the test never let the build finish"
        return build(session)

    monkeypatch.setattr(live_index, "_build_index", waiting)
    return slow


def _retire_nearest(app: Flask, station_id: str) -> None:
    with session_scope(app) as session:
        station = session.scalars(select(Station).where(Station.id == station_id)).one()
        station.active = False
        registry.bump_version(session)


def test_a_large_index_is_rebuilt_beside_the_requests(
    app: Flask, monkeypatch: pytest.MonkeyPatch, slow_build: SlowBuild
) -> None:
    monkeypatch.setattr(live_index, "BUILD_BESIDE_MIN", 1)  # the 158 count as large
    client = app.test_client()
    first = client.get(NEAREST).get_json()["features"][0]["id"]
    slow_build.armed = True
    _retire_nearest(app, first)
    time.sleep(0.05)  # past INDEX_CHECK_SECONDS
    started = time.monotonic()
    during = [client.get(NEAREST) for _ in range(5)]
    assert time.monotonic() - started < 5  # nobody waited for the (held) rebuild
    assert all(r.status_code == 200 for r in during)
    slow_build.release.set()
    index = current_index(app)
    index.wait_for_rebuild(20)
    deadline = time.monotonic() + 10
    while client.get(NEAREST).get_json()["features"][0]["id"] == first:
        assert time.monotonic() < deadline, "the rebuilt index never served the edit"
        time.sleep(0.05)


def test_a_small_index_is_rebuilt_before_the_next_answer(app: Flask) -> None:
    client = app.test_client()
    first = client.get(NEAREST).get_json()["features"][0]["id"]
    _retire_nearest(app, first)
    time.sleep(0.05)
    assert client.get(NEAREST).get_json()["features"][0]["id"] != first
