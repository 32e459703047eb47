"""WGS-84 / GCJ-02 / BD-09 conversions, checked against an independent implementation.

The oracle below is the widely published formula (as in eviltransform and most Chinese
blog posts), written out separately from prcoords so that a mistake in how we call
prcoords, or in prcoords itself, shows up as a disagreement.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stationfinder.geo.crs import convert, from_wgs84, in_gcj_area, to_wgs84
from stationfinder.geo.point import CRS, Point

# --- the oracle -----------------------------------------------------------------------

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return ret


def oracle_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def oracle_gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def metres(a: Point, b: Point) -> float:
    """Haversine distance; plenty for centimetre-scale differences."""
    r = 6371008.8
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


# --- strategies -----------------------------------------------------------------------

district = st.builds(
    Point,
    lon=st.floats(120.25, 120.80),
    lat=st.floats(30.15, 30.45),
)
china = st.builds(Point, lon=st.floats(73.5, 135.0), lat=st.floats(18.0, 53.5))
abroad = st.one_of(
    st.builds(Point, lon=st.floats(-180.0, 72.0), lat=st.floats(-90.0, 90.0)),
    st.builds(Point, lon=st.floats(137.9, 180.0), lat=st.floats(-90.0, 90.0)),
    st.builds(Point, lon=st.floats(-180.0, 180.0), lat=st.floats(56.0, 90.0)),
    st.builds(Point, lon=st.floats(-180.0, 180.0), lat=st.floats(-90.0, 0.8)),
)

# --- known values ---------------------------------------------------------------------

TIANANMEN = Point(116.391275, 39.90765)
JINSHA_LAKE = Point(120.3130, 30.3060)  # 金沙湖, the middle of Xiasha


def test_tiananmen_in_gcj02_matches_the_published_formula() -> None:
    gcj = convert(TIANANMEN, CRS.GCJ02)
    assert gcj.crs is CRS.GCJ02
    assert (round(gcj.lon, 6), round(gcj.lat, 6)) == (116.397516, 39.909051)
    assert (gcj.lon, gcj.lat) == pytest.approx(oracle_wgs_to_gcj(TIANANMEN.lon, TIANANMEN.lat))


def test_tiananmen_in_bd09_matches_the_published_formula() -> None:
    bd = convert(TIANANMEN, CRS.BD09)
    assert bd.crs is CRS.BD09
    expected = oracle_gcj_to_bd(*oracle_wgs_to_gcj(TIANANMEN.lon, TIANANMEN.lat))
    assert (bd.lon, bd.lat) == pytest.approx(expected, abs=1e-12)


@given(china)
def test_forward_transforms_agree_with_the_oracle_over_china(p: Point) -> None:
    gcj = from_wgs84(p, CRS.GCJ02)
    assert (gcj.lon, gcj.lat) == pytest.approx(oracle_wgs_to_gcj(p.lon, p.lat), abs=1e-9)
    bd = from_wgs84(p, CRS.BD09)
    assert (bd.lon, bd.lat) == pytest.approx(oracle_gcj_to_bd(gcj.lon, gcj.lat), abs=1e-9)


def test_offset_in_hangzhou_is_a_few_hundred_metres() -> None:
    gcj = convert(JINSHA_LAKE, CRS.GCJ02)
    bd = convert(JINSHA_LAKE, CRS.BD09)
    assert 200 < metres(JINSHA_LAKE, gcj) < 800
    assert 800 < metres(JINSHA_LAKE, bd) < 1500  # Baidu adds roughly another kilometre


# --- round trips ----------------------------------------------------------------------


@given(st.one_of(district, china))
def test_wgs_gcj_wgs_round_trip_within_a_centimetre(p: Point) -> None:
    back = to_wgs84(convert(p, CRS.GCJ02))
    assert back.crs is CRS.WGS84
    assert metres(p, back) < 0.01


@given(st.one_of(district, china))
def test_wgs_bd_wgs_round_trip_within_a_centimetre(p: Point) -> None:
    back = to_wgs84(convert(p, CRS.BD09))
    assert metres(p, back) < 0.01


@given(district)
def test_gcj_and_bd_convert_into_each_other(p: Point) -> None:
    gcj = convert(p, CRS.GCJ02)
    bd = convert(gcj, CRS.BD09)
    assert metres(bd, convert(p, CRS.BD09)) < 0.01
    assert metres(convert(bd, CRS.GCJ02), gcj) < 0.01
    assert convert(bd, CRS.GCJ02).crs is CRS.GCJ02


@given(district)
def test_inverse_of_a_map_point_is_precise(p: Point) -> None:
    """Start from a point read off Amap: GCJ-02 -> WGS-84 -> GCJ-02 lands back on it."""
    on_map = Point(p.lon, p.lat, CRS.GCJ02)
    assert metres(convert(to_wgs84(on_map), CRS.GCJ02), on_map) < 0.01


# --- outside China --------------------------------------------------------------------


@given(abroad)
def test_gcj02_is_wgs84_outside_china(p: Point) -> None:
    assert not in_gcj_area(p.lon, p.lat)
    gcj = convert(p, CRS.GCJ02)
    assert (gcj.lon, gcj.lat, gcj.crs) == (p.lon, p.lat, CRS.GCJ02)
    back = to_wgs84(Point(p.lon, p.lat, CRS.GCJ02))
    assert (back.lon, back.lat) == (p.lon, p.lat)


def test_paris_round_trips_through_bd09_without_warnings() -> None:
    paris = Point(2.3522, 48.8566)
    bd = convert(paris, CRS.BD09)
    assert (bd.lon, bd.lat) == pytest.approx(oracle_gcj_to_bd(paris.lon, paris.lat))
    assert metres(to_wgs84(bd), paris) < 0.01


# --- the API's small print ------------------------------------------------------------


def test_converting_to_the_same_system_returns_the_point() -> None:
    for crs in CRS:
        p = Point(120.3, 30.3, crs)
        assert convert(p, crs) is p
    assert to_wgs84(TIANANMEN) is TIANANMEN


def test_from_wgs84_refuses_a_point_in_another_system() -> None:
    with pytest.raises(ValueError, match="WGS-84"):
        from_wgs84(Point(120.3, 30.3, CRS.GCJ02), CRS.BD09)
