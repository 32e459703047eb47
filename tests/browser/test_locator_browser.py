"""A courier on a phone: locate, filter, fall back to the gazetteer, or use no script."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from geopy.distance import geodesic
from playwright.sync_api import expect
from polling import poll_until

from stationfinder.db import session_scope
from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point
from stationfinder.registry import stations as registry
from stationfinder.web.couriers.present import distance_text
from stationfinder.web.messages import script_text

pytestmark = pytest.mark.browser

COURIER = {"latitude": 30.3062, "longitude": 120.3227}  # east shore of Jinsha Lake
JINSHA_LAKE = {"lat": 30.305, "lon": 120.318}


def _brute_force_nearest(server: Any, lon: float, lat: float) -> tuple[str, float]:
    with session_scope(server.app) as session:
        stations = [(s.id, s.lon, s.lat) for s in registry.active_stations(session)]
    return min(
        ((sid, geodesic((lat, lon), (slat, slon)).meters) for sid, slon, slat in stations),
        key=lambda pair: pair[1],
    )


def _api_ids(server: Any, **query: Any) -> list[str]:
    body = server.app.test_client().get("/api/v1/stations/nearest", query_string=query).get_json()
    return [f["id"] for f in body["features"]]


def _wait_for_cards(page: Any, ids: list[str]) -> None:
    poll_until(
        page,
        """expected => Array.from(document.querySelectorAll('[data-testid=station-card]'))
            .map(e => e.dataset.stationId).join(',') === expected""",
        ",".join(ids),
    )


def test_locate_lists_the_true_nearest_first_with_its_distance(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_test_id("locate").click()
    cards = page.get_by_test_id("station-card")
    expect(cards.first).to_be_visible()
    nearest_id, metres = _brute_force_nearest(
        live_server, COURIER["longitude"], COURIER["latitude"]
    )
    expect(cards.first).to_have_attribute("data-station-id", nearest_id)
    expect(cards.first.get_by_test_id("distance")).to_have_text(
        distance_text(metres, script_text("zh"))
    )
    assert cards.count() == 10
    # The first card's navigation chooser offers the four map apps.
    cards.first.get_by_test_id("navigate").click()
    for app in ("amap", "baidu", "tencent", "apple"):
        expect(cards.first.locator(f"[data-app={app}]")).to_be_visible()
    page.screenshot(path="/tmp/stationfinder-locator-phone.png", full_page=True)


def test_amenity_chips_and_open_now_requery(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_test_id("locate").click()
    point = {"lat": COURIER["latitude"], "lon": COURIER["longitude"], "k": 10}
    _wait_for_cards(page, _api_ids(live_server, **point))

    page.locator("label.chip", has=page.get_by_test_id("chip-phone_charging")).click()
    page.locator("label.chip", has=page.get_by_test_id("chip-toilet")).click()
    amenities = ["phone_charging", "toilet"]
    expected = _api_ids(live_server, **point, amenity=amenities)
    _wait_for_cards(page, expected)
    for card in page.get_by_test_id("station-card").all():
        for code in amenities:
            expect(card.locator(f"[data-amenity={code}]")).to_have_count(1)

    page.locator("label.chip", has=page.get_by_test_id("open-now")).click()
    expected_open = _api_ids(live_server, **point, amenity=amenities, open_now="true")
    _wait_for_cards(page, expected_open)
    for card in page.get_by_test_id("station-card").all():
        expect(card.get_by_test_id("hours-badge")).to_have_class("badge badge-open")


def test_without_geolocation_the_gazetteer_finds_the_place(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    context = open_context()  # no permission: the phone refuses to say where it is
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("status")).to_contain_text("无法获取位置")
    page.get_by_test_id("place").fill("金沙湖")
    page.get_by_test_id("find").click()
    _wait_for_cards(page, _api_ids(live_server, **JINSHA_LAKE, k=10))
    expect(page.locator("#results-title")).to_have_text("附近：金沙湖")

    page.get_by_test_id("place").fill("")
    page.get_by_test_id("street").select_option("前进街道")
    first = page.get_by_test_id("station-card").first
    expect(first).to_have_attribute("data-station-id", _first_in_street(live_server, "前进街道"))


def _first_in_street(server: Any, street: str) -> str:
    centre = server.app.test_client().get("/places", query_string={"q": street}).get_json()
    place = centre["places"][0]
    return _api_ids(server, lat=place["lat"], lon=place["lon"], k=1)[0]


def test_without_script_the_form_gives_a_server_rendered_list(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    context = open_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    expect(page.get_by_test_id("locate")).to_be_hidden()  # it needs script
    page.get_by_test_id("place").fill("金沙湖")
    page.get_by_test_id("chip-drinking_water").check(force=True)
    page.get_by_test_id("find").click()
    page.wait_for_url("**/nearest?**")
    expected = _api_ids(live_server, **JINSHA_LAKE, k=10, amenity="drinking_water")
    ids = [c.get_attribute("data-station-id") for c in page.get_by_test_id("station-card").all()]
    assert ids == expected
    page.screenshot(path="/tmp/stationfinder-noscript-phone.png", full_page=True)


def test_english_page(open_context: Callable[..., Any], live_server: Any) -> None:
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    page.goto(live_server.url + "/?lang=en")
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("station-card").first).to_contain_text("min walk")
    page.goto(live_server.url + "/")  # the cookie keeps English
    expect(page.get_by_test_id("locate")).to_have_text("Find the nearest station")


def test_courier_marker_conversion_agrees_with_python(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    page = open_context().new_page()
    page.goto(live_server.url + "/")
    poll_until(page, "() => !!window.stationfinder")  # app.js runs once the page has painted
    rng = random.Random(7)
    points = [(rng.uniform(120.25, 120.80), rng.uniform(30.15, 30.45)) for _ in range(200)]
    points += [(2.35, 48.85), (121.47, 31.23)]  # Paris (left alone), Shanghai
    converted = page.evaluate(
        "points => points.map(p => window.stationfinder.wgs2gcj(p[0], p[1]))", points
    )
    for (lon, lat), (glon, glat) in zip(points, converted, strict=True):
        expected = crs.from_wgs84(Point(lon, lat), CRS.GCJ02)
        assert glon == pytest.approx(expected.lon, abs=1e-9)
        assert glat == pytest.approx(expected.lat, abs=1e-9)
    # The distance text too: both sides round the same way.
    metres = [0, 4.9, 5, 994.9, 995, 999, 1049.9, 1050, 1250, 12_345.6, 99_950]
    shown = page.evaluate("ms => ms.map(m => window.stationfinder.distanceText(m))", metres)
    assert shown == [distance_text(m, script_text("zh")) for m in metres]


def test_a_tap_before_the_script_has_run_is_answered_when_it_runs(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    """app.js runs once the page has painted: a courier who taps at once, on a signal
    too weak for the script to have come, still gets the nearest stations."""
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    held: list[Any] = []
    page.route("**/assets/app.js*", lambda route: held.append(route))  # not come yet
    page.goto(live_server.url + "/", wait_until="domcontentloaded")
    page.get_by_test_id("locate").click()
    assert page.get_by_test_id("station-card").count() == 0
    poll_until(page, "() => true")  # let the held requests be seen
    assert held, "app.js was not asked for"
    assert page.evaluate("window.sfLocateAsked === true")
    for route in held:
        route.continue_()
    cards = page.get_by_test_id("station-card")
    expect(cards.first).to_be_visible()
    nearest, _metres = _brute_force_nearest(live_server, COURIER["longitude"], COURIER["latitude"])
    expect(cards.first).to_have_attribute("data-station-id", nearest)
