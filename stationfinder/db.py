"""The database: engine, one session per request, migrations at start.

SQLite (the embedded default) runs in WAL mode with a busy timeout so that several
processes can read while one writes. PostgreSQL runs migrations under an advisory lock
so that many workers starting at once migrate once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 7_351_204  # any constant shared by every worker


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 15}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it already is."""
    if current_revision(engine) == head_revision(engine):
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            try:
                if current_revision(engine) != head_revision(engine):
                    command.upgrade(alembic_config(engine), "head")
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()
    else:
        command.upgrade(alembic_config(engine), "head")


def init_app(app: Flask, url: str) -> Database:
    engine = make_engine(url)
    database = Database(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
    app.extensions["stationfinder.db"] = database
    app.teardown_appcontext(_close_session)
    return database


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["stationfinder.db"]


def get_session() -> Session:
    """The request's session, made on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = get_db().sessions()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session outside a request (CLI, start-up), committed on success."""
    with get_db(app).sessions() as session, session.begin():
        yield session
