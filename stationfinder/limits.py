"""Rate limits on what the public can submit (reports, council issues, backing, logins).

Flask-Limiter counts per client address (and per device where a view says so). With
`STATIONFINDER_REDIS_URL` set, counters live in Redis so that a limit holds across all
workers and hosts; without it each process counts on its own.

Views decorate themselves with `limiter.limit("5 per minute")`: the Limiter object is
made here once, as Flask-Limiter documents, and bound to each app by `init_app`.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter


def client_address() -> str:
    return request.remote_addr or "unknown"


def device_and_address() -> str:
    """Key for per-device limits: the device id a page sends, plus the address."""
    device = request.headers.get("X-Device-Id") or request.cookies.get("sf_device") or "-"
    return f"{device[:64]}@{client_address()}"


limiter = Limiter(key_func=client_address, headers_enabled=True)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_ENABLED", app.config.get("RATE_LIMITS", True))
    redis_url = app.config.get("REDIS_URL")
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "stationfinder")
    limiter.init_app(app)
