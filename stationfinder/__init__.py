"""stationfinder: rest stations for Qiantang's couriers, their registry and their council."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from stationfinder.config import StartupError

__all__ = ["StartupError", "create_app", "import_modules"]


def import_modules() -> None:
    """Import the code `create_app` uses, and make nothing: no app, engine, socket or thread.

    gunicorn's master calls this (gunicorn.conf.py) so that every worker forked from it
    starts without paying for the imports again (~1 s of a worker's start on this
    2-core machine); what must not cross a fork is made in each worker by `create_app`.
    """
    import importlib

    for module in _APP_MODULES:
        importlib.import_module(module, __name__)


_APP_MODULES = (
    "flask_compress",
    *(f".{m}" for m in ("cli", "db", "registry.live_index", "geo.geocoding", "ops.probes")),
    *(f".{m}" for m in ("ops.startup", "web.application", "web.errors", "web.limits")),
    *(f".{m}" for m in ("web.security", "web.api", "web.couriers", "web.couriers.reports")),
    *(f".{m}" for m in ("web.council", "web.open311", "web.staff")),
)


def create_app(
    config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Build the app. A `config` mapping replaces environment settings (tests use it)."""
    from flask_compress import Compress

    from stationfinder import db
    from stationfinder.config import ConfigError, load_settings, validate_overrides
    from stationfinder.core.resources import shipped_dir
    from stationfinder.geo.geocoding import PlaceGeocoder
    from stationfinder.ops import probes as ops
    from stationfinder.ops import startup
    from stationfinder.registry import live_index
    from stationfinder.registry.changes import announce_commits
    from stationfinder.registry.live_index import LiveIndex
    from stationfinder.registry.photos import configure_pillow
    from stationfinder.web import alerts, context, errors, i18n, limits, security, text_boundary
    from stationfinder.web import auth as staff_auth
    from stationfinder.web.api import bp as api_bp
    from stationfinder.web.application import StationFinderFlask
    from stationfinder.web.assets import bp as assets_bp
    from stationfinder.web.council import bp as council_bp
    from stationfinder.web.couriers import bp as web_bp
    from stationfinder.web.couriers.reports import report_bp
    from stationfinder.web.open311 import bp as open311_bp
    from stationfinder.web.open311 import documents as open311_documents
    from stationfinder.web.staff import bp as staff_bp
    from stationfinder.web.staff.stations import photos_bp

    app = StationFinderFlask(
        __name__,
        template_folder=str(shipped_dir("templates")),
        instance_relative_config=True,
        instance_path=instance_path,
    )
    try:
        if config is None:
            settings = load_settings()
        else:
            validate_overrides(config)
            settings = {**load_settings({}), **config}
    except ConfigError as exc:
        raise StartupError(str(exc)) from None
    app.config.update(settings)
    app.config.update(
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "application/geo+json",
            "image/svg+xml",
        ],
        MAX_CONTENT_LENGTH=int(app.config["MAX_UPLOAD_MB"] * 1024 * 1024),
        COMPRESS_MIN_SIZE=500,
        COMPRESS_STREAMS=False,  # streamed send_file bodies: the compressor leaks the file
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    if app.config["DATABASE_URL"] is None or app.config["SECRET_KEY"] is None:
        # An explicit instance_path (tests) wins; else the per-user data folder, never
        # the package's instance folder inside the virtual environment.
        data = Path(instance_path) if instance_path else data_dir(app.config.get("DATA_DIR"))
        app.instance_path = str(data)
        _private_dir(data)
    if app.config["DATABASE_URL"] is None:
        path = Path(app.instance_path) / "stationfinder.sqlite3"
        _private_file(path)
        app.config["DATABASE_URL"] = f"sqlite:///{path}"
    if app.config["SECRET_KEY"] is None:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    database = db.init_app(app, app.config["DATABASE_URL"])
    errors.init_app(app)
    text_boundary.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    alerts.init_app(app)
    limits.init_app(app)
    Compress(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(assets_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(report_bp)
    app.register_blueprint(council_bp)
    app.register_blueprint(open311_bp)
    errors.answer_errors_under(app, "/open311/", open311_documents.error_for_request)
    app.register_blueprint(photos_bp)
    security.init_csrf(app)
    staff_auth.init_app(app)
    configure_pillow()
    ops.init_app(app)
    from stationfinder import cli

    cli.init_app(app)

    try:
        areas = startup.prepare(app, database)
    except BaseException:
        database.engine.dispose()  # a failed start leaves no connection behind
        raise
    announce_commits(database.sessions)
    context.install(
        app,
        areas=areas,
        geocoder=PlaceGeocoder.from_settings(app.config),
        index=LiveIndex(
            database.sessions,
            check_seconds=app.config["INDEX_CHECK_SECONDS"],
            preloaded=live_index.preloaded(app.config["DATABASE_URL"]),
        ),
    )
    return app


def data_dir(configured: str | None = None) -> Path:
    """Where the default database and secret key live: STATIONFINDER_DATA_DIR, else
    $XDG_DATA_HOME/stationfinder, else ~/.local/share/stationfinder."""
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "stationfinder"


def _private_dir(path: Path) -> None:
    """Make the data folder readable by its owner only (the parents as the umask says)."""
    existed = path.exists()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not existed:
        path.chmod(0o700)


def _private_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it would follow the umask)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _instance_secret(path: Path) -> str:
    """A random key made once per instance folder, readable by its owner only."""
    if not path.exists():
        key = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
            return key
    return path.read_text().strip()
