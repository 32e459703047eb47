"""Four districts loaded from data (data/multi_district/), in Chromium as a phone: the
courier's subdistrict picker is grouped by district and a shared name picks the right
place; a district admin sees and edits their own district's stations only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from geopy.distance import geodesic
from multi_district import EAST, STATIONS_FILE, app_settings, database_url
from playwright.sync_api import expect
from polling import poll_until
from staff_login import add_staff

from stationfinder.geo.areas import Areas
from stationfinder.web.context import current_areas

pytestmark = pytest.mark.browser
__all__ = ["app_settings", "database_url"]  # the fixtures the live server runs on here

PASSWORD = "correct horse battery"
STATIONS = json.loads(STATIONS_FILE.read_text(encoding="utf-8"))["features"]
EAST_SOUTH, SOUTH_SOUTH = "示例东区城南街道", "示例南区城南街道"


def _in(street: str) -> list[dict[str, Any]]:
    return [f for f in STATIONS if f["properties"]["street"] == street]


def _card_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=station-card]", "cards => cards.map(c => c.dataset.stationId)"
    )


def test_the_picker_is_grouped_by_district_and_a_shared_name_picks_its_own_place(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    areas: Areas = current_areas(live_server.app)
    page = open_context(has_touch=True, is_mobile=True).new_page()
    page.goto(live_server.url + "/")
    groups = page.eval_on_selector_all(
        "[data-testid=street] optgroup",
        "gs => gs.map(g => [g.label, Array.from(g.children).map(o => [o.value, o.text])])",
    )
    assert [label for label, _ in groups] == ["钱塘区", "示例东区", "示例南区", "示例湾区"]
    assert [value for _, items in groups for value, _ in items] == list(areas.subdistrict_keys())
    east = dict(groups[1][1])
    assert east[EAST_SOUTH] == "城南街道"

    for street, other in ((EAST_SOUTH, SOUTH_SOUTH), (SOUTH_SOUTH, EAST_SOUTH)):
        page.get_by_test_id("street").select_option(street)  # picking it searches
        poll_until(page, "() => document.querySelectorAll('[data-testid=station-card]').length > 0")
        ours = {f["id"] for f in _in(street)}
        theirs = {f["id"] for f in _in(other)}
        shown = _card_ids(page)
        assert set(shown) & ours, street
        assert not set(shown) & theirs, street
        page.goto(live_server.url + "/")
    page.screenshot(path="/tmp/stationfinder-multi-district-picker.png")


def test_a_courier_in_another_district_gets_the_true_nearest(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    station = _in(SOUTH_SOUTH)[0]
    lon, lat = station["geometry"]["coordinates"]
    courier = {"longitude": lon + 0.002, "latitude": lat + 0.001}
    page = open_context(
        geolocation=courier, permissions=["geolocation"], has_touch=True, is_mobile=True
    ).new_page()
    page.goto(live_server.url + "/")
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("station-card").first).to_be_visible()
    nearest = min(
        STATIONS,
        key=lambda f: (
            geodesic(
                (courier["latitude"], courier["longitude"]),
                (f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]),
            ).meters
        ),
    )
    assert _card_ids(page)[0] == nearest["id"]


def test_a_district_admin_works_in_their_district_only(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    url, app = live_server.url, live_server.app
    add_staff(app, "east-admin", "district_admin", district=EAST)
    areas: Areas = current_areas(app)
    own = {f["id"] for f in STATIONS if areas.district_of(f["properties"]["street"]).code == EAST}

    page = open_context(has_touch=True, is_mobile=True).new_page()
    page.goto(f"{url}/staff/")
    page.get_by_label("用户名", exact=True).fill("east-admin")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_contain_text("east-admin")

    page.goto(f"{url}/staff/stations?state=active")
    listed = set(
        page.eval_on_selector_all(
            "a[href*='/edit']",
            "links => links.map(a => a.getAttribute('href').split('/')[3])",
        )
    )
    assert listed == own
    expect(page.locator("select[name=district]")).to_have_value(EAST)

    target = sorted(own)[0]
    page.goto(f"{url}/staff/stations/{target}/edit")
    page.locator("#name").fill("城南驿站（区里改名）")
    page.locator("#reason").fill("区级核对")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flash")).to_contain_text("已保存")

    courier = open_context().new_page()
    courier.goto(f"{url}/stations/{target}")
    expect(courier.locator("h1")).to_contain_text("城南驿站（区里改名）")

    refused = page.goto(f"{url}/staff/stations/QT-BY-001/edit")
    assert refused is not None and refused.status == 403
    page.screenshot(path="/tmp/stationfinder-district-admin.png")


@pytest.mark.parametrize("picker_max", [300, 10], ids=["subdistricts-listed", "districts-listed"])
def test_the_offline_copy_is_of_the_couriers_own_district(
    open_context: Callable[..., Any], live_server: Any, picker_max: int
) -> None:
    """With four districts loaded, nothing of the registry is copied before the courier
    is placed; then only their district is, and offline the locator answers from it.
    Also when the page lists districts (national scale) and so does not know which
    district the nearest station's subdistrict is in: it asks the API."""
    live_server.app.config["PICKER_MAX"] = picker_max
    areas: Areas = current_areas(live_server.app)
    station = _in(SOUTH_SOUTH)[0]
    lon, lat = station["geometry"]["coordinates"]
    context = open_context(
        geolocation={"longitude": lon, "latitude": lat},
        permissions=["geolocation"],
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    poll_until(
        page,
        """async () => !!navigator.serviceWorker.controller
             && !!(await caches.match('/api/v1/stations/hours'))""",
    )
    assert page.evaluate("async () => !(await caches.match('/api/v1/stations'))")

    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("station-card").first).to_be_visible()
    poll_until(page, "async () => !!(await caches.match('/api/v1/stations'))")
    streets = page.evaluate(
        """async () => (await (await caches.match('/api/v1/stations')).json())
             .features.map(f => f.properties.street)"""
    )
    south = set(areas.subdistrict_keys(areas.district_of(SOUTH_SOUTH).code))
    assert set(streets) <= south
    assert len(streets) == sum(1 for f in STATIONS if f["properties"]["street"] in south)

    context.set_offline(True)
    page.reload()
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("station-card").first).to_be_visible()
    assert _card_ids(page)[0] == station["id"]


def test_at_national_scale_the_courier_picks_a_district_then_a_subdistrict(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    """Too many subdistricts to list (PICKER_MAX): the picker offers the districts;
    picking one answers from it and then offers its subdistricts, which the page's
    script searches from without leaving the page."""
    live_server.app.config["PICKER_MAX"] = 10
    areas: Areas = current_areas(live_server.app)
    page = open_context(has_touch=True, is_mobile=True).new_page()
    page.goto(live_server.url + "/")
    values = page.eval_on_selector_all(
        "[data-testid=street] option", "os => os.map(o => o.value).filter(v => v)"
    )
    assert values == [d.code for d in areas.districts()]

    page.get_by_test_id("street").select_option(EAST)
    page.wait_for_url(f"**/nearest?*street={EAST}*")
    expect(page.get_by_test_id("station-card").first).to_be_visible()
    east = set(areas.subdistrict_keys(EAST))
    first = next(f for f in STATIONS if f["id"] == _card_ids(page)[0])
    assert first["properties"]["street"] in east
    groups = page.eval_on_selector_all(
        "[data-testid=street] optgroup",
        "gs => gs.map(g => [g.label, Array.from(g.children).map(o => o.value)])",
    )
    assert groups[0] == ["示例东区", list(areas.subdistrict_keys(EAST))]
    assert page.get_by_test_id("street").input_value() == EAST

    address = page.url
    page.get_by_test_id("street").select_option(EAST_SOUTH)  # searched by the script
    ours = {f["id"] for f in _in(EAST_SOUTH)}
    poll_until(
        page,
        "ids => ids.includes(document.querySelector('[data-testid=station-card]')"
        ".dataset.stationId)",
        sorted(ours),
    )
    assert page.url == address
    page.screenshot(path="/tmp/stationfinder-national-picker.png")
