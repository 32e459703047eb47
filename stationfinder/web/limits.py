"""Rate limits on what the public can submit (reports, council issues, backing, logins).

Flask-Limiter counts per client address (and per device where a view says so). With
`STATIONFINDER_REDIS_URL` set, counters live in Redis so that a limit holds across all
workers and hosts; without it each process counts on its own.

Views decorate themselves with `limiter.limit("5 per minute")`: the Limiter object is
made here once, as Flask-Limiter documents, and bound to each app by `init_app`.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse

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


@lru_cache(maxsize=32)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


def allow(limit: str, scope: str) -> bool:
    """Count one use of ``scope`` by this client against ``limit`` ("20 per minute"),
    in the limiter's own store (Redis when set: the count holds across hosts), and say
    whether it is still within it. For work inside a view that is dearer than the view
    itself, such as asking an outside service whose quota the operator pays for."""
    if not limiter.enabled or not limiter.initialized:
        return True
    prefix = str(current_app.config.get("RATELIMIT_KEY_PREFIX", "stationfinder"))
    return bool(limiter.limiter.hit(_item(limit), prefix, scope, client_address()))


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_ENABLED", app.config.get("RATE_LIMITS", True))
    redis_url = app.config.get("REDIS_URL")
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "stationfinder")
    limiter.init_app(app)
