"""Static assets: vendored Leaflet (XStatic packages), versioned app files, the
service worker at the root scope and the web app manifest.

Files are answered from memory rather than streamed with send_file: Flask-Compress
re-wraps a streamed body without closing the file (a leaked handle per request), and
only compresses streams with br/zstd/deflate, so an old phone asking for gzip got the
files uncompressed. These files are small and few.

Each is compressed once per encoding at that encoding's highest level, and kept: they
change only with a release, and Flask-Compress's per-response levels (brotli 4, zstd 3)
made app.js 12.9 KB where brotli 11 makes it 10.5, app.css 5.2 where it makes 4.0, on
the courier's data plan and before the first paint. Brotli is preferred where the
client takes it (the smallest), then zstd, then gzip.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import brotli
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext
from werkzeug.http import parse_accept_header
from werkzeug.security import safe_join

from stationfinder.web.context import current_areas
from stationfinder.web.i18n import service_area, template_context
from stationfinder.web.maps import VendorAssets

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # Flask-Compress brings the backport on older Pythons
    from backports import zstd

VENDOR: dict[str, ModuleType] = {
    "leaflet": xstatic.pkg.leaflet,
    "leaflet.markercluster": xstatic.pkg.leaflet_markercluster,
}
YEAR = 365 * 24 * 3600
APP_FILES = ("app.css", "coords.js", "app.js", "icon.svg")
# Files served as these parts joined, in order: one script per page (a request is a round
# trip on a weak signal), the parts shared between pages written once.
BUNDLES: dict[str, tuple[str, ...]] = {
    "app.js": ("coords.js", "app.js", "contrast.js"),
    "council/council.js": ("council/council.js", "contrast.js"),
}
# The encodings a file is kept in, the smallest first; each at its highest level.
_ENCODERS = {
    "br": lambda data: brotli.compress(data, quality=11),
    "zstd": lambda data: zstd.compress(data, 19),
    "gzip": lambda data: gzip.compress(data, 9, mtime=0),
}
_COMPRESSIBLE = ("text/", "image/svg+xml", "application/json", "application/manifest+json")
_MIN_BYTES = 500  # as COMPRESS_MIN_SIZE: below this the frame overhead is not worth it

bp = Blueprint("assets", __name__)


@bp.get("/static/vendor/<package>/<version>/<path:filename>")
def vendor(package: str, version: str, filename: str) -> Response:
    """A vendored file; the version is in the URL, so it may be cached for a year."""
    module = VENDOR.get(package)
    if module is None or version != module.VERSION:
        abort(404)
    path = safe_join(module.BASE_DIR, filename)
    if path is None or not Path(path).is_file():
        abort(404)
    return _file_response(_parts(module.BASE_DIR, filename), filename, immutable=True)


@bp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """An app file from stationfinder/static; cached for a year when asked for by hash."""
    folder = current_app.static_folder
    assert folder is not None
    path = safe_join(folder, filename)
    if path is None or not Path(path).is_file():
        abort(404)
    parts = _parts(folder, filename, BUNDLES)
    current = _digest(parts)
    return _file_response(parts, filename, immutable=request.args.get("v") == current)


def _parts(
    folder: str, filename: str, bundles: dict[str, tuple[str, ...]] | None = None
) -> tuple[tuple[str, int], ...]:
    """The files (path, mtime) whose bytes, one after the other, are ``filename``."""
    names = (bundles or {}).get(filename, (filename,))
    paths = [Path(folder) / name for name in names]
    return tuple((str(p), p.stat().st_mtime_ns) for p in paths)


@lru_cache(maxsize=64)
def _read(parts: tuple[tuple[str, int], ...]) -> bytes:
    return b"\n".join(Path(path).read_bytes() for path, _mtime in parts)


@lru_cache(maxsize=256)
def _encoded(parts: tuple[tuple[str, int], ...], encoding: str) -> bytes:
    return _ENCODERS[encoding](_read(parts))


@lru_cache(maxsize=64)
def _encoding_for(accept_encoding: str) -> str | None:
    accepted = parse_accept_header(accept_encoding)
    return next((name for name in _ENCODERS if accepted[name] > 0), None)


def _file_response(
    parts: tuple[tuple[str, int], ...], filename: str, *, immutable: bool
) -> Response:
    data = _read(parts)
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if mimetype == "application/javascript":
        mimetype = "text/javascript"
    etag = _sha256(parts)[:20]
    encoding = None
    if len(data) >= _MIN_BYTES and mimetype.startswith(_COMPRESSIBLE):
        encoding = _encoding_for(request.headers.get("Accept-Encoding", ""))
    if encoding is not None:
        data = _encoded(parts, encoding)
        etag = f"{etag}-{encoding}"  # one representation, one tag
    response = Response(data, mimetype=mimetype)
    if encoding is not None:
        response.headers["Content-Encoding"] = encoding  # Flask-Compress leaves it alone
    response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    if immutable:
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response.make_conditional(request)


def vendor_url(package: str, filename: str) -> str:
    return url_for(
        "assets.vendor", package=package, version=VENDOR[package].VERSION, filename=filename
    )


def vendor_assets() -> VendorAssets:
    return VendorAssets(
        leaflet_js=vendor_url("leaflet", "leaflet.js"),
        leaflet_css=vendor_url("leaflet", "leaflet.css"),
        cluster_js=vendor_url("leaflet.markercluster", "leaflet.markercluster.js"),
        cluster_css=vendor_url("leaflet.markercluster", "MarkerCluster.css"),
        cluster_default_css=vendor_url("leaflet.markercluster", "MarkerCluster.Default.css"),
    )


@lru_cache(maxsize=64)
def _sha256(parts: tuple[tuple[str, int], ...]) -> str:
    return hashlib.sha256(_read(parts)).hexdigest()


def _digest(parts: tuple[tuple[str, int], ...]) -> str:
    return _sha256(parts)[:12]


def asset_url(filename: str) -> str:
    """The URL of an app static file with its content hash, so a changed file is fetched
    again and the service worker sees a new shell."""
    folder = current_app.static_folder
    assert folder is not None
    parts = _parts(folder, filename, BUNDLES)
    return url_for("assets.asset", filename=filename, v=_digest(parts))


def shell_urls() -> list[str]:
    """What the service worker stores at install so the locator opens with no network."""
    assets = vendor_assets()
    return [
        url_for("web.index"),
        *(asset_url(name) for name in APP_FILES),
        assets.leaflet_js,
        assets.leaflet_css,
    ]


@bp.get("/sw.js")
def service_worker() -> Response:
    shell = shell_urls()
    version = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:12]
    body = render_template(
        "sw.js",
        shell=shell,
        version=version,
        stations_url=url_for("api.list_stations"),
        by_district=len(current_areas().districts()) > 1,
        hours_url=url_for("api.station_hours"),
        offline_url=url_for("assets.offline_page"),
        map_pins_url=url_for("web.map_pins"),
    )
    response = Response(body, mimetype="text/javascript")
    # Served from the root so that it may control every page; the header says so
    # explicitly in case it is ever served from a sub-path.
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True
    return response


@bp.get("/offline")
def offline_page() -> Response:
    """What the service worker shows for a page it has no copy of when there is no
    network (see sw.js). Cached at install and again on each sync, in the language of
    the courier's last visit."""
    body = render_template("offline.html", **template_context(), asset_url=asset_url)
    response = Response(body, mimetype="text/html")
    response.cache_control.no_cache = True
    response.headers["X-Robots-Tag"] = "noindex"
    response.vary.add("Cookie")
    # Revalidated on every sync: a 304 unless the words or the language changed.
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:20])
    return response.make_conditional(request)


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    body = {
        "name": gettext("Courier rest stations"),
        "short_name": gettext("Courier rest stations"),
        "description": gettext("Rest stations for couriers in %(area)s", area=service_area()),
        "start_url": url_for("web.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#c8102e",
        "icons": [
            {"src": asset_url("icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
