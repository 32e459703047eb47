"""A first guess at the radius of a ball around a point that holds about k stations.

The unfiltered nearest query asks the KD-tree for the stations inside a ball
(``cKDTree.query_ball_point``) instead of for the k nearest (``cKDTree.query``): scipy's
k-nearest call spends most of its ~30-60 µs in NumPy bookkeeping around the search
(reshapes, ``arange``, ``max``, ``all``), the ball call a quarter of that. The ball must be
guessed: too small and it holds fewer than k stations (the search asks again, wider),
too large and more candidates are ranked. The guess comes from how many stations share
the query's cell in a coarse grid of 8 km cubes over Earth-centred coordinates (a
density, so a city centre gets a small ball and the countryside a large one).

The guess decides only how fast a query is, never its answer: the index proves every
answer with the same chord bound whatever the ball was, and falls back to the k-nearest
search when a ball does not settle it.
"""

from __future__ import annotations

import math

import numpy as np

CELL_M = 8_000.0
# Cell coordinates shifted to stay non-negative; 21 bits each (|x| / CELL_M < 2**10).
_OFFSET = 1 << 20
_SHIFT_X = 42
_SHIFT_Y = 21
# The ball is sized to hold about 2k + 2 stations: enough that k nearly always fit and
# the (k+1)-th bounds the rest, few enough to rank in a Python loop.
_MARGIN = 2.0
# No cell's first ball is wider than this (a lone station at a city's edge).
_MAX_CELLS = 2.0


class BallRadius:
    """Per occupied coarse cell, the radius in metres of a ball holding one station
    (a plane's worth of the cell's stations spread over a disc); a ball for k stations
    is that times sqrt(2k + 2)."""

    def __init__(self, xyz: np.ndarray) -> None:
        cells = np.floor(xyz / CELL_M).astype(np.int64) + _OFFSET
        keys = cells[:, 0] << _SHIFT_X | cells[:, 1] << _SHIFT_Y | cells[:, 2]
        keys, counts = np.unique(keys, return_counts=True)
        # A cube cut by the Earth's surface holds about CELL_M**2 of it.
        radius = CELL_M / np.sqrt(np.pi * counts)
        self._radius: dict[int, float] = dict(zip(keys.tolist(), radius.tolist(), strict=True))

    def __len__(self) -> int:
        return len(self._radius)

    def guess(self, x: float, y: float, z: float, k: int) -> float | None:
        """A ball radius likely to hold k stations around the ECEF point (x, y, z), or
        None when no station shares its cell (far from every station: search by k)."""
        floor = math.floor
        one = self._radius.get(
            (floor(x / CELL_M) + _OFFSET) << _SHIFT_X
            | (floor(y / CELL_M) + _OFFSET) << _SHIFT_Y
            | (floor(z / CELL_M) + _OFFSET)
        )
        if one is None:
            return None
        return min(one * math.sqrt(_MARGIN * k + 2.0), _MAX_CELLS * CELL_M)
