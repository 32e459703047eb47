"""Rate limits on what the public can submit (reports, council issues, backing, logins).

Flask-Limiter counts per client address (and per device where a view says so). With
`STATIONFINDER_REDIS_URL` set, counters live in Redis so that a limit holds across all
workers and hosts; without it each process counts on its own.

Views decorate themselves with `limiter.limit("5 per minute")`: the Limiter object is
made here once, as Flask-Limiter documents, and bound to each app by `init_app`.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from stationfinder.core.privacy import hash_device_key


def client_address() -> str:
    return request.remote_addr or "unknown"


def device_and_address() -> str:
    """Key for per-device limits: the device id a page sends, plus the address."""
    device = request.headers.get("X-Device-Id") or request.cookies.get("sf_device") or "-"
    return f"{device[:64]}@{client_address()}"


def hashed_device_and_address(device_key: str | None) -> str:
    """Key for per-device limits where the device's id is a secret (the council's key
    proves "my issues"): a keyed hash of it plus the address, so the counter store
    (Redis) never holds the key itself. Without a key, the device is the address."""
    if not device_key:
        return f"-@{client_address()}"
    digest = hash_device_key(device_key, str(current_app.config["SECRET_KEY"]), "ratelimit")
    return f"{digest[:32]}@{client_address()}"


limiter = Limiter(key_func=client_address, headers_enabled=True)
log = logging.getLogger(__name__)


_COUNTERS = "stationfinder.counters"


def counter(app: Flask) -> FixedWindowRateLimiter | None:
    """This app's counter on the limiter's store (Redis when set), made on first use;
    None when rate limits are off. For counts a decorator cannot keep (see `allow`)."""
    if not app.config.get("RATELIMIT_ENABLED", True):
        return None
    if _COUNTERS not in app.extensions:
        storage = storage_from_string(app.config.get("RATELIMIT_STORAGE_URI", "memory://"))
        app.extensions[_COUNTERS] = FixedWindowRateLimiter(storage)
    counter: FixedWindowRateLimiter = app.extensions[_COUNTERS]
    return counter


def allow(limit: str, scope: str) -> bool:
    """Count one use of ``scope`` by this client against ``limit`` ("20 per minute;200
    per day") and say whether it is still within every part of it. For work inside a
    view that is dearer than the view itself, such as asking an outside service whose
    quota the operator pays for. Counted in the limiter's store, so with Redis a count
    holds across hosts; when that store cannot be reached the use is allowed (a search
    is a courier's GET: better unlimited for a while than an error page)."""
    counts = counter(current_app)
    if counts is None:
        return True
    key = (str(current_app.config.get("RATELIMIT_KEY_PREFIX", "stationfinder")), scope,
           client_address())  # fmt: skip
    try:
        return within(counts, limit, *key)
    except Exception as exc:  # the store's driver raises its own errors (redis, say)
        log.warning("rate-limit store unreachable, %s allowed: %s", scope, exc)
        return True


@lru_cache(maxsize=32)
def _items(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


def within(counts: FixedWindowRateLimiter, limit: str, *key: str) -> bool:
    """Take one use of ``key`` if every window of ``limit`` has room; False (and nothing
    taken) when one has not, so refused tries do not use up the longer windows."""
    items = _items(limit)
    if not all(counts.test(item, *key) for item in items):
        return False
    return all([counts.hit(item, *key) for item in items])


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_ENABLED", app.config.get("RATE_LIMITS", True))
    redis_url = app.config.get("REDIS_URL")
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    # Redis unreachable: each process counts on its own until it is back, rather than
    # every limited form answering 500.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", bool(redis_url))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "stationfinder")
    limiter.init_app(app)
