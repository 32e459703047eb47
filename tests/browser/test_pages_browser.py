"""The station page, the map of every station, and the locator with no network."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from stationfinder.core import hours
from stationfinder.db import session_scope
from stationfinder.registry import stations as registry

pytestmark = pytest.mark.browser

COURIER = {"latitude": 30.3062, "longitude": 120.3227}


def _station_with_hours_and_phone(server: Any) -> str:
    with session_scope(server.app) as session:
        for station in registry.active_stations(session):
            if station.opening_hours and station.phone:
                return station.id
    raise AssertionError("the sample data has a station with hours and a phone")


def test_station_page_shows_hours_and_confirms_once(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    station_id = _station_with_hours_and_phone(live_server)
    page = open_context().new_page()
    page.goto(f"{live_server.url}/stations/{station_id}")
    expect(page.get_by_test_id("today")).not_to_be_empty()
    page.locator("details.week summary").click()
    expect(page.get_by_test_id("week").locator("li")).to_have_count(7)
    expect(page.get_by_test_id("call")).to_have_attribute("href", re.compile(r"^tel:\+?\d+$"))
    expect(page.get_by_test_id("last-confirmed")).to_have_text("尚未有人确认信息")
    page.screenshot(path="/tmp/stationfinder-station-phone.png", full_page=True)

    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("confirm-result")).to_have_text("谢谢！已记录")
    expect(page.get_by_test_id("last-confirmed")).to_contain_text("最后确认于 ")
    with session_scope(live_server.app) as session:
        assert registry.get_station(session, station_id).last_confirmed_at is not None

    page.reload()  # the same phone, later the same day
    expect(page.get_by_test_id("last-confirmed")).to_contain_text("最后确认于 ")
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("confirm-result")).to_have_text("你今天已确认过这个站点")


def test_station_page_words_match_the_hours_module(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    station_id = _station_with_hours_and_phone(live_server)
    with session_scope(live_server.app) as session:
        expression = registry.get_station(session, station_id).opening_hours
    page = open_context().new_page()
    page.goto(f"{live_server.url}/stations/{station_id}")
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    expect(page.get_by_test_id("today")).to_have_text(hours.today_in_words(expression, now, "zh"))


def test_map_shows_every_station_in_clusters(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    page = open_context().new_page()
    page.goto(f"{live_server.url}/map")
    expect(page.locator(".marker-cluster").first).to_be_visible()
    # Every pin has arrived (they are added a slice at a time) ...
    expect(page.locator("[data-pins]")).to_have_count(1)
    # ... and the cluster group holds each (clusters hide them until zoomed in).
    total = page.evaluate(
        """() => { let group = null;
               window.stationfinderMap.eachLayer(
                   l => { if (l.getLayers && l._featureGroup) group = l; });
               return group.getLayers().length; }"""
    )
    with session_scope(live_server.app) as session:
        assert total == len(registry.active_stations(session))
    page.screenshot(path="/tmp/stationfinder-map-phone.png")
    page.get_by_test_id("amenity").select_option("battery_swap")
    page.wait_for_url("**/map?**amenity=battery_swap**")
    expect(page.get_by_test_id("count")).to_contain_text("个站点")


def test_second_visit_without_network_still_lists_stations(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    page.goto(live_server.url + "/")
    # Poll, with a deadline, until the service worker controls the page and holds the
    # shell and the registry copy. (wait_for_function does not await a promise.)
    poll_until(
        page,
        """async () => !!navigator.serviceWorker.controller
             && !!(await caches.match('/'))
             && !!(await caches.match('/api/v1/stations'))""",
    )
    online = live_server.app.test_client().get(
        "/api/v1/stations/nearest",
        query_string={"lat": COURIER["latitude"], "lon": COURIER["longitude"], "k": 1},
    )
    nearest_id = online.get_json()["features"][0]["id"]

    context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("locate")).to_be_visible()
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("offline-note")).to_be_visible()
    expect(page.get_by_test_id("offline-note")).to_contain_text("离线数据，更新于")
    cards = page.get_by_test_id("station-card")
    expect(cards.first).to_have_attribute("data-station-id", nearest_id)
    expect(cards).to_have_count(10)
    # Hours are worked out offline from the server's spans: the state the API gives
    # (tests/browser/test_offline_hours_browser.py compares every card's words).
    state = {True: "open", False: "closed", None: "unknown"}[
        online.get_json()["features"][0]["properties"]["open_now"]
    ]
    expect(cards.first.locator(f".badge-{state}")).to_have_count(1)
    page.screenshot(path="/tmp/stationfinder-offline-phone.png", full_page=True)


def test_a_registry_too_large_for_one_page_loads_what_is_in_view(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    live_server.app.config["MAP_INLINE_MAX"] = 10  # as if the registry were national
    page = open_context().new_page()
    page.goto(f"{live_server.url}/map")
    expect(page.get_by_test_id("map-hint")).to_be_visible()  # counts, not pins
    poll_until(page, "() => document.querySelectorAll('.sf-cluster[data-count]').length > 0")
    counts = page.eval_on_selector_all(".sf-cluster", "els => els.map(e => +e.dataset.count)")
    total = int(page.locator("[data-in-view-total]").get_attribute("data-in-view-total") or 0)
    assert total > 10 and sum(counts) == total
    assert page.locator(".sf-pin").count() == 0
    page.screenshot(path="/tmp/stationfinder-map-in-view-clusters.png")

    # Tapping counts zooms in until the stations show one by one.
    for _ in range(6):
        if page.locator(".sf-pin").count():
            break
        # The biggest count wholly on screen (the view is padded, some lie beyond it).
        pick = page.evaluate(
            """() => { const box = window.stationfinderMap.getContainer().getBoundingClientRect();
                let best = -1, most = 0;
                document.querySelectorAll('.sf-cluster').forEach((e, i) => {
                    const r = e.getBoundingClientRect();
                    const inside = r.left >= box.left && r.right <= box.right
                        && r.top >= box.top && r.bottom <= box.bottom;
                    if (inside && +e.dataset.count > most) { most = +e.dataset.count; best = i; }
                });
                return best; }"""
        )
        assert pick >= 0
        page.locator(".sf-cluster").nth(pick).click()
        page.wait_for_timeout(600)
        poll_until(page, "() => !!document.querySelector('.sf-cluster, .sf-pin')")
    assert page.locator(".sf-pin").count() > 0
    expect(page.get_by_test_id("map-hint")).to_be_hidden()
    page.locator(".sf-pin").first.click()
    link = page.locator(".sf-popup a.sf-popup-name")
    expect(link).to_be_visible()
    station_id = page.locator(".sf-popup").get_attribute("data-station-id")
    assert link.get_attribute("href") == f"/stations/{station_id}"
    page.screenshot(path="/tmp/stationfinder-map-in-view-pins.png")


def test_the_map_opened_once_online_still_shows_its_pins_offline(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    """/map's pins are fetched by its script, not carried in the page: the service worker
    keeps the answer with the page, so a map opened once online draws them offline."""
    context = open_context()
    page = context.new_page()
    page.goto(live_server.url + "/")
    poll_until(page, "async () => !!navigator.serviceWorker.controller")
    page.goto(live_server.url + "/map?amenity=toilet")
    poll_until(page, "() => +(document.querySelector('[data-pins]')?.dataset.pins || 0) > 0")
    online = int(page.locator("[data-pins]").get_attribute("data-pins"))
    poll_until(
        page,
        """async () => { for (const name of await caches.keys()) {
               const cache = await caches.open(name);
               for (const r of await cache.keys()) {
                   if (r.url.includes('/map/pins.json')) return true;
               }
           } return false; }""",
    )
    with session_scope(live_server.app) as session:
        toilets = [s for s in registry.active_stations(session) if "toilet" in (s.amenities or [])]
    assert online == len(toilets) > 0

    context.set_offline(True)
    page.reload()
    poll_until(page, "() => +(document.querySelector('[data-pins]')?.dataset.pins || 0) > 0")
    assert int(page.locator("[data-pins]").get_attribute("data-pins")) == online
    expect(page.locator(".marker-cluster, .sf-pin").first).to_be_visible()
