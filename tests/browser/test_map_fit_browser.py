"""The map on a phone opens on every station (none hidden beyond the edges), the
locator's map centres on the courier, and without JavaScript /map lists the stations.

The map is drawn after the page's first paint, once Leaflet has come (web/maps.py): the
tests wait for `window.stationfinderMap` rather than for the page's load event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from shipped_areas import STREET_NAMES

from stationfinder.core.text import natural_key
from stationfinder.db import get_db
from stationfinder.registry import stations as registry

pytestmark = pytest.mark.browser

MAP_DRAWN = "() => !!window.stationfinderMap"

# Every station the map holds (inside its marker cluster, or on the map), and whether its
# point, and the marker or cluster icon drawn for it, lie inside what the phone shows.
OUTSIDE = """() => {
  const map = window.stationfinderMap;
  const view = map.getBounds();
  const rect = map.getContainer().getBoundingClientRect();
  // What the phone shows without scrolling: the map's box, cut at the screen's edges.
  const box = {left: Math.max(rect.left, 0), top: Math.max(rect.top, 0),
               right: Math.min(rect.right, window.innerWidth),
               bottom: Math.min(rect.bottom, window.innerHeight)};
  const markers = [];
  map.eachLayer(layer => {
    if (layer.getAllChildMarkers === undefined && typeof layer.getLayers === "function"
        && layer._featureGroup) markers.push(...layer.getLayers());
  });
  const outside = markers.filter(m => !view.contains(m.getLatLng())).map(m => m.stationId);
  const icons = [...map.getContainer().querySelectorAll(".leaflet-marker-icon")];
  const cut = icons.filter(icon => {
    const r = icon.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    return x < box.left || x > box.right || y < box.top || y > box.bottom;
  }).length;
  const all = L.latLngBounds(markers.map(m => m.getLatLng()));
  const tightest = map.getBoundsZoom(all, false, L.point(56, 56));
  return {count: markers.length, outside: outside, icons: icons.length, cut: cut,
          zoom: map.getZoom(), tightest: tightest};
}"""


def _active(live_server: Any) -> list[Any]:
    with get_db(live_server.app).sessions() as session:
        return list(registry.active_stations(session))


def test_every_station_is_inside_the_phones_map_on_opening(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    stations = _active(live_server)
    page = open_context().new_page()
    page.goto(live_server.url + "/map")
    poll_until(page, "() => !!window.stationfinderMap && !!document.querySelector('[data-pins]')")
    seen = page.evaluate(OUTSIDE)
    assert seen["count"] == len(stations) > 100
    assert seen["outside"] == []
    assert seen["icons"] > 0 and seen["cut"] == 0
    # Not zoomed out further than it must: the closest zoom that shows them all.
    assert seen["zoom"] == seen["tightest"]


def test_a_filtered_map_opens_on_the_stations_that_match(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    haircut = [s for s in _active(live_server) if "haircut" in (s.amenities or [])]
    page = open_context().new_page()
    page.goto(live_server.url + "/map?amenity=haircut")
    poll_until(page, "() => !!window.stationfinderMap && !!document.querySelector('[data-pins]')")
    seen = page.evaluate(OUTSIDE)
    assert seen["count"] == len(haircut) > 1 and seen["outside"] == []
    assert seen["zoom"] == seen["tightest"] > 9  # closer than the whole district's


def test_the_locators_map_centres_on_the_courier(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    station = _active(live_server)[40]
    lat, lon = station.lat + 0.004, station.lon - 0.003  # a few hundred metres away
    context = open_context(
        geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"]
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    poll_until(page, MAP_DRAWN)
    opened = page.evaluate("window.stationfinderMap.getBounds().toBBoxString()")
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("station-card").first).to_be_visible()
    poll_until(page, f"() => window.stationfinderMap.getBounds().toBBoxString() !== {opened!r}")
    offset = page.evaluate(
        """() => {
          const map = window.stationfinderMap;
          const you = document.querySelector(".sf-you").getBoundingClientRect();
          const box = map.getContainer().getBoundingClientRect();
          return [you.left + you.width / 2 - (box.left + box.width / 2),
                  you.top + you.height / 2 - (box.top + box.height / 2)];
        }"""
    )
    assert abs(offset[0]) <= 3 and abs(offset[1]) <= 3, offset
    # The nearest results are on screen around the courier.
    assert page.evaluate(
        """() => [...document.querySelectorAll('.sf-pin')].slice(0, 5).every(pin => {
             const r = pin.getBoundingClientRect();
             const b = window.stationfinderMap.getContainer().getBoundingClientRect();
             const x = r.left + r.width / 2, y = r.top + r.height / 2;
             return x >= b.left && x <= b.right && y >= b.top && y <= b.bottom;
           })"""
    )


def test_the_locators_map_opens_on_every_station(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    stations = _active(live_server)
    page = open_context().new_page()
    page.goto(live_server.url + "/")
    poll_until(page, MAP_DRAWN)
    bounds = page.evaluate(
        "(() => { const b = window.stationfinderMap.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
    )
    slack = 0.01  # GCJ-02 tiles put each point within ~600 m of its WGS-84 place
    for s in stations:
        assert bounds[0] - slack <= s.lon <= bounds[2] + slack
        assert bounds[1] - slack <= s.lat <= bounds[3] + slack


def test_without_javascript_the_map_page_lists_every_station_by_subdistrict(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    stations = _active(live_server)
    page = open_context(java_script_enabled=False).new_page()
    page.goto(live_server.url + "/map")
    listing = page.get_by_test_id("map-list")
    expect(listing).to_be_visible()
    expect(listing.get_by_role("link")).to_have_count(len(stations))
    expect(page.locator(".map-box")).to_be_hidden()
    headings = listing.locator("h2").all_inner_texts()
    assert headings == [s for s in STREET_NAMES if any(x.street == s for x in stations)]
    first = sorted(
        (s for s in stations if s.street == headings[0]), key=lambda s: natural_key(s.name)
    )
    names = listing.locator("ul").first.get_by_role("link").all_inner_texts()
    assert names == [s.name for s in first]
    listing.get_by_role("link", name=first[0].name, exact=True).click()
    expect(page.get_by_test_id("station-name")).to_have_text(first[0].name)


def test_the_map_page_centres_on_a_courier_whose_phone_shares_the_position(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    station = _active(live_server)[7]
    context = open_context(
        geolocation={"latitude": station.lat, "longitude": station.lon},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.goto(live_server.url + "/map")
    poll_until(page, MAP_DRAWN)
    poll_until(
        page, "() => window.stationfinderMap.getContainer().dataset.centredOnCourier === '1'"
    )
    poll_until(
        page,
        """() => {
          const you = document.querySelector(".sf-you").getBoundingClientRect();
          const box = window.stationfinderMap.getContainer().getBoundingClientRect();
          return Math.abs(you.left + you.width / 2 - (box.left + box.width / 2)) <= 3
              && Math.abs(you.top + you.height / 2 - (box.top + box.height / 2)) <= 3;
        }""",
    )


def test_the_map_page_never_asks_for_the_position(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    page = open_context().new_page()  # permission not granted: no prompt, no marker
    page.goto(live_server.url + "/map")
    poll_until(page, "() => !!document.querySelector('.leaflet-marker-icon')")
    asked = page.evaluate("navigator.permissions.query({name: 'geolocation'}).then(s => s.state)")
    assert asked == "prompt"
    assert page.locator(".sf-you").count() == 0
