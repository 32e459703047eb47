"""A heat alert on a courier's phone: the banner, and the cards with air conditioning
first, as the API lists them, with the reason said above them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from staff_login import csrf_from, staff_client

pytestmark = pytest.mark.browser

COURIER = {"latitude": 30.3051, "longitude": 120.3181}


def _local(delta: timedelta) -> str:
    return (datetime.now(UTC) + timedelta(hours=8) + delta).strftime("%Y-%m-%dT%H:%M")


def test_a_heat_alert_puts_cooling_stations_first_on_the_phone(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    app = live_server.app
    admin = staff_client(app, "admin", "union_admin", None)
    page_html = admin.get("/staff/alerts").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page_html),
        "kind": "heat",
        "level": "red",
        "starts_at": _local(-timedelta(minutes=5)),
        "ends_at": _local(timedelta(hours=6)),
        "max_temp_c": "40",
        "note": "",
    }
    assert admin.post("/staff/alerts", data=form).status_code == 302
    api = (
        app.test_client()
        .get(
            "/api/v1/stations/nearest",
            query_string={"lat": COURIER["latitude"], "lon": COURIER["longitude"], "k": 10},
        )
        .get_json()
    )
    assert api["alert"]["listed_first"] is True
    expected = [f["id"] for f in api["features"]]

    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    page.goto(live_server.url + "/")
    expect(page.get_by_test_id("weather-alert")).to_be_visible()
    page.get_by_test_id("locate").click()
    cards = page.get_by_test_id("station-card")
    expect(cards).to_have_count(10)
    note = page.get_by_test_id("listed-first")
    expect(note).to_be_visible()
    expect(note).to_have_text("天气预警期间：有空调的驿站排在前面。")
    shown = cards.evaluate_all("cards => cards.map(c => c.dataset.stationId)")
    assert shown == expected
    first = cards.first.locator('[data-amenity="cooling"]')
    expect(first).to_have_count(1)
    page.screenshot(path="/tmp/stationfinder-heat-alert-phone.png", full_page=True)
