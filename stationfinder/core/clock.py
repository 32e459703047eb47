"""The district's clock: every local time the service shows or reasons about is Shanghai's.

Stored times are UTC (`models.utcnow`); opening hours, "today", council deadlines and
file names are local. One zone, one place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_now() -> datetime:
    """Now, in Shanghai time (aware)."""
    return datetime.now(UTC).astimezone(SHANGHAI)


EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def in_sane_range(value: datetime) -> bool:
    """True for a moment between 2000 and 2100: a query's calendar edges (0001,
    9999+14:00) overflow on the databases and are refused with a 400 instead."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR
