"""The pages do not move under a courier's thumb while they load.

The locate button used to be sent hidden and revealed by app.js, which pushed the whole
form 72 px down after the first paint (Lighthouse: cumulative layout shift 0.067): a
courier reaching for the place field hit whatever slid under the finger. The button is
now in the first paint (hidden by a <noscript> style when there is no script to run it).
The council's raise form had the same fault (council.js revealed "use my position" and
the pick-map, moving the privacy note and the station choice down: 0.054) and the same
fix. The maps are drawn after the first paint (Leaflet comes later, web/maps.py), into a
box the page has already laid out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# Runs before any page script: adds up the layout shifts not caused by input, as
# Lighthouse and the Web Vitals do, and says what moved.
RECORD_SHIFTS = """
window.__cls = {total: 0, moved: []};
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (shift) {
    if (shift.hadRecentInput) return;
    window.__cls.total += shift.value;
    shift.sources.forEach(function (s) {
      window.__cls.moved.push(s.node ? s.node.nodeName + "." + s.node.className : "?");
    });
  });
}).observe({type: "layout-shift", buffered: true});
"""
MAP_DRAWN = (
    "() => !!((window.stationfinderMap || window.stationfinderCouncilMap)"
    " && document.querySelector('.leaflet-tile-loaded'))"
)
SHIFT_LIMIT = 0.01  # Lighthouse's target is 0; "good" in the Web Vitals is ≤ 0.1


def _station_path(live_server: Any) -> str:
    client = live_server.app.test_client()
    return f"/stations/{client.get('/api/v1/stations').get_json()['features'][0]['id']}"


@pytest.mark.parametrize(
    "path",
    ["/", "/nearest?lat=30.3051&lon=120.3181", "STATION", "/map", "/council/new"],
)
def test_nothing_moves_while_the_page_and_its_map_load(
    open_context: Callable[..., Any],
    live_server: Any,
    poll_until: Callable[..., None],
    path: str,
) -> None:
    if path == "STATION":
        path = _station_path(live_server)
    context = open_context(has_touch=True, is_mobile=True)
    context.add_init_script(RECORD_SHIFTS)
    page = context.new_page()
    page.goto(f"{live_server.url}{path}")
    poll_until(page, MAP_DRAWN)
    page.wait_for_load_state("networkidle")
    shifts = page.evaluate("window.__cls")
    assert shifts["total"] < SHIFT_LIMIT, shifts


@pytest.mark.parametrize("path", ["/", "/nearest?lat=30.3051&lon=120.3181"])
def test_the_locate_button_is_laid_out_before_app_js_runs(
    open_context: Callable[..., Any], live_server: Any, path: str
) -> None:
    """Where the button is before app.js arrives (held back here: an empty script) is
    where it stays after: nothing above the form moves once the page has painted."""
    context = open_context(has_touch=True, is_mobile=True)
    page = context.new_page()
    page.route(
        "**/assets/app.js*",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=""),
    )
    page.goto(f"{live_server.url}{path}")
    before_script = {
        "button": page.get_by_test_id("locate").bounding_box(),
        "form": page.get_by_test_id("finder").bounding_box(),
    }
    assert before_script["button"] is not None, "the locate button waits for app.js"

    page = context.new_page()
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    with_script = {
        "button": page.get_by_test_id("locate").bounding_box(),
        "form": page.get_by_test_id("finder").bounding_box(),
    }
    assert with_script == before_script


def test_the_raise_forms_place_is_laid_out_before_council_js_runs(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    """The "use my position" button and the pick-map take their room in the first paint: with
    council.js held back, the privacy note and the station choice are where they stay
    once it has run and drawn the map."""

    def places(page: Any) -> dict[str, Any]:
        return {
            "locate": page.locator("[data-locate]").bounding_box(),
            "privacy": page.get_by_test_id("place-privacy").bounding_box(),
            "map": page.get_by_test_id("pick-map").bounding_box(),
            "station": page.locator("#station_id").bounding_box(),
        }

    context = open_context(
        has_touch=True, is_mobile=True, geolocation={"latitude": 30.31, "longitude": 120.35}
    )
    page = context.new_page()
    page.route(
        "**/assets/council/council.js*",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=""),
    )
    page.goto(f"{live_server.url}/council/new")
    before_script = places(page)
    assert before_script["locate"] is not None and before_script["map"] is not None

    page = context.new_page()
    page.goto(f"{live_server.url}/council/new")
    poll_until(page, MAP_DRAWN)
    assert places(page) == before_script


def test_without_script_the_raise_form_hides_what_it_cannot_do(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    page = open_context(java_script_enabled=False).new_page()
    page.goto(f"{live_server.url}/council/new")
    assert page.get_by_test_id("place-privacy").is_visible()
    assert not page.locator("[data-locate]").is_visible()
    assert not page.get_by_test_id("pick-map").is_visible()
    assert page.locator("#station_id").is_visible()
