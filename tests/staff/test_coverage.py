"""The 15-minute service circle: shares, gaps and the CSV, then the staff page."""

from __future__ import annotations

import csv
import io
import math

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pyproj import Geod
from staff_login import staff_client

import stationfinder.web.staff.coverage  # noqa: F401  (registers the routes until staff/__init__ does)
from stationfinder.core.resources import shipped_dir
from stationfinder.db import session_scope
from stationfinder.geo import coverage, crs
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import CRS, Point
from stationfinder.models import Station
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_areas

DISTRICT_NAME = "钱塘区"  # the district row's name
SPEEDS = {"walk_kmh": 4.5, "ride_kmh": 15.0}


@pytest.fixture(scope="module")
def areas() -> Areas:
    return Areas.from_file(shipped_dir("data") / "areas.geojson")


@pytest.fixture(scope="module")
def sample_sites() -> list[coverage.Site]:
    rows = registry.read_geojson((shipped_dir("data") / "stations.geojson").read_bytes())
    return [
        coverage.Site(r["id"], Point(r["lon"], r["lat"]), r["street"])
        for r in rows
        if r.get("active", True)
    ]


def test_reach_is_speed_times_fifteen_minutes_over_the_route_factor() -> None:
    assert coverage.reach_metres(4.5) == pytest.approx(4500 / 4 / 1.3)
    assert coverage.reach_metres(15.0) == pytest.approx(15000 / 4 / 1.3)


def test_areas_are_true_areas_on_the_ellipsoid(areas: Areas) -> None:
    report = coverage.coverage(areas, [], **SPEEDS)
    geod = Geod(ellps="WGS84")
    for item in report.subdistricts:
        geodesic_km2 = abs(geod.geometry_area_perimeter(areas.outline(item.name))[0]) / 1e6
        assert item.area_km2 == pytest.approx(geodesic_km2, rel=1e-4)


def test_one_station_reaches_a_circle_of_the_right_size(areas: Areas) -> None:
    site = coverage.Site("QT-XS-001", Point(120.3181, 30.3051), "下沙街道")  # Jinsha Lake
    report = coverage.coverage(areas, [site], **SPEEDS)
    geod = Geod(ellps="WGS84")
    reached_km2 = abs(geod.geometry_area_perimeter(report.reach["walk"])[0]) / 1e6
    assert reached_km2 == pytest.approx(math.pi * coverage.reach_metres(4.5) ** 2 / 1e6, rel=3e-3)


def test_shares_lie_between_zero_and_one(areas: Areas, sample_sites: list[coverage.Site]) -> None:
    report = coverage.coverage(areas, sample_sites, **SPEEDS)
    for item in [*report.subdistricts, report.district]:
        assert 0.0 <= item.walk_share <= item.ride_share <= 1.0
        for mode in coverage.MODES:
            sizes = [g.area_km2 for g in item.gaps[mode]]
            assert sizes == sorted(sizes, reverse=True)
            assert sum(sizes) <= item.area_km2 * (1 - item.share(mode)) + 1e-6
    assert sum(i.stations for i in report.subdistricts) == report.district.stations == 158


def test_a_subdistrict_without_stations_is_one_uncovered_place(areas: Areas) -> None:
    # Stations in Xiasha only; Qianjin, at the district's far east end, has none in reach.
    sites = [
        coverage.Site("QT-XS-001", Point(120.3181, 30.3051), "下沙街道"),
        coverage.Site("QT-XS-002", Point(120.3400, 30.3100), "下沙街道"),
    ]
    report = coverage.coverage(areas, sites, **SPEEDS)
    qianjin = next(i for i in report.subdistricts if i.name == "前进街道")
    assert qianjin.stations == 0
    assert qianjin.walk_share == qianjin.ride_share == 0.0
    assert qianjin.stations_per_km2 == 0.0
    (whole,) = qianjin.gaps["walk"]
    assert whole.area_km2 == pytest.approx(qianjin.area_km2, rel=1e-9)
    assert areas.street_at(whole.point) == "前进街道"


def test_a_station_at_the_largest_gap_raises_coverage(
    areas: Areas, sample_sites: list[coverage.Site]
) -> None:
    before = coverage.coverage(areas, sample_sites, **SPEEDS)
    linjiang = next(i for i in before.subdistricts if i.name == "临江街道")
    gap = linjiang.gaps["ride"][0]
    assert areas.street_at(gap.point) == "临江街道"
    added = coverage.Site("QT-LJ-999", gap.point, "临江街道")
    after = coverage.coverage(areas, [*sample_sites, added], **SPEEDS)
    grown = next(i for i in after.subdistricts if i.name == "临江街道")
    assert grown.ride_share > linjiang.ride_share
    assert grown.walk_share > linjiang.walk_share
    assert grown.stations == linjiang.stations + 1
    assert after.district.ride_share > before.district.ride_share


def test_csv_has_a_row_per_subdistrict_and_the_district(
    areas: Areas, sample_sites: list[coverage.Site]
) -> None:
    report = coverage.coverage(areas, sample_sites, **SPEEDS)
    data = coverage.coverage_csv(report, english=True)
    assert data.startswith(b"\xef\xbb\xbfsubdistrict,area_km2,")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["subdistrict"] for r in rows] == [
        *(i.name for i in report.subdistricts),
        DISTRICT_NAME,
    ]
    for row, item in zip(rows, [*report.subdistricts, report.district], strict=True):
        assert float(row["walk_share"]) == pytest.approx(item.walk_share, abs=1e-4)
    assert coverage.coverage_csv(report).decode("utf-8-sig").startswith("街道,面积")


# --- the staff page ---------------------------------------------------------------------


def _staff_client(app: Flask, role: str = "union_admin") -> FlaskClient:
    return staff_client(app, "u", role, "下沙街道" if role == "street_staff" else None)


def test_the_page_shows_figures_and_a_self_hosted_map(app: Flask) -> None:
    client = _staff_client(app)
    page = client.get("/staff/coverage")
    assert page.status_code == 200
    assert 'data-testid="coverage-table"' in page.text
    for name in ("下沙街道", "前进街道", DISTRICT_NAME):
        assert name in page.text
    assert "/static/vendor/leaflet/" in page.text
    # The map's own script runs as a script, not as text on the page.
    last_script = page.text.rsplit("<script", 1)[1]
    assert "L.map(" in last_script or "L.control.layers" in last_script
    assert "L.control.layers" not in page.text.rsplit("</script>", 1)[1]
    for cdn in ("cdn.", "unpkg", "jsdelivr", "bootstrap", "jquery", "font-awesome"):
        assert cdn not in page.text.lower()
    # Geometry is drawn in the tiles' system: Amap tiles are GCJ-02.
    areas = current_areas(app)
    x, y = areas.outline("下沙街道").exterior.coords[0]
    gcj = crs.from_wgs84(Point(x, y), CRS.GCJ02)
    assert f"[{round(gcj.lon, 6)}, {round(gcj.lat, 6)}]" in page.text
    assert f"[{round(x, 6)}, {round(y, 6)}]" not in page.text


def test_the_csv_follows_the_registry(app: Flask) -> None:
    client = _staff_client(app, "street_staff")
    before = list(
        csv.DictReader(
            io.StringIO(client.get("/staff/coverage.csv?headers=en").data.decode("utf-8-sig"))
        )
    )
    linjiang = next(r for r in before if r["subdistrict"] == "临江街道")
    lon, lat = float(linjiang["largest_ride_gap_lon"]), float(linjiang["largest_ride_gap_lat"])
    with session_scope(app) as session:
        session.add(
            Station(
                id="QT-LJ-999",
                name="新站",
                name_en=None,
                kind="工会驿站",
                street="临江街道",
                address="",
                lon=lon,
                lat=lat,
                amenities=["rest"],
                opening_hours=None,
                phone=None,
            )
        )
        registry.bump_version(session)
    after = list(
        csv.DictReader(
            io.StringIO(client.get("/staff/coverage.csv?headers=en").data.decode("utf-8-sig"))
        )
    )
    grown = next(r for r in after if r["subdistrict"] == "临江街道")
    assert float(grown["ride_share"]) > float(linjiang["ride_share"])
    assert int(grown["stations"]) == int(linjiang["stations"]) + 1


def test_strangers_are_sent_to_the_login(client: FlaskClient) -> None:
    assert client.get("/staff/coverage").status_code == 302
    assert client.get("/staff/coverage.csv").status_code == 302
