"""The in-memory station index that follows the registry.

Each worker keeps one StationIndex built from the database and the registry version it
was built from. At most every `check_seconds` a request compares that version with the
database's (one indexed single-row read); when it moved, the worker rebuilds and swaps
the index, so a staff edit made through any worker is served by every worker within
about a second. Flask-free: it gets a session factory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import registry, schemas
from .geo.index import IndexedStation, StationIndex
from .models import Station

FEATURES_KEPT = 50_000  # public features kept per worker; a miss is one indexed read


class StationFeatures(Mapping[str, dict[str, Any]]):
    """The snapshot's stations as public GeoJSON features, read from the database when
    first asked for and kept (the most recently used FEATURES_KEPT of them).

    Building all of them up front costs ~1.5 KB and ~15 µs per station: nothing at 158
    stations, 600 MB and 6 s at 400,000.
    """

    def __init__(self, sessions: Callable[[], Session], ids: Iterable[str]) -> None:
        self._sessions = sessions
        self._ids = frozenset(ids)
        self._kept: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._ids))

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def __getitem__(self, station_id: str) -> dict[str, Any]:
        found = self.many([station_id]) if station_id in self._ids else []
        if not found:
            raise KeyError(station_id)
        return found[0]

    def many(self, ids: list[str]) -> list[dict[str, Any]]:
        """Features of these stations, in this order; one query for those not kept."""
        with self._lock:
            found = {i: self._kept[i] for i in ids if i in self._kept}
            for i in found:
                self._kept.move_to_end(i)
        missing = [i for i in ids if i not in found and i in self._ids]
        if missing:
            with self._sessions() as session:
                for first in range(0, len(missing), 5_000):
                    chunk = missing[first : first + 5_000]
                    for station in session.scalars(select(Station).where(Station.id.in_(chunk))):
                        found[station.id] = schemas.station_feature(station)
            with self._lock:
                for i in missing:
                    if i in found:
                        self._kept[i] = found[i]
                while len(self._kept) > FEATURES_KEPT:
                    self._kept.popitem(last=False)
        return [found[i] for i in ids if i in found]

    def values(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return self.many(sorted(self._ids))


@dataclass(frozen=True)
class IndexSnapshot:
    version: int
    index: StationIndex
    features: StationFeatures  # station id -> public GeoJSON feature
    built_at: float


class LiveIndex:
    def __init__(self, sessions: Callable[[], Session], check_seconds: float = 0.5) -> None:
        self._sessions = sessions
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._snapshot: IndexSnapshot | None = None
        self._checked_at = 0.0

    @property
    def loaded(self) -> bool:
        return self._snapshot is not None

    def current(self) -> IndexSnapshot:
        """The index for the registry as it is now (give or take check_seconds)."""
        snapshot = self._snapshot
        if snapshot is not None and time.monotonic() - self._checked_at < self._check_seconds:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and (time.monotonic() - self._checked_at < self._check_seconds):
                return snapshot
            with self._sessions() as session:
                version = registry.registry_version(session)
                if snapshot is None or snapshot.version != version:
                    snapshot = self._build(session, version)
                    self._snapshot = snapshot
            self._checked_at = time.monotonic()
            return snapshot

    def invalidate(self) -> None:
        """Check the database on the next request (after a write in this worker)."""
        self._checked_at = 0.0

    def _build(self, session: Session, version: int) -> IndexSnapshot:
        rows = session.execute(
            select(
                Station.id, Station.lon, Station.lat, Station.kind, Station.street,
                Station.amenities, Station.out_of_service, Station.opening_hours,
            ).where(Station.active)
        )  # fmt: skip
        shared: dict[Any, Any] = {}  # one object for equal kinds, streets, sets and hours
        indexed = [
            IndexedStation(
                id=sid,
                lon=lon,
                lat=lat,
                kind=shared.setdefault(kind, kind),
                street=shared.setdefault(street, street),
                # An amenity staff confirmed broken is not offered until it is fixed.
                amenities=shared.setdefault(
                    a := frozenset(amenities or ()) - set(out_of_service or {}), a
                ),
                opening_hours=shared.setdefault(hours, hours),
            )
            for sid, lon, lat, kind, street, amenities, out_of_service, hours in rows
        ]
        return IndexSnapshot(
            version=version,
            index=StationIndex(indexed),
            features=StationFeatures(self._sessions, (s.id for s in indexed)),
            built_at=time.time(),
        )
