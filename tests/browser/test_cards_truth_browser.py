"""The script's card tells the truth too: a paused amenity is struck through with its
note, and the e-bike time stands beside the walking time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from stationfinder.db import get_db
from stationfinder.models import Station
from stationfinder.registry import stations as registry
from stationfinder.web.messages import script_text

pytestmark = pytest.mark.browser


def test_script_card_strikes_paused_amenity_and_shows_ride_time(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    app = live_server.app
    with get_db(app).sessions() as session, session.begin():
        station = next(
            s for s in registry.active_stations(session) if "drinking_water" in (s.amenities or [])
        )
        row = session.get_one(Station, station.id)
        row.out_of_service = {"drinking_water": "饮水机维修中"}
        registry.bump_version(session)
        sid, lat, lon = row.id, row.lat, row.lon
    context = open_context(
        geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"]
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_test_id("locate").click()
    card = page.locator(f'[data-testid="station-card"][data-station-id="{sid}"]')
    expect(card).to_be_visible()
    water = card.locator('[data-amenity="drinking_water"]')
    expect(water).to_have_class("amenity out-of-service")
    expect(water.locator("del")).to_have_count(1)
    expect(water.get_by_test_id("paused")).to_have_text(
        script_text("zh")["paused"].format(note="饮水机维修中")
    )
    expect(card.get_by_test_id("ride")).to_have_text(script_text("zh")["ride"].format(n=1))
