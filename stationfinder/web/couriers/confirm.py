"""Confirming a station ("信息准确"): once per device a day, no account needed.

The device is known by a key the server mints and signs (web/device_keys.py, rationed
per network), kept in the HttpOnly `sf_device` cookie; only a keyed hash of it is
stored. An id the client made up (the page's old localStorage id, the `device` field,
an `X-Device-Id` header) is not a key: it is ignored and the device gets a minted one,
so a script cannot be a new device on every post by inventing ids. A post must come
from one of our own pages: browsers send `Origin` (or at least `Referer`) on a POST,
and a cross-site form cannot fake either.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import abort, jsonify, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.core.clock import SHANGHAI
from stationfinder.db import get_session
from stationfinder.models import Station, StationConfirmation, utcnow
from stationfinder.registry import stations as registry
from stationfinder.web import device_keys
from stationfinder.web.couriers import bp
from stationfinder.web.limits import limiter

DEVICE_COOKIE = "sf_device"
PURPOSE = "station"  # confirmations and reports store the key's hash for this purpose
# Per device, and per address whatever keys it holds: a NAT's crowd has room, a script
# minting keys does not get fresh counters without end.
CONFIRM_LIMIT = "20 per hour"
CONFIRM_ADDRESS_LIMIT = "300 per hour"
BUMP_INTERVAL = timedelta(minutes=10)  # a station's confirmations bump the version once per


def _same_origin() -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def _device_id() -> tuple[str, bool]:
    """The device's minted key and whether it is new (then the response sets it)."""
    key = device_keys.presented(
        request.cookies.get(DEVICE_COOKIE),
        request.form.get("device"),
        request.headers.get("X-Device-Id"),
    )
    if key is not None:
        return key, False
    return device_keys.mint(), True


def device_hash(device: str) -> str:
    return device_keys.hashed(device, PURPOSE)


def device_and_address() -> str:
    """The per-device limit's key: the minted key's hash (a made-up id counts as none)."""
    return device_keys.minted_device_and_address(DEVICE_COOKIE)


def record_confirmation(station_id: str, device: str, now: datetime) -> str | None:
    """Returns "confirmed", "already" (this device, today) or None when there is no such station."""
    session = get_session()
    day = now.astimezone(SHANGHAI).date()
    hashed = device_hash(device)
    try:
        with session.begin():
            station = session.get(Station, station_id)
            if station is None or not station.active:
                return None
            seen = session.scalar(
                select(StationConfirmation.id).where(
                    StationConfirmation.station_id == station_id,
                    StationConfirmation.device_hash == hashed,
                    StationConfirmation.day == day,
                )
            )
            if seen is not None:
                return "already"
            session.add(StationConfirmation(station_id=station_id, device_hash=hashed, day=day))
            previous = station.last_confirmed_at
            station.last_confirmed_at = now
            if previous is not None and previous.tzinfo is None:
                previous = previous.replace(tzinfo=now.tzinfo)
            bump = previous is None or now - previous >= BUMP_INTERVAL
            if bump:  # coalesced: a stream of taps cannot keep every worker rebuilding
                registry.bump_version(session)
    except IntegrityError:  # the same device tapped twice at once
        return "already"
    return "confirmed"


@bp.post("/stations/<station_id>/confirm")
@limiter.limit(CONFIRM_LIMIT, key_func=device_and_address)
@limiter.limit(CONFIRM_ADDRESS_LIMIT)
def confirm(station_id: str) -> BaseResponse:
    if not _same_origin():
        abort(403, description=gettext("Confirm a station from its own page."))
    if len(station_id) > 32:
        abort(404)
    device, _new = _device_id()
    now = utcnow()
    outcome = record_confirmation(station_id, device, now)
    if outcome is None:
        abort(404)
    response: BaseResponse
    if request.accept_mimetypes.best == "application/json":
        station = get_session().get(Station, station_id)
        response = jsonify(
            {
                "status": outcome,
                "message": gettext("Thanks! Noted")
                if outcome == "confirmed"
                else gettext("You already confirmed this station today"),
                "last_confirmed_at": station.last_confirmed_at.isoformat()
                if station and station.last_confirmed_at
                else None,
            }
        )
    else:  # a plain form post: back to the page, which says thanks
        response = redirect(url_for("web.station", station_id=station_id, confirmed=outcome))
    return device_keys.keep(response, DEVICE_COOKIE, device)
