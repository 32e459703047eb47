"""How to get in, where couriers read it: the result card (server-rendered and the data
the script's card draws from), and the station page, in Chinese and English; a station
whose hours are 24/7 reads as open 24 hours, one with exceptions does not."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from stationfinder.db import get_db
from stationfinder.models import Station
from stationfinder.registry import stations as registry
from stationfinder.web.couriers.present import access_text
from stationfinder.web.messages import script_text

NOTE = "门卫处登记"


def _set(app: Flask, **values: Any) -> Station:
    """The first active station with `values`, as staff would have saved them."""
    with get_db(app).sessions() as session, session.begin():
        station = registry.active_stations(session)[0]
        for key, value in values.items():
            setattr(station, key, value)
        registry.bump_version(session)
        session.flush()
        session.expunge(station)
        return station


def _card(html: str, station_id: str) -> str:
    match = re.search(
        rf'<li class="card" data-testid="station-card" data-station-id="{station_id}">(.*?)</li>',
        html,
        re.S,
    )
    assert match, f"no card for {station_id}"
    return match.group(1)


def _access(html: str) -> str:
    match = re.search(r'data-testid="access">(.*?)</', html, re.S)
    assert match, "no how-to-get-in line"
    return match.group(1)


@pytest.mark.parametrize(("lang", "how"), [("zh", "按铃"), ("en", "Ring the bell")])
def test_the_card_and_the_station_page_say_how_to_get_in(app: Flask, lang: str, how: str) -> None:
    station = _set(
        app,
        access="bell",
        access_note=NOTE,
        seats=12,
        step_free=True,
        opening_hours="Mo-Su 08:00-20:00",
    )
    client = app.test_client()
    listed = client.get(f"/nearest?lat={station.lat}&lon={station.lon}&lang={lang}").text
    page = client.get(f"/stations/{station.id}?lang={lang}").text
    t = script_text(lang)  # the page's words (their Chinese: translations/pending/access.po)
    parts = [t["access_note"].format(how=how, note=NOTE), t["step_free"], t["seats"].format(n=12)]
    expected = "🚪 " + " · ".join(parts)
    assert how in expected and NOTE in expected and "12" in expected
    assert _access(_card(listed, station.id)) == expected
    assert _access(page) == expected
    assert ("How to get in" in page) is (lang == "en") or "进入方式" in page


def test_the_script_card_reads_the_same_properties(app: Flask) -> None:
    """app.js's accessText words the API's properties; the API carries them, also in the
    list the offline copy keeps, and the page's config names each way in."""
    station = _set(
        app,
        access="scan_code",
        access_note=None,
        seats=None,
        step_free=False,
        opening_hours="Mo-Fr 08:00-18:00",
    )
    client = app.test_client()
    nearest = client.get(f"/api/v1/stations/nearest?lat={station.lat}&lon={station.lon}")
    feature = next(f for f in nearest.get_json()["features"] if f["id"] == station.id)
    listed = client.get("/api/v1/stations").get_json()["features"]
    cached = next(f for f in listed if f["id"] == station.id)
    for props in (feature["properties"], cached["properties"]):
        assert props["access"] == "scan_code" and props["step_free"] is False
        assert props["seats"] is None and props["access_note"] is None
    page = client.get("/?lang=en").text
    config = re.search(r'<script type="application/json" id="sf-config">(.*?)</script>', page, re.S)
    assert config, "no page config"
    labels = json.loads(config.group(1))["access"]
    assert labels["bell"] == "Ring the bell" and labels["scan_code"] == "Scan the code"
    assert access_text(feature["properties"], "en", script_text("en")) == (
        "Scan the code · steps at the door"
    )


@pytest.mark.parametrize(
    ("hours", "always"),
    [("24/7", True), ("Mo-Su 00:00-24:00", True), ("24/7; PH off", False), (None, False)],
)
def test_a_station_open_24_7_reads_as_24_hours(app: Flask, hours: str | None, always: bool) -> None:
    station = _set(
        app, opening_hours=hours, access=None, access_note=None, seats=None, step_free=None
    )
    client = app.test_client()
    props = client.get(f"/api/v1/stations/{station.id}").get_json()["properties"]
    assert props["open_24h"] is always
    for lang, words in (("zh", "24小时"), ("en", "open 24 hours")):
        listed = client.get(f"/nearest?lat={station.lat}&lon={station.lon}&lang={lang}").text
        card = _card(listed, station.id)
        page = client.get(f"/stations/{station.id}?lang={lang}").text
        if always:
            assert _access(card) == f"🚪 {words}"
            assert _access(page) == f"🚪 {words}"
        else:  # nothing recorded and not 24-hour: no line at all
            assert 'data-testid="access"' not in card
            assert 'data-testid="access"' not in page


def test_nothing_unknown_is_guessed() -> None:
    t = script_text("en")
    assert access_text({}, "en", t) == ""
    assert access_text({"access": "nonsense", "seats": None, "step_free": None}, "en", t) == ""
    assert access_text({"access_note": "ask at the shop counter"}, "en", t) == (
        "ask at the shop counter"
    )
    assert access_text({"seats": 0}, "zh", script_text("zh")).endswith("0")
