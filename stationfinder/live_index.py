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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from . import registry, schemas
from .geo.index import IndexedStation, StationIndex


@dataclass(frozen=True)
class IndexSnapshot:
    version: int
    index: StationIndex
    features: dict[str, dict[str, Any]]  # station id -> public GeoJSON feature
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

    @staticmethod
    def _build(session: Session, version: int) -> IndexSnapshot:
        stations = registry.active_stations(session)
        indexed = [
            IndexedStation(
                id=s.id,
                lon=s.lon,
                lat=s.lat,
                kind=s.kind,
                street=s.street,
                # An amenity staff confirmed broken is not offered until it is fixed.
                amenities=frozenset(s.amenities or ()) - set(s.out_of_service or {}),
                opening_hours=s.opening_hours,
            )
            for s in stations
        ]
        return IndexSnapshot(
            version=version,
            index=StationIndex(indexed),
            features={s.id: schemas.station_feature(s) for s in stations},
            built_at=time.time(),
        )
