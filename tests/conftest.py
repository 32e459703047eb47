"""Fixtures: the real app on a real database (a temporary SQLite file, or the PostgreSQL
database named by STATIONFINDER_TEST_DATABASE_URL, reset for every test)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings
from sqlalchemy import create_engine, text

from stationfinder import create_app
from stationfinder.db import get_db

# CI runs the same hypothesis examples every time (a red CI must mean a regression, not
# an unlucky draw); a developer's run keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

PG_URL = os.environ.get("STATIONFINDER_TEST_DATABASE_URL") or None
REPO = Path(__file__).resolve().parent.parent


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, seeded SQLite file; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x"})
    get_db(app).engine.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, seeded_sqlite: Path) -> str:
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    path = tmp_path / "stationfinder.sqlite3"
    shutil.copyfile(seeded_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Settings every app of a test starts from; a module overrides this fixture to serve
    other data (tests/multi_district.py)."""
    return {}


@pytest.fixture
def make_app(
    tmp_path: Path, database_url: str, app_settings: dict[str, Any]
) -> Iterator[Callable[..., Flask]]:
    """Build apps with settings overridden, like datasette's make_app_client."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "INDEX_CHECK_SECONDS": 0.01,
            **app_settings,
        }
        config.update(overrides)
        app = create_app(config)
        made.append(app)
        return app

    yield factory
    for app in made:
        get_db(app).engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    """A database with nothing in it (not migrated, not seeded)."""
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Where CI promises a browser (STATIONFINDER_REQUIRE_BROWSER=1), a skipped browser
    test is a failure: CI installs Chromium, so a skip there would hide a broken step."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if (
        report.skipped
        and os.environ.get("STATIONFINDER_REQUIRE_BROWSER") == "1"
        and item.get_closest_marker("browser") is not None
    ):
        report.outcome = "failed"
        report.longrepr = f"browser test skipped where CI requires a browser: {report.longrepr}"
