"""Nearest open stations for a courier: the index search plus what a courier needs to act.

Flask-free; the API, the courier pages and the CLI call `nearest_stations`; the API's
hot path calls `nearest_stations_json`, which writes the same features as JSON text from
pieces each snapshot encodes once per station.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from stationfinder.core import hours
from stationfinder.geo import navigation, travel
from stationfinder.geo.index import Hit
from stationfinder.geo.point import Point
from stationfinder.registry import geojson as schemas
from stationfinder.registry.live_index import IndexSnapshot

# A state whose next change is unknown (none within the year hours.py looks ahead, or
# hours not known) is reused for this long only.
_UNBOUNDED_REUSE = timedelta(seconds=60)


class HoursStates:
    """`hours.state_at` per expression, reused while the moment asked about lies between
    the moment it was computed for and the next change, where the answer is the same.

    Walking the calendar for the next change costs ~50 µs per station and a few dozen
    expressions serve a whole registry, so nearly every request finds its states here.
    """

    def __init__(self, max_size: int = 4096) -> None:
        self._max_size = max_size
        self._states: dict[str, tuple[datetime, datetime, hours.HoursState]] = {}
        self._lock = threading.Lock()

    def __call__(self, expr: str | None, at: datetime) -> hours.HoursState:
        if expr is None:
            return hours.HoursState(open=None, next_change=None)
        if at.tzinfo is None:
            at = at.replace(tzinfo=hours.TZ)  # naive means Asia/Shanghai, as in hours.py
        kept = self._states.get(expr)
        if kept is not None and kept[0] <= at < kept[1]:
            return kept[2]
        state = hours.state_at(expr, at)
        until = state.next_change if state.next_change is not None else at + _UNBOUNDED_REUSE
        with self._lock:
            if len(self._states) >= self._max_size:
                self._states.clear()
            self._states[expr] = (at, until, state)
        return state


_states = HoursStates()


@lru_cache(maxsize=50_000)
def _links(name: str, lon: float, lat: float) -> tuple[list[float], dict[str, dict[str, str]]]:
    """A station's GCJ-02 position and navigation links: the same on every answer, and
    building the links (URL quoting) was a third of a request's time."""
    return navigation.gcj02_lonlat(lon, lat), navigation.navigation_links(name, lon, lat)


def _search(
    snapshot: IndexSnapshot,
    point: Point,
    *,
    k: int,
    radius_m: float | None,
    amenities: Sequence[str],
    kind: str | None,
    street: str | None,
    open_now: bool,
    at: datetime,
    first: str | None = None,
) -> list[Hit]:
    def open_then(opening_hours: str | None) -> bool:
        return _states(opening_hours, at).open is True

    hits = snapshot.index.nearest(
        point,
        k,
        radius_m=radius_m,
        amenities=amenities,
        kind=kind,
        street=street,
        hours=open_then if open_now else None,
    )
    return _listed_first(hits, first)


def _listed_first(hits: list[Hit], amenity: str | None) -> list[Hit]:
    """The hits whose station has ``amenity`` working, then the others, each group in
    its order (nearest first): the same k nearest stations, those that help first."""
    if amenity is None:
        return hits
    helping = [hit for hit in hits if amenity in hit.station.amenities]
    if not helping or len(helping) == len(hits):
        return hits
    return helping + [hit for hit in hits if amenity not in hit.station.amenities]


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
    first: str | None = None,
) -> list[dict[str, Any]]:
    """GeoJSON features of the k nearest matching stations, nearest first; with
    ``first`` (an amenity code: a weather alert's), those with it working come first."""
    hits = _search(
        snapshot, point, k=k, radius_m=radius_m, amenities=amenities, kind=kind,
        street=street, open_now=open_now, at=at, first=first,
    )  # fmt: skip
    features = []
    bases = snapshot.features.many([hit.id for hit in hits])
    for hit, base in zip(hits, bases, strict=True):
        state = _states(hit.opening_hours, at)
        lon, lat = base["geometry"]["coordinates"]
        properties = dict(base["properties"])
        gcj02, navigation = _links(properties["name"], lon, lat)
        properties.update(
            distance_m=round(hit.distance_m, 1),
            walk_min=travel.minutes(hit.distance_m, walk_kmh),
            ride_min=travel.minutes(hit.distance_m, ride_kmh),
            open_now=state.open,
            next_change=state.next_change.isoformat() if state.next_change else None,
            coordinates_gcj02=gcj02,
            navigation=navigation,
        )
        features.append({**base, "properties": properties})
    return features


def nearest_stations_json(
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
    first: str | None = None,
) -> str:
    """`nearest_stations` as a JSON array, without encoding the stations again."""
    hits = _search(
        snapshot, point, k=k, radius_m=radius_m, amenities=amenities, kind=kind,
        street=street, open_now=open_now, at=at, first=first,
    )  # fmt: skip
    heads = snapshot.features.located_heads([hit.id for hit in hits])
    parts = []
    for hit, head in zip(hits, heads, strict=True):
        state = _states(hit.opening_hours, at)
        parts.append(
            schemas.located_feature(
                head,
                distance_m=hit.distance_m,
                walk_min=travel.minutes(hit.distance_m, walk_kmh),
                ride_min=travel.minutes(hit.distance_m, ride_kmh),
                open_now=state.open,
                next_change=state.next_change,
            )
        )
    return "[" + ",".join(parts) + "]"
