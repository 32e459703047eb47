"""Nearest open stations for a courier: the index search plus what a courier needs to act.

Flask-free; the API, the courier pages and the CLI call `nearest_stations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from . import hours, schemas
from .geo.index import IndexedStation
from .geo.point import Point
from .live_index import IndexSnapshot


@lru_cache(maxsize=50_000)
def _links(name: str, lon: float, lat: float) -> tuple[list[float], dict[str, dict[str, str]]]:
    """A station's GCJ-02 position and navigation links: the same on every answer, and
    building the links (URL quoting) was a third of a request's time."""
    return schemas.gcj02_lonlat(lon, lat), schemas.navigation_links(name, lon, lat)


def nearest_stations(
    snapshot: IndexSnapshot,
    point: Point,
    *,
    k: int = 5,
    radius_m: float | None = None,
    amenities: Sequence[str] = (),
    kind: str | None = None,
    street: str | None = None,
    open_now: bool = False,
    at: datetime,
    walk_kmh: float,
    ride_kmh: float,
) -> list[dict[str, Any]]:
    """GeoJSON features of the k nearest matching stations, nearest first."""

    def is_open_then(station: IndexedStation) -> bool:
        return hours.is_open(station.opening_hours, at) is True

    hits = snapshot.index.nearest(
        point,
        k,
        radius_m=radius_m,
        amenities=amenities,
        kind=kind,
        street=street,
        predicate=is_open_then if open_now else None,
    )
    features = []
    bases = snapshot.features.many([hit.station.id for hit in hits])
    for hit, base in zip(hits, bases, strict=True):
        state = hours.state_at(hit.station.opening_hours, at)
        lon, lat = base["geometry"]["coordinates"]
        properties = dict(base["properties"])
        gcj02, navigation = _links(properties["name"], lon, lat)
        properties.update(
            distance_m=round(hit.distance_m, 1),
            walk_min=schemas.minutes(hit.distance_m, walk_kmh),
            ride_min=schemas.minutes(hit.distance_m, ride_kmh),
            open_now=state.open,
            next_change=state.next_change.isoformat() if state.next_change else None,
            coordinates_gcj02=gcj02,
            navigation=navigation,
        )
        features.append({**base, "properties": properties})
    return features
