"""Validators for query parameters: each bad value is a 400 naming its field."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from werkzeug.datastructures import MultiDict

from stationfinder.core.clock import SHANGHAI
from stationfinder.web.errors import InvalidParameter

MAX_VALUE_LENGTH = 200


def _raw(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidParameter(f"{name} may be given only once", field=name)
    value = values[0].strip()
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidParameter(f"{name} is too long", field=name)
    return value or None


def number(
    args: MultiDict[str, str],
    name: str,
    *,
    low: float,
    high: float,
    required: bool = False,
    default: float | None = None,
) -> float | None:
    raw = _raw(args, name)
    if raw is None:
        if required:
            raise InvalidParameter(f"{name} is required", field=name)
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter(f"{name} must be a number, not {raw!r}", field=name) from None
    if not math.isfinite(value):
        raise InvalidParameter(f"{name} must be a finite number", field=name)
    if not low <= value <= high:
        raise InvalidParameter(f"{name} must be between {low:g} and {high:g}", field=name)
    return value


def integer(args: MultiDict[str, str], name: str, *, low: int, high: int, default: int) -> int:
    raw = _raw(args, name)
    if raw is None:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise InvalidParameter(f"{name} must be a whole number, not {raw!r}", field=name) from None
    if not low <= value <= high:
        raise InvalidParameter(f"{name} must be between {low} and {high}", field=name)
    return value


def choice(
    args: MultiDict[str, str], name: str, options: Sequence[str], default: str | None = None
) -> str | None:
    raw = _raw(args, name)
    if raw is None:
        return default
    if raw not in options:
        raise InvalidParameter(f"unknown {name} {raw!r}; one of {', '.join(options)}", field=name)
    return raw


def choices(args: MultiDict[str, str], name: str, options: Sequence[str]) -> list[str]:
    values = []
    for raw in args.getlist(name):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if len(part) > MAX_VALUE_LENGTH:
                raise InvalidParameter(f"{name} is too long", field=name)
            if part not in options:
                raise InvalidParameter(f"unknown {name} {part!r}", field=name)
            values.append(part)
    return values


def boolean(args: MultiDict[str, str], name: str, default: bool = False) -> bool:
    raw = _raw(args, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise InvalidParameter(f"{name} must be true or false", field=name)


EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def in_sane_range(value: datetime) -> bool:
    """True for a moment between 2000 and 2100; calendar edges (0001, 9999+14:00) are refused."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def moment(args: MultiDict[str, str], name: str) -> datetime | None:
    """An ISO 8601 moment; one without an offset is Asia/Shanghai local time."""
    raw = _raw(args, name)
    if raw is None:
        return None
    if "T" in raw and raw.count(" ") == 1:
        # An unencoded "+08:00" in a query string arrives as " 08:00".
        raw = raw.replace(" ", "+")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            f"{name} must be an ISO 8601 moment such as 2026-11-24T12:00:00+08:00", field=name
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    if not in_sane_range(value):
        raise InvalidParameter(
            f"{name} must lie between {EARLIEST_YEAR} and {LATEST_YEAR}", field=name
        )
    return value


def bbox(args: MultiDict[str, str], name: str) -> tuple[float, float, float, float]:
    """A required box ``west,south,east,north`` in degrees (west > east: across the
    antimeridian)."""
    raw = _raw(args, name)
    if raw is None:
        raise InvalidParameter(f"{name} is required: west,south,east,north", field=name)
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidParameter(f"{name} is four numbers: west,south,east,north", field=name)
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameter(
            f"{name} is four numbers: west,south,east,north", field=name
        ) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidParameter(f"{name} must be finite numbers", field=name)
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidParameter(f"{name}: longitudes are between -180 and 180", field=name)
    if not (-90 <= south <= north <= 90):
        raise InvalidParameter(f"{name}: latitudes are -90 <= south <= north <= 90", field=name)
    return west, south, east, north
