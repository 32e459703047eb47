"""The in-memory station index that follows the registry.

Each worker keeps one StationIndex built from the database and the registry version it
was built from. At most every `check_seconds` a request compares that version with the
database's (one indexed single-row read); when it moved, the worker rebuilds and swaps
the index, so a staff edit made through any worker is served by every worker within
about a second. Flask-free: it gets a session factory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, Select, Text, cast, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from stationfinder.geo.index import StationIndex, StationTable
from stationfinder.models import Station
from stationfinder.models.base import utcnow
from stationfinder.registry import geojson as schemas
from stationfinder.registry import stations as registry

FEATURES_KEPT = 50_000  # public features kept per worker; a miss is one indexed read
# From this many stations an index is rebuilt beside the requests, which keep the one
# they have meanwhile: at 400,000 a rebuild takes ~4 s, and every request of the worker
# waited for it after each staff edit. Below, a rebuild takes under ~0.3 s and is done
# in the request that finds the registry changed, so the next answer already has it.
BUILD_BESIDE_MIN = 50_000
# From the same size an index is patched: the stations changed since the last read
# (`updated_at`, which every write that changes a station sets) replace theirs, instead
# of reading the whole table again; beyond PATCH_MAX changes it is read whole.
PATCH_MAX = 5_000
# Edits committed while a read ran, or stamped by another host whose clock is a little
# behind, are after the next read's `since` all the same (re-applying one is harmless).
READ_OVERLAP = timedelta(seconds=60)
# A patched index is read whole again after this long all the same: should a write ever
# change a station without its `updated_at`, the index heals within it.
READ_WHOLE_EVERY_SECONDS = 900.0
OUTAGE_RETRY_SECONDS = 2.0  # with the database away, how often a worker looks again
log = logging.getLogger(__name__)


class StationFeatures(Mapping[str, dict[str, Any]]):
    """The snapshot's stations as public GeoJSON features, read from the database when
    first asked for and kept (the most recently used FEATURES_KEPT of them).

    Building all of them up front costs ~1.5 KB and ~15 µs per station: nothing at 158
    stations, 600 MB and 6 s at 400,000.
    """

    def __init__(self, sessions: Callable[[], Session], index: StationIndex) -> None:
        self._sessions = sessions
        self._ids = index  # membership by binary search; no set of 400,000 strings
        self._kept: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._heads: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids.ids())

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

    def located_heads(self, ids: list[str]) -> list[str]:
        """`schemas.located_feature_head` of these stations, encoded once per snapshot
        (the most recently used FEATURES_KEPT of them); in this order."""
        with self._lock:
            found = {i: self._heads[i] for i in ids if i in self._heads}
            for i in found:
                self._heads.move_to_end(i)
        missing = [i for i in ids if i not in found]
        if missing:
            made = {f["id"]: schemas.located_feature_head(f) for f in self.many(missing)}
            found.update(made)
            with self._lock:
                self._heads.update(made)
                while len(self._heads) > FEATURES_KEPT:
                    self._heads.popitem(last=False)
        return [found[i] for i in ids if i in found]

    def values(self) -> list[dict[str, Any]]:  # type: ignore[override]
        # Every station, in one read per 5,000 (the Mapping default would read one at a
        # time). Nothing in the app walks them all any more: at 400,000 it is ~600 MB.
        return self.many(self._ids.ids())


@dataclass(frozen=True)
class IndexSnapshot:
    version: int
    index: StationIndex
    features: StationFeatures  # station id -> public GeoJSON feature
    built_at: float
    source: str = "built"  # "built", "patched", or "preloaded" by gunicorn's master
    read_since: datetime | None = None  # every change after this is still to be read
    read_whole_at: float = 0.0  # time.time() of the last read of the whole table


@dataclass(frozen=True)
class Preloaded:
    version: int
    index: StationIndex
    read_since: datetime


# database URL -> the index gunicorn's master built before it forked
_preloaded: dict[str, Preloaded] = {}


def preload(database_url: str, make_engine: Callable[[str], Engine]) -> int:
    """Build the index in gunicorn's master, before it forks the workers.

    Each worker then starts with it (shared copy-on-write: NumPy's arrays are not touched
    by reference counting), instead of every worker reading the whole registry at once:
    at 400,000 stations two workers building side by side on two cores took ~7 s to be
    ready, one build ~3.5 s. The engine is disposed before this returns, so no database
    connection crosses the fork. A worker whose registry has moved on since (a later
    edit, or a worker replaced hours later) builds its own, as before. Returns the
    number of stations. `make_engine` is db.make_engine (the app's engine settings).
    """
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            version = registry.registry_version(session)
            read_since = utcnow() - READ_OVERLAP
            index = _build_index(session)
    finally:
        engine.dispose()
    _preloaded[database_url] = Preloaded(version, index, read_since)
    return len(index)


def preloaded(database_url: str) -> Preloaded | None:
    return _preloaded.get(database_url)


class LiveIndex:
    def __init__(
        self,
        sessions: Callable[[], Session],
        check_seconds: float = 0.5,
        preloaded: Preloaded | None = None,
    ) -> None:
        self._sessions = sessions
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._snapshot: IndexSnapshot | None = None
        self._checked_at = 0.0
        self._preloaded = preloaded  # used if the registry is still at its version
        self._beside: threading.Thread | None = None  # a rebuild beside the requests

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
            try:
                return self._refresh(snapshot)
            except SQLAlchemyError:
                if snapshot is None:
                    raise  # nothing to serve: the caller answers 503
                # The database is away (a restart, a failover): couriers keep getting
                # answers from the index this worker already holds; look again after
                # OUTAGE_RETRY_SECONDS rather than on every request.
                log.warning(
                    "registry version unreadable; serving index version %s", snapshot.version
                )
                self._checked_at = time.monotonic() - self._check_seconds + OUTAGE_RETRY_SECONDS
                return snapshot

    def _refresh(self, snapshot: IndexSnapshot | None) -> IndexSnapshot:
        """Compare with the database's version; rebuild when it moved (under the lock)."""
        with self._sessions() as session:
            version = registry.registry_version(session)
            found = self._preloaded
            if snapshot is None and found is not None and found.version == version:
                snapshot = self._snapshot = self._snapshot_of(
                    version, found.index, "preloaded", found.read_since
                )
            if snapshot is None or (
                snapshot.version != version and not self._building_beside(snapshot)
            ):
                snapshot = self._build(session, version, snapshot)
                self._snapshot = snapshot
            self._preloaded = None  # used once, or never
        self._checked_at = time.monotonic()
        return snapshot

    def _building_beside(self, snapshot: IndexSnapshot) -> bool:
        """Whether a rebuild runs beside the requests (started now if none is), so that
        `snapshot` serves meanwhile: only for a large index (BUILD_BESIDE_MIN)."""
        if len(snapshot.index) < BUILD_BESIDE_MIN:
            return False
        if self._beside is None or not self._beside.is_alive():
            self._beside = threading.Thread(
                target=self._build_beside, name="station-index-build", daemon=True
            )
            self._beside.start()
        return True

    def _build_beside(self) -> None:
        """Build the index of the registry as it is now and serve it from then on."""
        try:
            with self._sessions() as session:
                version = registry.registry_version(session)
                built = self._build(session, version, self._snapshot)
        except SQLAlchemyError:
            log.warning("registry unreadable; the index is rebuilt on a later check")
            return
        with self._lock:
            if self._snapshot is None or self._snapshot.version != built.version:
                self._snapshot = built
            # Checked again at once: an edit made while this was built is not missed.
            self._checked_at = 0.0

    def wait_for_rebuild(self, timeout: float | None = None) -> None:
        """Wait for a rebuild running beside the requests, if any (tests, benchmarks)."""
        beside = self._beside
        if beside is not None:
            beside.join(timeout)

    def invalidate(self) -> None:
        """Check the database on the next request (after a write in this worker)."""
        self._checked_at = 0.0

    def on_registry_changed(self, sender: object) -> None:
        """The registry-changed signal's receiver: a commit in this worker changed it."""
        self.invalidate()

    def _build(
        self, session: Session, version: int, previous: IndexSnapshot | None = None
    ) -> IndexSnapshot:
        """The index at `version`: `previous` patched with what changed since it was
        read when it is large and few changed, else the whole table read again."""
        read_since = utcnow() - READ_OVERLAP
        if (
            previous is not None
            and previous.read_since is not None
            and len(previous.index) >= BUILD_BESIDE_MIN
            and time.time() - previous.read_whole_at < READ_WHOLE_EVERY_SECONDS
        ):
            patched = _patched(session, previous.index, previous.read_since)
            if patched is not None:
                return self._snapshot_of(
                    version, patched, "patched", read_since, previous.read_whole_at
                )
        return self._snapshot_of(version, _build_index(session), "built", read_since)

    def _snapshot_of(
        self,
        version: int,
        index: StationIndex,
        source: str,
        read_since: datetime | None,
        read_whole_at: float | None = None,
    ) -> IndexSnapshot:
        now = time.time()
        return IndexSnapshot(
            version=version,
            index=index,
            features=StationFeatures(self._sessions, index),
            built_at=now,
            source=source,
            read_since=read_since,
            read_whole_at=now if read_whole_at is None else read_whole_at,
        )


def _patched(session: Session, index: StationIndex, since: datetime) -> StationIndex | None:
    """`index` with the stations changed after `since` read again (retired ones dropped);
    None when more than PATCH_MAX changed (reading the whole table is then as cheap)."""
    changed = session.execute(
        select(*_INDEXED, Station.active).where(Station.updated_at > since).limit(PATCH_MAX + 1)
    ).all()
    if len(changed) > PATCH_MAX:
        return None
    table = index.table_without([row[0] for row in changed])
    _append_rows(table, [tuple(row[:-1]) for row in changed if row[-1]], {}, {})
    return StationIndex.from_table(table)


def _build_index(session: Session) -> StationIndex:
    index = StationIndex.from_table(_read_table(session))
    release_freed_memory()
    return index


def _read_table(session: Session) -> StationTable:
    """Stream the active stations' columns into a StationTable, a chunk at a time.

    No ORM objects and no object per station: at 400,000 stations building those took
    ~12 s and left ~850 MB of heap behind. Rows come from the driver's own cursor (a
    SQLAlchemy Row per station cost ~0.4 s more), and each column is coded per distinct
    value (most stations share a handful of kinds, streets, hours and amenity lists), then
    looked up per row without a Python call; with the cycle collector paused too, the
    read went from 2.7 to 1.2 s CPU at 400,000 stations.
    """
    table = StationTable()
    with _cycle_collector_paused():
        have: dict[str | None, int] = {}  # amenities as stored -> bitmask
        broken: dict[str | None, int] = {}  # out_of_service as stored -> bitmask
        for rows in raw_chunks(session, select(*_INDEXED).where(Station.active)):
            _append_rows(table, rows, have, broken)
    return table


def raw_chunks(session: Session, query: Select[Any], size: int = 20_000) -> Iterator[list[Any]]:
    """A query's rows from the driver's own cursor, a chunk at a time: no SQLAlchemy Row
    per row (~0.4 s at 400,000). One round trip: the driver buffers the whole result in
    C memory, freed at once. The query must need no bound parameters."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()


# The columns the index holds, in the order `_append_rows` reads them.
_INDEXED = (
    Station.id, Station.lon, Station.lat, Station.kind, Station.street,
    cast(Station.amenities, Text), cast(Station.out_of_service, Text),
    Station.opening_hours,
)  # fmt: skip


def _append_rows(
    table: StationTable,
    rows: Sequence[Sequence[Any]],
    have: dict[str | None, int],
    broken: dict[str | None, int],
) -> None:
    """Code a chunk of `_INDEXED` rows into the table. `have` and `broken` remember the
    bitmask of each stored amenity list and out-of-service map across chunks."""
    if not rows:
        return

    def amenity_mask(stored: str | None) -> int:
        return table.amenity_mask(json.loads(stored) if stored else ())

    ids, lon, lat, kind, street, amenities, out_of_service, hours = zip(*rows, strict=True)
    # An amenity staff confirmed broken is not offered until it is fixed.
    masks = _coded(amenities, have, amenity_mask) & ~_coded(out_of_service, broken, amenity_mask)
    table.append(
        list(ids),
        list(lon),
        list(lat),
        _coded(kind, {}, table.kind_code),
        _coded(street, {}, table.street_code),
        masks,
        _coded(hours, {}, table.hours_code),
    )


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause the cycle collector while rows stream in.

    Hundreds of thousands of row tuples (which hold no cycles) set off full collections
    that walk the whole heap again and again: ~0.7 s of a 400,000-station build. The
    pause is process-wide and short; anything cyclic made meanwhile is collected after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _coded(values: Sequence[Any], known: dict[Any, int], code: Callable[[Any], int]) -> np.ndarray:
    """Each value's code: ``code`` once per distinct value, then a C-level lookup per row."""
    for value in set(values) - known.keys():
        known[value] = code(value)
    return np.fromiter(map(known.__getitem__, values), dtype=np.int64, count=len(values))


def release_freed_memory() -> None:
    """Hand the heap the build freed back to the OS (glibc keeps it otherwise).

    The build's short-lived rows and chunks leave ~130 MB of free but fragmented heap per
    worker at 400,000 stations; glibc's malloc_trim returns it. Elsewhere a no-op.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return  # not glibc
    trim(0)
