"""Folium maps whose every script and style sheet is served by the app itself.

folium links Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs by default;
those are slow or blocked in mainland China and cost a courier's data. Each map here
links only the app's own copies of Leaflet and Leaflet.markercluster (the XStatic
packages, served under /static/vendor/), so the only outside requests a page makes are
map tiles, from the configured tile server.

Leaflet comes after the page's first paint: `render` turns folium's <script>/<link>
tags into a list the map's own script loads once the page's text is on the screen, and
folium's code that draws the map into a function run when they have arrived (Leaflet is
40 KB compressed and ~160 ms of script on a phone; the station's name, the cards and the
forms need none of it). The page's script finds the map as `window.stationfinderMap`,
or waits for the `stationfinder:map` event on `document`.

Markers are drawn in the tiles' coordinate system: GCJ-02 for Amap or Tencent tiles,
WGS-84 for OpenStreetMap tiles. Station data reaches the browser as JSON and popups are
built with DOM text nodes, so nothing staff typed is ever parsed as HTML. Flask-free:
the web layer passes in the asset URLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
from branca.element import CssLink, JavascriptLink, MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from stationfinder.geo import crs
from stationfinder.geo.map_view import Box
from stationfinder.geo.point import CRS, Point

DISTRICT_CENTRE = Point(120.45, 30.30)  # between Xiasha and Dajiangdong
DISTRICT_ZOOM = 11  # only where there is nothing to fit: on a phone it hides a third
# A fitted map keeps half a 48 px pin clear of each edge, and never zooms in past a street.
FIT_PADDING_PX = (28, 28)
FIT_MAX_ZOOM = 16
GCJ_SLACK_DEG = 0.001


@dataclass(frozen=True, slots=True)
class Tiles:
    url: str
    crs: CRS  # the system the tiles are drawn in; markers are converted to it
    subdomains: str
    attribution: str
    max_zoom: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Tiles:
        return cls(
            url=config["TILE_URL"],
            crs=CRS(config["TILE_CRS"]),
            subdomains=config["TILE_SUBDOMAINS"],
            attribution=config["TILE_ATTRIBUTION"],
            max_zoom=float(config["TILE_MAX_ZOOM"]),
        )

    def place(self, point: Point) -> Point:
        """Where a WGS-84 point is drawn on these tiles."""
        return crs.from_wgs84(crs.to_wgs84(point), self.crs)

    def script_config(self) -> dict[str, Any]:
        """The tile layer as the pages' own scripts (staff and council maps) build it."""
        return {
            "tileUrl": self.url,
            "tileCrs": self.crs.value,
            "subdomains": self.subdomains,
            "attribution": self.attribution,
            "maxZoom": self.max_zoom,
        }


@dataclass(frozen=True, slots=True)
class VendorAssets:
    """URLs of the self-hosted Leaflet and Leaflet.markercluster files."""

    leaflet_js: str
    leaflet_css: str
    cluster_js: str
    cluster_css: str
    cluster_default_css: str


@dataclass(frozen=True, slots=True)
class MapParts:
    """A rendered map, in the three pieces a page template places."""

    name: str  # the Leaflet map's JavaScript variable (inside the drawing function)
    header: Markup  # what else folium puts in the head (nothing, for the maps made here)
    html: Markup  # the map's <div>
    script: Markup  # loads Leaflet after the first paint, then draws; must follow the div


@dataclass(frozen=True, slots=True)
class StationPin:
    """What a marker shows: already in the tiles' system, with the station page's URL."""

    id: str
    name: str
    kind: str
    address: str
    icons: str
    url: str
    position: Point

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "icons": self.icons,
            "url": self.url,
            "lat": round(self.position.lat, 6),
            "lon": round(self.position.lon, 6),
        }


class StationMarkers(MacroElement):
    """Station markers added to the parent layer (the map or a marker cluster): the pins
    given, or those fetched from ``source`` (a URL answering `StationPin.as_json` items).

    /map fetches its pins once Leaflet has come rather than carrying them: 158 pins were
    42 KB of the page's 78 (6 KB of 15 compressed), which pushed the page past the first
    round trip of a new connection and delayed its first paint on a slow link. The map's
    container says how many pins it holds (``data-pins``) and `stationfinder:pins` is
    dispatched on `document` once they are drawn.

    Leaflet's `title` and DOM `textContent` put names in as text, never as markup, and
    inline data is JSON escaped for a <script> element (`<`, `>`, `&`, `'` as \\u escapes).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var layer = {{ this._parent.get_name() }};
            var text = function (tag, cls, value) {
                var el = document.createElement(tag);
                el.className = cls;
                el.textContent = value;
                return el;
            };
            var marker = function (pin) {
                var m = L.marker([pin.lat, pin.lon], {
                    title: pin.name,
                    alt: pin.name,
                    icon: L.divIcon({className: "sf-pin", iconSize: [48, 48]}),
                });
                m.stationId = pin.id;
                m.bindPopup(function () {
                    var box = document.createElement("div");
                    box.className = "sf-popup";
                    box.setAttribute("data-station-id", pin.id);
                    var link = text("a", "sf-popup-name", pin.name);
                    link.href = pin.url;
                    box.appendChild(link);
                    box.appendChild(text("div", "sf-popup-kind", pin.kind));
                    box.appendChild(text("div", "sf-popup-address", pin.address));
                    box.appendChild(text("div", "sf-popup-icons", pin.icons));
                    return box;
                });
                return m;
            };
            // Markers are added a slice at a time, each in a task of its own: in one
            // task, 158 markers and their clusters held a phone's page for ~0.3 s, and
            // 40 at a time still ~0.1 s (Lighthouse, 4x slower CPU).
            var SLICE = 12;
            var draw = function (pins, from) {
                from = from || 0;
                var markers = pins.slice(from, from + SLICE).map(marker);
                // A cluster group takes a slice at once (one clustering pass per slice).
                if (layer.addLayers) layer.addLayers(markers);
                else markers.forEach(function (m) { layer.addLayer(m); });
                if (from + SLICE < pins.length) {
                    setTimeout(function () { draw(pins, from + SLICE); }, 0);
                    return;
                }
                var box = layer._map ? layer._map.getContainer() : null;
                if (box) box.setAttribute("data-pins", String(pins.length));
                document.dispatchEvent(new CustomEvent("stationfinder:pins"));
            };
            {% if this.source %}
            fetch({{ this.source_json }}, {headers: {"Accept": "application/json"}})
                .then(function (response) {
                    if (!response.ok) throw new Error("pins: " + response.status);
                    return response.json();
                })
                .then(function (body) { draw(body.pins); })
                .catch(function () {
                    document.dispatchEvent(new CustomEvent("stationfinder:pins-failed"));
                });
            {% else %}
            draw({{ this.data_json }});
            {% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, pins: Sequence[StationPin], source: str | None = None) -> None:
        super().__init__()
        self._name = "StationMarkers"
        self.source = source
        self.source_json = htmlsafe_json_dumps(source)
        self.data_json = htmlsafe_json_dumps([p.as_json() for p in pins], ensure_ascii=False)


class MapHandle(MacroElement):
    """Exposes the map to the page's own script as `window.stationfinderMap`, and says
    it is there with a `stationfinder:map` event (the map is drawn after the page's
    script has run, as a rule: see `render`)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        // Plain text, not a link: a 14 px link is a tap target no glove can hit.
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        // Metres and kilometres only: couriers here do not read feet and miles.
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        window.stationfinderMap = {{ this._parent.get_name() }};
        document.dispatchEvent(new CustomEvent("stationfinder:map"));
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MapHandle"


def base_map(
    tiles: Tiles, assets: VendorAssets, centre: Point = DISTRICT_CENTRE, zoom: int = DISTRICT_ZOOM
) -> folium.Map:
    """A map with the configured tiles and only Leaflet itself linked (self-hosted)."""
    at = tiles.place(centre)
    fmap = folium.Map(
        location=[at.lat, at.lon],
        zoom_start=zoom,
        tiles=None,
        max_zoom=tiles.max_zoom,
        control_scale=False,  # a metric-only scale is added by MapHandle
        prefer_canvas=False,
    )
    # Instance attributes shadow folium's class-level CDN lists: no jQuery, Bootstrap,
    # glyphicons, Font Awesome or awesome-markers.
    fmap.default_js = [("leaflet", assets.leaflet_js)]
    fmap.default_css = [("leaflet_css", assets.leaflet_css)]
    folium.TileLayer(
        tiles=tiles.url,
        attr=tiles.attribution,
        subdomains=tiles.subdomains,
        max_zoom=tiles.max_zoom,
        max_native_zoom=tiles.max_zoom,
        name="tiles",
    ).add_to(fmap)
    return fmap


def box_around(lons: Sequence[float], lats: Sequence[float]) -> Box | None:
    """The smallest WGS-84 box holding these points (None for none). The district lies
    far from the antimeridian, so plain minima and maxima do."""
    if len(lons) == 0:
        return None
    # NumPy's reductions: Python's min and max over 400,000 array items took ~45 ms.
    x, y = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    return Box(float(x.min()), float(y.min()), float(x.max()), float(y.max()))


def pins_box(pins: Sequence[StationPin]) -> Box | None:
    """The box of pins already placed on the tiles' system: exactly where they are drawn."""
    return box_around([p.position.lon for p in pins], [p.position.lat for p in pins])


def on_tiles(tiles: Tiles, box: Box) -> Box:
    """A WGS-84 box on the tiles' system. GCJ-02 shifts each point by its own few hundred
    metres, so the shifted corners can miss a station by up to ~20 m: the box grows by
    GCJ_SLACK_DEG (~100 m) on each side when the tiles are not WGS-84."""
    south_west = tiles.place(Point(box.west, box.south))
    north_east = tiles.place(Point(box.east, box.north))
    slack = 0.0 if tiles.crs is CRS.WGS84 else GCJ_SLACK_DEG
    return Box(
        south_west.lon - slack,
        south_west.lat - slack,
        north_east.lon + slack,
        north_east.lat + slack,
    )


def fit_to(fmap: folium.Map, box: Box) -> None:
    """Open the map on ``box`` (in the tiles' system) at the closest zoom that shows all
    of it, whatever the screen: a fixed centre and zoom hid a third of the district's
    stations on a 390 px phone. Leaflet's fitBounds runs when the map is made, without
    the zoom animation: the map is made after the page has painted, when Leaflet would
    animate, and the page's script may move the map at once (centreOnCourier)."""
    fit = folium.FitBounds(
        [[box.south, box.west], [box.north, box.east]],
        padding=FIT_PADDING_PX,
        max_zoom=FIT_MAX_ZOOM,
    )
    fit.options["animate"] = False
    fmap.add_child(fit)
    # No first view of its own (Leaflet sets none without a zoom): the map is drawn once,
    # at the fit, and asks for no tiles at a zoom it would leave in the same instant.
    fmap.options.pop("zoom", None)


def cluster(fmap: folium.Map, assets: VendorAssets) -> MarkerCluster:
    group = MarkerCluster(options={"showCoverageOnHover": False, "maxClusterRadius": 45})
    group.default_js = [("markerclusterjs", assets.cluster_js)]
    group.default_css = [
        ("markerclustercss", assets.cluster_css),
        ("markerclusterdefaultcss", assets.cluster_default_css),
    ]
    group.add_to(fmap)
    return group


def station_pins(
    features: Iterable[Mapping[str, Any]],
    tiles: Tiles,
    *,
    url_for_station: Any,
    icons_for: Any,
) -> list[StationPin]:
    """Pins for GeoJSON station features (WGS-84), placed on the tiles' system."""
    pins = []
    for feature in features:
        props = feature["properties"]
        paused = props.get("out_of_service") or {}
        lon, lat = feature["geometry"]["coordinates"]
        pins.append(
            StationPin(
                id=str(feature["id"]),
                name=props["name"],
                kind=props["kind"],
                address=props.get("address") or "",
                # What works now: a paused amenity is not advertised on the map either.
                icons=icons_for([a for a in props.get("amenities") or [] if a not in paused]),
                url=url_for_station(feature["id"]),
                position=tiles.place(Point(lon, lat)),
            )
        )
    return pins


def stations_map(
    pins: Sequence[StationPin],
    tiles: Tiles,
    assets: VendorAssets,
    *,
    clustered: bool = True,
    centre: Point = DISTRICT_CENTRE,
    zoom: int = DISTRICT_ZOOM,
    fit: Box | None = None,
    pins_url: str | None = None,
) -> folium.Map:
    """Every pin on one map, clustered when there are many; opened on ``fit`` (a box on
    the tiles' system, e.g. `pins_box(pins)`) if given, else at ``centre`` and ``zoom``.
    With ``pins_url`` the pins are fetched from it once the map is drawn, not carried."""
    fmap = base_map(tiles, assets, centre, zoom)
    if fit is not None:
        fit_to(fmap, fit)
    parent: Any = cluster(fmap, assets) if clustered else folium.FeatureGroup(name="stations")
    if not clustered:
        parent.add_to(fmap)
    StationMarkers(pins, source=pins_url).add_to(parent)
    MapHandle().add_to(fmap)
    return fmap


def courier_map(tiles: Tiles, assets: VendorAssets, fit: Box | None = None) -> folium.Map:
    """The locator's map: empty until the page's script draws the courier and stations
    (and centres on the courier); until then it shows ``fit`` (WGS-84), the stations'."""
    fmap = base_map(tiles, assets)
    if fit is not None:
        fit_to(fmap, on_tiles(tiles, fit))
    MapHandle().add_to(fmap)
    return fmap


# What `render` wraps folium's script in. The first paint is the paint timing API's
# first-contentful-paint (a browser without it: the next frame). A page hidden when it
# loads (a background tab) has no first paint to report, and loads the map at its load
# event; the 5 s after load are for a page that was hidden a moment and never reports
# one (headless Chromium's first paint can come over a second after load).
# Scripts inserted by a script run in the order inserted when `async` is false, so the
# plugins find Leaflet; the map is drawn once every file has come (or failed: without
# Leaflet there is no map, and the page works without one). Not strict mode: folium's
# code is not written for it.
_AFTER_FIRST_PAINT = Template(
    """
(function () {
    var styles = {{ styles }};
    var scripts = {{ scripts }};
    var first = {{ first }};
    function draw() {
        if (!window.L) return;
        {{ draw }}
    }
    var waiting = styles.length + scripts.length + first.length;
    function arrived() {
        waiting -= 1;
        // A task of its own: not inside the last script's load event.
        if (waiting === 0) setTimeout(draw, 0);
    }
    function add(src) {
        var script = document.createElement("script");
        script.src = src;
        script.async = false;  // in the order added: the page's scripts, then Leaflet's
        script.onload = script.onerror = arrived;
        document.head.appendChild(script);
    }
    var ran = false;
    function runFirst() {
        if (ran) return;
        if (document.readyState === "loading") {
            // The page's scripts read the whole page (its config comes after this script).
            document.addEventListener("DOMContentLoaded", runFirst);
            return;
        }
        ran = true;
        first.forEach(add);
    }
    var started = false;
    function load() {
        if (started) return;
        runFirst();
        if (!ran) {
            document.addEventListener("DOMContentLoaded", load);
            return;
        }
        started = true;
        styles.forEach(function (href) {
            var link = document.createElement("link");
            link.rel = "stylesheet";
            link.href = href;
            link.onload = link.onerror = arrived;
            document.head.appendChild(link);
        });
        scripts.forEach(add);
        if (waiting === 0) draw();
    }
    try {
        new PerformanceObserver(function (list, observer) {
            if (list.getEntriesByName("first-contentful-paint").length) {
                observer.disconnect();
                setTimeout(load, 0);
            }
        }).observe({type: "paint", buffered: true});
    } catch (e) {
        requestAnimationFrame(function () { setTimeout(load, 0); });
    }
    // The page's own scripts (the locate button's) wait for the first paint at most
    // FIRST_WAIT_MS after the document is parsed: a page that reports no paint (hidden,
    // or a headless browser, whose first paint can come over a second after load) must
    // not wait for it. Leaflet waits for the load event and 5 s more.
    document.addEventListener("DOMContentLoaded", function () {
        setTimeout(runFirst, document.visibilityState === "hidden" ? 0 : {{ first_wait_ms }});
    });
    if (document.readyState !== "loading") {
        setTimeout(runFirst, {{ first_wait_ms }});
    }
    window.addEventListener("load", function () {
        setTimeout(load, document.visibilityState === "hidden" ? 0 : 5000);
    });
})();
"""
)
# How long after the document is parsed the page's own scripts wait for a first paint.
FIRST_WAIT_MS = 300


def render(fmap: folium.Map, first: Sequence[str] = ()) -> MapParts:
    """Split a map into head, div and script, without folium's page-wide header bits.

    folium's own header sets a viewport that forbids zooming, makes <html> and <body>
    100 % high and positions the map absolutely; the page's style sheet does layout.
    Its <script> and <link> tags (Leaflet, the cluster plugin and their style sheets)
    are not put in the head either: the script loads them after the first paint.

    ``first`` are the page's own scripts: fetched from the start (a preload in the
    head), run as soon as the page has painted (at most FIRST_WAIT_MS after the document
    is parsed), before Leaflet. So their download still overlaps the page's, but the
    paint does not wait for them to run (app.js is 40 KB of script on a phone that may
    be old). A tap on the locate button before app.js runs is kept and answered when it
    does (templates/index.html).
    """
    root = fmap.get_root()
    root.render()
    for name in ("meta_http", fmap.get_name()):
        root.header._children.pop(name, None)
    styles, scripts = [], []
    for name, child in list(root.header._children.items()):
        if isinstance(child, CssLink):
            styles.append(child.url)
        elif isinstance(child, JavascriptLink):
            scripts.append(child.url)
        else:
            continue
        del root.header._children[name]
    script = _AFTER_FIRST_PAINT.render(
        styles=htmlsafe_json_dumps(styles),
        scripts=htmlsafe_json_dumps(scripts),
        first=htmlsafe_json_dumps(list(first)),
        first_wait_ms=FIRST_WAIT_MS,
        draw=Markup(root.script.render()),
    )
    preload = Markup("").join(
        Markup('<link rel="preload" as="script" href="{}">\n').format(url) for url in first
    )
    return MapParts(
        name=fmap.get_name(),
        header=preload + Markup(root.header.render()),
        html=Markup(root.html.render()),
        script=Markup(script),
    )
