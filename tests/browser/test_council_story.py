"""The council's whole story in Debian's Chromium: a courier raises an issue, a second
courier backs it from another browser, the secretary puts it on a meeting's agenda and
records a decision, and the first courier finds the decision under "my issues"."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stationfinder.accounts.passwords import hash_password
from stationfinder.core.privacy import device_key_minted_at
from stationfinder.db import session_scope
from stationfinder.models import StaffAccount

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def test_raise_back_agenda_decision_and_my_issues(live_server: Any, open_context: Any) -> None:
    with session_scope(live_server.app) as session:
        session.add(
            StaffAccount(
                username="mishu",
                display_name="议事厅秘书",
                password_hash=hash_password(PASSWORD),
                role="council_secretary",
            )
        )
    url = live_server.url

    # A courier raises an issue at a station in 下沙街道.
    first = open_context().new_page()
    first.goto(f"{url}/council/new")
    first.fill("#title", "双节期间派件压力大")
    first.select_option("#category", "workload")
    first.fill("#description", "国庆中秋快递量翻倍，每天派到晚上十点。<b>加急</b>")
    first.select_option("#station_id", "QT-XS-001")
    first.get_by_test_id("raise-send").click()
    first.get_by_test_id("raised").wait_for()
    number = first.get_by_test_id("work-order").inner_text()
    assert re.fullmatch(r"YS-\d{8}-\d{4}", number)
    assert "<b>加急</b>" in first.get_by_test_id("description").inner_text()  # shown as text
    key = first.evaluate("localStorage.getItem('sf-council-key')")
    # The server's signed key, kept by the page (the script never makes its own).
    assert key and device_key_minted_at(key, str(live_server.app.config["SECRET_KEY"]))

    # Another courier, another browser, backs it once.
    second = open_context().new_page()
    second.goto(f"{url}/council/issues/{number}")
    second.get_by_test_id("back").click()
    second.get_by_test_id("backed").wait_for()
    assert second.get_by_test_id("backing").inner_text() == "2 人遇到"
    assert second.get_by_test_id("back").is_disabled()

    # The secretary plans a meeting, puts the issue on its agenda, records a decision.
    staff = open_context(viewport={"width": 1280, "height": 900}).new_page()
    staff.goto(f"{url}/staff/login?next=/staff/council/meetings")
    staff.fill("input[name=username]", "mishu")
    staff.fill("input[name=password]", PASSWORD)
    staff.get_by_role("button", name=re.compile("登录")).click()
    staff.wait_for_url(re.compile(r"/staff/council/meetings$"))
    staff.fill("#title", "十一月小哥议事会")
    staff.fill("#starts_at", "2026-11-28T14:00")
    staff.select_option("#street", "下沙街道")
    staff.fill("#place", "下沙街道海达南路小哥之家")
    staff.fill("#organisations", "区总工会\n下沙街道\n顺丰速运")
    staff.get_by_test_id("create-meeting").click()
    staff.get_by_test_id("meeting-title").wait_for()
    agenda = staff.get_by_test_id("agenda-form")
    agenda.get_by_label(re.compile(number)).check()
    agenda.get_by_role("button", name="加入议程").click()
    staff.get_by_test_id("done").wait_for()
    assert number in staff.get_by_test_id("agenda").inner_text()
    decision = staff.get_by_test_id("decision-form")
    decision.locator("textarea[name=text]").fill("招募红色派递员，节日期间帮助派件")
    decision.locator("input[name=owner]").fill("区总工会")
    decision.locator("input[name=due_on]").fill("2026-12-15")
    decision.get_by_role("button", name="保存决定").click()
    staff.get_by_test_id("decision").wait_for()

    # The first courier sees the decision under "my issues".
    first.get_by_test_id("nav-mine").click()
    first.get_by_test_id("mine-decision").wait_for()
    assert "招募红色派递员" in first.get_by_test_id("mine-decision").inner_text()
    assert number in first.get_by_test_id("mine-raised").inner_text()
    # ...and on the issue's page, for everyone.
    second.goto(f"{url}/council/issues/{number}")
    assert "招募红色派递员" in second.get_by_test_id("decision").inner_text()
    assert second.get_by_test_id("status").first.inner_text() == "已上会讨论"
