"""Several gunicorn workers serve one registry: an edit reaches every worker within 1 s.

These start the real thing: gunicorn with the shipped `gunicorn.conf.py`, its workers each
building their own engine and index, on PostgreSQL (4 workers) and on an SQLite file
(2 workers). A station is edited the way a staff edit will do it: the row updated and
`registry.bump_version` in one transaction. Then many requests, each on a new
connection and several at once so that they spread over the workers, ask for the
nearest station and for the station itself; the `X-Worker` header says which worker
answered. No worker may answer with the old data to a request sent more than 1 s after
the commit, and every worker must be seen answering with the new data.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from live_server import Gunicorn, migrate_and_seed, scratch_postgres, serving
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from stationfinder.db import make_engine
from stationfinder.models import Station
from stationfinder.registry import stations as registry

PROMISE_S = 1.0  # an edit is served by every worker within this long
POLLERS = 8  # requests in flight at once, so that busy workers leave others to answer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("gunicorn") is None,
        reason="gunicorn is not installed (pip install '.[test]')",
    ),
]


@dataclass(frozen=True)
class Answer:
    endpoint: str  # "nearest" or "station"
    sent: float  # time.monotonic() when the request went out
    worker: str  # the X-Worker header: the pid that answered
    fresh: bool  # it showed the edit


def _move_station(engine: Engine, station_id: str, lon: float, lat: float, name: str) -> None:
    """What a staff edit does: change the row and bump the registry version, together."""
    with Session(engine) as session, session.begin():
        station = session.get_one(Station, station_id)
        station.lon, station.lat, station.name = lon, lat, name
        registry.bump_version(session)


def _index_sources(server: Gunicorn) -> set[str]:
    sources = set()
    for _ in range(4 * len(server.pids)):
        status, _headers, body = server.get("/readyz")
        assert status == 200, body
        sources.add(json.loads(body)["index"])
    return sources


def _check_edit_reaches_every_worker(server: Gunicorn, database_url: str) -> None:
    pids = server.pids
    # Every worker started from the index gunicorn's master built before forking.
    assert _index_sources(server) == {"preloaded"}

    # A point in the district whose nearest station, before the edit, is `before`; the
    # edit moves another station onto it (and renames it), so it becomes the nearest.
    lon, lat = 120.3531, 30.3102
    nearest = f"/api/v1/stations/nearest?lat={lat}&lon={lon}&k=1"
    status, _, body = server.get(f"/api/v1/stations/nearest?lat={lat}&lon={lon}&k=2")
    assert status == 200, body
    before, moved = (f["id"] for f in json.loads(body)["features"])
    new_name = f"测试驿站 moved by test_workers {time.time_ns()}"

    engine = make_engine(database_url)
    try:
        _move_station(engine, moved, lon, lat, new_name)
    finally:
        engine.dispose()
    committed = time.monotonic()

    answers: list[Answer] = []
    lock = threading.Lock()
    deadline = committed + 20.0

    def seen_fresh_everywhere() -> bool:
        with lock:
            fresh = {(a.worker, a.endpoint) for a in answers if a.fresh}
        return all((pid, e) in fresh for pid in pids for e in ("nearest", "station"))

    def ask(endpoint: str) -> Answer:
        sent = time.monotonic()
        if endpoint == "nearest":
            status, headers, body = server.get(nearest)
            assert status == 200, body
            feature = json.loads(body)["features"][0]
            assert feature["id"] in (before, moved)
        else:
            status, headers, body = server.get(f"/api/v1/stations/{moved}")
            assert status == 200, body
            feature = json.loads(body)
        fresh = feature["id"] == moved and feature["properties"]["name"] == new_name
        if fresh:
            assert feature["geometry"]["coordinates"] == [lon, lat]
        return Answer(endpoint, sent, headers["X-Worker"], fresh)

    def poll(number: int) -> None:
        while time.monotonic() < deadline and not seen_fresh_everywhere():
            number += 1
            answer = ask("nearest" if number % 2 else "station")
            with lock:
                answers.append(answer)

    with ThreadPoolExecutor(POLLERS) as pool:
        for future in [pool.submit(poll, n) for n in range(POLLERS)]:
            future.result()

    late_stale = [
        (a.worker, a.endpoint, f"{a.sent - committed:.3f} s")
        for a in answers
        if not a.fresh and a.sent - committed > PROMISE_S
    ]
    assert late_stale == [], f"old data served more than {PROMISE_S} s after the edit"
    answered = {a.worker for a in answers}
    assert answered <= pids, f"answers from workers that were not ready: {answered - pids}"
    assert _index_sources(server) == {"built"}  # the edit: each worker built anew
    assert seen_fresh_everywhere(), (
        f"not every worker was seen serving the edit within 20 s: workers {sorted(pids)}, "
        f"fresh answers from {sorted({a.worker for a in answers if a.fresh})}"
    )


@pytest.mark.postgres
def test_an_edit_reaches_all_four_postgresql_workers_within_a_second(tmp_path: Path) -> None:
    with scratch_postgres("workers") as url:
        migrate_and_seed(url)  # as a deployment's database is before its workers start
        with serving(url, 4, tmp_path / "gunicorn.log") as server:
            _check_edit_reaches_every_worker(server, url)


def test_an_edit_reaches_both_sqlite_workers_within_a_second(
    tmp_path: Path, seeded_sqlite: Path
) -> None:
    path = tmp_path / "stationfinder.sqlite3"
    shutil.copyfile(seeded_sqlite, path)
    url = f"sqlite:///{path}"
    with serving(url, 2, tmp_path / "gunicorn.log") as server:
        _check_edit_reaches_every_worker(server, url)
