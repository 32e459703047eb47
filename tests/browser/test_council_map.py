"""Raising a council issue with a pin on the map, in Debian's Chromium: the tap's position
reaches the form in WGS-84 (the Amap tiles are GCJ-02), the issue's page shows the place
where it was pinned, "use my position" moves the pin, the English page says it in English,
and nothing breaks the Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from stationfinder.db import session_scope
from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point
from stationfinder.models import CouncilIssue

pytestmark = pytest.mark.browser

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""
# Polled with page.evaluate (poll_until): wait_for_function's polling evaluates strings
# in the page, which the policy refuses ('unsafe-eval').
MAP_READY = (
    "!!(window.stationfinderCouncilMap"
    " && document.querySelector('[data-testid={0}] .leaflet-tile'))"
)
CATCH_TAP = """() => window.stationfinderCouncilMap.once("click", e => {
  window.__tap = [e.containerPoint.x, e.containerPoint.y];
})"""
CONTAINER_TO_LONLAT = """([x, y]) => {
  const ll = window.stationfinderCouncilMap.containerPointToLatLng([x, y]);
  return [ll.lng, ll.lat];
}"""
MARKERS = """() => {
  const found = [];
  window.stationfinderCouncilMap.eachLayer(layer => {
    if (layer instanceof L.Marker) found.push([layer.getLatLng().lng, layer.getLatLng().lat]);
  });
  return found;
}"""
ZOOM = 15  # close enough that a tap lands in one subdistrict
TAP = (232, 97)  # a pixel off the map's centre (the district centre, in 河庄街道)
SIXTH_DECIMAL = 1.01e-6  # the form carries six decimals


def _page(open_context: Any, **options: Any) -> Any:
    context = open_context(**options)
    context.add_init_script(LISTEN)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.refused = refused
    return page


def _no_violation(page: Any, where: str) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("window.__csp") == [], where
    assert page.refused == [], where


def _form_point(page: Any) -> tuple[float, float]:
    lon = page.get_by_test_id("lon").input_value()
    lat = page.get_by_test_id("lat").input_value()
    return float(lon), float(lat)


def test_a_pin_fills_the_form_in_wgs84_and_the_issue_shows_it(
    live_server: Any, open_context: Any, poll_until: Any
) -> None:
    page = _page(open_context)
    page.goto(f"{live_server.url}/council/new")
    poll_until(page, MAP_READY.format("pick-map"))
    page.evaluate(f"window.stationfinderCouncilMap.setZoom({ZOOM}, {{animate: false}})")
    poll_until(page, f"window.stationfinderCouncilMap.getZoom() === {ZOOM}")

    page.evaluate(CATCH_TAP)
    page.get_by_test_id("pick-map").click(position={"x": TAP[0], "y": TAP[1]})
    page.get_by_test_id("place-status").filter(has_text="已在地图上选点").wait_for()
    # Chromium delivers the tap at whole CSS pixels of the page, and the map's top may
    # sit at a fraction of one: the map saw the pixel within one of the one aimed at.
    tapped = page.evaluate("window.__tap")
    assert abs(tapped[0] - TAP[0]) <= 1 and abs(tapped[1] - TAP[1]) <= 1
    shown = page.evaluate(CONTAINER_TO_LONLAT, tapped)  # GCJ-02, as the tiles are

    expected = crs.to_wgs84(Point(shown[0], shown[1], CRS.GCJ02))
    lon, lat = _form_point(page)
    assert abs(lon - expected.lon) < SIXTH_DECIMAL and abs(lat - expected.lat) < SIXTH_DECIMAL
    # The GCJ-02 offset here is about 500 m: a form filled with the map's own
    # coordinates would be far off.
    assert abs(lon - shown[0]) > 0.003
    assert page.evaluate(MARKERS) == [pytest.approx(shown, abs=1e-9)]
    _no_violation(page, "/council/new")

    page.fill("#title", "路口没有遮阳的地方")
    page.select_option("#category", "safety")
    page.fill("#description", "中午等单的时候太晒了。")
    page.get_by_test_id("raise-send").click()
    page.get_by_test_id("raised").wait_for()
    with session_scope(live_server.app) as session:
        issue = session.scalars(select(CouncilIssue)).one()
        stored = Point(issue.lon, issue.lat)
        assert issue.street == "河庄街道"
    # Kept only to the public ~100 m grid (geo/point.py coarse): a courier's own position.
    assert (stored.lon, stored.lat) == (round(lon, 3), round(lat, 3))

    poll_until(page, MAP_READY.format("place-map"))
    page.locator("[data-testid=place-map] .leaflet-marker-icon").wait_for()
    drawn = crs.from_wgs84(stored, CRS.GCJ02)
    assert page.evaluate(MARKERS) == [pytest.approx([drawn.lon, drawn.lat], abs=1e-9)]
    _no_violation(page, "the issue's page")


def test_my_position_moves_the_pin_and_english_says_so(
    live_server: Any, open_context: Any, poll_until: Any
) -> None:
    here = Point(120.3512, 30.3108)  # WGS-84, as a phone's GPS gives it
    page = _page(
        open_context,
        geolocation={"latitude": here.lat, "longitude": here.lon},
        permissions=["geolocation"],
    )
    page.goto(f"{live_server.url}/council/new?lang=en")
    poll_until(page, MAP_READY.format("pick-map"))
    assert page.locator("legend").inner_text() == "Place (optional)"
    assert page.get_by_text("Or tap the map to drop a pin").is_visible()

    page.get_by_role("button", name="Use my position").click()
    page.get_by_test_id("place-status").filter(has_text="Position found").wait_for()
    assert _form_point(page) == (here.lon, here.lat)  # no conversion: it is WGS-84
    drawn = crs.from_wgs84(here, CRS.GCJ02)
    assert page.evaluate(MARKERS) == [pytest.approx([drawn.lon, drawn.lat], abs=1e-9)]

    page.get_by_test_id("pick-map").click(position={"x": 60, "y": 60})
    page.get_by_test_id("place-status").filter(has_text="Pin dropped on the map").wait_for()
    assert _form_point(page) != (here.lon, here.lat)
    page.get_by_role("button", name="Clear the position").click()
    assert _form_point_text(page) == ("", "")
    assert page.evaluate(MARKERS) == []
    _no_violation(page, "/council/new?lang=en")


def _form_point_text(page: Any) -> tuple[str, str]:
    return page.get_by_test_id("lon").input_value(), page.get_by_test_id("lat").input_value()


def test_the_pages_inverse_agrees_with_the_servers(
    live_server: Any, open_context: Any, poll_until: Any
) -> None:
    """coords.js's GCJ-02 -> WGS-84 against geo/crs.py's, over the district and beyond
    (outside the GCJ-02 box both leave a point as it is), within the centimetre that
    geo/crs.py promises (1e-7 degrees; the two stop iterating at different steps)."""
    points = [[120.20 + 0.035 * i, 30.18 + 0.03 * j] for i in range(10) for j in range(8)] + [
        [2.35, 48.85],
        [-74.0, 40.7],
    ]
    page = _page(open_context)
    page.goto(f"{live_server.url}/council/new")
    poll_until(page, "!!window.sfCoords")
    seen = page.evaluate("ps => ps.map(p => window.sfCoords.gcj2wgs(p[0], p[1]))", points)
    for (lon, lat), (js_lon, js_lat) in zip(points, seen, strict=True):
        wgs = crs.to_wgs84(Point(lon, lat, CRS.GCJ02))
        assert abs(js_lon - wgs.lon) < 1e-7 and abs(js_lat - wgs.lat) < 1e-7, (lon, lat)
