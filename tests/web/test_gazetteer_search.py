"""The offline gazetteer: Chinese and English names, subdistricts, stations. No Flask."""

from __future__ import annotations

import pytest

from stationfinder.gazetteer import Gazetteer, load_document, normalise
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.resources import data_file
from stationfinder.web.places import street_centres

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
