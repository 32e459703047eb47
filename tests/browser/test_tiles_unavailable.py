"""When map tiles do not come, the page says the map is unavailable and stops asking."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


# What each page says still works without the map.
STILL_WORKS = {
    "/": "下面的列表照常可用",
    "/map": "驿站标记照常可点",  # the pins are drawn without tiles; the list is no-script only
    "/council/new": "用我现在的位置",
    "STATION": "地址和导航链接照常可用",
}


@pytest.mark.parametrize("path", list(STILL_WORKS))
def test_failing_tiles_give_a_notice_and_no_more_requests(
    open_context: Callable[..., Any], live_server: Any, path: str
) -> None:
    still_works = STILL_WORKS[path]
    tile_host = urlsplit(live_server.app.config["TILE_URL"].replace("{s}", "a")).hostname or ""
    host_pattern = re.compile(re.escape(tile_host).replace(r"a\.", r"[a-z0-9]+\.", 1))
    asked: list[str] = []

    def refuse(route: Any) -> None:
        if host_pattern.search(urlsplit(route.request.url).hostname or ""):
            asked.append(route.request.url)
            route.abort("connectionrefused")
        else:
            route.fallback()

    context = open_context()
    page = context.new_page()
    page.route("**/*", refuse)
    if path == "STATION":
        stations = page.request.get(f"{live_server.url}/api/v1/stations").json()
        path = f"/stations/{stations['features'][0]['id']}"
    page.goto(live_server.url + path)
    notice = page.get_by_test_id("map-unavailable")
    expect(notice).to_be_visible(timeout=12_000)
    expect(notice).to_contain_text("地图暂时无法显示")
    expect(notice).to_contain_text(still_works)
    assert asked, "the map asked for tiles at first"
    before = len(asked)
    page.mouse.wheel(0, -300)  # zooming would ask for new tiles, were the layer still there
    page.wait_for_timeout(800)
    assert len(asked) == before
    # The rest of the page still works: on the locator, the locate button is there.
    if path == "/":
        expect(page.get_by_test_id("locate")).to_be_visible()
