"""Starting the service: settings, migrations, seeding, clear messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from stationfinder import StartupError, create_app
from stationfinder.config import PREFIX, SETTINGS, ConfigError, load_settings
from stationfinder.db import get_db

REPO = Path(__file__).resolve().parents[2]


def test_bad_setting_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="STATIONFINDER_TILE_CRS='mercator'"):
        load_settings({"STATIONFINDER_TILE_CRS": "mercator"})
    with pytest.raises(ConfigError, match="WALK_SPEED_KMH"):
        load_settings({"STATIONFINDER_WALK_SPEED_KMH": "-3"})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings({"STATIONFINDER_DATABASE_URL": "stations.db"})


def test_environment_settings_are_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"STATIONFINDER_TILE_CRS": "wgs84", "TILE_CRS": "gcj02"})
    assert settings["TILE_CRS"] == "wgs84"


def test_create_app_reports_a_bad_environment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STATIONFINDER_INDEX_CHECK_SECONDS", "often")
    with pytest.raises(StartupError, match="INDEX_CHECK_SECONDS"):
        create_app()


def test_missing_seed_file_is_a_message_not_a_traceback(
    empty_database_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.geojson"
    with pytest.raises(StartupError) as caught:
        create_app({"DATABASE_URL": empty_database_url, "SEED_FILE": str(missing)})
    assert str(missing) in caught.value.message
    assert "STATIONFINDER_SEED_FILE" in caught.value.message


def test_unusable_seed_file_names_the_problem(empty_database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(StartupError, match="not a JSON file"):
        create_app({"DATABASE_URL": empty_database_url, "SEED_FILE": str(bad)})


def test_first_start_migrates_and_seeds_then_leaves_the_registry_alone(
    empty_database_url: str, tmp_path: Path
) -> None:
    app = create_app({"DATABASE_URL": empty_database_url})
    client = app.test_client()
    assert len(client.get("/api/v1/stations").get_json()["features"]) == 158
    # A second start with a different seed file must not reseed a non-empty registry.
    other = tmp_path / "other.geojson"
    other.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    again = create_app({"DATABASE_URL": empty_database_url, "SEED_FILE": str(other)})
    assert len(again.test_client().get("/api/v1/stations").get_json()["features"]) == 158
    for made in (app, again):
        get_db(made).engine.dispose()


def test_default_database_is_sqlite_in_the_instance_folder_in_wal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(PREFIX + setting.name, raising=False)
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    url = app.config["DATABASE_URL"]
    assert url == f"sqlite:///{tmp_path}/instance/stationfinder.sqlite3"
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    engine = get_db(app).engine
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(STATIONFINDER_[A-Z_0-9]+)`", readme))
    for setting in SETTINGS:
        assert PREFIX + setting.name in documented, f"{setting.name} missing from README"


def test_every_cli_command_is_documented_in_the_readme() -> None:
    from stationfinder.cli import main

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    app = create_app({"DATABASE_URL": "sqlite://", "AUTO_MIGRATE": False})
    commands = set(app.cli.commands) | set(main.commands)
    for name in sorted(commands - {"shell", "routes"}):
        assert f"stationfinder {name}" in readme, f"`stationfinder {name}` missing from README"


def test_a_worker_takes_the_outlines_the_master_read_unless_they_changed(make_app, database_url):
    """gunicorn's master reads the stored outlines once (gunicorn.conf.py); a worker
    whose stored document is still that one uses them, one whose document changed since
    parses the new one (a load-areas between the master's start and a worker's)."""
    from sqlalchemy.orm import Session as OrmSession

    from stationfinder import db as sf_db
    from stationfinder.geo.areas import Areas as LoadedAreas
    from stationfinder.models import AreaSet
    from stationfinder.ops import startup as sf_startup
    from stationfinder.web.context import current_areas
    from tests.shipped_areas import SHIPPED

    first = make_app()  # migrated and seeded
    document = LoadedAreas.from_geojson(SHIPPED.to_geojson()).to_geojson()
    engine = sf_db.make_engine(database_url)
    with OrmSession(engine) as session, session.begin():
        stored = session.get(AreaSet, 1)
        if stored is None:
            session.add(AreaSet(id=1, document=document, source="test"))
        else:
            stored.document = document
    try:
        assert sf_startup.preload_areas(database_url, sf_db.make_engine) == len(SHIPPED.listed())
        preloaded = sf_startup._preloaded[database_url][1]
        assert current_areas(make_app()) is preloaded
        assert current_areas(first) is not preloaded

        renamed = LoadedAreas.from_geojson(SHIPPED.to_geojson()).to_geojson()
        for feature in renamed["features"]:
            if feature["properties"]["level"] == "district":
                feature["properties"]["name_en"] = "Renamed District"
        with OrmSession(engine) as session, session.begin():
            session.get(AreaSet, 1).document = renamed
        later = current_areas(make_app())
        assert later is not preloaded
        assert later.districts()[0].name_en == "Renamed District"
    finally:
        sf_startup._preloaded.pop(database_url, None)
        engine.dispose()
