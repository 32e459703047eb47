"""A street office's staff member edits a station in a real browser and couriers see it;
a colleague's stale copy gets the conflict instead of overwriting it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect

from stationfinder.db import session_scope
from stationfinder.models import StaffAccount, Station

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
OWN = "QT-BY-001"
LAPTOP = {"width": 1280, "height": 800}


def _add_staff(server: Any, username: str, role: str, street: str | None) -> None:
    with session_scope(server.app) as session:
        session.add(
            StaffAccount(
                username=username,
                display_name=username,
                password_hash=PasswordHasher().hash(PASSWORD),
                role=role,
                street=street,
            )
        )


def _log_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/staff/")
    expect(page).to_have_url(f"{url}/staff/login?next=/staff/")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_contain_text(username)


def test_street_staff_edit_reaches_couriers_and_a_stale_copy_gets_the_conflict(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    url = live_server.url
    _add_staff(live_server, "baiyang", "street_staff", "白杨街道")
    _add_staff(live_server, "colleague", "street_staff", "白杨街道")

    staff = open_context().new_page()  # a phone
    _log_in(staff, url, "baiyang")
    colleague = open_context(viewport=LAPTOP).new_page()
    _log_in(colleague, url, "colleague")
    colleague.goto(f"{url}/staff/stations/{OWN}/edit")  # opened now, saved later
    expect(colleague.get_by_test_id("version")).to_have_text("1")

    staff.get_by_role("link", name="站点", exact=True).first.click()
    staff.get_by_role("link", name="编辑", exact=True).first.click()
    expect(staff).to_have_url(f"{url}/staff/stations/{OWN}/edit")

    # The map picks a position in the tiles' system and says so in the form (once Leaflet,
    # which comes after the first paint, has made it a map: a click before is lost).
    expect(staff.locator("#pick-map.leaflet-container")).to_be_attached()
    staff.locator("#pick-map").click(position={"x": 60, "y": 60})
    expect(staff.locator("#crs")).to_have_value(live_server.app.config["TILE_CRS"])
    staff.reload()  # not this time: back to the stored position
    expect(staff.locator("#crs")).to_have_value("wgs84")

    staff.locator("#name").fill("文海北路城管驿站（已翻新）")
    staff.locator("#opening_hours").fill("Mo-Su 07:00-22:00")
    staff.get_by_role("button", name="预览开放时间").click()
    expect(staff.get_by_test_id("hours-preview")).to_contain_text("07:00–22:00")
    staff.locator("#reason").fill("翻新后重新开放")
    staff.get_by_test_id("save").click()
    expect(staff.get_by_test_id("flash")).to_contain_text("已保存")
    expect(staff.get_by_test_id("version")).to_have_text("2")
    staff.screenshot(path="/tmp/stationfinder-staff-edit-phone.png", full_page=True)

    courier = open_context().new_page()
    courier.goto(f"{url}/stations/{OWN}")
    expect(courier.locator("h1")).to_contain_text("文海北路城管驿站（已翻新）")
    api = courier.request.get(f"{url}/api/v1/stations/{OWN}").json()
    assert api["properties"]["opening_hours"] == "Mo-Su 07:00-22:00"

    colleague.locator("#address").fill("同事改的地址")
    colleague.get_by_test_id("save").click()
    conflict = colleague.get_by_test_id("conflict")
    expect(conflict).to_be_visible()
    expect(conflict.locator("tr[data-field=name]")).to_contain_text("文海北路城管驿站（已翻新）")
    expect(conflict.locator("tr[data-field=address]")).to_contain_text("同事改的地址")
    colleague.screenshot(path="/tmp/stationfinder-staff-conflict.png")
    with session_scope(live_server.app) as session:
        station = session.get(Station, OWN)
        assert station.version == 2
        assert station.name == "文海北路城管驿站（已翻新）"
        assert station.address != "同事改的地址"
