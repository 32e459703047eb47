"""A point is a small typed value: longitude, latitude and the system they are in."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# The public grid for couriers' own positions: 0.001 degree, three decimals. In
# Hangzhou (30.3 degrees north) that is 111 m north-south by 96 m east-west, so a
# rounded point is at most about 73 m from where the courier stood, and a home and the
# street corner beside it fall in the same cell.
COARSE_DECIMALS = 3


class CRS(StrEnum):
    """Coordinate systems met in China. Storage is always WGS84."""

    WGS84 = "wgs84"  # GPS, browsers' geolocation, OpenStreetMap, GeoJSON
    GCJ02 = "gcj02"  # Amap, Tencent Maps, WeChat
    BD09 = "bd09"  # Baidu Maps


@dataclass(frozen=True, slots=True)
class Point:
    lon: float
    lat: float
    crs: CRS = CRS.WGS84

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lon) and math.isfinite(self.lat)):
            raise ValueError("coordinates must be finite numbers")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude {self.lon} is outside -180..180")
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude {self.lat} is outside -90..90")

    def coarse(self, decimals: int = COARSE_DECIMALS) -> Point:
        """This point snapped to the public grid (see COARSE_DECIMALS): what may be
        shown, and therefore all that is kept, of where a courier was."""
        return Point(round(self.lon, decimals), round(self.lat, decimals), self.crs)
