"""Travel time from a straight-line distance: streets are longer than the crow flies."""

from __future__ import annotations

import math

ROUTE_FACTOR = 1.3  # streets are longer than the straight line; a typical urban detour


def minutes(distance_m: float, speed_kmh: float) -> int:
    """Whole minutes to cover a straight-line distance along streets, at least 1."""
    return max(1, math.ceil(distance_m * ROUTE_FACTOR / (speed_kmh * 1000 / 60)))
