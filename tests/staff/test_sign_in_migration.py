"""Migration 0005 on a database that already has staff: names get their one spelling
(unless two would collide), sessions get a generation, and the step can be undone."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, text

from stationfinder import db


def test_0005_normalises_names_and_goes_back_cleanly(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    config = db.alembic_config(engine)
    try:
        command.upgrade(config, "0004")
        with engine.begin() as conn:
            for name in ("Admin", "ＢＯＢ", "Sam", "sam", "carol"):
                conn.execute(
                    text(
                        "INSERT INTO staff_accounts (username, display_name, password_hash,"
                        " role, active, created_at, failed_logins)"
                        " VALUES (:n, :n, 'x', 'union_admin', :t, CURRENT_TIMESTAMP, 3)"
                    ),
                    {"n": name, "t": True},
                )
        command.upgrade(config, "0005")
        with engine.connect() as conn:
            names = sorted(conn.execute(text("SELECT username FROM staff_accounts")).scalars())
            generations = set(
                conn.execute(text("SELECT session_generation FROM staff_accounts")).scalars()
            )
        assert names == ["Sam", "admin", "bob", "carol", "sam"]  # Sam/sam: left to an admin
        assert generations == {0}
        columns = {c["name"] for c in inspect(engine).get_columns("staff_accounts")}
        assert "failed_logins" not in columns
        assert "staff_login_throttles" in inspect(engine).get_table_names()

        command.downgrade(config, "0004")
        fresh = create_engine(empty_database_url)
        assert "staff_login_throttles" not in inspect(fresh).get_table_names()
        assert "failed_logins" in {c["name"] for c in inspect(fresh).get_columns("staff_accounts")}
        fresh.dispose()
        command.upgrade(config, "head")
    finally:
        engine.dispose()
