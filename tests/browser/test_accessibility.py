"""axe-core finds no WCAG 2.1 A or AA violation on any page, public or staff.

axe-core (Deque's engine, shipped inside the axe-playwright-python package) is a checker
no one here wrote, so it cannot share our blind spots. Each public page is checked as a
phone in Chinese and in English, the locator also after it has shown results; the staff
pages are checked logged in as a union admin, who sees every one of them.

The map tiles are blank PNGs here (the tests run offline); nothing is excluded from the
check. Each failure names the rule, the element and the page, so it can be fixed without
re-running axe by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from stationfinder.council import issues as council
from stationfinder.db import session_scope
from stationfinder.geo.point import Point
from stationfinder.models import StaffAccount
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_areas

pytestmark = pytest.mark.browser

WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_21_A_AA},
    "resultTypes": ["violations"],
}
COURIER = {"latitude": 30.3062, "longitude": 120.3227}
LAPTOP = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery"

_AXE = Axe()


def _violations(page: Any, where: str) -> list[str]:
    """One line per offending element: rule id, impact, CSS target, page, and why."""
    results = _AXE.run(page, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")[:200]
            lines.append(
                f"{where}: {violation['id']} ({violation.get('impact')}) at {target}: {summary}"
            )
    return lines


def _station_and_issue(server: Any) -> tuple[str, str, int]:
    with session_scope(server.app) as session:
        station = registry.active_stations(session)[0]
        issue = council.raise_issue(
            session,
            current_areas(server.app),
            title="驿站晚上十点就关门",
            description="夜班小哥没地方休息，希望延长开放时间。",
            category="rest_facilities",
            device_hash="accessibility-test",
            place=council.Place(point=Point(120.3227, 30.3062)),
        )
        session.flush()
        return station.id, council.work_order_number(issue), issue.id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_pages_have_no_wcag_violations(
    open_context: Callable[..., Any], live_server: Any, lang: str
) -> None:
    station_id, number, _ = _station_and_issue(live_server)
    context = open_context(
        geolocation=COURIER,
        permissions=["geolocation"],
        has_touch=True,
        is_mobile=True,
        locale="zh-CN" if lang == "zh" else "en-GB",
    )
    page = context.new_page()
    found: list[str] = []

    def check(path: str, before: Callable[[], None] | None = None, name: str = "") -> None:
        page.goto(f"{live_server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        page.wait_for_load_state("networkidle")
        if before is not None:
            before()
        found.extend(_violations(page, f"{name or path} [{lang}]"))

    def locate() -> None:
        page.get_by_test_id("locate").click()
        page.locator(".card").first.wait_for()
        page.wait_for_load_state("networkidle")

    check("/")
    check("/", locate, name="/ after locating")
    check("/nearest?lat=30.3062&lon=120.3227", name="/nearest (results without JavaScript)")
    check("/nearest?place=%E9%87%91%E6%B2%99%E6%B9%96", name="/nearest?place=金沙湖")
    check(f"/stations/{station_id}")
    check(f"/stations/{station_id}/report")
    check("/map")
    check("/council")
    check("/council/new")
    check("/council/mine")
    check(f"/council/issues/{number}")
    assert not found, f"{len(found)} WCAG 2.1 A/AA violations:\n" + "\n".join(found)


def test_staff_pages_have_no_wcag_violations(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    station_id, _, issue_id = _station_and_issue(live_server)
    with session_scope(live_server.app) as session:
        session.add(
            StaffAccount(
                username="admin",
                display_name="工会管理员",
                password_hash=PasswordHasher().hash(PASSWORD),
                role="union_admin",
                street=None,
            )
        )
    page = open_context(viewport=LAPTOP).new_page()
    base = live_server.url
    found: list[str] = []

    def check(path: str) -> None:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        found.extend(_violations(page, path))

    check("/staff/login")
    page.locator("#username").fill("admin")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_test_id("who")).to_contain_text("工会管理员")

    for path in (
        "/staff/",
        "/staff/stations",
        f"/staff/stations/{station_id}/edit",
        f"/staff/stations/{station_id}/history",
        "/staff/changes",
        "/staff/import",
        "/staff/reports",
        "/staff/coverage",
        "/staff/accounts",
        "/staff/tokens",
        "/staff/council",
        f"/staff/council/issues/{issue_id}",
        "/staff/council/meetings",
        "/staff/council/stats",
        "/staff/alerts",
        "/staff/posters",
    ):
        check(path)
    assert not found, f"{len(found)} WCAG 2.1 A/AA violations:\n" + "\n".join(found)
