"""Nearest open stations for a courier: the index search plus what a courier needs to act.

Flask-free; the API, the courier pages and the CLI call `nearest_stations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from . import hours, schemas
from .geo.index import IndexedStation
from .geo.point import Point
from .live_index import IndexSnapshot


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
    for hit in hits:
        base = snapshot.features[hit.station.id]
        state = hours.state_at(hit.station.opening_hours, at)
        lon, lat = base["geometry"]["coordinates"]
        properties = dict(base["properties"])
        properties.update(
            distance_m=round(hit.distance_m, 1),
            walk_min=schemas.minutes(hit.distance_m, walk_kmh),
            ride_min=schemas.minutes(hit.distance_m, ride_kmh),
            open_now=state.open,
            next_change=state.next_change.isoformat() if state.next_change else None,
            coordinates_gcj02=schemas.gcj02_lonlat(lon, lat),
            navigation=schemas.navigation_links(properties["name"], lon, lat),
        )
        features.append({**base, "properties": properties})
    return features
