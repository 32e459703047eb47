"""Issue 12, item 2, under concurrency: young keys of one network add at most
YOUNG_BACKINGS_PER_NETWORK counted backings even when they all arrive at once.

The ration used to be read-then-write: sixteen threads each counted "fewer than three"
before any of them had written, and five were counted instead of three. Each thread
here is a courier's request with its own session and connection, released together by
a barrier; the test runs on SQLite and, with STATIONFINDER_TEST_DATABASE_URL, on
PostgreSQL.
"""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select

from stationfinder.council import issues as council
from stationfinder.db import session_scope
from stationfinder.models import IssueBacking
from stationfinder.web.context import current_areas

THREADS = 16


def _raise(app: Flask) -> int:
    with session_scope(app) as session:
        issue = council.raise_issue(
            session,
            current_areas(app),
            title="电梯不让快递员用",
            description="写字楼物业不让快递员坐客梯。",
            category="storage_points",
            device_hash="raiser" + "0" * 58,
        )
        return issue.id


def test_sixteen_young_keys_at_once_count_three(council_app: Flask) -> None:
    issue_id = _raise(council_app)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def back(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            with session_scope(council_app) as session:
                council.back_issue(
                    session,
                    council.get_issue(session, issue_id),
                    f"young-{n:02d}".ljust(64, "0"),
                    network_hash="one-carrier-nat",
                    established=False,
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=back, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with session_scope(council_app) as session:
        issue = council.get_issue(session, issue_id)
        pending = session.scalar(
            select(func.count()).where(
                IssueBacking.issue_id == issue_id, IssueBacking.pending.is_(True)
            )
        )
        assert issue.backing_count == 1 + council.YOUNG_BACKINGS_PER_NETWORK
        assert pending == THREADS - council.YOUNG_BACKINGS_PER_NETWORK
        assert issue.needs_review
