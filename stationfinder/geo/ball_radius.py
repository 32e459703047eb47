"""A first guess at the radius of a ball around a point that holds about k stations.

The unfiltered nearest query asks the KD-tree for the stations inside a ball
(``cKDTree.query_ball_point``) instead of for the k nearest (``cKDTree.query``): scipy's
k-nearest call spends most of its ~30-60 µs in NumPy bookkeeping around the search
(reshapes, ``arange``, ``max``, ``all``), the ball call a quarter of that. The ball must be
guessed: too small and it holds fewer than k stations (the search asks again, wider),
too large and more candidates are ranked (and a wide ball is slow in the tree too: the
slowest percent of queries were those).

Three grids of cubes over Earth-centred coordinates give the guess. In the fine grid
(2 km cubes) each occupied cube keeps the chord from its centre, taken to the surface,
to the sixth-nearest station; a query in it gets that, scaled for k, plus half its own
distance from that centre. So the ball follows the density where the stations thin out
(a city's edge), which a count over a large cube cannot. A query in an empty fine cube
(8 % of the bench's: the gaps between stations) takes the least, over the occupied
cubes around it, of its distance to their centre plus their chord: a ball that holds
six stations by the triangle inequality. Only with no occupied cube next door is it
guessed from the count of stations in its 8 km cube (a density: a city centre gets a
small ball, the countryside a large one), and with no station within 8 km (0.5 %:
between cities) from its 32 km cube's count instead of falling through to the
k-nearest search.

At 400,000 stations (bench/nearest.py's registry and queries, k=5) the ball held a
median of 13 candidates before and after, the 99th percentile 138 before and 43 now;
526 of 10,000 balls held more than the Python loop ranks (48) before, 86 now; 235 had
to ask the tree again, 97 now; 51 fell through to the k-nearest search, 3 now (at k=10:
99th percentile 242 -> 86 candidates). The fine grid costs ~0.25 s of the build (one
k-nearest query per occupied cube) and ~11 MB. Sizing a query in an empty fine cube
from its neighbours (2026-12-04) took the 99th percentile to 34 candidates, the balls
over 48 to 21 and the second asks to 21: the 97 balls of 4-22 km around queries at a
city's edge had been the slowest percent of queries.

The guess decides only how fast a query is, never its answer: the index proves every
answer with the same chord bound whatever the ball was, and falls back to the k-nearest
search when a ball does not settle it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

CELL_M = 8_000.0
FINE_CELL_M = 2_000.0
WIDE_CELL_M = 32_000.0
# Cell coordinates shifted to stay non-negative; 21 bits each (|x| / 2 km < 2**12).
_OFFSET = 1 << 20
_SHIFT_X = 42
_SHIFT_Y = 21
_LOW_BITS = (1 << _SHIFT_Y) - 1
# A fine cube keeps the chord from its centre to this many-th nearest station; its
# ball for k is that times sqrt((k + 1) / _FINE_RANK), to hold about k + 1 stations.
_FINE_RANK = 6
# The fine ball is this many times the centre's chord, plus this share of the query's
# distance from the centre (there the query is that much nearer to some stations and
# farther from others). At 400,000 stations and k=5 these balance the two costs: with
# 1.0 and 0.3, 607 of 10,000 queries had to ask the tree twice; with 1.0 and 0.7 the
# median ball held 13 candidates and the 99th percentile 45; with these, 97, 13 and 43.
_FINE_SCALE = 1.15
_FINE_OFFSET = 0.5
_A = 6_378_137.0  # WGS-84 semi-axes, metres: a cube's centre is taken to the surface
_B = _A * (1 - 1 / 298.257223563)
# From a coarse count the ball is sized to hold about 2k + 2 stations: enough that k
# nearly always fit and the (k+1)-th bounds the rest, few enough to rank in a loop.
_MARGIN = 2.0
# No first ball is wider than this many cubes of its level (nor of CELL_M): a lone
# station in a cube at a city's edge would otherwise bring a ball into the city.
_MAX_CELLS = 2.0


def _keys(xyz: np.ndarray, cell_m: float) -> np.ndarray:
    cells = np.floor(xyz / cell_m).astype(np.int64) + _OFFSET
    return cells[:, 0] << _SHIFT_X | cells[:, 1] << _SHIFT_Y | cells[:, 2]


def _to_surface(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The factor that takes ECEF points along their rays onto the ellipsoid."""
    return 1.0 / np.sqrt((x * x + y * y) / (_A * _A) + z * z / (_B * _B))


def _key(x: float, y: float, z: float, cell_m: float) -> int:
    floor = math.floor
    return (
        (floor(x / cell_m) + _OFFSET) << _SHIFT_X
        | (floor(y / cell_m) + _OFFSET) << _SHIFT_Y
        | (floor(z / cell_m) + _OFFSET)
    )


class BallRadius:
    """Per occupied fine cube, the chord from its centre (taken to the surface) to its
    `_FINE_RANK`-th nearest station. Per occupied coarse and wide cube, the radius in
    metres of a ball holding one station (a plane's worth of the cube's stations spread
    over a disc), so that a ball for k stations is that times sqrt(2k + 2)."""

    def __init__(self, xyz: np.ndarray, tree: cKDTree | None = None) -> None:
        self._fine_rank = min(_FINE_RANK, len(xyz))
        self._fine: dict[int, float] = {}
        self._coarse: list[tuple[float, dict[int, float]]] = []
        for cell_m in (CELL_M, WIDE_CELL_M):
            keys, counts = np.unique(_keys(xyz, cell_m), return_counts=True)
            # A cube cut by the Earth's surface holds about cell_m**2 of it.
            radius = cell_m / np.sqrt(np.pi * counts)
            self._coarse.append((cell_m, dict(zip(keys.tolist(), radius.tolist(), strict=True))))
        if not len(xyz):
            return
        keys = np.unique(_keys(xyz, FINE_CELL_M))
        centres = np.empty((len(keys), 3))
        centres[:, 0] = (keys >> _SHIFT_X) - _OFFSET
        centres[:, 1] = (keys >> _SHIFT_Y & _LOW_BITS) - _OFFSET
        centres[:, 2] = (keys & _LOW_BITS) - _OFFSET
        centres = (centres + 0.5) * FINE_CELL_M
        # The chord from the cube's centre itself would count its height too (a 2 km
        # cube's centre is up to 1.7 km above or below the surface, 560 m at the median
        # at 400,000 stations): that made balls in a city centre too wide.
        centres *= _to_surface(centres[:, 0], centres[:, 1], centres[:, 2])[:, None]
        if tree is None:
            tree = cKDTree(xyz)
        chords = tree.query(centres, k=[self._fine_rank])[0][:, 0]
        self._fine = dict(zip(keys.tolist(), chords.tolist(), strict=True))

    def __len__(self) -> int:
        """How many coarse (CELL_M) cubes hold a station."""
        return len(self._coarse[0][1])

    def guess(self, x: float, y: float, z: float, k: int) -> float | None:
        """A ball radius likely to hold k stations around the ECEF point (x, y, z), or
        None when no station shares even its wide cube (far from every station: search
        by k)."""
        fx = math.floor(x / FINE_CELL_M)
        fy = math.floor(y / FINE_CELL_M)
        fz = math.floor(z / FINE_CELL_M)
        chord = self._fine.get(
            (fx + _OFFSET) << _SHIFT_X | (fy + _OFFSET) << _SHIFT_Y | (fz + _OFFSET)
        )
        if chord is not None:
            cx, cy, cz = (
                (fx + 0.5) * FINE_CELL_M,
                (fy + 0.5) * FINE_CELL_M,
                (fz + 0.5) * FINE_CELL_M,
            )
            t = 1.0 / math.sqrt((cx * cx + cy * cy) / (_A * _A) + cz * cz / (_B * _B))
            off = math.hypot(x - cx * t, y - cy * t, z - cz * t)
            scale = _FINE_SCALE * math.sqrt((k + 1) / self._fine_rank)
            radius = chord * scale + _FINE_OFFSET * off
            # At least a metre: a ball of radius 0 would not grow when it asks again.
            return min(max(radius, 1.0), _MAX_CELLS * CELL_M)
        near = self._from_neighbours(x, y, z, fx, fy, fz)
        if near is not None:
            return min(max(near * math.sqrt((k + 1) / self._fine_rank), 1.0), _MAX_CELLS * CELL_M)
        for cell_m, radii in self._coarse:
            one = radii.get(_key(x, y, z, cell_m))
            if one is not None:
                return min(one * math.sqrt(_MARGIN * k + 2.0), _MAX_CELLS * cell_m)
        return None

    def _from_neighbours(
        self, x: float, y: float, z: float, fx: int, fy: int, fz: int
    ) -> float | None:
        """For a query in an empty fine cube: the least, over the occupied cubes around
        it, of its distance to a cube's centre (on the surface) plus that centre's chord.

        By the triangle inequality a ball of that radius holds at least `_FINE_RANK`
        stations, so it is never too small for k < `_FINE_RANK`; and it follows the
        stations next door, where the count of a coarse cube (a city's edge, say) gave
        balls of 4-22 km holding hundreds: those were the slowest percent of queries."""
        fine = self._fine
        best = math.inf
        for ix in (fx - 1, fx, fx + 1):
            kx = (ix + _OFFSET) << _SHIFT_X
            for iy in (fy - 1, fy, fy + 1):
                kxy = kx | (iy + _OFFSET) << _SHIFT_Y
                for iz in (fz - 1, fz, fz + 1):
                    chord = fine.get(kxy | (iz + _OFFSET))
                    if chord is None or chord >= best:
                        continue
                    cx = (ix + 0.5) * FINE_CELL_M
                    cy = (iy + 0.5) * FINE_CELL_M
                    cz = (iz + 0.5) * FINE_CELL_M
                    t = 1.0 / math.sqrt((cx * cx + cy * cy) / (_A * _A) + cz * cz / (_B * _B))
                    best = min(best, chord + math.hypot(x - cx * t, y - cy * t, z - cz * t))
        return None if best == math.inf else best
