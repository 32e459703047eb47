"""Many people writing at the same moment, to real gunicorn workers: nothing is lost,
nothing is counted twice, and two staff saving one station cannot both win.

gunicorn with the shipped `gunicorn.conf.py` and 4 workers runs on an SQLite file and on
a PostgreSQL database of its own, with rate limits off (STATIONFINDER_RATE_LIMITS=false)
so that every request reaches the database. Requests go out on new connections so that
they spread over the workers.

- Couriers: 20 threads raise 50 issues (half on the page /council/new, half through
  Open311) and send 500 "我也遇到" from their devices, some of them twice. Every issue
  is there once, under its own work-order number; every count is the number of distinct
  devices; no request answers 5xx.
- A courier raises an issue while `stationfinder load-stations` writes 20,000 stations:
  the raise waits for the import's transaction and goes through (before the import
  wrote its rows in one flush, SQLite's write lock was held for most of a minute and
  the courier got a 500 "database is locked" after the 15 s busy timeout).
- Staff: two of them save the same station from the same version at the same moment
  (a barrier releases both), 20 times through the write API (If-Match: one 200, one
  412) and 20 times through the edit page (one 302, one 409). The stored station is the
  winner's, and the history holds exactly one revision per successful save.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from live_server import (
    Gunicorn,
    large_import,
    seeded_database,
    serving,
    start_program,
    write_in_progress,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stationfinder.accounts.passwords import hash_password
from stationfinder.council.issues import work_order_number
from stationfinder.db import make_engine
from stationfinder.models import CouncilIssue, IssueBacking, StaffAccount, StationRevision

WORKERS = 4
THREADS = 20
ISSUES = 50
BACKINGS = 500  # requests, twice-sent ones included
TWICE = 40  # devices that tap "我也遇到" twice on one issue
RAISER_AGAIN = 10  # raisers who back their own issue (they already count)
ROUNDS = 20
IMPORTED = 20_000  # stations in the large import
STATION = "QT-BY-001"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("gunicorn") is None,
        reason="gunicorn is not installed (pip install '.[test]')",
    ),
]


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    seeded_sqlite = request.getfixturevalue("seeded_sqlite")
    with seeded_database(request.param, tmp_path, seeded_sqlite, "conc") as url:
        yield url


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Gunicorn]:
    with serving(database_url, WORKERS, tmp_path / "gunicorn.log") as running:
        yield running
        log = _errors(running)
        assert "Traceback" not in log and "database is locked" not in log, log[-6000:]


def _errors(server: Gunicorn) -> str:
    """The server's log without the request lines: starts, stops and errors."""
    text = server.log_path.read_text(errors="replace")
    return "\n".join(line for line in text.splitlines() if not line.startswith("{"))


class Browser:
    """One person's browser: its own cookies; every request on a new connection."""

    def __init__(self, server: Gunicorn) -> None:
        self.server = server
        self.base = server.base_url
        self.http = requests.Session()
        self.http.headers["Connection"] = "close"
        self.statuses: list[int] = []
        self.workers: set[str] = set()  # the X-Worker of each answer
        self.token = ""  # a CSRF token, once read from a page

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self._seen(self.http.get(self.base + path, timeout=60, **kwargs))

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self._seen(
            self.http.post(self.base + path, timeout=60, allow_redirects=False, **kwargs)
        )

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self._seen(self.http.patch(self.base + path, timeout=60, **kwargs))

    def _seen(self, response: requests.Response) -> requests.Response:
        self.statuses.append(response.status_code)
        self.workers.add(response.headers.get("X-Worker", "?"))
        if response.status_code >= 500:
            raise AssertionError(
                f"{response.request.method} {response.url} answered {response.status_code}; "
                f"the server's log, without request lines:\n{_errors(self.server)[-6000:]}"
            )
        return response

    def csrf(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text[:500]
        match = CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


def device(n: int) -> str:
    """A device's private key as council.js makes them (64 hex digits)."""
    return hashlib.sha256(f"courier-{n}".encode()).hexdigest()


# --- couriers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Backing:
    issue: int  # index into the issues raised
    device: str


def _backings(rng: random.Random) -> tuple[list[Backing], dict[int, set[str]]]:
    """500 backing requests in a shuffled order, and the new devices each issue gets.
    A twice-sent backing goes out as two neighbours, so that both are in flight at once."""
    once = BACKINGS - 2 * TWICE - RAISER_AGAIN
    devices = iter(range(1000, 10_000))
    singles = [Backing(rng.randrange(ISSUES), device(next(devices))) for _ in range(once)]
    pairs = [Backing(rng.randrange(ISSUES), device(next(devices))) for _ in range(TWICE)]
    again = [Backing(i, device(i)) for i in rng.sample(range(ISSUES), RAISER_AGAIN)]
    groups: list[list[Backing]] = [[b] for b in singles + again] + [[p, p] for p in pairs]
    rng.shuffle(groups)
    expected: dict[int, set[str]] = defaultdict(set)
    for b in singles + pairs:
        expected[b.issue].add(b.device)
    return [b for group in groups for b in group], expected


def _raise(browser: Browser, n: int) -> str:
    """Raise issue n as courier device(n): on the page for even n, by Open311 for odd."""
    lon, lat = 120.35 + 0.0002 * n, 30.31
    text = f"第{n}号并发测试：驿站饮水机坏了，夏天没有水喝。"
    if n % 2 == 0:
        response = browser.post(
            "/council/new",
            data={
                "csrf_token": browser.csrf("/council/new"),
                "device_key": device(n),
                "title": f"并发测试问题 {n}",
                "category": "rest_facilities",
                "description": text,
                "lon": str(lon),
                "lat": str(lat),
                "confirmed": "1",
            },
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])
        match = re.search(r"/council/issues/(YS-\d{8}-\d+)", response.headers["Location"])
        assert match, response.headers["Location"]
        return match.group(1)
    response = browser.post(
        "/open311/v2/requests.json",
        data={
            "service_code": "rest_facilities",
            "description": text,
            "lat": str(lat),
            "long": str(lon),
            "device_id": device(n),
        },
    )
    assert response.status_code == 201, (response.status_code, response.text[:500])
    return str(response.json()[0]["service_request_id"])


def _issue_counts(database_url: str) -> tuple[list[CouncilIssue], dict[int, int]]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            issues = list(session.scalars(select(CouncilIssue).order_by(CouncilIssue.id)))
            rows = session.execute(
                select(IssueBacking.issue_id, func.count()).group_by(IssueBacking.issue_id)
            ).all()
            return issues, {issue_id: count for issue_id, count in rows}
    finally:
        engine.dispose()


def test_couriers_raising_and_backing_at_once_lose_and_double_nothing(
    server: Gunicorn, database_url: str
) -> None:
    started = time.monotonic()
    local = threading.local()
    browsers: list[Browser] = []
    lock = threading.Lock()

    def browser() -> Browser:
        if not hasattr(local, "browser"):
            local.browser = Browser(server)
            with lock:
                browsers.append(local.browser)
        return local.browser  # type: ignore[no-any-return]

    order, expected = _backings(random.Random(7))

    # One pool: the raises are queued first, so that a backing waiting for its issue's
    # number never holds up a raise, and the first backings overlap the last raises.
    with ThreadPoolExecutor(THREADS) as pool:
        raised = [pool.submit(lambda n=n: _raise(browser(), n)) for n in range(ISSUES)]

        def back(b: Backing) -> tuple[int, str]:
            number = raised[b.issue].result()
            me = browser()
            me.token = me.token or me.csrf(f"/council/issues/{number}")
            response = me.post(
                f"/council/issues/{number}/back",
                data={"csrf_token": me.token, "device_key": b.device},
                headers={"Accept": "application/json"},
            )
            assert response.status_code == 200, (response.status_code, response.text[:500])
            return b.issue, response.json()["status"]

        outcomes = list(pool.map(back, order))
        numbers = [future.result() for future in raised]
    elapsed = time.monotonic() - started

    statuses = Counter(s for b in browsers for s in b.statuses)
    workers = set().union(*(b.workers for b in browsers))
    assert workers <= server.pids and len(workers) == WORKERS, workers
    assert not [s for s in statuses if s >= 500], statuses
    assert len(outcomes) == BACKINGS

    # Each issue once, under its own number.
    assert len(set(numbers)) == ISSUES, Counter(numbers).most_common(3)
    issues, backings = _issue_counts(database_url)
    assert len(issues) == ISSUES
    assert sorted(work_order_number(i) for i in issues) == sorted(numbers)

    # Each device counted once: what the courier was told, and what is stored.
    told = Counter(issue for issue, status in outcomes if status == "backed")
    assert dict(told) == {i: len(devices) for i, devices in expected.items()}
    assert Counter(status for _, status in outcomes) == {
        "backed": BACKINGS - TWICE - RAISER_AGAIN,
        "already": TWICE + RAISER_AGAIN,
    }
    by_number = {work_order_number(i): i for i in issues}
    for n, number in enumerate(numbers):
        issue = by_number[number]
        want = 1 + len(expected.get(n, ()))  # the raiser, and each new device
        # Every backing is stored once; young keys of one network (all of these come
        # from 127.0.0.1) count at most 3 beside the raiser, the rest wait as pending.
        assert backings[issue.id] == want, number
        # Concurrent backings may pass the young-key ration by a few (it is read, then
        # written): never more than were stored.
        assert min(want, 1 + 3) <= issue.backing_count <= want, number

    # And what the next courier sees on the issue's page.
    reader = Browser(server)
    for n in random.Random(8).sample(range(ISSUES), 10):
        page = reader.get(f"/council/issues/{numbers[n]}").text
        assert f">{by_number[numbers[n]].backing_count} 人遇到<" in page, numbers[n]
    print(
        f"\n{server.base_url}: {ISSUES} issues and {BACKINGS} backings from {THREADS} threads "
        f"in {elapsed:.1f} s; statuses {dict(statuses)}"
    )


# --- staff ------------------------------------------------------------------------------


def _add_staff(database_url: str, *usernames: str) -> None:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            for username in usernames:
                session.add(
                    StaffAccount(
                        username=username,
                        display_name=username,
                        password_hash=hash_password(PASSWORD),
                        role="union_admin",
                    )
                )
    finally:
        engine.dispose()


def _log_in(server: Gunicorn, username: str) -> Browser:
    browser = Browser(server)
    response = browser.post(
        "/staff/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": browser.csrf("/staff/login"),
        },
    )
    assert response.status_code == 302, response.text[:500]
    return browser


def _token(browser: Browser) -> str:
    made = browser.post(
        "/staff/tokens", data={"name": "integration", "csrf_token": browser.csrf("/staff/tokens")}
    )
    match = re.search(r'data-testid="new-token">([^<]+)<', made.text)
    assert made.status_code == 200 and match, made.text[:500]
    return match.group(1)


def _revisions(database_url: str) -> list[StationRevision]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            query = select(StationRevision).where(StationRevision.station_id == STATION)
            return list(session.scalars(query.order_by(StationRevision.id)))
    finally:
        engine.dispose()


def _collide(saves: list[Callable[[], tuple[int, str]]]) -> list[tuple[int, str]]:
    """Run the saves at the same moment: each waits at a barrier, then sends."""
    barrier = threading.Barrier(len(saves))

    def run(save: Callable[[], tuple[int, str]]) -> tuple[int, str]:
        barrier.wait(timeout=30)
        return save()

    with ThreadPoolExecutor(len(saves)) as pool:
        return list(pool.map(run, saves))


def test_two_staff_saving_one_station_at_once_cannot_both_win(
    server: Gunicorn, database_url: str
) -> None:
    _add_staff(database_url, "staff_a", "staff_b")
    people = {name: _log_in(server, name) for name in ("staff_a", "staff_b")}
    tokens = {name: _token(browser) for name, browser in people.items()}
    reader = Browser(server)
    before = len(_revisions(database_url))
    winners: list[str] = []
    started = time.monotonic()

    # The write API: both send If-Match with the ETag of the same GET.
    def api_save(name: str, etag: str, r: int) -> tuple[int, str]:
        address = f"{name} 接口第{r}轮 文海北路{r}号"
        response = people[name].patch(
            f"/api/v1/stations/{STATION}",
            json={"properties": {"address": address}, "reason": f"round {r}"},
            headers={"Authorization": f"Bearer {tokens[name]}", "If-Match": etag},
        )
        if response.status_code == 412:
            assert response.json()["error"]["code"] == "precondition_failed"
        return response.status_code, address

    for r in range(ROUNDS):
        etag = reader.get(f"/api/v1/stations/{STATION}").headers["ETag"]
        results = _collide([partial(api_save, name, etag, r) for name in people])
        assert sorted(status for status, _ in results) == [200, 412], (r, results)
        winner = next(address for status, address in results if status == 200)
        winners.append(winner)
        now = reader.get(f"/api/v1/stations/{STATION}").json()
        assert now["properties"]["address"] == winner

    def form_save(name: str, form: dict[str, Any]) -> tuple[int, str]:
        response = people[name].post(f"/staff/stations/{STATION}/edit", data=form)
        if response.status_code == 409:  # theirs shown beside yours
            assert 'data-testid="conflict"' in response.text and form["address"] in response.text
        return response.status_code, str(form["address"])

    # The edit page: both opened it at the same version, both press 保存.
    for r in range(ROUNDS):
        station = reader.get(f"/api/v1/stations/{STATION}").json()
        forms: dict[str, dict[str, Any]] = {}
        for name, browser in people.items():
            page = browser.get(f"/staff/stations/{STATION}/edit")
            version = re.search(r'name="version" type="hidden" value="(\d+)"', page.text)
            token = CSRF.search(page.text)
            assert version and token, page.text[:500]
            props = station["properties"]
            forms[name] = {
                "csrf_token": token.group(1),
                "version": version.group(1),
                "name": props["name"],
                "name_en": props.get("name_en") or "",
                "kind": props["kind"],
                "street": props["street"],
                "address": f"{name} 表单第{r}轮 文海北路{r}号",
                "crs": "wgs84",
                "lon": str(station["geometry"]["coordinates"][0]),
                "lat": str(station["geometry"]["coordinates"][1]),
                "amenities": props["amenities"],
                "opening_hours": props.get("opening_hours") or "",
                "phone": props.get("phone") or "",
                "reason": f"form round {r}",
                "action": "save",
            }
        assert forms["staff_a"]["version"] == forms["staff_b"]["version"]

        results = _collide([partial(form_save, name, forms[name]) for name in people])
        assert sorted(status for status, _ in results) == [302, 409], (r, results)
        winner = next(address for status, address in results if status == 302)
        winners.append(winner)
        now = reader.get(f"/api/v1/stations/{STATION}").json()
        assert now["properties"]["address"] == winner
    elapsed = time.monotonic() - started

    revisions = _revisions(database_url)[before:]
    assert [r.changes["address"][1] for r in revisions] == winners
    assert len(revisions) == 2 * ROUNDS
    final = reader.get(f"/api/v1/stations/{STATION}")
    assert final.json()["properties"]["address"] == winners[-1]
    statuses = Counter(s for b in [*people.values(), reader] for s in b.statuses)
    assert not [s for s in statuses if s >= 500], statuses
    print(f"\n{2 * ROUNDS} collisions in {elapsed:.1f} s; statuses {dict(statuses)}")


# --- a large import -----------------------------------------------------------------------


def test_a_courier_can_raise_an_issue_while_a_large_import_is_written(
    server: Gunicorn, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "stations-2027.geojson"
    large_import(source, IMPORTED)
    engine = make_engine(database_url)
    loader = start_program(
        [str(Path(sys.executable).with_name("stationfinder")), "load-stations", str(source)],
        database_url,
        tmp_path / "load-stations.log",
    )
    try:
        deadline = time.monotonic() + 60
        while not write_in_progress(engine):
            assert loader.poll() is None, (tmp_path / "load-stations.log").read_text()
            assert time.monotonic() < deadline, "the import did not begin to write"
            time.sleep(0.02)
        courier = Browser(server)
        sent = time.monotonic()
        response = courier.post(
            "/open311/v2/requests.json",
            data={
                "service_code": "rest_facilities",
                "description": "驿站饮水机坏了。",
                "lat": "30.31",
                "long": "120.35",
            },
        )
        waited = time.monotonic() - sent
        assert response.status_code == 201, response.text[:500]
        assert loader.wait(timeout=120) == 0, (tmp_path / "load-stations.log").read_text()
    finally:
        if loader.poll() is None:
            loader.kill()
            loader.wait()
        engine.dispose()
    deadline = time.monotonic() + 30
    while (ready := server.get("/readyz"))[0] != 200 or json.loads(ready[2])["stations"] < IMPORTED:
        assert time.monotonic() < deadline, ready
        time.sleep(0.1)
    print(f"\nthe courier's raise waited {waited:.1f} s for the import")
