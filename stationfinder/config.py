"""Settings, read once from `STATIONFINDER_*` environment variables and validated.

Every setting is declared in `SETTINGS` with its default and help text; the README's
configuration table is checked against this list by a test, so a setting cannot go
undocumented.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import click

PREFIX = "STATIONFINDER_"


class ConfigError(ValueError):
    """A setting has a value the service cannot run with."""


class StartupError(click.ClickException):
    """The service cannot start; the message says why and what to do.

    A ClickException, so `stationfinder run` and `flask run` print it without a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _url(value: str) -> str:
    if not re.match(r"^[a-z][a-z0-9+.-]*://", value):
        raise ValueError("must be a URL such as sqlite:///path or postgresql+psycopg://host/db")
    return value


def _tile_url(value: str) -> str:
    if not value.startswith(("https://", "http://", "/")) or "{z}" not in value:
        raise ValueError("must be an http(s) URL template containing {z}, {x} and {y}")
    if "{x}" not in value or "{y}" not in value:
        raise ValueError("must contain {x} and {y}")
    return value


def _choice(*options: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = value.strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError("must be a positive number")
    return number


def _positive_int(value: str) -> int:
    number = int(value.strip(), 10)
    if number < 1:
        raise ValueError("must be a whole number of at least 1")
    return number


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _bad(message: str) -> Any:
    raise ValueError(message)


def _json_object(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object")
    return parsed


def _text(value: str) -> str:
    return value


def _optional_url(value: str) -> str | None:
    return _url(value) if value.strip() else None


def _public_base_url(value: str) -> str | None:
    """An http(s) origin, optionally with the path the app is mounted under; no query,
    fragment or user name. Stored without the trailing slash."""
    from urllib.parse import urlsplit

    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://xiaoge.example.cn")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must not carry a query, fragment or user name")
    return value.rstrip("/")


@dataclass(frozen=True)
class Setting:
    name: str  # without the prefix; the Flask config key is the same name
    default: Any
    parse: Callable[[str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        None,
        _url,
        "SQLAlchemy URL of the database. Default: an SQLite file `stationfinder.sqlite3` "
        "in Flask's instance folder (WAL mode). PostgreSQL: `postgresql+psycopg://user@host/db`.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        _text,
        "Signs session cookies and CSRF tokens. Default: a random key made once and kept "
        "in the instance folder (`secret_key`). Set the same value on every host.",
    ),
    Setting(
        "TILE_URL",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        _tile_url,
        "Map tile URL template, the only outside resource the pages load. Default: Amap "
        "(高德) road tiles, quick in mainland China.",
    ),
    Setting(
        "TILE_CRS",
        "gcj02",
        _choice("wgs84", "gcj02"),
        "Coordinate system of the tiles: `gcj02` for Amap/Tencent tiles, `wgs84` for "
        "OpenStreetMap tiles. Markers are drawn in this system.",
    ),
    Setting("TILE_SUBDOMAINS", "1234", _text, "Values for `{s}` in the tile URL."),
    Setting("TILE_ATTRIBUTION", "© 高德地图 AutoNavi", _text, "Attribution shown on maps."),
    Setting("TILE_MAX_ZOOM", 18.0, _positive_float, "Highest zoom level the tiles offer."),
    Setting(
        "SEED_FILE",
        None,
        _text,
        "GeoJSON loaded into an empty registry at first start. Default: the shipped "
        "`data/stations.geojson` (illustrative sample data).",
    ),
    Setting(
        "AREAS_FILE",
        None,
        _text,
        "GeoJSON of the district and subdistrict outlines. Default: the shipped "
        "`data/areas.geojson` (approximate outlines).",
    ),
    Setting(
        "AUTO_MIGRATE",
        True,
        _bool,
        "Apply database migrations and seed an empty registry when the app starts.",
    ),
    Setting(
        "REDIS_URL",
        None,
        _optional_url,
        "Redis for rate-limit counters shared by all workers, e.g. `redis://127.0.0.1:6379/0`. "
        "Unset: counters are kept in each process.",
    ),
    Setting(
        "RATE_LIMITS",
        True,
        _bool,
        "Limit how often one address or device may submit reports, issues and backings.",
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        lambda v: int(v) if v.isdigit() and int(v) <= 5 else _bad("a whole number 0..5"),
        "How many reverse proxies (nginx, a load balancer) stand in front of the app; their "
        "X-Forwarded-For/-Proto headers are trusted to find the client's address and HTTPS.",
    ),
    Setting(
        "GEOCODER",
        "",
        _text,
        "Optional geopy geocoder service (e.g. `nominatim`, `baiduv3`) for places the "
        "offline gazetteer does not know. Empty: offline gazetteer only.",
    ),
    Setting(
        "GEOCODER_OPTIONS",
        {},
        _json_object,
        'JSON object of options for the geocoder, e.g. `{"user_agent": "stationfinder"}` '
        'or `{"api_key": "..."}`.',
    ),
    Setting(
        "GEOCODER_CRS",
        "wgs84",
        _choice("wgs84", "gcj02", "bd09"),
        "Coordinate system of the geocoder's answers (Baidu: `bd09`; Amap, Tencent: `gcj02`).",
    ),
    Setting(
        "BENCH_ENDPOINTS",
        False,
        _bool,
        "Serve /bench/bare, a constant JSON body used as the ceiling in bench/http_load.py. "
        "Off in production.",
    ),
    Setting(
        "MAX_UPLOAD_MB",
        10.0,
        _positive_float,
        "Largest request body (photos, import files), in MB; larger uploads answer 413.",
    ),
    Setting(
        "COUNCIL_FIRST_REPLY_HOURS",
        48.0,
        _positive_float,
        "Hours within which staff must first answer a council issue; later ones are "
        "flagged overdue in the inbox.",
    ),
    Setting(
        "COUNCIL_RESOLUTION_DAYS",
        30.0,
        _positive_float,
        "Days within which an open council issue should be resolved; older ones are "
        "flagged overdue.",
    ),
    Setting(
        "STAFF_SESSION_IDLE_MINUTES",
        60.0,
        _positive_float,
        "A staff session ends after this many minutes without a request; signing in again "
        "is needed.",
    ),
    Setting(
        "STAFF_SESSION_MAX_HOURS",
        12.0,
        _positive_float,
        "A staff session ends this many hours after signing in, however busy it is.",
    ),
    Setting(
        "OPEN311_API_KEY",
        None,
        lambda v: v.strip() or None,
        "Key an Open311 client must send as `api_key` to POST service requests. Unset: "
        "posting needs no key (couriers are anonymous).",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        None,
        _public_base_url,
        "The address the public reaches the service at, e.g. `https://xiaoge.example.cn` "
        "(with a path if mounted under one). Absolute links (Open311 discovery, photo "
        "links, meeting calendar files) start with it, never with the request's `Host` "
        "header. Unset: the request's host (fine on a developer's machine only).",
    ),
    Setting(
        "DATA_DIR",
        None,
        lambda v: v.strip() or None,
        "Folder for the default SQLite database and the generated secret key (made 0700). "
        "Unset: `$XDG_DATA_HOME/stationfinder`, else `~/.local/share/stationfinder` — "
        "outside the virtual environment, so recreating it keeps the data.",
    ),
    Setting("WALK_SPEED_KMH", 4.5, _positive_float, "Walking speed for `walk_min`."),
    Setting("RIDE_SPEED_KMH", 15.0, _positive_float, "E-bike speed (with stops) for `ride_min`."),
    Setting(
        "INDEX_CHECK_SECONDS",
        0.5,
        _positive_float,
        "How often a worker checks whether the registry changed and rebuilds its index.",
    ),
    Setting(
        "ALERT_CHECK_SECONDS",
        30.0,
        _positive_float,
        "How often a worker re-reads the weather alert in force (the worker that sets one"
        " sees it at once).",
    ),
    Setting(
        "MAP_INLINE_MAX",
        2000,
        _positive_int,
        "Up to this many stations, /map carries every pin in the page; beyond it the map "
        "loads what is in view (counts on a grid when zoomed out).",
    ),
    Setting(
        "PICKER_MAX",
        300,
        _positive_int,
        "Up to this many loaded subdistricts, the courier pages' picker lists them all; "
        "beyond it, it lists the districts and, once one is chosen, its subdistricts.",
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every setting from the environment; raise ConfigError naming a bad one."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(PREFIX + setting.name)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}{setting.name}={raw!r}: {exc}") from None
    return values


def validate_overrides(overrides: Mapping[str, Any]) -> None:
    """A test or embedding config may only name known settings or Flask's own keys."""
    for key in overrides:
        if key not in SETTINGS_BY_NAME and not key.isupper():
            raise ConfigError(f"unknown setting {key!r}")
