"""The offline gazetteer: Chinese and English names, subdistricts, stations. No Flask."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from stationfinder.core.resources import data_file
from stationfinder.db import session_scope
from stationfinder.geo.areas import Areas
from stationfinder.geo.gazetteer import Gazetteer, Place, like_pattern, load_document, normalise
from stationfinder.geo.point import Point
from stationfinder.registry import stations as registry
from stationfinder.web.couriers.places import street_centres

STATIONS = [
    {
        "type": "Feature",
        "id": "QT-XS-001",
        "geometry": {"type": "Point", "coordinates": [120.31, 30.30]},
        "properties": {"name": "金沙湖城管驿站", "name_en": None, "street": "下沙街道"},
    }
]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    areas = Areas.from_file(data_file("areas.geojson"))
    return Gazetteer.build(
        load_document(data_file("gazetteer.json")),
        street_centres(areas),
        STATIONS,
        {"白杨街道": "Baiyang Subdistrict"},
    )


def test_exact_landmark_comes_before_stations_that_contain_it(gazetteer: Gazetteer) -> None:
    found = gazetteer.search("金沙湖")
    assert found[0].name == "金沙湖"
    assert found[0].point == Point(120.318, 30.305)
    assert "金沙湖城管驿站" in [p.name for p in found]


def test_subdistrict_by_short_name_and_english(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("白杨")[0].name == "白杨街道"
    assert gazetteer.search("baiyang")[0].name == "白杨街道"
    assert gazetteer.search("Jinsha Lake")[0].name == "金沙湖"


def test_width_case_and_spaces_do_not_matter(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("ＪＩＮＳＨＡ　ｌａｋｅ")[0].name == "金沙湖"
    assert normalise(" Jinsha  Lake ") == "jinshalake"


def test_station_names_are_places(gazetteer: Gazetteer) -> None:
    hit = gazetteer.search("城管驿站")[0]
    assert hit.station_id == "QT-XS-001"


def test_nothing_and_junk_find_nothing(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("") == []
    assert gazetteer.search("   ") == []
    assert gazetteer.search("火星基地") == []
    assert gazetteer.search("x" * 10_000) == []


def test_every_subdistrict_centre_lies_inside_its_outline() -> None:
    areas = Areas.from_file(data_file("areas.geojson"))
    centres = street_centres(areas)
    assert len(centres) == 7
    for name, centre in centres.items():
        assert areas.street_at(centre) == name


def _like(pattern: str, text: str) -> bool:
    """SQL LIKE with ESCAPE '\\', as the database applies it."""
    regex, chars = "", iter(pattern)
    for c in chars:
        if c == "\\":
            regex += re.escape(next(chars))
        elif c == "%":
            regex += ".*"
        elif c == "_":
            regex += "."
        else:
            regex += re.escape(c)
    return re.fullmatch(regex, text, flags=re.S) is not None


NAME_PARTS = st.sampled_from(
    ["金沙", "湖", "下沙", "街道", "站", "Jinsha", " Lake", "-", "%", "_", "x"]
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.lists(NAME_PARTS, min_size=1, max_size=5).map("".join),
    name_en=st.none() | st.lists(NAME_PARTS, min_size=1, max_size=4).map("".join),
    query=st.lists(NAME_PARTS, min_size=1, max_size=3).map("".join),
)
def test_the_database_pattern_finds_every_station_the_gazetteer_would(
    name: str, name_en: str | None, query: str
) -> None:
    """Stations are searched in the database with `like_pattern` and ranked by the
    gazetteer: the pattern must let through every station the ranking would keep."""
    place = Place(name, name_en, "station", None, Point(120.3, 30.3), station_id="S1")
    found = Gazetteer([]).search(query, also=[place])
    pattern = like_pattern(query)
    if found:
        assert pattern is not None
        assert _like(pattern, name.lower()) or _like(pattern, (name_en or "").lower())


def test_stations_are_found_by_name_in_the_database(client: FlaskClient) -> None:
    places = client.get("/places", query_string={"q": "金沙天街"}).get_json()["places"]
    assert [p["kind"] for p in places[:2]] == ["landmark", "station"]  # landmarks first
    assert places[1]["name"] == "龙湖杭州金沙天街城管驿站" and places[1]["station_id"]
    english = client.get("/places", query_string={"q": "ＸＩＡＳＨＡ"}).get_json()["places"]
    assert any(p["station_id"] for p in english)  # English names, full-width typed


def test_likes_wildcards_typed_are_text_not_wildcards(app: Flask) -> None:
    with session_scope(app) as session:
        assert registry.stations_named_like(session, like_pattern("驿站") or "")  # sanity
        for typed in ("%", "\\", "驿%站", "%驿站"):
            pattern = like_pattern(typed)
            assert pattern is not None
            assert registry.stations_named_like(session, pattern) == [], typed
    assert like_pattern("_") is None  # punctuation the gazetteer ignores: no search
