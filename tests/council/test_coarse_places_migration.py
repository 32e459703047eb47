"""Migrations 0006 and 0009 on issues stored before this change: a courier's point kept
to 0.1 m is rounded to the ~100 m grid (an issue at a station takes the station's own
point), and numbers the old masking let through are masked."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.orm import Session

from stationfinder import db
from stationfinder.models import CouncilIssue


def _issue(lon: float, lat: float, station_id: str | None = None) -> CouncilIssue:
    now = datetime.now(UTC)
    return CouncilIssue(
        title="路口没有遮阳",
        description="中午太晒。",
        category="safety",
        lon=lon,
        lat=lat,
        street="白杨街道",
        station_id=station_id,
        device_hash="d" * 64,
        source="web",
        status="new",
        backing_count=1,
        created_at=now,
        updated_at=now,
    )


def test_0006_rounds_stored_courier_positions(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    config = db.alembic_config(engine)
    try:
        command.upgrade(config, "0005")
        # The stations table as it was at 0005 (the model has columns added since).
        stations = Table("stations", MetaData(), autoload_with=engine)
        now = datetime.now(UTC)
        row = {
            "id": "QT-BY-901",
            "name": "测试站",
            "kind": "rest",
            "lon": 120.3412345,
            "lat": 30.3123456,
            "street": "白杨街道",
            "address": "测试路1号",
            "amenities": [],
            "active": True,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        with Session(engine) as session, session.begin():
            session.execute(
                insert(stations).values({k: v for k, v in row.items() if k in stations.c})
            )
            session.add_all(
                [_issue(120.335127, 30.310482), _issue(120.35, 30.32, station_id="QT-BY-901")]
            )
        command.upgrade(config, "0006")
        with Session(engine) as session:
            points = [(i.lon, i.lat) for i in session.scalars(select(CouncilIssue).order_by("id"))]
        assert points == [(120.335, 30.31), (120.3412345, 30.3123456)]
        command.downgrade(config, "0005")  # a no-op: the exact points are gone
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_0009_masks_numbers_the_old_pattern_let_through(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    config = db.alembic_config(engine)
    try:
        command.upgrade(config, "0008")
        with Session(engine) as session, session.begin():
            issue = _issue(120.335, 30.31)
            issue.description = "老板电话１３９ ５７１２ ０８４６，一直不接。"
            issue.place_label = "门口 0571-8888 1234"
            session.add(issue)
        command.upgrade(config, "0009")
        with Session(engine) as session:
            stored = session.scalars(select(CouncilIssue)).one()
            assert stored.description == "老板电话１３９ **** ０８４６，一直不接。"
            assert stored.place_label == "门口 0571-**** 1234"
            assert stored.title == "路口没有遮阳"  # nothing to mask: untouched
        command.downgrade(config, "0008")
        command.upgrade(config, "head")
    finally:
        engine.dispose()
