"""Server-minted device keys, rationed per network: what a courier's phone is known by
in the council, on a station's "信息准确" and in problem reports, without an account.

A key is minted by the server, signed with the app's secret and carries its mint
time (core/privacy.py). Asking for one is free (drop the cookie, get a new key), so the
keys a network may mint are rationed: MINT_RATION per IPv4 /24 or IPv6 /48. A key
minted beyond the ration still works for everything a courier does, but is minted "on
probation" and never becomes established, however old: an attacker clearing cookies in
a loop cannot bank more than the ration of keys that would count fully a day later,
while a council meeting's crowd on one Wi-Fi is never turned away.

The ration counts in the rate limiter's store (Redis with STATIONFINDER_REDIS_URL, so
it holds across workers; memory otherwise) under a keyed hash of the network, never the
address, and applies whenever rate limits are on (STATIONFINDER_RATE_LIMITS).
"""

from __future__ import annotations

import logging
import time

from flask import Response, current_app, request

from stationfinder.core.privacy import (
    hash_device_key,
    hash_network,
    is_minted_device_key,
    mint_device_key,
)
from stationfinder.web.limits import client_address, counter, within

MINT_RATION = "20 per hour;50 per day"  # full keys one network may mint
TWO_YEARS = 2 * 365 * 24 * 3600
log = logging.getLogger(__name__)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _within_ration() -> bool:
    """Take one of this network's mints; False when the ration is used up."""
    counts = counter(current_app)
    if counts is None:
        return True
    network = hash_network(request.remote_addr, _secret())[:32]
    try:
        return within(counts, MINT_RATION, "mint", network)
    except Exception as exc:  # the store unreachable (Redis down): no full key, no error
        log.warning("rate-limit store unreachable, a probation key minted: %s", exc)
        return False


def mint() -> str:
    """A new device key for this request's device: a full one while the network's
    ration lasts, a probation one (never established) beyond it."""
    return mint_device_key(_secret(), time.time(), probation=not _within_ration())


def presented(*candidates: str | None) -> str | None:
    """The first of these values that is a key the server minted; client-made ids
    (the old localStorage ids, anything typed) are not keys and are ignored."""
    for candidate in candidates:
        if candidate and is_minted_device_key(candidate, _secret()):
            return candidate
    return None


def hashed(key: str, purpose: str) -> str:
    """The stored form of a key for one purpose (confirmations and reports each get
    their own, so no table joins to another's)."""
    return hash_device_key(key, _secret(), purpose)


def keep(response: Response, cookie: str, key: str) -> Response:
    """Set the key's cookie when the browser does not hold it yet: HttpOnly, Lax, and
    Secure whenever the request came over HTTPS (directly or via the trusted proxy)."""
    if request.cookies.get(cookie) != key:
        response.set_cookie(
            cookie,
            key,
            max_age=TWO_YEARS,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def minted_device_and_address(cookie: str) -> str:
    """A per-device rate-limit key that a client-made id cannot open fresh counters
    with: the minted key's hash plus the address, or the address alone."""
    key = presented(request.cookies.get(cookie))
    if key is None:
        return f"-@{client_address()}"
    return f"{hashed(key, 'ratelimit')[:32]}@{client_address()}"
