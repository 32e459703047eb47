"""Result cards tell the truth: an amenity staff paused is struck through with its note
(server-rendered card, the API the script's card reads, the offline copy), the e-bike
time stands beside the walking time, and distances from 1 km read in 公里 / km."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from map_pins import map_pins

from stationfinder.db import get_db
from stationfinder.geo.travel import minutes
from stationfinder.models import Station
from stationfinder.registry import stations as registry
from stationfinder.web.couriers.present import distance_text
from stationfinder.web.messages import script_text

STATIC = Path(__file__).resolve().parents[2] / "stationfinder" / "static"
NOTE = "饮水机维修中"


def _pause_water(app: Flask) -> Station:
    with get_db(app).sessions() as session, session.begin():
        for station in registry.active_stations(session):
            if "drinking_water" in (station.amenities or []):
                station.out_of_service = {"drinking_water": NOTE}
                registry.bump_version(session)
                session.expunge(station)
                return station
    raise AssertionError("no station with drinking water")


def _card(html: str, station_id: str) -> str:
    match = re.search(
        rf'<li class="card" data-testid="station-card" data-station-id="{station_id}">(.*?)</li>',
        html,
        re.S,
    )
    assert match, f"no card for {station_id}"
    return match.group(1)


def test_card_without_javascript_strikes_a_paused_amenity_through(app: Flask) -> None:
    station = _pause_water(app)
    client = app.test_client()
    html = client.get(f"/nearest?lat={station.lat}&lon={station.lon}").get_data(as_text=True)
    card = _card(html, station.id)
    water = re.search(
        r'<span class="amenity[^"]*"[^>]*data-amenity="drinking_water".*?</span></span>', card, re.S
    )
    assert water, card
    assert "out-of-service" in water.group(0)
    assert "<del>" in water.group(0)
    paused = script_text("zh")["paused"].format(note=NOTE)
    assert paused in water.group(0)
    # A working amenity on the same card is not struck through.
    others = [a for a in station.amenities if a != "drinking_water"]
    if others:
        assert '<span class="amenity" title="' in card
    en = client.get(f"/nearest?lat={station.lat}&lon={station.lon}&lang=en").get_data(as_text=True)
    assert script_text("en")["paused"].format(note=NOTE) in _card(en, station.id)


def test_card_with_everything_working_has_no_paused_note(app: Flask) -> None:
    with get_db(app).sessions() as session:
        station = registry.active_stations(session)[0]
        lat, lon, sid = station.lat, station.lon, station.id
    html = app.test_client().get(f"/nearest?lat={lat}&lon={lon}").get_data(as_text=True)
    assert 'data-testid="paused"' not in _card(html, sid)


def test_the_data_the_script_and_offline_copy_read_says_what_is_paused(app: Flask) -> None:
    station = _pause_water(app)
    client = app.test_client()
    nearest = client.get(f"/api/v1/stations/nearest?lat={station.lat}&lon={station.lon}").get_json()
    feature = next(f for f in nearest["features"] if f["id"] == station.id)
    assert feature["properties"]["out_of_service"] == {"drinking_water": NOTE}
    listed = client.get("/api/v1/stations").get_json()  # what the service worker caches
    cached = next(f for f in listed["features"] if f["id"] == station.id)
    assert cached["properties"]["out_of_service"] == {"drinking_water": NOTE}
    # The script builds the same card: paused amenities struck through with the note,
    # and offline an amenity out of service does not satisfy its filter chip.
    script = (STATIC / "app.js").read_text()
    assert "out_of_service" in script
    assert 'el("del"' in script
    assert "t.paused" in script


def test_card_shows_ride_time_beside_walking_time(app: Flask) -> None:
    with get_db(app).sessions() as session:
        station = registry.active_stations(session)[0]
        lat, lon, sid = station.lat, station.lon, station.id
    client = app.test_client()
    # About 4.2 km north of the station.
    far = lat + 4200 / 111_195
    html = client.get(f"/nearest?lat={far}&lon={lon}").get_data(as_text=True)
    api = client.get(f"/api/v1/stations/nearest?lat={far}&lon={lon}").get_json()
    first = api["features"][0]
    card = _card(html, first["id"])
    walk = script_text("zh")["walk"].format(n=first["properties"]["walk_min"])
    ride = script_text("zh")["ride"].format(n=first["properties"]["ride_min"])
    assert walk in card and ride in card
    assert first["properties"]["ride_min"] == minutes(
        first["properties"]["distance_m"], app.config["RIDE_SPEED_KMH"]
    )
    assert first["properties"]["ride_min"] < first["properties"]["walk_min"]
    assert 'data-testid="ride"' in card
    en = client.get(f"/nearest?lat={far}&lon={lon}&lang=en").get_data(as_text=True)
    assert "min by e-bike" in en
    assert sid  # the registry is not empty


def test_distances_from_one_kilometre_read_in_kilometres() -> None:
    zh, en = script_text("zh"), script_text("en")
    assert distance_text(4200, zh) == "4.2 公里"
    assert distance_text(4200, en) == "4.2 km"
    assert distance_text(1000, zh) == "1.0 公里"
    assert distance_text(850, zh) == "850 米"
    assert distance_text(850, en) == "850 m"


def test_the_maps_popups_do_not_advertise_a_paused_amenity(app: Flask) -> None:
    station = _pause_water(app)
    client = app.test_client()
    for path in ("/map", f"/stations/{station.id}"):
        pins = {p["id"]: p for p in map_pins(client, client.get(path).get_data(as_text=True))}
        assert "🚰" not in pins[station.id]["icons"], path
        working = [a for a in station.amenities if a != "drinking_water"]
        if working:
            assert pins[station.id]["icons"], path  # what still works is still shown


def test_the_maps_popups_speak_the_pages_language(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/map?lang=en").get_data(as_text=True)
    pins = map_pins(client, page)
    with get_db(app).sessions() as session:
        english = {s.id: s.name_en for s in registry.active_stations(session) if s.name_en}
    assert english, "the sample has English names"
    for pin in pins:
        assert not re.search(r"[\u4e00-\u9fff]", pin["kind"]), pin
        if pin["id"] in english:
            assert pin["name"] == english[pin["id"]]
    fresh = app.test_client()  # the first client remembers English
    zh = map_pins(fresh, fresh.get("/map").get_data(as_text=True))
    assert any(re.search(r"[\u4e00-\u9fff]", p["kind"]) for p in zh)
