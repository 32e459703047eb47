"""A large index is rebuilt beside the requests after an edit: couriers keep getting
answers from the index the worker has instead of all waiting for the rebuild (at 400,000
stations ~4 s after every staff edit), and the edit is served once it is built."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from staff_login import api_token, staff_client

from stationfinder.core import hours
from stationfinder.core.clock import SHANGHAI
from stationfinder.db import session_scope
from stationfinder.geo.index import StationIndex
from stationfinder.geo.point import Point
from stationfinder.models import Station
from stationfinder.models.base import utcnow
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
        station.active, station.updated_at = False, utcnow()  # as every write does
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


def _token(app: Flask) -> str:
    return api_token(staff_client(app, "integration", "union_admin"), "系统")


def _answers(index: StationIndex) -> list[Any]:
    """What couriers would be told, over a grid of points and filters."""
    answers: list[Any] = [len(index), index.hours_expressions()]
    nine = datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)

    def open_at_nine(expr: str | None) -> bool:
        return expr is not None and hours.state_at(expr, nine).open is True

    for lon in (120.26, 120.31, 120.36, 120.42, 120.50):
        for lat in (30.26, 30.30, 30.34):
            point = Point(lon, lat)
            for filters in (
                {},
                {"amenities": ["drinking_water"]},
                {"amenities": ["toilet", "rest"]},
                {"kind": "工会驿站"},
                {"hours": open_at_nine},
            ):
                hits = index.nearest(point, 5, **filters)  # type: ignore[arg-type]
                answers.append([(h.id, round(h.distance_m, 3)) for h in hits])
    box = index.in_box(120.2, 30.2, 120.6, 30.5, amenity="drinking_water")
    answers.append(sorted(index.ids_at(box)))
    return answers


def test_a_patched_index_answers_as_one_read_whole(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large registries are patched with what changed (not read whole again) after an
    edit: through the write API a station moves, loses an amenity, gets new hours, one
    retires and one is added; each time the patched index answers every query as an
    index read whole from the database does."""
    monkeypatch.setattr(live_index, "BUILD_BESIDE_MIN", 1)  # the 158 count as large
    client = app.test_client()
    auth = {"Authorization": f"Bearer {_token(app)}"}
    index = current_index(app)
    client.get(NEAREST)

    def edited(response: Any) -> None:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        time.sleep(0.05)  # past INDEX_CHECK_SECONDS
        index.current()
        index.wait_for_rebuild(20)
        snapshot = index.current()
        assert snapshot.source == "patched"
        with session_scope(app) as session:
            whole = live_index._build_index(session)
        assert _answers(snapshot.index) == _answers(whole)

    def patch(station_id: str, body: dict[str, Any]) -> Any:
        etag = client.get(f"/api/v1/stations/{station_id}").headers["ETag"]
        return client.patch(
            f"/api/v1/stations/{station_id}",
            json={**body, "reason": "测试"},
            headers={**auth, "If-Match": etag},
        )

    edited(patch("QT-BY-001", {"geometry": {"type": "Point", "coordinates": [120.36, 30.30]}}))
    edited(patch("QT-XS-001", {"properties": {"amenities": ["rest"]}}))
    edited(patch("QT-BY-002", {"properties": {"opening_hours": "Mo-Fr 10:00-11:00"}}))
    etag = client.get("/api/v1/stations/QT-BY-003").headers["ETag"]
    edited(
        client.delete("/api/v1/stations/QT-BY-003?reason=关闭", headers={**auth, "If-Match": etag})
    )
    new = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [120.34, 30.315]},
        "properties": {
            "name": "白杨接口驿站",
            "kind": "工会驿站",
            "amenities": ["rest", "toilet", "drinking_water"],
            "opening_hours": "Mo-Su 08:00-20:00",
        },
        "reason": "from the union's system",
    }
    edited(client.post("/api/v1/stations", json=new, headers=auth))
    # The nearest answer itself has the new station where it stands.
    near = client.get("/api/v1/stations/nearest?lat=30.315&lon=120.34&k=1").get_json()
    assert near["features"][0]["properties"]["name"] == "白杨接口驿站"


def test_many_changes_read_the_index_whole(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_index, "BUILD_BESIDE_MIN", 1)
    monkeypatch.setattr(live_index, "PATCH_MAX", 2)
    client = app.test_client()
    client.get(NEAREST)
    with session_scope(app) as session:
        for station in session.scalars(select(Station).order_by(Station.id).limit(3)):
            station.name, station.updated_at = station.name + "（改）", utcnow()
        registry.bump_version(session)
    time.sleep(0.05)
    index = current_index(app)
    index.current()
    index.wait_for_rebuild(20)
    assert index.current().source == "built"


def test_a_patched_index_is_read_whole_again_in_time(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change made without `updated_at` (no write of the app's does that) is not seen
    by a patch; the periodic whole read heals the index all the same."""
    monkeypatch.setattr(live_index, "BUILD_BESIDE_MIN", 1)
    client = app.test_client()
    first = client.get(NEAREST).get_json()["features"][0]["id"]
    with session_scope(app) as session:
        station = session.scalars(select(Station).where(Station.id == first)).one()
        station.active = False  # and no updated_at
        registry.bump_version(session)
    monkeypatch.setattr(live_index, "READ_WHOLE_EVERY_SECONDS", 0.0)
    time.sleep(0.05)
    index = current_index(app)
    index.current()
    index.wait_for_rebuild(20)
    assert index.current().source == "built"
    assert client.get(NEAREST).get_json()["features"][0]["id"] != first
