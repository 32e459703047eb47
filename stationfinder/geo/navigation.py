"""Links that hand navigation to the phone's map app, each in the system its app reads.

Amap (高德) and Tencent read GCJ-02, Baidu BD-09 (`geo/crs.py` converts from the
WGS-84 the registry stores). Apple Maps reads GCJ-02 too where GCJ-02 applies: inside
mainland China Apple's map data is AutoNavi's, and MapKit itself reports GCJ-02
coordinates there, so a WGS-84 pin lands a few hundred metres off. Outside the GCJ-02
area every app gets WGS-84 (`crs.from_wgs84` leaves such a point unchanged).

Every link is an https URL, not an app scheme: the map apps register these as
universal/app links, so the app opens when it is installed, and otherwise (or inside
WeChat's browser, which does not let a page open other apps) the link is a working web
page with the route. Couriers ride e-bikes: Amap, Baidu and Tencent are asked for a
riding route; Apple has no cycling mode in its URL scheme, so it gets walking.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote, urlencode

from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point

APPS = ("amap", "baidu", "tencent", "apple")


class Link(TypedDict):
    url: str
    crs: str  # the system the link's coordinates are in: gcj02, bd09 or wgs84


def _query(values: dict[str, str], safe: str = ",:") -> str:
    return urlencode(values, quote_via=quote, safe=safe)


def gcj02_lonlat(lon: float, lat: float) -> list[float]:
    """A WGS-84 point in GCJ-02, [lon, lat] rounded to ~0.1 m."""
    p = crs.from_wgs84(Point(lon, lat), CRS.GCJ02)
    return [round(p.lon, 6), round(p.lat, 6)]


def navigation_links(name: str, lon: float, lat: float) -> dict[str, Link]:
    """The four apps' links to a station at WGS-84 (lon, lat), named `name`."""
    wgs = Point(lon, lat)
    gcj = crs.from_wgs84(wgs, CRS.GCJ02)
    bd = crs.from_wgs84(wgs, CRS.BD09)
    in_china = crs.in_gcj_area(lon, lat)
    amap = "https://uri.amap.com/navigation?" + _query(
        {
            "to": f"{gcj.lon:.6f},{gcj.lat:.6f},{name}",
            "mode": "ride",
            "coordinate": "gaode",
            "callnative": "1",
            "src": "stationfinder",
        }
    )
    baidu = "https://api.map.baidu.com/direction?" + _query(
        {
            "destination": f"latlng:{bd.lat:.6f},{bd.lon:.6f}|name:{name}",
            "coord_type": "bd09ll",
            "mode": "riding",
            "region": "杭州",
            "output": "html",
            "src": "stationfinder",
        }
    )
    tencent = "https://apis.map.qq.com/uri/v1/routeplan?" + _query(
        {
            "type": "bike",
            "to": name,
            "tocoord": f"{gcj.lat:.6f},{gcj.lon:.6f}",
            "referer": "stationfinder",
        }
    )
    apple_point = gcj if in_china else wgs
    apple = "https://maps.apple.com/?" + _query(
        {"daddr": f"{apple_point.lat:.6f},{apple_point.lon:.6f}", "dirflg": "w", "q": name},
        safe=",",
    )
    return {
        "amap": {"url": amap, "crs": "gcj02"},
        "baidu": {"url": baidu, "crs": "bd09"},
        "tencent": {"url": tencent, "crs": "gcj02"},
        "apple": {"url": apple, "crs": "gcj02" if in_china else "wgs84"},
    }
