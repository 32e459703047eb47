"""Too many subdistricts to list (a national registry loads ~1,700): above PICKER_MAX
the courier pages offer the districts, grouped by city, and once a district is chosen
(or found) its subdistricts; the pages no longer carry every subdistrict. Run on the
four-district synthetic set with PICKER_MAX below its 31 subdistricts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from multi_district import AREAS_FILE, EAST, SOUTH, STATIONS_FILE, database_url

from stationfinder.geo.areas import Areas

__all__ = ["database_url"]

AREAS = Areas.from_file(AREAS_FILE)
STATIONS = json.loads(STATIONS_FILE.read_text(encoding="utf-8"))["features"]
EAST_SOUTH = "示例东区城南街道"


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """The multi-district set, with fewer subdistricts listed than it has (31)."""
    return {"AREAS_FILE": str(AREAS_FILE), "SEED_FILE": str(STATIONS_FILE), "PICKER_MAX": 10}


def _config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="sf-config">(.*?)</script>', html, re.S)
    assert found, "the page carries its script's configuration"
    return json.loads(found.group(1))


def _select(html: str) -> str:
    found = re.search(r'<select name="street".*?</select>', html, re.S)
    assert found
    return found.group(0)


def _values(select: str) -> list[str]:
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def _subdistrict_names(areas: Areas) -> list[str]:
    return [s.key for s in areas.listed()]


def test_the_locator_lists_districts_by_city_and_no_subdistrict(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    select = _select(html)
    assert _values(select) == [d.code for d in AREAS.districts()]
    assert re.findall(r'<optgroup label="([^"]+)"', select) == ["杭州市"]
    assert "选择区县" in select
    assert "<span>区县或街道</span>" in html
    assert _config(html)["streets"] == {}
    for key in _subdistrict_names(AREAS):
        assert f'value="{key}"' not in html, key
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Example East District" in _select(english)
    assert "Pick a district" in _select(english)


def test_picking_a_district_answers_from_it_and_offers_its_subdistricts(
    client: FlaskClient,
) -> None:
    html = client.get("/nearest", query_string={"street": EAST}).get_data(as_text=True)
    ids = re.findall(r'data-station-id="([^"]+)"', html)
    assert ids, "cards around the district"
    first = next(f for f in STATIONS if f["id"] == ids[0])
    assert AREAS.district_of(first["properties"]["street"]).code == EAST
    assert "示例东区" in html  # "Near 示例东区"
    select = _select(html)
    east = list(AREAS.subdistrict_keys(EAST))
    assert re.findall(r'<optgroup label="([^"]+)"', select)[0] == "示例东区"
    assert _values(select) == east + [d.code for d in AREAS.districts()]
    assert f'<option value="{EAST}" selected>' in select
    assert sorted(_config(html)["streets"]) == sorted(east)
    for key in AREAS.subdistrict_keys(SOUTH):
        assert f'value="{key}"' not in html, key


def test_a_subdistrict_or_a_place_scopes_the_picker_to_its_district(
    client: FlaskClient,
) -> None:
    html = client.get("/nearest", query_string={"street": EAST_SOUTH}).get_data(as_text=True)
    assert f'<option value="{EAST_SOUTH}" selected>' in _select(html)
    assert set(_config(html)["streets"]) == set(AREAS.subdistrict_keys(EAST))
    station = next(f for f in STATIONS if f["properties"]["street"] == EAST_SOUTH)
    lon, lat = station["geometry"]["coordinates"]
    located = client.get("/nearest", query_string={"lon": lon, "lat": lat})
    assert set(_config(located.get_data(as_text=True))["streets"]) == set(
        AREAS.subdistrict_keys(EAST)
    )
    page = client.get(f"/stations/{station['id']}").get_data(as_text=True)
    assert set(_config(page)["streets"]) == set(AREAS.subdistrict_keys(EAST))


def test_a_place_not_found_offers_the_districts(client: FlaskClient) -> None:
    html = client.get("/nearest", query_string={"place": "不存在的地方"}).get_data(as_text=True)
    assert "或者选择区县：" in html
    links = re.findall(r'href="/nearest\?street=(\d+)', html)
    assert links == [d.code for d in AREAS.districts()]
    assert "杭州市示例东区" in html  # a district named with its city in a flat list


def test_a_district_code_that_is_not_loaded_asks_again(client: FlaskClient) -> None:
    answer = client.get("/nearest", query_string={"street": "330199"})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "请输入地点或选择街道。" in html
    assert 'data-station-id="' not in html


def test_the_map_without_javascript_offers_the_districts(client: FlaskClient) -> None:
    client.application.config["MAP_INLINE_MAX"] = 5
    html = client.get("/map").get_data(as_text=True)
    assert "请选择区县" in html
    assert re.findall(r'href="/nearest\?street=(\d+)', html) == [d.code for d in AREAS.districts()]


def test_the_areas_api_answers_for_one_district(client: FlaskClient) -> None:
    one = client.get("/api/v1/areas", query_string={"street": EAST_SOUTH}).get_json()
    assert [d["division"] for d in one["districts"]] == [EAST]
    assert [s["name"] for s in one["districts"][0]["subdistricts"]] == list(
        AREAS.subdistrict_keys(EAST)
    )
    whole = client.get("/api/v1/areas").get_json()
    east = next(d for d in whole["districts"] if d["division"] == EAST)
    assert one["districts"][0] == east  # the same counts and bounds as in the whole list
    code = AREAS.subdistrict(EAST_SOUTH).code
    by_code = client.get("/api/v1/areas", query_string={"street": code}).get_json()
    assert by_code == one
    south = client.get("/api/v1/areas", query_string={"district": SOUTH}).get_json()
    assert [d["division"] for d in south["districts"]] == [SOUTH]
    neither = client.get("/api/v1/areas", query_string={"district": SOUTH, "street": EAST_SOUTH})
    assert neither.get_json()["districts"] == []
    for args in ({"street": "城南街道"}, {"district": "330199"}, {"district": "x"}):
        refused = client.get("/api/v1/areas", query_string=args)
        assert refused.status_code == 400, args
        assert refused.get_json()["error"]["field"] in args


def test_the_council_board_lists_the_chosen_districts_subdistricts(client: FlaskClient) -> None:
    board = client.get("/council").get_data(as_text=True)
    assert '<select name="district">' in board
    assert '<select name="street">' not in board  # no district chosen: nothing to list
    for key in _subdistrict_names(AREAS):
        assert f'value="{key}"' not in board, key
    east = client.get("/council", query_string={"district": EAST}).get_data(as_text=True)
    streets = re.search(r'<select name="street">.*?</select>', east, re.S)
    assert streets is not None
    assert _values(streets.group(0)) == list(AREAS.subdistrict_keys(EAST))
    one = client.get("/council", query_string={"street": EAST_SOUTH}).get_data(as_text=True)
    assert f'<option value="{EAST_SOUTH}" selected>' in one
