"""kill -9 in the middle of a write leaves the old data whole, and the app starts after it.

On an SQLite file and on a PostgreSQL database of its own:

- A large import: `stationfinder load-stations` with 20,000 stations (the 158 of the
  seed with a new address, and 19,842 new ones) is killed with SIGKILL while it is
  writing: while it holds the database's write lock (SQLite) or its transaction has
  written rows (PostgreSQL, `pg_stat_activity.backend_xid`). The registry is then
  exactly the old one: the 158 stations with their ids, versions and values, and not one
  history record or registry version more (or, where the import committed before the
  kill arrived, exactly the new one; at least one kill must land mid-write). The app
  then starts, serves the registry and takes a write.
- A meeting's record: the secretary saves the minutes and the decision of three agenda
  items in turn, each save one request, in a process that is stopped (a pause injected
  after some of the decision's rows are written) and killed in the middle of the second
  item's decision. Each save is whole or absent: item 1 is all saved, item 2 has its
  minutes but no trace of the decision (no decision, its issues not moved to
  "discussed", no event in their stories), item 3 is untouched; the public record
  shows that, and saving the decision again works.

This module is also the program the meeting test kills: `python test_crash_safety.py
save-meeting DATABASE_URL MEETING_ID MARKER`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from live_server import large_import, seeded_database, start_program, write_in_progress
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from stationfinder import create_app
from stationfinder.accounts.passwords import hash_password
from stationfinder.council import issues as council
from stationfinder.council import meetings as council_meetings
from stationfinder.db import get_db, make_engine
from stationfinder.geo.point import Point
from stationfinder.models import (
    AgendaItem,
    Decision,
    IssueEvent,
    Meeting,
    StaffAccount,
    Station,
    StationRevision,
)
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_areas

STATIONS = 20_000
SEEDED = 158
KILL_DELAYS_S = (0.1, 1.0)  # after the loader began to write
WAIT_S = 40.0  # for the loader to begin writing (it reads and checks 20,000 first)
PASSWORD = "correct horse battery"
STREET = "白杨街道"
ITEMS = 3
ISSUES_PER_ITEM = 4
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = pytest.mark.slow


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database seeded with the 158 sample stations."""
    seeded_sqlite = request.getfixturevalue("seeded_sqlite")
    with seeded_database(request.param, tmp_path, seeded_sqlite, "crash") as url:
        yield url


def _app(database_url: str) -> Flask:
    return create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "crash-test",
            "RATE_LIMITS": False,
            "INDEX_CHECK_SECONDS": 0.01,
        }
    )


def _wait(what: str, done: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if process.poll() is not None:
            raise AssertionError(f"the process ended (code {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT_S:.0f} s")
        time.sleep(0.02)


def _kill_while_writing(engine: Engine, process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the process; True when it was inside its write at that moment."""
    mid_write = write_in_progress(engine) and process.poll() is None
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    # Its transaction goes with it: the lock is released, the server rolls it back.
    deadline = time.monotonic() + 10
    while write_in_progress(engine):
        assert time.monotonic() < deadline, "the killed process's transaction lingers"
        time.sleep(0.02)
    return mid_write and process.returncode == -signal.SIGKILL


def _serves_and_writes(database_url: str, stations: int) -> None:
    """The app starts on the database, serves the registry and takes a courier's write."""
    app = _app(database_url)
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        listed = client.get("/api/v1/stations").get_json()
        assert len(listed["features"]) == stations
        raised = client.post(
            "/open311/v2/requests.json",
            data={
                "service_code": "rest_facilities",
                "description": "驿站门口积水，电动车进不去。",
                "lat": "30.31",
                "long": "120.35",
            },
        )
        assert raised.status_code == 201, raised.get_data(as_text=True)
    finally:
        get_db(app).engine.dispose()


# --- a large import --------------------------------------------------------------------


def _registry(engine: Engine) -> tuple[dict[str, tuple[Any, ...]], int, int]:
    """Every station's (version, address, active), the history's length, the registry's
    version."""
    with Session(engine) as session:
        stations = {
            s.id: (s.version, s.address, s.active) for s in session.scalars(select(Station))
        }
        revisions = session.scalar(select(func.count()).select_from(StationRevision)) or 0
        return stations, revisions, registry.registry_version(session)


def test_an_import_killed_while_writing_leaves_the_old_registry_whole(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "stations-2027.geojson"
    features = large_import(source, STATIONS)
    engine = make_engine(database_url)
    old = _registry(engine)
    assert len(old[0]) == SEEDED
    stations = {
        f["id"]: (
            old[0][f["id"]][0] + 1 if f["id"] in old[0] else 1,
            f["properties"]["address"],
            True,
        )
        for f in features
    }
    new = (stations, old[1] + STATIONS, old[2] + 1)
    loader = Path(sys.executable).with_name("stationfinder")
    log = tmp_path / "load-stations.log"
    landed: list[float] = []
    try:
        for delay in KILL_DELAYS_S:
            started = time.monotonic()
            process = start_program(
                [str(loader), "load-stations", str(source), "--reason", "2027年台账"],
                database_url,
                log,
            )
            try:
                _wait("write began", lambda: write_in_progress(engine), process)
                began = time.monotonic() - started
                time.sleep(delay)
                mid_write = _kill_while_writing(engine, process)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            now = _registry(engine)
            # Every station as it was, no history, no new version; or all of the import.
            assert now in (old, new), log.read_text(errors="replace")[-2000:]
            if now == new:  # it had committed by the time the kill came
                assert process.returncode in (0, -signal.SIGKILL)
                break
            assert process.returncode == -signal.SIGKILL, log.read_text(errors="replace")
            if mid_write:
                landed.append(began + delay)
        assert landed, "no kill landed while the import was writing"
        _serves_and_writes(database_url, len(now[0]))
    finally:
        engine.dispose()
    print(f"\nkilled mid-write at {', '.join(f'{t:.1f}' for t in landed)} s after the start")


# --- a meeting's record ----------------------------------------------------------------


def _prepare_meeting(database_url: str) -> int:
    """A secretary, a meeting in 白杨街道 and three agenda items of four issues each."""
    app = _app(database_url)
    areas = current_areas(app)
    try:
        with app.app_context(), Session(get_db(app).engine) as session:
            with session.begin():
                session.add(
                    StaffAccount(
                        username="secretary",
                        display_name="秘书",
                        password_hash=hash_password(PASSWORD),
                        role="council_secretary",
                    )
                )
                meeting = council_meetings.create_meeting(
                    session,
                    title="十二月小哥议事会",
                    starts_at=datetime.now(council.SHANGHAI) + timedelta(days=1),
                    place="白杨街道小哥之家",
                    street=STREET,
                    actor="secretary",
                    areas=areas,
                )
                for i in range(ITEMS):
                    ids = []
                    for j in range(ISSUES_PER_ITEM):
                        issue = council.raise_issue(
                            session,
                            areas,
                            title=f"议题{i}的问题{j}",
                            description="夜里驿站关门，没地方歇脚。",
                            category="rest_facilities",
                            device_hash=f"crash-test-{i}-{j}",
                            place=council.Place(point=_point(i, j)),
                        )
                        ids.append(issue.id)
                    council_meetings.add_agenda_item(
                        session, meeting.id, "secretary", title=f"议题{i}", issue_ids=ids
                    )
            return meeting.id
    finally:
        get_db(app).engine.dispose()


def _point(i: int, j: int) -> Point:
    return Point(120.338 + 0.001 * i, 30.312 + 0.001 * j)


def _meeting_state(engine: Engine, meeting_id: int) -> list[dict[str, Any]]:
    """Per agenda item: its minutes, its decisions, its issues' statuses and how many
    decision events their stories hold."""
    with Session(engine) as session:
        items = session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by("position")
        ).all()
        state = []
        for item in items:
            issues = council_meetings.item_issues(session, item.id)
            decisions = session.scalars(select(Decision.text).where(Decision.item_id == item.id))
            events = session.scalar(
                select(func.count())
                .select_from(IssueEvent)
                .where(
                    IssueEvent.issue_id.in_([i.id for i in issues]),
                    IssueEvent.kind == "decision",
                )
            )
            state.append(
                {
                    "minutes": item.minutes,
                    "decisions": list(decisions),
                    "statuses": sorted({i.status for i in issues}),
                    "decision_events": events,
                }
            )
        meeting = session.get_one(Meeting, meeting_id)
        state.append({"meeting_status": meeting.status})
        return state


def _saved(i: int) -> dict[str, Any]:
    return {
        "minutes": f"议题{i}纪要：与会小哥和街道一致同意延长开放时间。",
        "decisions": [f"议题{i}决定：驿站开放到22点"],
        "statuses": ["discussed"],
        "decision_events": ISSUES_PER_ITEM,
    }


def test_a_meeting_save_killed_midway_leaves_each_save_whole(
    database_url: str, tmp_path: Path
) -> None:
    meeting_id = _prepare_meeting(database_url)
    engine = make_engine(database_url)
    marker = tmp_path / "paused"
    try:
        untouched = _meeting_state(engine, meeting_id)
        process = start_program(
            [sys.executable, __file__, "save-meeting", database_url, str(meeting_id), str(marker)],
            database_url,
            tmp_path / "save-meeting.log",
        )
        try:
            _wait("pause in the second decision", marker.exists, process)
            assert _kill_while_writing(engine, process), "the kill did not land mid-write"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

        after = _meeting_state(engine, meeting_id)
        assert after[0] == _saved(0)
        assert after[1] == {**untouched[1], "minutes": _saved(1)["minutes"]}
        assert after[2] == untouched[2]
        # The meeting is tomorrow: recording a decision does not make it held (only its
        # start passing, or staff saying so, does).
        assert after[3] == {"meeting_status": "planned"}

        # What the public sees, and the secretary can save the decision again.
        app = _app(database_url)
        try:
            client = app.test_client()
            record = client.get(f"/council/meetings/{meeting_id}").get_data(as_text=True)
            assert _saved(0)["decisions"][0] in record
            assert _saved(1)["decisions"][0] not in record
            _save_meeting(app, meeting_id, items=[1], decisions_only=True)
        finally:
            get_db(app).engine.dispose()
        assert _meeting_state(engine, meeting_id)[1] == _saved(1)
    finally:
        engine.dispose()


def _save_meeting(
    app: Flask,
    meeting_id: int,
    *,
    items: list[int],
    decisions_only: bool = False,
    before_decision: Callable[[int], None] | None = None,
) -> None:
    """The secretary signs in and saves each item's minutes, then its decision."""
    client = app.test_client()
    login = client.get("/staff/login").get_data(as_text=True)
    signed_in = client.post(
        "/staff/login",
        data={
            "username": "secretary",
            "password": PASSWORD,
            "csrf_token": CSRF.findall(login)[0],
        },
    )
    assert signed_in.status_code == 302
    page = client.get(f"/staff/council/meetings/{meeting_id}").get_data(as_text=True)
    token = CSRF.findall(page)[0]
    item_ids = [int(i) for i in dict.fromkeys(re.findall(r'name="item_id" value="(\d+)"', page))]
    base = f"/staff/council/meetings/{meeting_id}"
    for i in items:
        if not decisions_only:
            saved = client.post(
                f"{base}/minutes",
                data={"csrf_token": token, "item_id": item_ids[i], "minutes": _saved(i)["minutes"]},
            )
            assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
        if before_decision:
            before_decision(i)
        decided = client.post(
            f"{base}/decisions",
            data={
                "csrf_token": token,
                "item_id": item_ids[i],
                "text": _saved(i)["decisions"][0],
                "owner": "白杨街道总工会",
                "votes_for": "23",
            },
        )
        assert decided.status_code == 302, decided.get_data(as_text=True)[:500]


def _save_meeting_and_pause(database_url: str, meeting_id: int, marker: Path) -> None:
    """Save all three items; in the second item's decision, stop once the decision and its
    issues' events are written (the transaction still open) and wait to be killed."""
    app = _app(database_url)
    armed = {"item": -1, "events": 0}

    def after_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed["item"] == 1 and statement.lstrip().upper().startswith(
            "INSERT INTO COUNCIL_EVENTS"
        ):
            armed["events"] += 1
            if armed["events"] == 1:
                marker.touch()
                time.sleep(120)

    event.listen(get_db(app).engine, "after_cursor_execute", after_execute)
    _save_meeting(
        app,
        meeting_id,
        items=list(range(ITEMS)),
        before_decision=lambda i: armed.update(item=i),
    )


if __name__ == "__main__" and sys.argv[1:2] == ["save-meeting"]:
    _save_meeting_and_pause(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
