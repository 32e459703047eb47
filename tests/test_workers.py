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

import http.client
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from stationfinder import registry
from stationfinder.db import make_engine
from stationfinder.models import Station

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("STATIONFINDER_TEST_DATABASE_URL") or None
# The app gunicorn loads; another module only while create_app does not wire ops in.
WSGI_APP = "stationfinder:create_app()"
PROMISE_S = 1.0  # an edit is served by every worker within this long
START_TIMEOUT_S = 90.0
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


class Gunicorn:
    """A gunicorn master with its workers on a free port of 127.0.0.1."""

    def __init__(self, database_url: str, workers: int, log_path: Path) -> None:
        self.port = _free_port()
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STATIONFINDER_", "WEB_"))}
        env.pop("PORT", None)
        env.update(
            STATIONFINDER_DATABASE_URL=database_url,
            STATIONFINDER_SECRET_KEY="workers-test",
            STATIONFINDER_RATE_LIMITS="false",
        )
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "-c", str(REPO / "gunicorn.conf.py"),
                "--chdir", str(REPO),
                "--workers", str(workers),
                "--bind", f"127.0.0.1:{self.port}",
                WSGI_APP,
            ],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """One request on a new connection (so the next may land on another worker)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def wait_until_ready(self, workers: int) -> set[str]:
        """The pids of `workers` workers that each answered /readyz with 200."""
        deadline = time.monotonic() + START_TIMEOUT_S
        ready: set[str] = set()
        lock = threading.Lock()

        def probe() -> None:
            while len(ready) < workers and time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return
                try:
                    status, headers, _ = self.get("/readyz")
                except OSError:
                    time.sleep(0.05)  # the master has not bound the port yet
                    continue
                if status == 200:
                    with lock:
                        ready.add(headers["X-Worker"])

        with ThreadPoolExecutor(POLLERS) as pool:
            for future in [pool.submit(probe) for _ in range(POLLERS)]:
                future.result()
        if len(ready) < workers:
            raise AssertionError(
                f"{len(ready)} of {workers} workers ready after {START_TIMEOUT_S:.0f} s "
                f"(gunicorn exit code {self.process.poll()}):\n{self.log_tail()}"
            )
        return ready

    def log_tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def start_gunicorn(tmp_path: Path) -> Iterator[Callable[[str, int], Gunicorn]]:
    started: list[Gunicorn] = []

    def start(database_url: str, workers: int) -> Gunicorn:
        server = Gunicorn(database_url, workers, tmp_path / f"gunicorn-{len(started)}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _postgres_url() -> str:
    if not PG_URL:
        pytest.skip("STATIONFINDER_TEST_DATABASE_URL is not set (a PostgreSQL database to reset)")
    engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL at STATIONFINDER_TEST_DATABASE_URL is unreachable: {exc}")
    finally:
        engine.dispose()
    return PG_URL


def _move_station(engine: Engine, station_id: str, lon: float, lat: float, name: str) -> None:
    """What a staff edit does: change the row and bump the registry version, together."""
    with Session(engine) as session, session.begin():
        station = session.get_one(Station, station_id)
        station.lon, station.lat, station.name = lon, lat, name
        registry.bump_version(session)


def _check_edit_reaches_every_worker(server: Gunicorn, database_url: str, workers: int) -> None:
    pids = server.wait_until_ready(workers)

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
    assert seen_fresh_everywhere(), (
        f"not every worker was seen serving the edit within 20 s: workers {sorted(pids)}, "
        f"fresh answers from {sorted({a.worker for a in answers if a.fresh})}"
    )


@pytest.mark.postgres
def test_an_edit_reaches_all_four_postgresql_workers_within_a_second(
    start_gunicorn: Callable[[str, int], Gunicorn],
) -> None:
    url = _postgres_url()
    _check_edit_reaches_every_worker(start_gunicorn(url, 4), url, 4)


def test_an_edit_reaches_both_sqlite_workers_within_a_second(
    start_gunicorn: Callable[[str, int], Gunicorn], tmp_path: Path, seeded_sqlite: Path
) -> None:
    path = tmp_path / "stationfinder.sqlite3"
    shutil.copyfile(seeded_sqlite, path)
    url = f"sqlite:///{path}"
    _check_edit_reaches_every_worker(start_gunicorn(url, 2), url, 2)
