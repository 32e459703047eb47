"""The coverage map (/staff/coverage) and its figures as CSV (/staff/coverage.csv).

The map is a folium map with the app's own Leaflet (maps.base_map): subdistrict
outlines, each mode's 15-minute reach, and the largest places out of reach. Geometry is
converted vertex by vertex into the tiles' system (GCJ-02 for Amap tiles) and reaches
the browser as JSON; labels are set with textContent, never parsed as HTML.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from branca.element import MacroElement
from flask import Response, current_app, render_template, request
from flask_babel import gettext
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from stationfinder.core.text import N_
from stationfinder.db import get_session
from stationfinder.geo import coverage
from stationfinder.geo.point import Point
from stationfinder.registry import stations as registry
from stationfinder.web import maps
from stationfinder.web.assets import vendor_assets
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.staff import bp, no_store

SIMPLIFY_DEGREES = 0.00005  # about 5 m: invisible at district zoom, a fraction of the bytes
# The map's own words (tooltips and layer names are data for Leaflet, not template text).
MODE_LABELS = {"walk": N_("on foot"), "ride": N_("by e-bike")}


def _district() -> str:
    """The district shown: `?district=`, else the staff member's own, else the first."""
    areas = current_areas()
    asked = areas.district(request.args.get("district") or None)
    if asked is not None:
        return asked.code
    staff = current_staff()
    if staff is not None and staff.district and areas.district(staff.district):
        return staff.district
    own = areas.district_of(staff.street) if staff is not None and staff.street else None
    return own.code if own is not None else areas.districts()[0].code


def _report() -> coverage.Coverage:
    session = get_session()
    stations = registry.active_stations(session)
    session.commit()
    config = current_app.config
    return coverage.coverage(
        current_areas(),
        [coverage.Site(s.id, Point(s.lon, s.lat), s.street) for s in stations if s.active],
        walk_kmh=config["WALK_SPEED_KMH"],
        ride_kmh=config["RIDE_SPEED_KMH"],
        district=_district(),
    )


def _on_tiles(geometry: BaseGeometry, tiles: maps.Tiles) -> dict[str, Any]:
    """GeoJSON geometry in the tiles' system, coordinates rounded to about 10 cm."""
    simple = geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True)

    def place(xy: np.ndarray) -> np.ndarray:
        placed = [tiles.place(Point(float(x), float(y))) for x, y in xy]
        return np.array([[round(p.lon, 6), round(p.lat, 6)] for p in placed]).reshape(-1, 2)

    return _lists(mapping(shapely.transform(simple, place)))


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


class CoverageLayers(MacroElement):
    """Outlines, reach and gaps as Leaflet GeoJSON layers with a layer switcher."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var data = {{ this.data_json }};
            var label = function (text) {
                var el = document.createElement("span");
                el.textContent = text;
                return el;
            };
            var layer = function (features, style) {
                return L.geoJSON({type: "FeatureCollection", features: features}, {
                    style: style,
                    onEachFeature: function (feature, shape) {
                        if (feature.properties.label) {
                            shape.bindTooltip(label(feature.properties.label), {sticky: true});
                        }
                    },
                });
            };
            var overlays = {};
            data.layers.forEach(function (item) {
                var group = layer(item.features, item.style);
                overlays[item.name] = group;
                if (item.shown) { group.addTo(map); }
            });
            L.control.layers(null, overlays, {collapsed: false}).addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layers: list[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "CoverageLayers"
        self.data_json = htmlsafe_json_dumps({"layers": layers}, ensure_ascii=False)


def _feature(geometry: dict[str, Any], label: str | None) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"label": label}}


def coverage_map(report: coverage.Coverage) -> maps.MapParts:
    tiles = maps.Tiles.from_config(current_app.config)
    areas = current_areas()
    fmap = maps.base_map(tiles, vendor_assets())
    walk_m, ride_m = round(report.reach_m["walk"]), round(report.reach_m["ride"])
    outlines = [
        _feature(
            _on_tiles(areas.outline(item.name), tiles),
            gettext(
                "%(name)s: on foot %(walk)s · by e-bike %(ride)s",
                name=item.name,
                walk=format(item.walk_share, ".0%"),
                ride=format(item.ride_share, ".0%"),
            ),
        )
        for item in report.subdistricts
    ]
    gaps = [
        _feature(
            _on_tiles(gap.outline, tiles),
            gettext(
                "%(name)s uncovered %(area)s km² (%(mode)s)",
                name=item.name,
                area=format(gap.area_km2, ".1f"),
                mode=gettext(MODE_LABELS[gap.mode]),
            ),
        )
        for item in report.subdistricts
        for mode in coverage.MODES
        for gap in item.gaps[mode][:3]
    ]
    spots = [
        _feature(
            _on_tiles(shapely.Point(g.point.lon, g.point.lat).buffer(0.0012), tiles),
            gettext(
                "candidate: %(lon)s, %(lat)s (WGS-84)",
                lon=format(g.point.lon, ".5f"),
                lat=format(g.point.lat, ".5f"),
            ),
        )
        for item in report.subdistricts
        for g in item.gaps["ride"][:3] + item.gaps["walk"][:1]
    ]
    layers = [
        {
            "name": gettext(
                "15 min %(mode)s (%(m)s m)", mode=gettext(MODE_LABELS["ride"]), m=ride_m
            ),
            "features": [_feature(_on_tiles(report.reach["ride"], tiles), None)],
            "style": {"color": "#1f77b4", "weight": 0, "fillOpacity": 0.15},
            "shown": True,
        },
        {
            "name": gettext(
                "15 min %(mode)s (%(m)s m)", mode=gettext(MODE_LABELS["walk"]), m=walk_m
            ),
            "features": [_feature(_on_tiles(report.reach["walk"], tiles), None)],
            "style": {"color": "#2ca02c", "weight": 0, "fillOpacity": 0.3},
            "shown": True,
        },
        {
            "name": gettext("subdistricts"),
            "features": outlines,
            "style": {"color": "#333", "weight": 2, "fill": True, "fillOpacity": 0},
            "shown": True,
        },
        {
            "name": gettext("gaps"),
            "features": gaps,
            "style": {"color": "#c8102e", "weight": 2, "dashArray": "4 4", "fillOpacity": 0.1},
            "shown": False,
        },
        {
            "name": gettext("candidates"),
            "features": spots,
            "style": {"color": "#c8102e", "weight": 3, "fillColor": "#c8102e", "fillOpacity": 0.6},
            "shown": True,
        },
    ]
    CoverageLayers(layers).add_to(fmap)
    maps.MapHandle().add_to(fmap)
    return maps.render(fmap)


@bp.get("/coverage")
@staff_required()
def coverage_page() -> Response:
    report = _report()
    html = render_template(
        "staff/coverage.html",
        report=report,
        rows=[coverage.figures_row(item) for item in [*report.subdistricts, report.district]],
        districts=current_areas().districts(),
        map=coverage_map(report),
        walk_kmh=current_app.config["WALK_SPEED_KMH"],
        ride_kmh=current_app.config["RIDE_SPEED_KMH"],
    )
    return no_store(current_app.make_response(html))


@bp.get("/coverage.csv")
@staff_required()
def coverage_csv() -> Response:
    body = coverage.coverage_csv(_report(), english=request.args.get("headers") == "en")
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="coverage.csv"'
    return no_store(response)
