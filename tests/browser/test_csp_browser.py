"""Every page works under the Content-Security-Policy: Chromium reports no violation on the
locator, a station page, the map, the staff login and a staff edit page, and the maps
still draw. The navigation links still hand over to the map apps, sending only our origin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from polling import poll_until

from stationfinder.db import session_scope
from stationfinder.models import StaffAccount
from stationfinder.web import security

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
OWN = "QT-BY-001"
NAV_HOSTS = {"uri.amap.com", "api.map.baidu.com", "apis.map.qq.com", "maps.apple.com"}

# Runs before any page script: records what the browser refused, with the directive.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


@pytest.fixture
def browsing(open_context: Callable[..., Any], live_server: Any) -> dict[str, Any]:
    """A laptop-sized page on the live server with the policy on, recording violations;
    the map apps' hosts answer a stub page so a hand-over can be seen."""
    url, app = live_server.url, live_server.app
    security.init_app(app)  # before its first request; a no-op once create_app wires it
    with session_scope(app) as session:
        session.add(
            StaffAccount(
                username="baiyang",
                display_name="baiyang",
                password_hash=PasswordHasher().hash(PASSWORD),
                role="street_staff",
                street="白杨街道",
            )
        )
    seen: dict[str, Any] = {"console": [], "handed_over": []}
    context = open_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(LISTEN)

    def hand_over(route: Any) -> None:
        seen["handed_over"].append((route.request.url, route.request.headers.get("referer")))
        route.fulfill(status=200, content_type="text/html", body="<p>map app</p>")

    for host in NAV_HOSTS:
        context.route(f"https://{host}/**", hand_over)
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            seen["console"].append(m.text)
            if "Content Security Policy" in m.text or "Refused" in m.text
            else None
        ),
    )
    seen["page"], seen["url"] = page, url
    return seen


def _no_violation(seen: dict[str, Any], where: str) -> None:
    page = seen["page"]
    page.wait_for_load_state("load")
    reported = page.evaluate("window.__csp")
    assert reported == [], f"{where}: CSP violations {reported}"
    assert seen["console"] == [], f"{where}: {seen['console']}"


def _map_drawn(page: Any) -> None:
    poll_until(page, "() => !!(window.stationfinderMap && document.querySelector('.leaflet-tile'))")


def test_courier_and_staff_pages_run_under_the_policy(browsing: dict[str, Any]) -> None:
    page, url = browsing["page"], browsing["url"]

    page.goto(f"{url}/")
    _map_drawn(page)
    _no_violation(browsing, "/")

    page.goto(f"{url}/stations/{OWN}")
    _map_drawn(page)
    _no_violation(browsing, "/stations/<id>")

    page.goto(f"{url}/map")
    _map_drawn(page)
    poll_until(page, "() => document.querySelectorAll('.leaflet-marker-icon').length > 0")
    _no_violation(browsing, "/map")

    page.goto(f"{url}/staff/login")
    _no_violation(browsing, "/staff/login")
    page.get_by_label("用户名", exact=True).fill("baiyang")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_test_id("who").wait_for()

    page.goto(f"{url}/staff/stations/{OWN}/edit")
    poll_until(page, "() => !!document.querySelector('#pick-map .leaflet-tile')")
    _no_violation(browsing, "staff edit page")

    page.goto(f"{url}/staff/coverage")
    _map_drawn(page)
    _no_violation(browsing, "/staff/coverage")


def test_an_injected_inline_script_is_refused(browsing: dict[str, Any]) -> None:
    """The policy is really enforced: a script without the nonce does not run."""
    page, url = browsing["page"], browsing["url"]
    page.goto(f"{url}/map")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"""
    )
    poll_until(page, "() => window.__csp.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))
    browsing["console"].clear()


def test_navigation_links_hand_over_with_only_our_origin(browsing: dict[str, Any]) -> None:
    page, url = browsing["page"], browsing["url"]
    page.goto(f"{url}/stations/{OWN}")
    page.get_by_test_id("navigate").click()
    page.locator(".nav-apps a[data-app=amap]").click()
    page.wait_for_url("https://uri.amap.com/**")
    (target, referer), *_ = browsing["handed_over"]
    assert target.startswith("https://uri.amap.com/navigation?")
    assert referer == f"{url}/"  # the origin only: never the station page's path
