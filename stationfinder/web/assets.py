"""Static assets: vendored Leaflet (XStatic packages), versioned app files, the
service worker at the root scope and the web app manifest."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Response, abort, current_app, render_template, send_from_directory, url_for

from ..maps import VendorAssets
from . import bp
from .i18n import messages

VENDOR: dict[str, ModuleType] = {
    "leaflet": xstatic.pkg.leaflet,
    "leaflet.markercluster": xstatic.pkg.leaflet_markercluster,
}
YEAR = 365 * 24 * 3600
APP_FILES = ("app.css", "app.js", "icon.svg")


@bp.get("/static/vendor/<package>/<version>/<path:filename>")
def vendor(package: str, version: str, filename: str) -> Response:
    """A vendored file; the version is in the URL, so it may be cached for a year."""
    module = VENDOR.get(package)
    if module is None or version != module.VERSION:
        abort(404)
    response = send_from_directory(module.BASE_DIR, filename, max_age=YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def vendor_url(package: str, filename: str) -> str:
    return url_for(
        "web.vendor", package=package, version=VENDOR[package].VERSION, filename=filename
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
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """The URL of an app static file with its content hash, so a changed file is fetched
    again and the service worker sees a new shell."""
    folder = current_app.static_folder
    assert folder is not None
    path = Path(folder) / filename
    return url_for("static", filename=filename, v=_digest(str(path), path.stat().st_mtime_ns))


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
    )
    response = Response(body, mimetype="text/javascript")
    # Served from the root so that it may control every page; the header says so
    # explicitly in case it is ever served from a sub-path.
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    t = messages()
    body = {
        "name": t["app_name"],
        "short_name": t["app_name"],
        "description": t["tagline"],
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
