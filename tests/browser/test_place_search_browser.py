"""Place search as a courier types it, on a 393×851 phone: pinyin initials, a typo that
gets real suggestions, and a search with no network that says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from stationfinder.web.messages import script_text

pytestmark = pytest.mark.browser

PHONE = {"width": 393, "height": 851}


def _phone(open_context: Callable[..., Any], **options: Any) -> Any:
    return open_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)


def _search(page: Any, text: str) -> None:
    page.get_by_test_id("place").fill(text)
    page.get_by_test_id("find").click()


def _assert_big_enough(links: Any) -> None:
    for box in (link.bounding_box() for link in links.all()):
        assert box is not None and box["width"] >= 48 and box["height"] >= 48, box


def test_typing_initials_finds_xiasha(open_context: Callable[..., Any], live_server: Any) -> None:
    page = _phone(open_context).new_page()
    page.goto(live_server.url + "/")
    _search(page, "xs")
    expect(page.locator("#results-title")).to_have_text("附近：下沙街道")
    expect(page.get_by_test_id("station-card").first).to_be_visible()
    expect(page.get_by_test_id("place-suggestions")).to_be_hidden()


def test_a_typo_offers_the_nearest_name_and_the_subdistricts(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    page = _phone(open_context).new_page()
    page.goto(live_server.url + "/")
    _search(page, "金纱湖")
    expect(page.get_by_test_id("status")).to_contain_text("找不到“金纱湖”")
    places = page.get_by_test_id("suggested-places").get_by_role("link")
    expect(places.first).to_have_text("金沙湖")
    streets = page.get_by_test_id("suggested-streets").get_by_role("link")
    expect(streets).to_have_count(7)
    options = page.get_by_test_id("street").locator("option").all_inner_texts()[1:]
    assert streets.all_inner_texts() == options  # one subdistrict order on the page
    _assert_big_enough(places)
    _assert_big_enough(page.get_by_test_id("suggested-streets").get_by_role("link"))
    page.screenshot(path="/tmp/stationfinder-place-suggestions.png")
    places.first.click()
    expect(page.locator("#results-title")).to_have_text("附近：金沙湖")
    expect(page.get_by_test_id("place-suggestions")).to_be_hidden()
    assert page.url == live_server.url + "/"  # the script ran the search in the page


def test_without_script_a_typo_offers_links_that_search(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    page = _phone(open_context, java_script_enabled=False).new_page()
    page.goto(live_server.url + "/")
    _search(page, "jinshahuu")
    page.wait_for_url("**/nearest?**")
    expect(page.get_by_test_id("status")).to_contain_text("找不到“jinshahuu”")
    page.get_by_test_id("suggested-places").get_by_role("link", name="金沙湖", exact=True).click()
    page.wait_for_url("**/nearest?**place=%E9%87%91%E6%B2%99%E6%B9%96**")
    expect(page.locator("#results-title")).to_have_text("附近：金沙湖")
    expect(page.get_by_test_id("station-card").first).to_be_visible()


def test_offline_search_says_it_is_offline_and_offers_the_subdistricts(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    context = _phone(open_context)
    page = context.new_page()
    page.goto(live_server.url + "/")
    poll_until(
        page,
        """async () => !!navigator.serviceWorker.controller
             && !!(await caches.match('/api/v1/stations'))""",
    )
    context.set_offline(True)
    _search(page, "杭电")  # not a subdistrict or station name the phone holds
    status = page.get_by_test_id("status")
    # The catalogue's words (没有网络，现在查不了地点。 once translations/pending is merged).
    expect(status).to_have_text(script_text("zh")["place_offline"])
    expect(status).not_to_contain_text("找不到")
    streets = page.get_by_test_id("suggested-streets").get_by_role("link")
    expect(streets).to_have_count(7)
    expect(page.get_by_test_id("suggested-places")).to_have_count(0)
    streets.filter(has_text="白杨街道").click()
    expect(page.locator("#results-title")).to_have_text("附近：白杨街道")
    expect(page.get_by_test_id("offline-note")).to_contain_text("离线数据，更新于")
    expect(page.get_by_test_id("station-card").first).to_be_visible()
    page.screenshot(path="/tmp/stationfinder-offline-place-search.png", full_page=True)


def test_past_the_search_limit_the_script_says_wait_not_offline(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    """/places answers 429 past a client's searches a minute: the phone still answers
    from its own names where it can, and otherwise says to wait, not that it is offline."""
    page = _phone(open_context).new_page()
    page.route(
        "**/places?**",
        lambda route: route.fulfill(
            status=429,
            content_type="application/json",
            headers={"Retry-After": "60"},
            body='{"error": {"code": "too_many_requests", "message": "x", "field": "q"}}',
        ),
    )
    page.goto(live_server.url + "/")
    _search(page, "杭电")  # no subdistrict or station name the phone holds
    status = page.get_by_test_id("status")
    expect(status).to_have_text("这里的搜索太频繁了，请等一分钟再试。")
    expect(page.get_by_test_id("place")).to_have_value("杭电")  # what was typed stays
    _search(page, "白杨")  # a subdistrict the page knows still answers
    expect(page.locator("#results-title")).to_have_text("附近：白杨街道")
