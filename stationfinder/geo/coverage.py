"""The union's "15-minute service circle" (15分钟服务圈): where a station is in reach.

Each active station reaches what a courier covers in 15 minutes on foot or by e-bike:
speed × 15 min, divided by the route factor the locator also uses (streets are longer
than the straight line). For each subdistrict: the share of its area within reach,
stations per km², and the largest places out of reach, as candidates for new stations.

Buffers and areas are computed in a transverse Mercator projection centred on the
district, in metres: across a district some 40 km wide its scale error is under 0.003 %,
where UTM zone 51N (central meridian 123°E, 2.5° east of Qiantang) would be 0.03 % off.
Geometry given back is WGS-84 (RFC 7946), like everything the registry stores. No Flask.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.geo.travel import ROUTE_FACTOR

MINUTES = 15
MODES = ("walk", "ride")
# Pieces of a subdistrict smaller than this are slivers between neighbouring circles,
# not places where a station is missing.
MIN_GAP_KM2 = 0.05
GAPS_PER_SUBDISTRICT = 5
CIRCLE_SEGMENTS = 16  # per quarter circle: the polygon's area is 99.8 % of the circle's


@dataclass(frozen=True, slots=True)
class Site:
    """Where an active station stands, and the subdistrict it belongs to."""

    id: str
    point: Point
    street: str


@dataclass(frozen=True, slots=True)
class Gap:
    """A connected place out of reach: a candidate for a new station."""

    mode: str
    area_km2: float
    point: Point  # the spot inside it farthest from its edges (WGS-84)
    outline: BaseGeometry  # WGS-84


@dataclass(frozen=True, slots=True)
class SubdistrictCoverage:
    name: str
    area_km2: float
    stations: int
    walk_share: float  # 0..1 of the area within 15 minutes on foot
    ride_share: float  # 0..1 of the area within 15 minutes by e-bike
    gaps: dict[str, list[Gap]]  # mode -> largest first

    @property
    def stations_per_km2(self) -> float:
        return self.stations / self.area_km2 if self.area_km2 else 0.0

    def share(self, mode: str) -> float:
        return self.walk_share if mode == "walk" else self.ride_share


@dataclass(frozen=True, slots=True)
class Coverage:
    minutes: int
    reach_m: dict[str, float]  # mode -> radius in metres
    subdistricts: list[SubdistrictCoverage]
    district: SubdistrictCoverage  # the whole district's figures (name: its zh name)
    reach: dict[str, BaseGeometry]  # mode -> union of every station's reach (WGS-84)
    sites: list[Site]
    district_code: str = ""  # the district's 6-digit division code


def reach_metres(speed_kmh: float, minutes: float = MINUTES) -> float:
    """How far from a station (straight line) one gets along streets in `minutes`."""
    return speed_kmh * 1000 / 60 * minutes / ROUTE_FACTOR


class _Projection:
    """WGS-84 lon/lat <-> metres on a transverse Mercator centred on the district."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        minx, miny, maxx, maxy = bounds
        local = ProjCRS.from_proj4(
            f"+proj=tmerc +lat_0={(miny + maxy) / 2:.4f} +lon_0={(minx + maxx) / 2:.4f} "
            "+k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        self._forward = Transformer.from_crs("EPSG:4326", local, always_xy=True)
        self._back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)

    def to_metres(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda xy: _apply(self._forward, xy))

    def to_wgs84(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda xy: _apply(self._back, xy))


def _apply(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def coverage(
    areas: Areas,
    sites: Sequence[Site],
    *,
    walk_kmh: float,
    ride_kmh: float,
    minutes: int = MINUTES,
    district: str | None = None,
) -> Coverage:
    """The service circle's figures for one district (its division code; by default the
    first loaded) and each of its subdistricts. One district at a time: the projection
    is centred on it, which keeps areas true to 0.003 % where one projection over a
    province or the country would not."""
    chosen = areas.district(district) if district else areas.districts()[0]
    if chosen is None:
        raise KeyError(f"no district {district!r} is loaded")
    keys = set(areas.subdistrict_keys(chosen.code))
    sites = [s for s in sites if s.street in keys]
    projection = _Projection(areas.district_bounds(chosen.code))
    radius = {"walk": reach_metres(walk_kmh, minutes), "ride": reach_metres(ride_kmh, minutes)}
    centres = [projection.to_metres(shapely.Point(s.point.lon, s.point.lat)) for s in sites]
    reach = {
        mode: shapely.union_all(
            [c.buffer(radius[mode], quad_segs=CIRCLE_SEGMENTS) for c in centres]
        )
        for mode in MODES
    }
    counts: dict[str, int] = {}
    for site in sites:
        counts[site.street] = counts.get(site.street, 0) + 1

    def figures(name: str, outline: BaseGeometry, stations: int) -> SubdistrictCoverage:
        metric = projection.to_metres(outline)
        area = metric.area
        shares = {
            mode: min(1.0, metric.intersection(reach[mode]).area / area) if area else 0.0
            for mode in MODES
        }
        return SubdistrictCoverage(
            name=name,
            area_km2=area / 1e6,
            stations=stations,
            walk_share=shares["walk"],
            ride_share=shares["ride"],
            gaps={mode: _gaps(metric, reach[mode], mode, projection) for mode in MODES},
        )

    subdistricts = [
        figures(name, outline, counts.get(name, 0))
        for name, outline in areas.subdistricts(chosen.code)
    ]
    whole = figures(chosen.name, areas.outline(chosen.code), len(sites))
    return Coverage(
        minutes=minutes,
        reach_m=radius,
        subdistricts=subdistricts,
        district=whole,
        reach={mode: projection.to_wgs84(reach[mode]) for mode in MODES},
        sites=list(sites),
        district_code=chosen.code,
    )


def _gaps(
    outline: BaseGeometry, reach: BaseGeometry, mode: str, projection: _Projection
) -> list[Gap]:
    left = outline.difference(reach) if not reach.is_empty else outline
    pieces = sorted(_polygons(left), key=lambda p: p.area, reverse=True)
    gaps = []
    for piece in pieces[:GAPS_PER_SUBDISTRICT]:
        if piece.area / 1e6 < MIN_GAP_KM2:
            break
        # The pole of inaccessibility: the spot a new station would bring the most of
        # this place into reach, and always inside it (a centroid may fall outside).
        spot = polylabel(piece, tolerance=10.0)
        lon, lat = projection.to_wgs84(spot).coords[0]
        gaps.append(
            Gap(
                mode=mode,
                area_km2=piece.area / 1e6,
                point=Point(lon, lat),
                outline=projection.to_wgs84(piece),
            )
        )
    return gaps


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]


# --- the same figures as CSV ------------------------------------------------------

CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("subdistrict", "街道"),
    ("area_km2", "面积(平方公里)"),
    ("stations", "站点数"),
    ("stations_per_km2", "每平方公里站点数"),
    ("walk_share", "步行15分钟覆盖率"),
    ("ride_share", "骑行15分钟覆盖率"),
    ("largest_walk_gap_km2", "步行最大未覆盖(平方公里)"),
    ("largest_walk_gap_lon", "步行最大未覆盖中心经度"),
    ("largest_walk_gap_lat", "步行最大未覆盖中心纬度"),
    ("largest_ride_gap_km2", "骑行最大未覆盖(平方公里)"),
    ("largest_ride_gap_lon", "骑行最大未覆盖中心经度"),
    ("largest_ride_gap_lat", "骑行最大未覆盖中心纬度"),
)


def figures_row(item: SubdistrictCoverage) -> dict[str, Any]:
    row: dict[str, Any] = {
        "subdistrict": item.name,
        "area_km2": round(item.area_km2, 2),
        "stations": item.stations,
        "stations_per_km2": round(item.stations_per_km2, 3),
        "walk_share": round(item.walk_share, 4),
        "ride_share": round(item.ride_share, 4),
    }
    for mode in MODES:
        gap = item.gaps[mode][0] if item.gaps[mode] else None
        row[f"largest_{mode}_gap_km2"] = round(gap.area_km2, 2) if gap else 0
        row[f"largest_{mode}_gap_lon"] = round(gap.point.lon, 6) if gap else ""
        row[f"largest_{mode}_gap_lat"] = round(gap.point.lat, 6) if gap else ""
    return row


def coverage_csv(report: Coverage, *, english: bool = False) -> bytes:
    """One row per subdistrict and one for the district; UTF-8 with a BOM for Excel.

    Gap positions are WGS-84, like the registry's exports.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([en if english else zh for en, zh in CSV_COLUMNS])
    for item in [*report.subdistricts, report.district]:
        row = figures_row(item)
        writer.writerow([row[key] for key, _ in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
