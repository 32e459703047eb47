"""`/api/v1/stations/in_view`: what the map shows of a box, for registries too large to
put on one page. Few stations in view: each of them; many: counts on a grid that add up
to the number in view."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from test_openapi import _check

from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point

DISTRICT = "120.20,30.15,120.80,30.45"  # Qiantang district and around, WGS-84


def _all_stations(client: FlaskClient) -> list[dict[str, Any]]:
    return client.get("/api/v1/stations").get_json()["features"]


def _inside(feature: dict[str, Any], west: float, south: float, east: float, north: float) -> bool:
    lon, lat = feature["geometry"]["coordinates"]
    return south <= lat <= north and west <= lon <= east


def test_a_box_with_few_stations_lists_exactly_those(client: FlaskClient) -> None:
    stations = _all_stations(client)
    box = (120.30, 30.25, 120.40, 30.32)
    want = {f["id"] for f in stations if _inside(f, *box)}
    assert 0 < len(want) < len(stations)
    body = client.get(f"/api/v1/stations/in_view?bbox={','.join(map(str, box))}").get_json()
    assert body["clustered"] is False
    assert body["total"] == len(want)
    assert {f["id"] for f in body["features"]} == want
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        gcj = crs.from_wgs84(Point(lon, lat), CRS.GCJ02)
        assert feature["properties"]["coordinates_gcj02"] == pytest.approx(
            [gcj.lon, gcj.lat], abs=1e-6
        )


def test_more_stations_than_the_limit_come_as_counts_that_add_up(client: FlaskClient) -> None:
    stations = _all_stations(client)
    in_district = [f for f in stations if _inside(f, 120.20, 30.15, 120.80, 30.45)]
    body = client.get(f"/api/v1/stations/in_view?bbox={DISTRICT}&limit=20").get_json()
    assert body["clustered"] is True
    assert body["total"] == len(in_district)
    counts = [f["properties"]["count"] for f in body["features"]]
    assert sum(counts) == len(in_district)
    assert len(counts) <= 64  # an 8 x 8 grid at most
    for cluster in body["features"]:
        lon, lat = cluster["geometry"]["coordinates"]
        assert 120.20 <= lon <= 120.80 and 30.15 <= lat <= 30.45


def test_filters_and_a_gcj02_box_give_the_same_stations(client: FlaskClient) -> None:
    stations = _all_stations(client)
    box = (120.25, 30.20, 120.60, 30.40)
    want = {
        f["id"] for f in stations if _inside(f, *box) and "toilet" in f["properties"]["amenities"]
    }
    wgs = client.get(f"/api/v1/stations/in_view?bbox={','.join(map(str, box))}&amenity=toilet")
    assert {f["id"] for f in wgs.get_json()["features"]} == want
    # The same box as a map on Amap tiles sees it: corners in GCJ-02.
    sw = crs.from_wgs84(Point(box[0], box[1]), CRS.GCJ02)
    ne = crs.from_wgs84(Point(box[2], box[3]), CRS.GCJ02)
    gcj = client.get(
        f"/api/v1/stations/in_view?bbox={sw.lon},{sw.lat},{ne.lon},{ne.lat}&crs=gcj02&amenity=toilet"
    )
    assert {f["id"] for f in gcj.get_json()["features"]} == want


def test_a_box_across_the_antimeridian_and_an_empty_box(client: FlaskClient) -> None:
    across = client.get("/api/v1/stations/in_view?bbox=170,-10,-170,10").get_json()
    assert across["total"] == 0 and across["features"] == []
    world = client.get("/api/v1/stations/in_view?bbox=100,-90,-100,90&limit=500").get_json()
    assert world["total"] == len(_all_stations(client))  # 100°E eastwards to 100°W


@pytest.mark.parametrize(
    "query",
    [
        "",
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=120,31,121,30",  # south above north
        "bbox=120,30,200,31",
        "bbox=nan,30,121,31",
        "bbox=120,30,121,31&limit=0",
        "bbox=120,30,121,31&limit=501",
        "bbox=120,30,121,31&kind=nope",
        "bbox=120,30,121,31&amenity=sauna",
        "bbox=120,30,121,31&crs=utm",
    ],
)
def test_bad_input_is_a_400_naming_the_field(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/stations/in_view?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] in {"bbox", "limit", "kind", "amenity", "crs"}
    assert error["message"]


def test_answers_conform_to_the_document(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for query in (f"bbox={DISTRICT}", f"bbox={DISTRICT}&limit=5", "bbox=1,1,2,2"):
        body = client.get(f"/api/v1/stations/in_view?{query}").get_json()
        _check(document, "/api/v1/stations/in_view", 200, body)
    _check(
        document,
        "/api/v1/stations/in_view",
        400,
        client.get("/api/v1/stations/in_view?bbox=x").get_json(),
    )
