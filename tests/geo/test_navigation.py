"""Each map app's link lands on the station: its coordinates are in the system that app
reads, checked against prcoords (the reference implementation) rather than our code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import prcoords
import pytest
from geopy.distance import geodesic

from stationfinder.geo.navigation import navigation_links

# 白杨 and 下沙 stations' neighbourhood, a point in Hangzhou's west, and one abroad.
CHINA = [(120.318, 30.305), (120.3561, 30.3122), (120.1551, 30.2741)]
PARIS = (2.3522, 48.8566)


def _args(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (lat, lon) pairs."""
    return geodesic(a, b).meters


@pytest.mark.parametrize(("lon", "lat"), CHINA)
def test_every_app_gets_its_own_system_in_china(lon: float, lat: float) -> None:
    links = navigation_links("白杨驿站", lon, lat)
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    bd = prcoords.wgs_bd(prcoords.Coords(lat, lon))

    amap = _args(links["amap"]["url"])
    a_lon, a_lat, name = amap["to"].split(",", 2)
    assert name == "白杨驿站" and amap["coordinate"] == "gaode" and amap["mode"] == "ride"
    assert _metres((float(a_lat), float(a_lon)), (gcj.lat, gcj.lon)) < 0.2

    baidu = _args(links["baidu"]["url"])
    assert baidu["coord_type"] == "bd09ll" and baidu["mode"] == "riding"
    b_lat, b_lon = baidu["destination"].split("|")[0].removeprefix("latlng:").split(",")
    assert _metres((float(b_lat), float(b_lon)), (bd.lat, bd.lon)) < 0.2

    tencent = _args(links["tencent"]["url"])
    assert tencent["type"] == "bike"
    t_lat, t_lon = tencent["tocoord"].split(",")
    assert _metres((float(t_lat), float(t_lon)), (gcj.lat, gcj.lon)) < 0.2

    apple = _args(links["apple"]["url"])
    p_lat, p_lon = apple["daddr"].split(",")
    assert _metres((float(p_lat), float(p_lon)), (gcj.lat, gcj.lon)) < 0.2
    # ...and GCJ-02 is really a few hundred metres from the WGS-84 point here.
    assert _metres((float(p_lat), float(p_lon)), (lat, lon)) > 100

    assert {app: link["crs"] for app, link in links.items()} == {
        "amap": "gcj02",
        "baidu": "bd09",
        "tencent": "gcj02",
        "apple": "gcj02",
    }


def test_outside_china_apple_gets_wgs84() -> None:
    lon, lat = PARIS
    links = navigation_links("x", lon, lat)
    p_lat, p_lon = _args(links["apple"]["url"])["daddr"].split(",")
    assert _metres((float(p_lat), float(p_lon)), (lat, lon)) < 0.2
    assert links["apple"]["crs"] == "wgs84"


def test_every_link_is_a_web_url_that_works_without_the_app() -> None:
    """WeChat's browser does not let a page open other apps: each link must be an https
    page of the app's own site (which opens the app where it can)."""
    hosts = {app: urlsplit(link["url"]) for app, link in navigation_links("x", *CHINA[0]).items()}
    assert all(u.scheme == "https" for u in hosts.values())
    assert {app: u.netloc for app, u in hosts.items()} == {
        "amap": "uri.amap.com",
        "baidu": "api.map.baidu.com",
        "tencent": "apis.map.qq.com",
        "apple": "maps.apple.com",
    }
