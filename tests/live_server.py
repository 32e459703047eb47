"""The real thing for tests that need it: gunicorn with the shipped `gunicorn.conf.py` and
several workers on a free port, and databases of their own to run it on.

A test on PostgreSQL gets a database made for it on the server that
STATIONFINDER_TEST_DATABASE_URL names (it is dropped afterwards; no other database on
that server is touched), so that these tests can run beside other suites sharing the
server. Without that variable, or when the server does not answer, the test is skipped
with the reason, as the rest of the suite does.

Also: other programs on such a database (`start_program`), seeing from outside that one
of them is in the middle of a write (`write_in_progress`), and a large import file.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from stationfinder.db import get_db

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("STATIONFINDER_TEST_DATABASE_URL") or None
# The app gunicorn loads; another module only while create_app does not wire ops in.
WSGI_APP = "stationfinder:create_app()"
START_TIMEOUT_S = 90.0
PROBES = 8  # readiness requests in flight at once, so that every worker gets some


class Gunicorn:
    """A gunicorn master with its workers on a free port of 127.0.0.1, or of `host` (any
    127.x.y.z is this machine's on Linux, so several "hosts" can run side by side) and on
    `port` when given (a host restarted where its proxy expects it)."""

    def __init__(
        self,
        database_url: str,
        workers: int,
        log_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        **settings: str,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.base_url = f"http://{host}:{self.port}"
        self.log_path = log_path
        self.pids: set[str] = set()  # the workers seen ready
        env = server_env(database_url, **settings)
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "-c", str(REPO / "gunicorn.conf.py"),
                "--chdir", str(REPO),
                "--workers", str(workers),
                "--bind", f"{host}:{self.port}",
                WSGI_APP,
            ],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """One request on a new connection (so the next may land on another worker)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
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

        with ThreadPoolExecutor(PROBES) as pool:
            for future in [pool.submit(probe) for _ in range(PROBES)]:
                future.result()
        if len(ready) < workers:
            raise AssertionError(
                f"{len(ready)} of {workers} workers ready after {START_TIMEOUT_S:.0f} s "
                f"(gunicorn exit code {self.process.poll()}):\n{self.log_tail()}"
            )
        self.pids = ready
        return ready

    def log_tail(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """Kill the master and its workers at once (SIGKILL), as a host that loses power:
        nothing is finished, no connection closed politely."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        self.process.kill()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:  # not killed already
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an app process on `database_url` with rate limits off, none of
    the developer's own STATIONFINDER_* settings; `settings` by lower-case name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATIONFINDER_", "WEB_"))}
    env.pop("PORT", None)
    env.update(
        STATIONFINDER_DATABASE_URL=database_url,
        STATIONFINDER_SECRET_KEY="live-server-test",
        STATIONFINDER_RATE_LIMITS="false",
    )
    env.update({f"STATIONFINDER_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def serving(
    database_url: str, workers: int, log_path: Path, *, host: str = "127.0.0.1", **settings: str
) -> Iterator[Gunicorn]:
    """gunicorn on `database_url` (on `host`) with every worker ready; stopped on the way
    out. `settings` are extra STATIONFINDER_* values by their lower-case name."""
    server = Gunicorn(database_url, workers, log_path, host=host, **settings)
    try:
        server.wait_until_ready(workers)
        yield server
    finally:
        server.stop()


def migrate_and_seed(database_url: str) -> None:
    """What a deployment's database has before its workers start: the schema and the
    158 sample stations (create_app does both on an empty database)."""
    from stationfinder import create_app

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "live-server-test"})
    get_db(app).engine.dispose()


@contextmanager
def seeded_database(kind: str, tmp_path: Path, seeded_sqlite: Path, purpose: str) -> Iterator[str]:
    """A database of its own, migrated and seeded: an SQLite file copied from the suite's
    seeded one, or a scratch PostgreSQL database (dropped afterwards)."""
    if kind == "sqlite":
        path = tmp_path / "stationfinder.sqlite3"
        shutil.copyfile(seeded_sqlite, path)
        yield f"sqlite:///{path}"
        return
    with scratch_postgres(purpose) as url:
        migrate_and_seed(url)
        yield url


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_postgres(purpose: str) -> Iterator[str]:
    """A new, empty database named sf_helper_<purpose>_<random> on the test server;
    dropped afterwards. Skips the test when there is no server to use."""
    if not PG_URL:
        pytest.skip("STATIONFINDER_TEST_DATABASE_URL is not set (a PostgreSQL server to use)")
    url = make_url(PG_URL)
    name = f"sf_helper_{purpose}_{secrets.token_hex(4)}"
    admin = create_engine(
        url.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"cannot make a database on the PostgreSQL server at {url.host}: {exc}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start_program(args: list[str], database_url: str, log: Path) -> subprocess.Popen[bytes]:
    """The program, with the app's environment on `database_url`, its output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args, cwd=log.parent, env=server_env(database_url), stdout=out, stderr=out
        )


def write_in_progress(engine: Engine) -> bool:
    """Whether another process is inside a transaction that has written: on SQLite it
    holds the write lock, on PostgreSQL its transaction has an id."""
    if engine.dialect.name == "sqlite":
        path = make_url(str(engine.url)).database
        assert path
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return True
            raise
        finally:
            probe.close()
    with engine.connect() as conn:
        found = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
            )
        )
        conn.rollback()
    return bool(found)


def large_import(path: Path, stations: int = 20_000) -> list[dict[str, Any]]:
    """Write a GeoJSON file of `stations` stations, and return its features: the seed's
    158 with a new address, and new ones within about 30 m of a seed station (so inside
    the same subdistrict)."""
    seed = json.loads((REPO / "data" / "stations.geojson").read_text(encoding="utf-8"))
    originals = seed["features"]
    rng = random.Random(stations)
    features = []
    for feature in originals:
        changed = json.loads(json.dumps(feature))
        changed["properties"]["address"] += "（2027年台账）"
        features.append(changed)
    for k in range(stations - len(originals)):
        base = originals[k % len(originals)]
        new = json.loads(json.dumps(base))
        new["id"] = f"QT-NEW-{k:05d}"
        new["properties"]["name"] = f"{base['properties']['name']}{k}号分站"
        lon, lat = base["geometry"]["coordinates"]
        new["geometry"]["coordinates"] = [
            round(lon + rng.uniform(-3e-4, 3e-4), 6),
            round(lat + rng.uniform(-3e-4, 3e-4), 6),
        ]
        features.append(new)
    document = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return features
