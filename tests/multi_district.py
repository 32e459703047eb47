"""Fixtures for an app serving the synthetic multi-district data set
(data/multi_district/: Qiantang and three fictional districts, 31 subdistricts, names
that two districts share). Import them into a test module to have its `app` (and the
browser tests' `live_server`) serve that data instead of the shipped sample."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from stationfinder import create_app
from stationfinder.db import get_db

PG_URL = os.environ.get("STATIONFINDER_TEST_DATABASE_URL") or None
DATA = Path(__file__).resolve().parent.parent / "data" / "multi_district"
AREAS_FILE = DATA / "areas.geojson"
STATIONS_FILE = DATA / "stations.geojson"
EAST = "330191"  # 示例东区
SOUTH = "330192"  # 示例南区


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """An empty database, so the app seeds it from the multi-district stations."""
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'multi.sqlite3'}"


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "INDEX_CHECK_SECONDS": 0.01,
            "AREAS_FILE": str(AREAS_FILE),
            "SEED_FILE": str(STATIONS_FILE),
        }
        config.update(overrides)
        app = create_app(config)
        made.append(app)
        return app

    yield factory
    for app in made:
        get_db(app).engine.dispose()
