"""The script's card says how to get in as the server's card does (static/app.js's
accessText against couriers/present.access_text), in Chinese and English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from stationfinder.db import get_db
from stationfinder.models import Station
from stationfinder.registry import stations as registry
from stationfinder.web.couriers.present import access_text
from stationfinder.web.messages import script_text

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_script_card_says_how_to_get_in_as_the_server_does(
    open_context: Callable[..., Any], live_server: Any, lang: str
) -> None:
    app = live_server.app
    with get_db(app).sessions() as session, session.begin():
        row = session.get_one(Station, registry.active_stations(session)[0].id)
        row.opening_hours = "24/7"
        row.access, row.access_note, row.seats, row.step_free = "door_entry", "门卫处登记", 0, False
        registry.bump_version(session)
        sid, lat, lon = row.id, row.lat, row.lon
    props = {
        "open_24h": True,
        "access": "door_entry",
        "access_note": "门卫处登记",
        "seats": 0,
        "step_free": False,
    }
    expected = "🚪 " + access_text(props, lang, script_text(lang))
    context = open_context(
        geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"]
    )
    page = context.new_page()
    page.goto(live_server.url + f"/?lang={lang}")
    page.get_by_test_id("locate").click()
    card = page.locator(f'[data-testid="station-card"][data-station-id="{sid}"]')
    expect(card).to_be_visible()
    expect(card.get_by_test_id("access")).to_have_text(expected)
    assert ("门禁" if lang == "zh" else "Door entry (keycard)") in expected
