"""The courier pages as a phone sees them, through the test client."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from map_pins import map_pins, pins_url

from stationfinder.db import session_scope
from stationfinder.models import Station
from stationfinder.registry import stations as registry

JINSHA_LAKE = {"lat": 30.305, "lon": 120.318}


def _card_ids(html: str) -> list[str]:
    return re.findall(r'data-testid="station-card" data-station-id="([^"]+)"', html)


def _first_station_id(client: FlaskClient) -> str:
    return client.get("/api/v1/stations").get_json()["features"][0]["id"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?lang=en",
        "/map",
        "/map?kind=城管驿站",
        "/map?amenity=toilet",
        "/nearest?place=金沙湖",
    ],
)
def test_every_page_answers_200(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"


def test_station_page_answers_200_with_what_a_courier_needs(client: FlaskClient) -> None:
    feature = client.get("/api/v1/stations").get_json()["features"][0]
    html = client.get(f"/stations/{feature['id']}").get_data(as_text=True)
    props = feature["properties"]
    assert props["name"] in html
    assert props["address"] in html
    assert 'data-testid="confirm"' in html
    assert "信息准确" in html
    if props["phone"]:
        assert 'href="tel:' in html
    for app in ("amap", "baidu", "tencent", "apple"):
        assert f'data-app="{app}"' in html


def test_locator_page_has_the_big_button_the_form_and_the_chips(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="locate"' in html
    assert "找最近的小哥之家" in html
    assert 'action="/nearest"' in html and 'method="get"' in html
    for code in ("drinking_water", "phone_charging", "toilet", "warm_shelter"):
        assert f'value="{code}"' in html
    assert 'name="open_now"' in html
    assert '<script type="application/json" id="sf-config">' in html


def test_english_switch_is_remembered_in_a_cookie(client: FlaskClient) -> None:
    first = client.get("/?lang=en")
    assert "Find the nearest station" in first.get_data(as_text=True)
    assert "lang=en" in first.headers["Set-Cookie"]
    again = client.get("/")
    assert "Find the nearest station" in again.get_data(as_text=True)
    assert "找最近的小哥之家" in client.get("/?lang=zh").get_data(as_text=True)


def test_no_script_list_matches_the_api_for_a_place(client: FlaskClient) -> None:
    html = client.get("/nearest", query_string={"place": "金沙湖"}).get_data(as_text=True)
    api = client.get("/api/v1/stations/nearest", query_string={**JINSHA_LAKE, "k": 10}).get_json()
    assert _card_ids(html) == [f["id"] for f in api["features"]]
    assert "附近：金沙湖" in html


def test_no_script_list_with_filters_matches_the_api(client: FlaskClient) -> None:
    query = {"amenity": ["toilet", "phone_charging"], "open_now": "1"}
    html = client.get("/nearest", query_string={"place": "金沙湖", **query}).get_data(as_text=True)
    api = client.get(
        "/api/v1/stations/nearest",
        query_string={**JINSHA_LAKE, "k": 10, **query},
    ).get_json()
    assert _card_ids(html) == [f["id"] for f in api["features"]]
    # The filters stay ticked on the result page.
    assert re.search(r'value="toilet"[^>]*checked', html)
    assert re.search(r'name="open_now"[^>]*checked', html)


def test_no_script_list_for_a_subdistrict(client: FlaskClient) -> None:
    html = client.get("/nearest", query_string={"street": "河庄街道"}).get_data(as_text=True)
    ids = _card_ids(html)
    assert len(ids) == 10
    assert any(i.startswith("QT-HZ-") for i in ids)


def test_unknown_place_says_so_and_keeps_the_form(client: FlaskClient) -> None:
    response = client.get("/nearest", query_string={"place": "火星基地"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "找不到“火星基地”" in html
    assert _card_ids(html) == []
    assert 'value="火星基地"' in html


def test_nothing_given_asks_for_a_place(client: FlaskClient) -> None:
    html = client.get("/nearest").get_data(as_text=True)
    assert "请输入地点或选择街道" in html


def test_bad_amenity_is_a_400_page(client: FlaskClient) -> None:
    response = client.get("/nearest?place=金沙湖&amenity=jacuzzi")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_cards_show_distance_walk_and_an_hours_badge(client: FlaskClient) -> None:
    html = client.get("/nearest", query_string={"place": "金沙湖"}).get_data(as_text=True)
    assert re.search(r'data-testid="distance">\d+(\.\d)? (米|公里)<', html)
    assert re.search(r"步行 \d+ 分钟", html)
    assert re.search(r'class="badge badge-(open|closed|unknown)"', html)


def test_places_finds_landmarks_subdistricts_and_stations(client: FlaskClient) -> None:
    places = client.get("/places", query_string={"q": "金沙湖"}).get_json()["places"]
    assert places[0]["name"] == "金沙湖"
    assert places[0]["lon"] == pytest.approx(120.318)
    street = client.get("/places", query_string={"q": "白杨"}).get_json()["places"][0]
    assert street["name"] == "白杨街道" and street["kind"] == "street"
    station = client.get("/api/v1/stations").get_json()["features"][5]
    found = client.get("/places", query_string={"q": station["properties"]["name"]}).get_json()
    assert station["id"] in [p["station_id"] for p in found["places"]]
    assert client.get("/places?q=").get_json()["places"] == []


def test_unknown_station_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/stations/QT-XX-404")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "返回首页" in response.get_data(as_text=True)


def test_retired_station_page_says_it_closed(app: Flask, client: FlaskClient) -> None:
    station_id = _first_station_id(client)
    with session_scope(app) as session:
        session.get(Station, station_id).active = False
        registry.bump_version(session)
    response = client.get(f"/stations/{station_id}")
    assert response.status_code == 410
    assert "该站点已撤销" in response.get_data(as_text=True)


def test_map_page_lists_every_active_station_and_filters(client: FlaskClient) -> None:
    everything = client.get("/map").get_data(as_text=True)
    assert "共 158 个站点" in everything
    assert "L.markerClusterGroup" in everything
    api = client.get("/api/v1/stations").get_json()["features"]
    toilets = sum("toilet" in f["properties"]["amenities"] for f in api)
    filtered = client.get("/map?amenity=toilet").get_data(as_text=True)
    assert f"共 {toilets} 个站点" in filtered


def test_the_language_switch_keeps_the_page_and_its_query(client: FlaskClient) -> None:
    page = client.get("/council?category=safety&street=%E4%B8%8B%E6%B2%99%E8%A1%97%E9%81%93")
    link = re.search(r'href="([^"]*)" data-testid="lang-switch"', page.get_data(as_text=True))
    assert link is not None
    href = html.unescape(link.group(1))
    assert href.startswith("/council?")
    assert "category=safety" in href and "street=%E4%B8%8B%E6%B2%99" in href
    assert href.endswith("lang=en")
    english = client.get(href)
    assert english.status_code == 200
    assert '<html lang="en"' in english.get_data(as_text=True)


def test_the_map_page_carries_every_pin_only_while_the_registry_is_small(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app().test_client()
    small = client.get("/map").get_data(as_text=True)
    assert "data-in-view" not in small
    # Every pin, fetched once the page has painted (not carried: the page stays small).
    assert '"url": "/stations/' not in small
    assert len(map_pins(client, small)) == 158
    assert len(small.encode()) < 45_000

    large_client = make_app(MAP_INLINE_MAX=100).test_client()
    large = large_client.get("/map?amenity=toilet")
    page = large.get_data(as_text=True)
    assert large.status_code == 200
    assert pins_url(page) is None and '"url": "/stations/' not in page
    # Nor does the pins' answer hand out more than the limit when asked directly.
    refused = large_client.get(
        "/map/pins.json?amenity=toilet", headers={"Accept": "application/json"}
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "amenity"
    assert 'data-in-view="/api/v1/stations/in_view?amenity=toilet&amp;limit=100"' in page
    assert 'data-testid="map-hint"' in page
