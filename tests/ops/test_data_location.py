"""The default data (SQLite database, secret key) lives in a per-user folder outside the
package and its virtual environment, readable by its owner only."""

from __future__ import annotations

from pathlib import Path

import pytest

import stationfinder
from stationfinder import create_app
from stationfinder.db import get_db

PACKAGE = Path(stationfinder.__file__).resolve().parent


def _build(monkeypatch: pytest.MonkeyPatch, **env: str) -> Path:
    for name in (
        "STATIONFINDER_DATA_DIR",
        "STATIONFINDER_DATABASE_URL",
        "STATIONFINDER_SECRET_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app()  # settings from the environment, as `stationfinder run` does
    try:
        url = app.config["DATABASE_URL"]
        assert url.startswith("sqlite:///")
        return Path(url.removeprefix("sqlite:///"))
    finally:
        get_db(app).engine.dispose()


def test_default_data_is_in_the_user_data_folder_not_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    db = _build(monkeypatch, XDG_DATA_HOME=str(tmp_path / "xdg"))
    assert db == tmp_path / "xdg" / "stationfinder" / "stationfinder.sqlite3"
    assert PACKAGE not in db.parents
    assert (db.parent / "secret_key").exists()
    assert db.parent.stat().st_mode & 0o777 == 0o700
    assert db.stat().st_mode & 0o077 == 0  # not world- or group-readable
    assert (db.parent / "secret_key").stat().st_mode & 0o077 == 0


def test_without_xdg_it_is_under_local_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    db = _build(monkeypatch)
    assert db == tmp_path / "home" / ".local" / "share" / "stationfinder" / "stationfinder.sqlite3"


def test_data_dir_setting_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    db = _build(
        monkeypatch,
        STATIONFINDER_DATA_DIR=str(tmp_path / "data"),
        XDG_DATA_HOME=str(tmp_path / "x"),
    )
    assert db == tmp_path / "data" / "stationfinder.sqlite3"
    assert not (tmp_path / "x").exists()


def test_readme_says_where_data_lives_and_how_to_back_it_up() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "~/.local/share/stationfinder" in quick
    assert "back it up" in quick
    assert "`STATIONFINDER_DATA_DIR`" in readme
