"""Nearest stations by geodesic distance on the WGS-84 ellipsoid: exact, with filters.

Candidates come from a KD-tree (scipy's cKDTree) over the stations' Earth-centred
(ECEF) coordinates in metres, ordered by the straight-line chord through the Earth. The
answer's distances are geodesic: up to 10 km taken from the chord by a series that is
within 0.01 mm of Karney's solver (`_chord_series`; there the chord order is the
geodesic order), beyond it from pyproj's Karney solver itself, which agrees with geopy's
``geodesic`` to nanometres. The search stops only when no station it has
not looked at can be closer than the k-th answer, using a lower bound on the geodesic
distance in terms of the chord:

* s >= c: a path on the surface is never shorter than the straight segment.
* s >= b * gamma, where gamma is the angle between the two points seen from the Earth's
  centre and b the semi-minor axis. The ellipsoid lies outside the ball of radius b and
  the nearest-point projection onto a convex set is 1-Lipschitz, so projecting the
  geodesic onto that ball gives a path on the sphere of radius b that is no longer; that
  path is at least the great-circle arc b * gamma. By the law of cosines
  c^2 = (r1 - r2)^2 + 4 r1 r2 sin^2(gamma / 2), where r1 is the query's distance from
  the centre and r2, a station's, lies in [b, a]; so
  sin(gamma / 2) >= sqrt((c^2 - D^2) / (4 r1 a)), D = max(r1 - b, a - r1).

Both bounds grow with c, so every station beyond the chord of the last candidate
fetched is at least ``_lower_bound(that chord)`` away, and every station within d metres
lies within the chord ``_chord_reach(d)``. The chord bound is tight to 1e-7 at 10 km and
3e-4 at 500 km; the angle bound takes over beyond ~1,500 km and is tight to 0.6 % up to
15,000 km and 4 % at the antipode. So queries from far away (Sydney into a registry of
China) rank more candidates (a few ms at 400,000 stations) but stay exact.

A query without radius or predicate (the common one) first asks the tree for the
stations in a ball whose radius is guessed from the stations' density (`ball_radius`,
widened for the share a filter lets pass): scipy's ball call costs about a quarter of
its k-nearest call, and the same bound, at the ball's radius, proves the answer; when it
cannot, the k-nearest search below answers.

Filters are applied inside the search. An amenity, kind or street held by at most half
of the stations gets its own sub-tree, so a query for a rare amenity searches only the
stations that have it; other filters, and the caller's predicate, are checked on the
candidates, fetching more until k stations pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from pyproj import Geod
from scipy.spatial import cKDTree

from stationfinder.geo.ball_radius import BallRadius
from stationfinder.geo.point import CRS, Point

_A = 6_378_137.0  # WGS-84 semi-major axis, metres
_F = 1 / 298.257223563
_B = _A * (1 - _F)  # semi-minor axis
_E2 = _F * (2 - _F)  # first eccentricity squared

# Slack for rounding: chords, geodesics and the bound are each good to ~1e-8 m.
_SLACK_M = 1e-6
# A filter value held by at most this share of stations gets its own sub-tree.
_SUBTREE_MAX_SHARE = 0.5
# Below this many candidates, scalar Geod.inv calls beat one vectorised call.
_SCALAR_GEODESICS = 8
# Up to this chord the geodesic is taken from the chord (`_chord_series`), beyond it from
# Karney's solver. Within 10 km the series is within 0.007 mm of the solver (200,000
# random pairs at every latitude; tests/geo hold it to 0.01 mm), and at courier
# distances it costs 0.1 µs where a scalar Geod.inv costs 1.2-1.7 µs.
_SERIES_MAX_CHORD_M = 10_000.0
# What the series may be off by, in the bound's comparisons (ten times the worst seen).
_SERIES_SLACK_M = 1e-4
# Up to this many candidates from a ball, ranking them by chord in a Python loop beats
# NumPy's per-call overhead; more are ranked with argpartition.
_LOOP_RANKED = 48
# A ball that held fewer than k stations is widened at most this many times.
_BALL_TRIES = 3


class IndexedStation(NamedTuple):
    """What the index knows of a station, made on demand from its columns (a named
    tuple: made several times faster than a frozen dataclass)."""

    id: str
    lon: float  # WGS84
    lat: float
    kind: str
    street: str | None
    amenities: frozenset[str]  # amenities currently available
    opening_hours: str | None


class Hit:
    """One answer: a station and its geodesic distance in metres on WGS84.

    The station's fields stay in the index's columns until asked for: the API reads only
    the id and the opening hours of each hit, and making the whole station for every
    answer was a fifth of an unfiltered query at 400,000 stations.
    """

    __slots__ = ("_index", "_pos", "distance_m")

    def __init__(self, index: StationIndex, pos: int, distance_m: float) -> None:
        self._index = index
        self._pos = pos
        self.distance_m = distance_m

    @property
    def id(self) -> str:
        return str(self._index._ids[self._pos].decode())

    @property
    def opening_hours(self) -> str | None:
        code = int(self._index._hours[self._pos])
        return None if code < 0 else self._index._hours_table[code]

    @property
    def station(self) -> IndexedStation:
        return self._index._station(self._pos)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hit):
            return NotImplemented
        return (self.station, self.distance_m) == (other.station, other.distance_m)

    def __hash__(self) -> int:
        return hash((self.id, self.distance_m))

    def __repr__(self) -> str:
        return f"Hit({self.id!r}, {self.distance_m:.1f} m)"


_MAX_AMENITIES = 63  # one bit each in a uint64


class StationTable:
    """Stations as columns, filled a chunk at a time, for `StationIndex.from_table`.

    At 400,000 stations a Python object per station costs more memory than the index
    itself, so the index keeps columns: coordinates as floats, ids as one bytes array,
    kind, street and opening hours as small-int codes into shared tables, amenities as a
    bitmask per station. A loader turns each value into its code with the ``*_code``
    methods (they intern) and appends whole chunks.
    """

    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}
        self.streets: dict[str, int] = {}
        self.hours: dict[str, int] = {}
        self.amenities: dict[str, int] = {}  # amenity -> its bit
        self._parts: list[tuple[np.ndarray, ...]] = []

    def kind_code(self, kind: str) -> int:
        return self.kinds.setdefault(kind, len(self.kinds))

    def street_code(self, street: str | None) -> int:
        return -1 if street is None else self.streets.setdefault(street, len(self.streets))

    def hours_code(self, hours: str | None) -> int:
        return -1 if hours is None else self.hours.setdefault(hours, len(self.hours))

    def amenity_mask(self, amenities: Iterable[str]) -> int:
        """The bitmask of a set of amenity codes (a bit per distinct code, as first seen)."""
        bits = self.amenities
        mask = 0
        for a in amenities:
            bit = bits.get(a)
            if bit is None:
                bit = bits[a] = len(bits)
                if bit >= _MAX_AMENITIES:
                    del bits[a]
                    raise ValueError(f"more than {_MAX_AMENITIES} distinct amenities")
            mask |= 1 << bit
        return mask

    def append(
        self,
        ids: Sequence[str],
        lon: Sequence[float],
        lat: Sequence[float],
        kind: Sequence[int] | np.ndarray,
        street: Sequence[int] | np.ndarray,
        amenities: Sequence[int] | np.ndarray,
        hours: Sequence[int] | np.ndarray,
    ) -> None:
        """One chunk of stations, each column already coded."""
        if not ids:
            return
        self._parts.append(
            (
                np.array([i.encode() for i in ids], dtype=np.bytes_),
                np.array(lon, dtype=float),
                np.array(lat, dtype=float),
                np.array(kind, dtype=np.int32),
                np.array(street, dtype=np.int32),
                np.array(amenities, dtype=np.uint64),
                np.array(hours, dtype=np.int32),
            )
        )

    def add(self, stations: Iterable[IndexedStation], chunk: int = 20_000) -> None:
        batch: list[IndexedStation] = []
        for s in stations:
            batch.append(s)
            if len(batch) == chunk:
                self._add_batch(batch)
                batch = []
        self._add_batch(batch)

    def _add_batch(self, batch: list[IndexedStation]) -> None:
        self.append(
            [s.id for s in batch],
            [s.lon for s in batch],
            [s.lat for s in batch],
            [self.kind_code(s.kind) for s in batch],
            [self.street_code(s.street) for s in batch],
            [self.amenity_mask(s.amenities) for s in batch],
            [self.hours_code(s.opening_hours) for s in batch],
        )

    def columns(self) -> tuple[np.ndarray, ...]:
        if not self._parts:
            empty = (np.bytes_, float, float, np.int32, np.int32, np.uint64, np.int32)
            return tuple(np.empty(0, dtype=t) for t in empty)
        return tuple(np.concatenate(col) for col in zip(*self._parts, strict=True))


@dataclass(frozen=True, slots=True)
class _Subtree:
    tree: cKDTree
    members: np.ndarray | None  # global index of each tree point; None: all, in order


def _ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lam = np.radians(lon)
    phi = np.radians(lat)
    sin_phi = np.sin(phi)
    n = _A / np.sqrt(1 - _E2 * sin_phi * sin_phi)
    xyz = np.empty((len(lon), 3))
    xyz[:, 0] = n * np.cos(phi) * np.cos(lam)
    xyz[:, 1] = n * np.cos(phi) * np.sin(lam)
    xyz[:, 2] = n * (1 - _E2) * sin_phi
    return xyz


def _ecef_point(lon: float, lat: float) -> tuple[float, float, float]:
    lam = math.radians(lon)
    phi = math.radians(lat)
    sin_phi = math.sin(phi)
    n = _A / math.sqrt(1 - _E2 * sin_phi * sin_phi)
    return (
        n * math.cos(phi) * math.cos(lam),
        n * math.cos(phi) * math.sin(lam),
        n * (1 - _E2) * sin_phi,
    )


def _chord_series(lat: float) -> float:
    """f such that c * (1 + f * c * c) is the geodesic length, within 0.01 mm, of a chord
    c of at most `_SERIES_MAX_CHORD_M` between two points of the ellipsoid, one of them at
    latitude ``lat``.

    A normal section of radius of curvature R is an arc whose chord c falls short of it by
    c**3 / (24 R**2) to third order; the geodesic and the normal section differ by terms of
    the fifth order in c (micrometres at 10 km), and R lies between the meridian's M and
    the prime vertical's N. Taking R**2 = M * N is what leaves 0.007 mm at 10 km.
    """
    sin_phi = math.sin(math.radians(lat))
    w = 1.0 - _E2 * sin_phi * sin_phi
    return w * w / (24.0 * _A * _A * (1.0 - _E2))  # 1 / (24 M N)


def _lower_bound(chord: float, r_query: float) -> float:
    """Least geodesic distance from the query to any point at least ``chord`` away."""
    d = max(r_query - _B, _A - r_query) + 1.0  # +1 m: stations' radii are rounded too
    excess = chord * chord - d * d
    if excess <= 0.0:
        return chord
    x = math.sqrt(excess / (4.0 * r_query * _A))
    gamma = math.pi if x >= 1.0 else 2.0 * math.asin(x)
    return max(chord, _B * gamma)


def _chord_reach(distance: float, r_query: float) -> float:
    """The longest chord at which ``_lower_bound`` is still at most ``distance``."""
    gamma = distance / _B
    if gamma >= math.pi:
        return 2 * _A  # the whole Earth
    d = max(r_query - _B, _A - r_query) + 1.0
    by_angle = math.sqrt(4.0 * r_query * _A * math.sin(gamma / 2) ** 2 + d * d)
    return min(distance, by_angle) * (1 + 1e-12) + _SLACK_M


class StationIndex:
    """Immutable nearest-k index over stations; build a new one when the registry changes."""

    def __init__(self, stations: Iterable[IndexedStation] = ()) -> None:
        table = StationTable()
        table.add(stations)
        self._load(table)

    @classmethod
    def from_table(cls, table: StationTable) -> StationIndex:
        index = cls.__new__(cls)
        index._load(table)
        return index

    def _load(self, table: StationTable) -> None:
        self._geod = Geod(ellps="WGS84")
        ids, self._lon, self._lat, kind, street, amen, hours = table.columns()
        self._ids = ids
        self._kind, self._street, self._amen, self._hours = kind, street, amen, hours
        self._kinds = tuple(table.kinds)
        self._streets = tuple(table.streets)
        self._hours_table = tuple(table.hours)
        self._amenity_bits = dict(table.amenities)
        self._amenity_sets: dict[int, frozenset[str]] = {}
        n = len(ids)
        # Lookup by id: binary search in the sorted ids.
        self._id_order = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._id_order]
        if n > 1:
            twice = np.flatnonzero(self._sorted_ids[1:] == self._sorted_ids[:-1])
            if len(twice):
                sid = self._sorted_ids[twice[0]].decode()
                raise ValueError(f"station id {sid!r} occurs more than once")
        bad = ~(np.isfinite(self._lon) & np.isfinite(self._lat))
        bad |= (np.abs(self._lon) > 180.0) | (np.abs(self._lat) > 90.0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"station {ids[i].decode()!r} has coordinates outside WGS84: "
                f"{self._lon[i]}, {self._lat[i]}"
            )

        # Per filter value: the stations that have it (ascending). A value held by few
        # stations gets its own sub-tree, so a search for it looks at those stations only;
        # candidates are checked against the other filters by binary search in the sorted
        # member list, or with a boolean column for values most stations have (n bytes
        # beat 4 per member).
        members: dict[tuple[str, str], np.ndarray] = {}
        for name, code in table.kinds.items():
            members[("kind", name)] = np.flatnonzero(kind == code).astype(np.int32)
        # One stable sort for every subdistrict: a national registry has thousands, and a
        # scan of all stations per subdistrict (street == code) took seconds at start.
        by_street = np.argsort(street, kind="stable").astype(np.int32)
        codes, starts = np.unique(street[by_street], return_index=True)
        ends = np.append(starts[1:], len(by_street)) if len(starts) else starts
        names = {code: name for name, code in table.streets.items()}
        for code, start, end in zip(codes.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if code in names:
                members[("street", names[code])] = by_street[start:end]
        for name, bit in table.amenities.items():
            has = (amen & np.uint64(1 << bit)) != 0
            members[("amenity", name)] = np.flatnonzero(has).astype(np.int32)
        members = {key: m for key, m in members.items() if len(m)}
        self._count: dict[tuple[str, str], int] = {key: len(m) for key, m in members.items()}
        self._common: dict[tuple[str, str], np.ndarray] = {}
        # Sub-trees are built on first use: the 24 of a 400,000-station registry took
        # ~0.6 s of a worker's start, and a filter nobody asks for costs nothing.
        self._members: dict[tuple[str, str], np.ndarray] = {}
        self._subtrees: dict[tuple[str, str], _Subtree] = {}
        self._full: _Subtree | None = None
        if n == 0:
            return
        self._xyz = _ecef(self._lon, self._lat)
        # Python floats from a memoryview cost a tenth of NumPy scalar indexing.
        self._xyz_flat = memoryview(self._xyz.reshape(-1))
        self._lon_mv, self._lat_mv = memoryview(self._lon), memoryview(self._lat)
        # A balanced tree costs ~0.5 s more to build at 400,000 stations and answers the
        # unfiltered query (the common one) ~40 % faster.
        self._full = _Subtree(cKDTree(self._xyz), None)
        self._ball_radius = BallRadius(self._xyz, self._full.tree)
        for key, idx in members.items():
            if len(idx) <= _SUBTREE_MAX_SHARE * n:
                self._members[key] = idx
            else:
                has = np.zeros(n, dtype=bool)
                has[idx] = True
                self._common[key] = has

    def _subtree(self, key: tuple[str, str]) -> _Subtree:
        subtree = self._subtrees.get(key)
        if subtree is None:
            # Two threads may build the same one at once; both are equal, either is kept.
            idx = self._members[key]
            subtree = _Subtree(cKDTree(self._xyz[idx], balanced_tree=False), idx)
            self._subtrees[key] = subtree
        return subtree

    def _station(self, i: int) -> IndexedStation:
        """The station at position ``i``, made on demand (only hits and candidates)."""
        mask = int(self._amen[i])
        amenities = self._amenity_sets.get(mask)
        if amenities is None:
            amenities = frozenset(a for a, bit in self._amenity_bits.items() if mask >> bit & 1)
            self._amenity_sets[mask] = amenities
        street = int(self._street[i])
        hours = int(self._hours[i])
        return IndexedStation(
            id=self._ids[i].decode(),
            lon=float(self._lon[i]),
            lat=float(self._lat[i]),
            kind=self._kinds[self._kind[i]],
            street=None if street < 0 else self._streets[street],
            amenities=amenities,
            opening_hours=None if hours < 0 else self._hours_table[hours],
        )

    def ids(self) -> list[str]:
        """Every station's id, sorted."""
        return [i.decode() for i in self._sorted_ids.tolist()]

    def _position(self, station_id: str) -> int | None:
        n = len(self._sorted_ids)
        key = station_id.encode()
        if n == 0 or len(key) > self._sorted_ids.dtype.itemsize or key.endswith(b"\0"):
            return None
        pos = int(np.searchsorted(self._sorted_ids, key))
        if pos < n and self._sorted_ids[pos] == key:
            return int(self._id_order[pos])
        return None

    def __contains__(self, station_id: object) -> bool:
        return isinstance(station_id, str) and self._position(station_id) is not None

    def _check_for(self, key: tuple[str, str]) -> np.ndarray:
        if key in self._common:
            return self._common[key]
        return self._members[key]

    def __len__(self) -> int:
        return len(self._ids)

    def table_without(self, ids: Collection[str]) -> StationTable:
        """This index's stations but `ids`, as a table with the same codes, to which the
        changed stations can be appended: a rebuild after an edit then reads the edit,
        not every station again (at 400,000 a full read takes ~3 s, this ~0.1 s)."""
        table = StationTable()
        table.kinds = {name: code for code, name in enumerate(self._kinds)}
        table.streets = {name: code for code, name in enumerate(self._streets)}
        table.hours = {expr: code for code, expr in enumerate(self._hours_table)}
        table.amenities = dict(self._amenity_bits)
        columns = (self._ids, self._lon, self._lat, self._kind, self._street, self._amen)
        columns += (self._hours,)
        if ids:
            keep = ~np.isin(self._ids, np.array([i.encode() for i in ids], dtype=np.bytes_))
            columns = tuple(column[keep] for column in columns)
        if len(columns[0]):
            table._parts.append(columns)
        return table

    def hours_expressions(self) -> list[str]:
        """The distinct opening-hours expressions of the indexed stations, sorted."""
        used = np.unique(self._hours[self._hours >= 0]) if len(self._hours) else []
        return sorted(self._hours_table[int(code)] for code in used)

    def in_box(
        self,
        west: float,
        south: float,
        east: float,
        north: float,
        *,
        kind: str | None = None,
        amenity: str | None = None,
    ) -> np.ndarray:
        """Positions of the stations inside a longitude/latitude box (edges included),
        of ``kind`` and with ``amenity`` when given. ``west > east`` is a box across the
        antimeridian. One vectorised pass: ~2 ms at 400,000 stations, for a map view."""
        keep = (self._lat >= south) & (self._lat <= north)
        if west <= east:
            keep &= (self._lon >= west) & (self._lon <= east)
        else:
            keep &= (self._lon >= west) | (self._lon <= east)
        if kind is not None:
            if kind not in self._kinds:
                return np.empty(0, dtype=np.intp)
            keep &= self._kind == self._kinds.index(kind)
        if amenity is not None:
            bit = self._amenity_bits.get(amenity)
            if bit is None:
                return np.empty(0, dtype=np.intp)
            keep &= (self._amen & np.uint64(1 << bit)) != 0
        return np.flatnonzero(keep)

    def ids_at(self, positions: np.ndarray) -> list[str]:
        return [i.decode() for i in self._ids[positions].tolist()]

    def coordinates_at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 longitudes and latitudes of the stations at ``positions``."""
        return self._lon[positions], self._lat[positions]

    def get(self, station_id: str) -> IndexedStation | None:
        i = self._position(station_id)
        return None if i is None else self._station(i)

    def nearest(
        self,
        point: Point,
        k: int = 5,
        *,
        radius_m: float | None = None,
        amenities: Collection[str] = (),
        kind: str | None = None,
        street: str | None = None,
        hours: Callable[[str | None], bool] | None = None,
        predicate: Callable[[IndexedStation], bool] | None = None,
    ) -> list[Hit]:
        """The k stations nearest to ``point`` that pass every filter, nearest first.

        ``amenities`` must all be present; ``radius_m`` limits the geodesic distance
        (inclusive); ``hours`` tests a station's opening-hours expression (None when not
        known), asked once per distinct expression among the candidates (a registry
        shares a few dozen), so "open now" costs what an amenity filter does;
        ``predicate`` is called only on stations that could be in the answer.
        Fewer than k hits come back only when fewer stations pass.
        """
        if point.crs is not CRS.WGS84:
            raise ValueError(f"nearest() needs a WGS84 point, got {point.crs.value}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if radius_m is not None and not radius_m >= 0.0:
            raise ValueError(f"radius_m must be a non-negative number of metres, got {radius_m}")
        if isinstance(amenities, str):
            raise TypeError("amenities is a collection of amenity codes, not one string")
        if radius_m is not None and math.isinf(radius_m):
            radius_m = None
        if self._full is None:
            return []
        if not amenities and kind is None and street is None and hours is None and not predicate:
            if radius_m is None:  # the common query: skip the filters' bookkeeping
                hits = self._nearest_in_ball(point, k)
                if hits is None:
                    hits = self._nearest_plain(point, k, self._full, [])
                if hits is not None:
                    return hits
            return self._nearest_filtered(point, k, self._full, [], predicate, radius_m)

        keys = [("amenity", a) for a in set(amenities)]
        if kind is not None:
            keys.append(("kind", kind))
        if street is not None:
            keys.append(("street", street))
        if any(key not in self._count for key in keys):
            return []
        # Search the smallest subset that has a tree; check the other filters on candidates.
        keys.sort(key=self._count.__getitem__)
        subtree = self._full
        if keys and keys[0] in self._members:
            subtree = self._subtree(keys.pop(0))
        checks: list[_Check] = [self._check_for(key) for key in keys]
        if hours is not None:
            checks.append(_HoursCheck(self._hours, self._hours_table, hours))

        if predicate is None and radius_m is None:
            # The share of stations expected to pass, for the ball's size: the sub-tree's,
            # times each other filter's (an opening-hours test: guessed at a half).
            share = subtree.tree.n / self._full.tree.n  # type: ignore[union-attr]
            for key in keys:
                share *= self._count[key] / len(self._ids)
            if hours is not None:
                share *= 0.5
            hits = self._nearest_in_ball(point, k, subtree, checks, share)
            if hits is None:
                hits = self._nearest_plain(point, k, subtree, checks)
            if hits is not None:
                return hits
        return self._nearest_filtered(point, k, subtree, checks, predicate, radius_m)

    def _nearest_in_ball(
        self,
        point: Point,
        k: int,
        subtree: _Subtree | None = None,
        checks: Sequence[_Check] = (),
        share: float = 1.0,
    ) -> list[Hit] | None:
        """Fast path without predicate or radius: rank the stations in a ball around the
        point (of ``subtree``'s that pass ``checks``, about ``share`` of all stations).

        ``cKDTree.query_ball_point`` costs a quarter of ``cKDTree.query`` (scipy's k-nearest
        call is mostly NumPy bookkeeping), and a few dozen candidates are ranked by chord
        in a Python loop faster than by NumPy. Every station outside the ball is farther
        than its radius, and those inside that fail a check do not count, so the k-th
        geodesic is proved by the bound at the nearer of the radius and the (k+1)-th
        passing candidate's chord, as in `_nearest_plain`. Returns None when it is not (far
        from every station, near-ties, the ball kept too few).
        """
        sub = self._full if subtree is None else subtree
        tree = sub.tree  # type: ignore[union-attr]
        if k >= tree.n:
            return None
        lon, lat = point.lon, point.lat
        q = _ecef_point(lon, lat)
        qx, qy, qz = q
        radius = self._ball_radius.guess(qx, qy, qz, k)
        if radius is None:
            return None
        if share < 1.0:
            # Stations lie on a surface: a ball holding k of a share of them is as much
            # wider as the square root of that share.
            radius /= math.sqrt(max(share, 1e-6))
        members = sub.members  # type: ignore[union-attr]
        for _ in range(_BALL_TRIES):
            found = tree.query_ball_point(q, radius)
            if (members is not None or checks) and found:
                loc = np.array(found, dtype=np.intp)
                if members is not None:
                    loc = members[loc]
                for check in checks:
                    loc = loc[_passes(check, loc)]
                found = loc.tolist()
            m = len(found)
            if m >= k:
                break
            radius *= 2.0 if m == 0 else 1.2 * math.sqrt((k + 1) / m)
        else:
            return None
        if m <= _LOOP_RANKED:
            xyz = self._xyz_flat
            ranked = []
            for i in found:
                j = 3 * i
                dx, dy, dz = xyz[j] - qx, xyz[j + 1] - qy, xyz[j + 2] - qz
                ranked.append((dx * dx + dy * dy + dz * dz, i))
            ranked.sort()
            del ranked[k + 1 :]
        else:
            loc = np.array(found, dtype=np.intp)
            diff = self._xyz[loc] - q
            chord2 = np.einsum("ij,ij->i", diff, diff)
            part = np.argpartition(chord2, min(k, m - 1))[: k + 1]  # m may equal k
            part = part[np.argsort(chord2[part], kind="stable")]
            ranked = list(zip(chord2[part].tolist(), loc[part].tolist(), strict=True))
        next_chord = math.sqrt(ranked[k][0]) if m > k else radius
        bound = _lower_bound(min(next_chord, radius), math.hypot(qx, qy, qz)) - _SLACK_M
        if ranked[k - 1][0] <= _SERIES_MAX_CHORD_M * _SERIES_MAX_CHORD_M:
            # The geodesic grows with the chord here, so the chord order is the answer's.
            f = _chord_series(lat)
            sqrt = math.sqrt
            best = [(sqrt(c2) * (1.0 + f * c2), i) for c2, i in ranked[:k]]
            bound -= _SERIES_SLACK_M
        else:
            inv = self._geod.inv
            lons, lats = self._lon_mv, self._lat_mv
            best = sorted([(inv(lon, lat, lons[i], lats[i])[2], i) for _, i in ranked[:k]])
        if bound >= best[-1][0]:
            return [Hit(self, pos, distance) for distance, pos in best]
        return None

    def _nearest_plain(
        self, point: Point, k: int, subtree: _Subtree, checks: list[_Check]
    ) -> list[Hit] | None:
        """Fast path without predicate or radius: rank the first k candidates in chord order.

        Chord order and geodesic order agree to ~1e-7 at courier distances, so the next
        candidate's chord nearly always proves that nothing unranked is closer. Returns
        None when it does not (far queries, near-ties, too few candidates passed checks).
        """
        tree = subtree.tree
        q = _ecef_point(point.lon, point.lat)
        fetch = min(k + 1 if not checks else max(4 * k, 16), tree.n)
        chords, loc = tree.query(q, k=fetch if fetch > 1 else [1])
        last_chord = float(chords[-1])
        if subtree.members is not None:
            loc = subtree.members[loc]
        if checks:
            keep = _passes(checks[0], loc)
            for check in checks[1:]:
                keep &= _passes(check, loc)
            passed = np.flatnonzero(keep)
            loc, chords = loc[passed], chords[passed]
        if len(loc) > k:
            next_chord = float(chords[k])  # the nearest unranked station that passed
        elif fetch == tree.n:
            next_chord = math.inf  # every station in the tree is ranked
        elif len(loc) == k:
            next_chord = last_chord  # unfetched stations are no nearer than this
        else:
            return None
        best = loc[:k]
        slack = _SLACK_M
        if len(best) and chords[len(best) - 1] <= _SERIES_MAX_CHORD_M:
            # The geodesic grows with the chord here, so the chord order is the answer's.
            f = _chord_series(point.lat)
            ranked = [
                (c * (1.0 + f * c * c), pos)
                for c, pos in zip(chords[:k].tolist(), best.tolist(), strict=True)
            ]
            ranked.sort()  # ties by position, as the solver's order had them
            slack += _SERIES_SLACK_M
        else:
            inv = self._geod.inv
            lon, lat = point.lon, point.lat
            lons, lats = self._lon[best].tolist(), self._lat[best].tolist()
            ranked = sorted(
                (inv(lon, lat, lons[j], lats[j])[2], pos) for j, pos in enumerate(best.tolist())
            )
        hits = [Hit(self, pos, distance) for distance, pos in ranked]
        if not hits or next_chord == math.inf:
            return hits
        if _lower_bound(next_chord, math.hypot(*q)) - slack >= hits[-1].distance_m:
            return hits
        return None

    def _nearest_filtered(
        self,
        point: Point,
        k: int,
        subtree: _Subtree,
        checks: list[_Check],
        predicate: Callable[[IndexedStation], bool] | None,
        radius_m: float | None,
    ) -> list[Hit]:
        """Fetch candidates by chord until k pass, then settle the answer with the bound."""
        tree = subtree.tree
        q = _ecef_point(point.lon, point.lat)
        r_query = math.hypot(*q)
        # The chord never exceeds the geodesic, so the radius caps the chord too.
        upper = math.inf if radius_m is None else radius_m * (1 + 1e-9) + _SLACK_M
        fetch = k + 1 if not checks and predicate is None else max(4 * k, 16)
        verdicts: dict[int, bool] = {}  # the predicate's answers, asked once per station
        while True:
            fetch = min(fetch, tree.n)
            chords, loc = tree.query(q, k=fetch if fetch > 1 else [1], distance_upper_bound=upper)
            found = int(np.count_nonzero(loc < tree.n))
            hits = self._rank(point, k, subtree, loc[:found], checks, predicate, radius_m, verdicts)
            if found < fetch or fetch == tree.n:
                return hits  # every station within reach has been ranked
            if len(hits) == k:
                bound = _lower_bound(float(chords[found - 1]), r_query) - _SLACK_M - _SERIES_SLACK_M
                if bound >= hits[-1].distance_m:
                    return hits
                # Far from the stations the bound is looser than the gaps between them:
                # rank at once everything that could still beat the k-th hit.
                reach = _chord_reach(hits[-1].distance_m + _SLACK_M + _SERIES_SLACK_M, r_query)
                ball = np.array(tree.query_ball_point(q, min(reach, upper)), dtype=np.intp)
                return self._rank(point, k, subtree, ball, checks, predicate, radius_m, verdicts)
            fetch *= 4

    def _rank(
        self,
        point: Point,
        k: int,
        subtree: _Subtree,
        loc: np.ndarray,
        checks: list[_Check],
        predicate: Callable[[IndexedStation], bool] | None,
        radius_m: float | None,
        verdicts: dict[int, bool],
    ) -> list[Hit]:
        """The k nearest of the candidates ``loc`` (positions in ``subtree``) that pass."""
        idx = loc if subtree.members is None else subtree.members[loc]
        for check in checks:
            idx = idx[_passes(check, idx)]
        dist = self._geodesics(point, idx)
        if radius_m is not None:
            within = dist <= radius_m
            idx, dist = idx[within], dist[within]
        order = np.argsort(dist, kind="stable")  # ties keep the chord order
        hits: list[Hit] = []
        for j in order.tolist():
            i = int(idx[j])
            if predicate is not None:
                ok = verdicts.get(i)
                if ok is None:
                    ok = verdicts[i] = bool(predicate(self._station(i)))
                if not ok:
                    continue
            hits.append(Hit(self, i, float(dist[j])))
            if len(hits) == k:
                break
        return hits

    def _geodesics(self, point: Point, idx: np.ndarray) -> np.ndarray:
        """Geodesic metres from ``point`` to the stations at ``idx``: from the chord up to
        `_SERIES_MAX_CHORD_M`, from Karney's solver beyond."""
        q = np.array(_ecef_point(point.lon, point.lat))
        diff = self._xyz[idx] - q
        chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        dist = chord * (1.0 + _chord_series(point.lat) * chord * chord)
        far = np.flatnonzero(chord > _SERIES_MAX_CHORD_M)
        m = len(far)
        if not m:
            return dist
        lon, lat = point.lon, point.lat
        if m <= _SCALAR_GEODESICS:
            inv = self._geod.inv
            for j in far.tolist():
                i = int(idx[j])
                dist[j] = inv(lon, lat, self._lon[i], self._lat[i])[2]
            return dist
        dist[far] = self._geod.inv(
            np.full(m, lon), np.full(m, lat), self._lon[idx[far]], self._lat[idx[far]]
        )[2]
        return dist


class _HoursCheck:
    """Admits stations whose opening-hours expression passes a test, asking the test
    once per distinct expression (stations share expressions; the column holds codes)."""

    def __init__(
        self, codes: np.ndarray, table: tuple[str, ...], test: Callable[[str | None], bool]
    ) -> None:
        self._codes = codes
        self._table = table
        self._test = test
        self._verdicts: dict[int, bool] = {}

    def __call__(self, idx: np.ndarray) -> np.ndarray:
        codes = self._codes[idx].tolist()
        verdicts = self._verdicts
        for code in set(codes) - verdicts.keys():
            verdicts[code] = bool(self._test(None if code < 0 else self._table[code]))
        return np.fromiter(map(verdicts.__getitem__, codes), dtype=bool, count=len(codes))


# A filter's check: a boolean column over all stations, the sorted positions of the
# stations that pass, or a test on the candidates' positions.
_Check = np.ndarray | _HoursCheck


def _passes(check: _Check, idx: np.ndarray) -> np.ndarray:
    """Which of the stations ``idx`` a filter admits."""
    if isinstance(check, _HoursCheck):
        return check(idx)
    if check.dtype == np.bool_:
        return check[idx]
    pos = np.searchsorted(check, idx)
    return check[np.minimum(pos, len(check) - 1)] == idx
