"""Confirming a station ("信息准确"): once per device a day, no account needed.

The device is a random id the page keeps in localStorage (sent as `device`) or, without
script, in the `sf_device` cookie; only a keyed hash of it is stored. A post must come
from one of our own pages: browsers send `Origin` (or at least `Referer`) on a POST,
and a cross-site form cannot fake either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.core.clock import SHANGHAI
from stationfinder.db import get_session
from stationfinder.models import Station, StationConfirmation, utcnow
from stationfinder.registry import stations as registry
from stationfinder.web.couriers import bp
from stationfinder.web.limits import device_and_address, limiter

DEVICE_COOKIE = "sf_device"  # the name limits.device_and_address reads
DEVICE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TWO_YEARS = 2 * 365 * 24 * 3600
BUMP_INTERVAL = timedelta(minutes=10)  # a station's confirmations bump the version once per


def _same_origin() -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def _device_id() -> tuple[str, bool]:
    """The device's id and whether it is new."""
    for candidate in (request.form.get("device"), request.cookies.get(DEVICE_COOKIE)):
        if candidate and DEVICE_PATTERN.match(candidate):
            return candidate, False
    return secrets.token_urlsafe(18), True


def device_hash(device: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, device.encode(), hashlib.sha256).hexdigest()


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
@limiter.limit("20 per hour", key_func=device_and_address)
def confirm(station_id: str) -> BaseResponse:
    if not _same_origin():
        abort(403, description=gettext("Confirm a station from its own page."))
    if len(station_id) > 32:
        abort(404)
    device, new_device = _device_id()
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
    if new_device or request.cookies.get(DEVICE_COOKIE) != device:
        response.set_cookie(DEVICE_COOKIE, device, max_age=TWO_YEARS, httponly=True, samesite="Lax")
    return response
