"""A point is a small typed value: longitude, latitude and the system they are in."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


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
