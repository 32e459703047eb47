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

