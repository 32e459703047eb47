"""In WeChat's browser (its user agent) the copy button puts the station's name and
address on the clipboard: on the station page the server renders, and on the cards the
locator's script draws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from stationfinder.db import get_db
from stationfinder.registry import stations as registry

pytestmark = pytest.mark.browser

WECHAT = (
    "Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110005 MMWEBSDK/20230805 "
    "MicroMessenger/8.0.42.2460(0x28002A3D) WeChat/arm64 Weixin NetType/4G Language/zh_CN"
)


def _wechat(open_context: Callable[..., Any], **options: Any) -> Any:
    return open_context(
        user_agent=WECHAT,
        permissions=["clipboard-read", "clipboard-write", *options.pop("permissions", [])],
        **options,
    )


def _a_station(live_server: Any) -> Any:
    with get_db(live_server.app).sessions() as session:
        return next(s for s in registry.active_stations(session) if s.address)


def test_the_copy_button_on_the_station_page_copies_name_and_address(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    station = _a_station(live_server)
    page = _wechat(open_context).new_page()
    page.goto(f"{live_server.url}/stations/{station.id}")
    page.get_by_test_id("navigate").click()
    expect(page.get_by_test_id("wechat-note")).to_be_visible()
    button = page.get_by_test_id("copy-address")
    expect(button).to_be_visible()
    button.click()
    expect(page.get_by_test_id("copy-done")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == f"{station.name} {station.address}"
    hrefs = page.locator(".nav-apps a").evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) == 4 and all(h.startswith("https://") for h in hrefs)


def test_the_copy_button_on_a_drawn_card_copies_that_stations_address(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    station = _a_station(live_server)
    context = _wechat(
        open_context,
        geolocation={"latitude": station.lat, "longitude": station.lon},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_test_id("locate").click()
    card = page.locator(f'[data-testid="station-card"][data-station-id="{station.id}"]')
    expect(card).to_be_visible()
    card.get_by_test_id("navigate").click()
    expect(card.get_by_test_id("wechat-note")).to_be_visible()
    card.get_by_test_id("copy-address").click()
    expect(card.get_by_test_id("copy-done")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == f"{station.name} {station.address}"


def test_outside_wechat_the_cards_offer_no_copy_control(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    station = _a_station(live_server)
    context = open_context(
        geolocation={"latitude": station.lat, "longitude": station.lon},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_test_id("locate").click()
    card = page.locator(f'[data-testid="station-card"][data-station-id="{station.id}"]')
    expect(card).to_be_visible()
    expect(card.locator(".nav-apps a")).to_have_count(4)
    expect(card.get_by_test_id("wechat-nav")).to_have_count(0)


def test_without_the_clipboard_api_the_address_is_copied_the_old_way(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    """Older WeChat builds have no navigator.clipboard: select-and-copy still works."""
    station = _a_station(live_server)
    context = _wechat(open_context)
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/stations/{station.id}")
    assert page.evaluate("navigator.clipboard === undefined")
    page.get_by_test_id("navigate").click()
    page.get_by_test_id("copy-address").click()
    expect(page.get_by_test_id("copy-done")).not_to_be_empty()
    copied = page.evaluate("window.getSelection().toString() || document.activeElement.value")
    assert copied == f"{station.name} {station.address}"
