"""Every tap target on the courier and council pages is at least 48 × 48 CSS px.

Couriers tap with gloves on and one hand on the handlebar. The test opens each public
page as a 390 × 844 touch phone, in Chinese and in English, with the results and the
navigation menu open where a page has them, and measures every element a finger can
act on: links, buttons, form fields, summaries, and for a radio or checkbox the label
that carries it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stationfinder.council import issues as council
from stationfinder.db import session_scope
from stationfinder.geo.point import Point
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_areas

pytestmark = pytest.mark.browser

MIN_PX = 48
COURIER = {"latitude": 30.3062, "longitude": 120.3227}

# What a finger can act on; a radio or checkbox is measured by the label that holds it.
TARGETS_JS = """
(min) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [role=button], .leaflet-interactive, [tabindex]:not([tabindex="-1"])';
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    let target = el;
    if (el.matches('input[type=radio], input[type=checkbox]')) {
      target = el.closest('label')
        || (el.id && document.querySelector('label[for="' + el.id + '"]')) || el;
    }
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(target);
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      const words = (target.innerText || target.value || target.getAttribute('aria-label')
        || target.className || target.tagName).toString().trim().slice(0, 40);
      small.push(`${target.tagName} "${words}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}
"""


def _some_station_and_issue(server: Any) -> tuple[str, str]:
    with session_scope(server.app) as session:
        station = registry.active_stations(session)[0]
        issue = council.raise_issue(
            session,
            current_areas(server.app),
            title="驿站晚上十点就关门",
            description="夜班小哥没地方休息，希望延长开放时间。",
            category="rest_facilities",
            device_hash="tap-targets-test",
            place=council.Place(point=Point(120.3227, 30.3062)),
        )
        session.flush()
        return station.id, council.work_order_number(issue)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_tap_target_is_at_least_48_px(
    open_context: Callable[..., Any], live_server: Any, lang: str
) -> None:
    station_id, number = _some_station_and_issue(live_server)
    context = open_context(
        geolocation=COURIER, permissions=["geolocation"], has_touch=True, is_mobile=True
    )
    page = context.new_page()
    base = live_server.url
    too_small: dict[str, list[str]] = {}

    def measure(path: str, before: Callable[[], None] | None = None) -> None:
        page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
        page.wait_for_load_state("networkidle")
        if before is not None:
            before()
        found = page.evaluate(TARGETS_JS, MIN_PX)
        if found:
            too_small[path] = found

    def locate() -> None:
        page.get_by_test_id("locate").click()
        page.locator(".card").first.wait_for()
        page.locator(".card details.nav summary").first.click()

    def open_navigation() -> None:
        page.locator("details.nav summary").first.click()
        page.locator("details.week summary").first.click()

    measure("/", locate)
    measure(f"/stations/{station_id}", open_navigation)
    measure(f"/stations/{station_id}/report")
    measure("/map")
    measure("/council")
    measure("/council/new")
    measure("/council/mine")
    measure(f"/council/issues/{number}")
    assert not too_small, "\n".join(f"{path}: {found}" for path, found in too_small.items())
