"""The small Leaflet maps of the council's pages: pick the place of a new issue, show
the place of an issue.

The pages' script (static/council/council.js) draws them from a JSON config in a data-
attribute, so no inline script is needed. Points in the config are WGS-84, as stored;
the script converts them to the tiles' system (GCJ-02 for Amap) to draw them, and
converts a tapped point back to WGS-84 before it fills the form.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from stationfinder.geo.point import Point
from stationfinder.web.assets import vendor_assets
from stationfinder.web.maps import DISTRICT_CENTRE, DISTRICT_ZOOM, Tiles

POINT_ZOOM = 16  # a street corner on a phone


def map_config(point: Point | None) -> dict[str, Any]:
    """What council.js needs to draw a place map: tiles, where to look, the point."""
    tiles = Tiles.from_config(current_app.config)
    return {
        **tiles.script_config(),
        "centre": [DISTRICT_CENTRE.lon, DISTRICT_CENTRE.lat],
        "zoom": DISTRICT_ZOOM,
        "point": [point.lon, point.lat] if point else None,
        "pointZoom": POINT_ZOOM,
    }


def leaflet_urls() -> dict[str, str]:
    """The self-hosted Leaflet files (XStatic), never a CDN."""
    assets = vendor_assets()
    return {"js": assets.leaflet_js, "css": assets.leaflet_css}
