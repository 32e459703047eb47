"""`stationfinder backup` and `restore`: every table, exactly, from one database to the
other kind and back (SQLite -> PostgreSQL -> SQLite when the suite runs on PostgreSQL);
refused at another schema revision or into a database that already holds data."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect, text

from stationfinder import db
from stationfinder.db import get_db
from stationfinder.models import (
    ApiToken,
    Photo,
    ProblemReport,
    StaffAccount,
    StationConfirmation,
)
from stationfinder.ops import backup

PG_URL = os.environ.get("STATIONFINDER_TEST_DATABASE_URL") or None

WHEN = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _fill(app: Flask) -> None:
    """A little of everything: accounts, a token, a photo's bytes, reports, confirmations."""
    from stationfinder.db import session_scope

    with session_scope(app) as session:
        admin = StaffAccount(
            username="admin", display_name="管理员", password_hash="$argon2id$x", role="union_admin"
        )
        session.add(admin)
        session.flush()
        session.add(ApiToken(staff_id=admin.id, name="系统", token_hash="ab" * 32, created_at=WHEN))
        session.add(
            Photo(id="p" * 32, content=bytes(range(256)) * 4, mime="image/webp", width=4, height=3)
        )
        session.flush()
        session.add_all(
            [
                ProblemReport(
                    station_id="QT-BY-001",
                    category="amenity_broken",
                    amenity="toilet",
                    message="厕所坏了\n'; DROP TABLE stations; --",
                    photo_id="p" * 32,
                    device_hash="d" * 64,
                    created_at=WHEN,
                ),
                StationConfirmation(
                    station_id="QT-BY-001", device_hash="e" * 64, day=date(2026, 3, 1)
                ),
            ]
        )


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _fresh(url: str) -> str:
    """An empty database migrated to the newest revision."""
    if url.startswith("postgresql"):
        _reset_postgres(url)
    engine = create_engine(url)
    db.upgrade(engine)
    engine.dispose()
    return url


def _dump(url: str) -> dict[str, list[list[object]]]:
    engine = create_engine(url)
    try:
        return backup.table_dump(engine)
    finally:
        engine.dispose()


def _restore(url: str, path: Path, **kw: bool) -> None:
    engine = create_engine(url)
    try:
        backup.restore(engine, path, **kw)
    finally:
        engine.dispose()


def test_round_trip_through_the_other_database(app: Flask, tmp_path: Path) -> None:
    _fill(app)
    source_url = app.config["DATABASE_URL"]
    runner = app.test_cli_runner()
    first = tmp_path / "first.jsonl.gz"
    result = runner.invoke(args=["backup", str(first)])
    assert result.exit_code == 0, result.output
    original = _dump(source_url)
    assert {"stations", "station_revisions", "photos", "problem_reports",
            "station_confirmations", "staff_accounts", "api_tokens", "area_sets",
            "registry_state"} <= set(original)  # fmt: skip
    assert len(original["stations"]) == 158 and original["api_tokens"]
    # Every table the database holds is in the backup (council tables included).
    engine = create_engine(source_url)
    held = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert set(backup.read_header(first)["tables"]) == held

    # To the other kind of database, back up again there, and back to the first kind.
    if PG_URL and source_url == PG_URL:
        other, back = f"sqlite:///{tmp_path / 'other.sqlite3'}", PG_URL
    elif PG_URL:
        other, back = PG_URL, f"sqlite:///{tmp_path / 'back.sqlite3'}"
    else:
        other, back = f"sqlite:///{tmp_path / 'other.sqlite3'}", f"sqlite:///{tmp_path / 'b.db'}"
    get_db(app).engine.dispose()
    _restore(_fresh(other), first)
    assert _dump(other) == original

    second = tmp_path / "second.jsonl.gz"
    engine = create_engine(other)
    backup.dump(engine, second)
    engine.dispose()
    _restore(_fresh(back), second)
    assert _dump(back) == original


def test_restore_refuses_a_database_with_data_unless_told_to_replace(
    app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "b.jsonl.gz"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    _fill(app)  # the database moves on after the backup
    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code != 0
    assert "not empty" in refused.output
    assert len(_dump(app.config["DATABASE_URL"])["staff_accounts"]) == 1  # nothing touched

    replaced = runner.invoke(args=["restore", "--replace", str(path)])
    assert replaced.exit_code == 0, replaced.output
    after = _dump(app.config["DATABASE_URL"])
    assert after["staff_accounts"] == [] and after["problem_reports"] == []
    assert len(after["stations"]) == 158


def test_restore_refuses_another_schema_revision(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl.gz"
    backup.dump(get_db(app).engine, path)
    with gzip.open(path, "rt", encoding="utf-8") as src:
        lines = src.read().splitlines()
    header = json.loads(lines[0])
    header["schema_revision"] = "0001"
    older = tmp_path / "older.jsonl.gz"
    with gzip.open(older, "wt", encoding="utf-8") as out:
        out.write("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    result = app.test_cli_runner().invoke(args=["restore", "--replace", str(older)])
    assert result.exit_code != 0
    assert "schema revision 0001" in result.output


def test_a_truncated_backup_restores_nothing(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl.gz"
    backup.dump(get_db(app).engine, path)
    with gzip.open(path, "rt", encoding="utf-8") as src:
        lines = src.read().splitlines()
    cut = tmp_path / "cut.jsonl.gz"
    with gzip.open(cut, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines[: len(lines) // 2]) + "\n")
    before = _dump(app.config["DATABASE_URL"])
    with pytest.raises(backup.BackupError, match="incomplete"):
        backup.restore(get_db(app).engine, cut, replace=True)
    assert _dump(app.config["DATABASE_URL"]) == before
