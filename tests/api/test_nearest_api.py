"""GET /api/v1/stations/nearest: exactly nearest, filters, coordinate systems, bad input."""

from __future__ import annotations

import gzip
import json
import random
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import brotli
import numpy as np
import pytest
from flask.testing import FlaskClient
from geopy.distance import geodesic
from pyproj import Geod

from stationfinder.core import hours
from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

SHANGHAI = ZoneInfo("Asia/Shanghai")
JINSHA_LAKE = (120.318, 30.305)  # lon, lat (WGS-84)


def _stations(client: FlaskClient) -> list[dict[str, Any]]:
    return client.get("/api/v1/stations").get_json()["features"]


def _brute_force(
    stations: list[dict[str, Any]], lon: float, lat: float, k: int, keep: Any = None
) -> list[tuple[str, float]]:
    ranked = sorted(
        (
            (
                s["id"],
                geodesic(
                    (lat, lon), (s["geometry"]["coordinates"][1], s["geometry"]["coordinates"][0])
                ).meters,
            )
            for s in stations
            if keep is None or keep(s)
        ),
        key=lambda pair: pair[1],
    )
    return ranked[:k]


def _nearest(client: FlaskClient, **query: Any) -> dict[str, Any]:
    response = client.get("/api/v1/stations/nearest", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_agrees_with_brute_force_geodesic_on_many_random_queries(client: FlaskClient) -> None:
    """2,000 random queries against a vectorised brute force, every 20th also by geopy."""
    stations = _stations(client)
    ids = [s["id"] for s in stations]
    lons = np.array([s["geometry"]["coordinates"][0] for s in stations])
    lats = np.array([s["geometry"]["coordinates"][1] for s in stations])
    geod = Geod(ellps="WGS84")
    rng = random.Random(20261124)
    for number in range(2000):
        lon, lat = rng.uniform(120.2, 120.85), rng.uniform(30.1, 30.5)
        k = rng.randint(1, 12)
        body = _nearest(client, lat=lat, lon=lon, k=k)
        got = [(f["id"], f["properties"]["distance_m"]) for f in body["features"]]
        _, _, dist = geod.inv(np.full_like(lons, lon), np.full_like(lats, lat), lons, lats)
        order = np.argsort(dist, kind="stable")[:k]
        expected = [(ids[i], float(dist[i])) for i in order]
        if number % 20 == 0:
            expected = _brute_force(stations, lon, lat, k)
        assert [g[0] for g in got] == [e[0] for e in expected]
        for (_, got_m), (_, exp_m) in zip(got, expected, strict=True):
            assert got_m == pytest.approx(exp_m, abs=0.051)


def test_query_from_beijing_still_gets_answers(client: FlaskClient) -> None:
    body = _nearest(client, lat=39.909, lon=116.397, k=3)
    assert len(body["features"]) == 3
    assert body["features"][0]["properties"]["distance_m"] > 1_000_000


def test_amenity_filter_keeps_only_stations_with_all_of_them(client: FlaskClient) -> None:
    stations = _stations(client)
    wanted = {"drinking_water", "toilet"}
    body = client.get(
        "/api/v1/stations/nearest?lat=30.305&lon=120.318&k=8&amenity=drinking_water&amenity=toilet"
    ).get_json()
    expected = _brute_force(
        stations, *JINSHA_LAKE, 8, keep=lambda s: wanted <= set(s["properties"]["amenities"])
    )
    assert [f["id"] for f in body["features"]] == [e[0] for e in expected]
    assert len(body["features"]) == 8


def test_kind_street_and_radius_filters(client: FlaskClient) -> None:
    stations = _stations(client)
    body = _nearest(client, lat=30.305, lon=120.318, k=50, street="河庄街道", kind="城管驿站")
    expected = _brute_force(
        stations,
        *JINSHA_LAKE,
        50,
        keep=lambda s: (
            s["properties"]["street"] == "河庄街道" and s["properties"]["kind"] == "城管驿站"
        ),
    )
    assert [f["id"] for f in body["features"]] == [e[0] for e in expected]
    near = _nearest(client, lat=30.305, lon=120.318, k=50, radius_m=1500)
    assert all(f["properties"]["distance_m"] <= 1500 for f in near["features"])
    assert [f["id"] for f in near["features"]] == [
        e[0] for e in _brute_force(stations, *JINSHA_LAKE, 50) if e[1] <= 1500
    ]


def test_open_now_uses_the_given_moment(client: FlaskClient) -> None:
    stations = _stations(client)
    at = datetime(2026, 11, 24, 23, 30, tzinfo=SHANGHAI)  # late on a Tuesday night
    body = _nearest(client, lat=30.305, lon=120.318, k=10, open_now="true", at=at.isoformat())
    expected = _brute_force(
        stations,
        *JINSHA_LAKE,
        10,
        keep=lambda s: hours.is_open(s["properties"]["opening_hours"], at) is True,
    )
    assert [f["id"] for f in body["features"]] == [e[0] for e in expected]
    assert all(f["properties"]["open_now"] is True for f in body["features"])


def test_unknown_hours_are_unknown_not_closed(client: FlaskClient) -> None:
    stations = _stations(client)
    unknown = [s for s in stations if s["properties"]["opening_hours"] is None]
    assert unknown, "the sample data should hold a station with unknown hours"
    lon, lat = unknown[0]["geometry"]["coordinates"]
    body = _nearest(client, lat=lat, lon=lon, k=1)
    assert body["features"][0]["id"] == unknown[0]["id"]
    assert body["features"][0]["properties"]["open_now"] is None


@pytest.mark.parametrize("system", [CRS.GCJ02, CRS.BD09])
def test_a_chinese_map_point_gives_the_same_answer_as_wgs84(
    client: FlaskClient, system: CRS
) -> None:
    rng = random.Random(7)
    for _ in range(40):
        place = Point(rng.uniform(120.28, 120.75), rng.uniform(30.18, 30.42))
        shifted = crs.from_wgs84(place, system)
        plain = _nearest(client, lat=place.lat, lon=place.lon, k=5)
        other = _nearest(client, lat=shifted.lat, lon=shifted.lon, k=5, crs=system.value)
        assert [f["id"] for f in other["features"]] == [f["id"] for f in plain["features"]]
        for a, b in zip(other["features"], plain["features"], strict=True):
            assert a["properties"]["distance_m"] == pytest.approx(
                b["properties"]["distance_m"], abs=0.2
            )


def test_features_carry_distance_times_gcj02_and_navigation(client: FlaskClient) -> None:
    feature = _nearest(client, lat=30.305, lon=120.318, k=1)["features"][0]
    props = feature["properties"]
    lon, lat = feature["geometry"]["coordinates"]
    assert props["walk_min"] >= props["ride_min"] >= 1
    gcj = crs.from_wgs84(Point(lon, lat), CRS.GCJ02)
    assert props["coordinates_gcj02"] == pytest.approx([gcj.lon, gcj.lat], abs=1e-6)
    # The GCJ-02 offset in Hangzhou is a few hundred metres, so it must not be WGS-84.
    assert geodesic((lat, lon), (gcj.lat, gcj.lon)).meters > 100
    nav = props["navigation"]
    assert f"{gcj.lon:.6f},{gcj.lat:.6f}" in nav["amap"]["url"]
    assert nav["amap"]["crs"] == nav["tencent"]["crs"] == "gcj02"
    assert nav["baidu"]["crs"] == "bd09" and "coord_type=bd09ll" in nav["baidu"]["url"]
    # Apple's map data in mainland China is GCJ-02 (AutoNavi's): a WGS-84 pin lands off.
    assert f"{gcj.lat:.6f},{gcj.lon:.6f}" in nav["apple"]["url"] and nav["apple"]["crs"] == "gcj02"


def test_results_sorted_by_distance_and_default_k_is_5(client: FlaskClient) -> None:
    body = _nearest(client, lat=30.25, lon=120.55)
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert len(distances) == 5
    assert distances == sorted(distances)


BAD_QUERIES = [
    ({"lon": "120.3"}, "lat"),
    ({"lat": "30.3"}, "lon"),
    ({"lat": "north", "lon": "120.3"}, "lat"),
    ({"lat": "nan", "lon": "120.3"}, "lat"),
    ({"lat": "30.3", "lon": "inf"}, "lon"),
    ({"lat": "95", "lon": "120.3"}, "lat"),
    ({"lat": "30.3", "lon": "-181"}, "lon"),
    ({"lat": "30.3", "lon": "120.3", "k": "0"}, "k"),
    ({"lat": "30.3", "lon": "120.3", "k": "51"}, "k"),
    ({"lat": "30.3", "lon": "120.3", "k": "2.5"}, "k"),
    ({"lat": "30.3", "lon": "120.3", "radius_m": "-1"}, "radius_m"),
    ({"lat": "30.3", "lon": "120.3", "amenity": "sauna"}, "amenity"),
    ({"lat": "30.3", "lon": "120.3", "kind": "hotel"}, "kind"),
    ({"lat": "30.3", "lon": "120.3", "street": "西湖街道"}, "street"),
    ({"lat": "30.3", "lon": "120.3", "crs": "epsg3857"}, "crs"),
    ({"lat": "30.3", "lon": "120.3", "at": "tomorrow"}, "at"),
    ({"lat": "30.3", "lon": "120.3", "open_now": "maybe"}, "open_now"),
    ({"lat": "3" * 500, "lon": "120.3"}, "lat"),
]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES)
def test_bad_input_is_a_400_naming_the_field(
    client: FlaskClient, query: dict[str, str], field: str
) -> None:
    response = client.get("/api/v1/stations/nearest", query_string=query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["code"] and error["message"]


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("gzip, deflate, br, zstd", "zstd"),  # Chrome on Android
        ("gzip, deflate, br", "br"),  # a browser without zstd: Flask-Compress's choice
        ("gzip", "gzip"),
        ("zstd;q=0, gzip", "gzip"),  # refused explicitly
        ("identity", None),
    ],
)
def test_the_answer_is_compressed_as_the_phone_accepts_and_reads_back_the_same(
    client: FlaskClient, accept: str, encoding: str | None
) -> None:
    url = "/api/v1/stations/nearest?lat=30.30&lon=120.35&k=10&at=2026-11-30T12:00:00%2B08:00"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    response = client.get(url, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers.get("Vary", "")
    decode = {"zstd": zstd.decompress, "br": brotli.decompress, "gzip": gzip.decompress}
    data = decode[encoding](response.data) if encoding else response.data
    assert json.loads(data) == json.loads(plain.data)
    if encoding:
        assert len(response.data) < len(plain.data) / 3
        assert int(response.headers["Content-Length"]) == len(response.data)
