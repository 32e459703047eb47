"""What happens when the app starts: migrate the schema, load outlines, seed the registry.

Several workers may start at once: on PostgreSQL they take turns under an advisory lock;
on SQLite a second seeder finds the registry already seeded and stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from stationfinder import db
from stationfinder.config import StartupError
from stationfinder.core.resources import data_file
from stationfinder.geo.areas import Areas, AreasError
from stationfinder.models import AreaSet
from stationfinder.registry import spreadsheets
from stationfinder.registry import stations as registry

log = logging.getLogger(__name__)
_SEED_LOCK = 7_351_205


def seed_path(app: Flask) -> Path:
    return Path(app.config["SEED_FILE"] or data_file("stations.geojson"))


def areas_path(app: Flask) -> Path:
    return Path(app.config["AREAS_FILE"] or data_file("areas.geojson"))


def prepare(app: Flask, database: db.Database) -> Areas:
    """Migrate and seed when AUTO_MIGRATE is on; return the outlines in force."""
    try:
        if app.config["AUTO_MIGRATE"]:
            db.upgrade(database.engine)
        areas = load_areas(app, database)
        if app.config["AUTO_MIGRATE"]:
            seed_if_empty(app, database, areas)
    except OperationalError as exc:
        raise StartupError(
            f"cannot use the database {database.engine.url.render_as_string()}: {exc.orig or exc}"
        ) from None
    return areas


# Outlines gunicorn's master read before forking: database URL -> (document, Areas).
_preloaded: dict[str, tuple[dict[str, Any], Areas]] = {}


def preload_areas(database_url: str, make_engine: Callable[[str], Engine]) -> int:
    """Read the stored outlines in gunicorn's master, before it forks the workers.

    Each worker then compares the document it reads with this one and, when they are
    equal, takes these outlines instead of parsing them again: at 1,667 subdistricts the
    parse is ~0.6 s of every worker's start, the read and the comparison ~0.1 s. Returns
    the number of subdistricts (0 when none are stored: the shipped file is quick).
    """
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            stored = _stored_document(session)
    finally:
        engine.dispose()
    if stored is None:
        return 0
    areas = Areas.from_geojson(stored)
    _preloaded[database_url] = (stored, areas)
    return len(areas.listed())


def _stored_document(session: Session) -> dict[str, Any] | None:
    return session.scalar(select(AreaSet.document).where(AreaSet.id == 1))


def load_areas(app: Flask, database: db.Database) -> Areas:
    """Outlines loaded by staff (`stationfinder load-areas`) win over the shipped file."""
    try:
        with database.sessions() as session:
            stored = _stored_document(session)
    except OperationalError:
        stored = None  # not migrated yet (AUTO_MIGRATE off): use the file
    try:
        if stored is not None:
            preloaded = _preloaded.get(app.config["DATABASE_URL"] or "")
            if preloaded is not None and preloaded[0] == stored:
                return preloaded[1]
            return Areas.from_geojson(stored)
        return Areas.from_file(areas_path(app))
    except AreasError as exc:
        raise StartupError(f"cannot load the district outlines: {exc}") from None


def seed_if_empty(app: Flask, database: db.Database, areas: Areas) -> None:
    try:
        _seed(app, database, areas)
    except (IntegrityError, OperationalError):
        # Two SQLite workers started together: the other one seeded first.
        with database.sessions() as session:
            if not registry.is_empty(session):
                return
        raise


def _seed(app: Flask, database: db.Database, areas: Areas) -> None:
    with database.sessions() as session, session.begin():
        if database.engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEED_LOCK})
        if not registry.is_empty(session):
            return
        path = seed_path(app)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StartupError(
                f"the registry is empty and the seed file {path} cannot be read "
                f"({exc.strerror or exc}); set STATIONFINDER_SEED_FILE to a GeoJSON file"
            ) from None
        try:
            rows = spreadsheets.read_rows(data, path.name)
        except registry.RegistryError as exc:
            raise StartupError(f"the seed file {path} is not usable: {exc}") from None
        report = registry.apply_load(
            session, rows, areas, actor="system", reason=f"first start: seeded from {path.name}"
        )
        if not report.ok:
            listed = "\n  ".join(str(p) for p in report.problems[:20])
            raise StartupError(
                f"the seed file {path} has {len(report.problems)} bad feature(s); "
                f"nothing was loaded:\n  {listed}"
            )
    log.info("seeded the registry with %d stations from %s", len(report.added), path)
