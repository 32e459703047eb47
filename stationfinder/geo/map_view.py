"""What a map shows of a box of the world: each station in it when there are few, else
counts on a grid (server-side clustering). Flask-free.

The map page embeds every station when the registry is small (the district's 158);
at hundreds of thousands that page would weigh hundreds of megabytes, so instead the
browser asks for what is in view as it pans and zooms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stationfinder.geo.index import StationIndex

GRID = 8  # cells per side of the view; a phone's map shows 8 x 8 bubbles at most


@dataclass(frozen=True, slots=True)
class Box:
    """WGS-84 degrees; ``west > east`` crosses the antimeridian."""

    west: float
    south: float
    east: float
    north: float

    @property
    def width(self) -> float:
        return (self.east - self.west) % 360.0 or (360.0 if self.east != self.west else 0.0)


@dataclass(frozen=True, slots=True)
class Cluster:
    lon: float  # WGS-84, the mean position of its stations
    lat: float
    count: int


@dataclass(frozen=True, slots=True)
class View:
    total: int  # stations in the box that match
    station_ids: list[str]  # every one of them, when total <= max_stations
    clusters: list[Cluster]  # otherwise: counts per grid cell

    @property
    def clustered(self) -> bool:
        return bool(self.clusters)


def in_view(
    index: StationIndex,
    box: Box,
    *,
    kind: str | None = None,
    amenity: str | None = None,
    max_stations: int = 300,
    grid: int = GRID,
) -> View:
    positions = index.in_box(box.west, box.south, box.east, box.north, kind=kind, amenity=amenity)
    total = len(positions)
    if total <= max_stations:
        return View(total, index.ids_at(positions), [])
    lon, lat = index.coordinates_at(positions)
    east_of_west = (lon - box.west) % 360.0  # 0 .. width, also across the antimeridian
    cell_w = max(box.width / grid, 1e-12)
    cell_h = max((box.north - box.south) / grid, 1e-12)
    col = np.minimum((east_of_west / cell_w).astype(np.int64), grid - 1)
    row = np.minimum(((lat - box.south) / cell_h).astype(np.int64), grid - 1)
    cell = row * grid + col
    counts = np.bincount(cell, minlength=grid * grid)
    mean_east = np.bincount(cell, weights=east_of_west, minlength=grid * grid)
    mean_lat = np.bincount(cell, weights=lat, minlength=grid * grid)
    clusters = []
    for c in np.flatnonzero(counts).tolist():
        n = int(counts[c])
        centre_lon = (box.west + mean_east[c] / n + 180.0) % 360.0 - 180.0
        clusters.append(Cluster(float(centre_lon), float(mean_lat[c] / n), n))
    return View(total, [], clusters)
