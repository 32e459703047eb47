"""The courier pages' plain GET forms: a few typed reads of a query string.

Pages answer a refusal with the error page or a form message in the page's language;
the API's parameters are declared in web/api/contract.py and parsed by web/api/params.py.
Both refuse an over-long value unread (MAX_VALUE_LENGTH).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from werkzeug.datastructures import MultiDict

from stationfinder.web.errors import InvalidParameter

MAX_VALUE_LENGTH = 200  # characters in one query-string value; longer is refused unread


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
