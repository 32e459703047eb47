"""What the council's views share: the device key, its rate-limit key, errors in the
page's language, template helpers."""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Response, current_app, g, request
from flask_babel import gettext
from markupsafe import Markup

from stationfinder.core.privacy import (
    device_key_minted_at,
    hash_device_key,
    hash_network,
    is_device_key,
    mask_phone,
)
from stationfinder.core.text import N_
from stationfinder.council import issues as council
from stationfinder.council import meetings as council_meetings
from stationfinder.council.issues import CATEGORY_BY_CODE, CouncilError
from stationfinder.registry import photos
from stationfinder.web import device_keys
from stationfinder.web.assets import asset_url
from stationfinder.web.council import bp, messages
from stationfinder.web.errors import ApiError
from stationfinder.web.i18n import current_lang, remember_choice, service_area, template_context
from stationfinder.web.limits import hashed_device_and_address

KEY_COOKIE = "sf_council_key"
KEY_HEADER = "X-Device-Key"
TWO_YEARS = 2 * 365 * 24 * 3600


class BadDeviceKey(ApiError):
    status = 400
    code = "bad_device_key"


def device_key(*, create: bool = False) -> str | None:
    """The device's private key from the form, a header or the cookie.

    A key that is present but malformed is refused (a forged key reads nothing); with
    `create`, a device without one gets a new key (kept in the cookie when the page has
    no script to keep it in localStorage).
    """
    candidate = _presented_key()
    if candidate:
        if not is_device_key(candidate):
            raise BadDeviceKey(error_message("device_key", "bad_key"), field="device_key")
        g.council_key = candidate
        return candidate
    if create:
        g.council_key = device_keys.mint()  # rationed per network: see device_keys
        return str(g.council_key)
    return None


def key_for_form() -> str:
    """The key a page's hidden device_key fields carry: the one the phone presented, or
    one minted now (and set in the cookie) the first time a page with a form is shown.

    The page's script keeps it in localStorage too (a cleared cookie then loses
    nothing) and never makes a key of its own: a key the client made up is young for
    ever, so a courier whose phone made its own could never weigh fully.
    """
    try:
        return device_key(create=True) or ""
    except BadDeviceKey:  # a malformed cookie or header: this page offers a fresh key
        g.council_key = device_keys.mint()
        return str(g.council_key)


KEY_MIN_AGE = 24 * 3600  # a minted key weighs fully after a day


def key_established(key: str) -> bool:
    """Whether this key was minted by us at least KEY_MIN_AGE ago; a key the client
    made up, or one minted minutes ago, is young."""
    minted = device_key_minted_at(key, str(current_app.config["SECRET_KEY"]))
    return minted is not None and time.time() - minted >= KEY_MIN_AGE


def network_hash() -> str:
    return hash_network(request.remote_addr, str(current_app.config["SECRET_KEY"]))


def _presented_key() -> str | None:
    """The key the request carries, in order of precedence: form, header, cookie."""
    for candidate in (
        request.form.get("device_key"),
        request.headers.get(KEY_HEADER),
        request.cookies.get(KEY_COOKIE),
    ):
        if candidate:
            return candidate
    return None


def rate_limit_key() -> str:
    """Flask-Limiter's key for the council's per-device limits: the council key's hash
    and the address. A malformed key counts as no key (the view refuses it anyway), so
    a forged value cannot open fresh counters."""
    key = _presented_key()
    return hashed_device_and_address(key if key and is_device_key(key) else None)


def device_hash(key: str) -> str:
    return hash_device_key(key, str(current_app.config["SECRET_KEY"]))


# Where an issue came from, in words (the stored value is a code).
SOURCES = {"web": N_("web form"), "open311": "Open311"}


def page_lang() -> str:
    """The page's language (one choice for the whole site, staff pages included)."""
    return current_lang()


def error_message(field: str | None, code: str | None) -> str:
    """A refused step's words (chosen by its field and code) in the page's language,
    with the council's limits."""
    return messages.error_text(
        field,
        code,
        title_max=council.TITLE_MAX,
        description_max=council.DESCRIPTION_MAX,
        place_label_max=council.PLACE_LABEL_MAX,
        addition_max=council.ADDITION_MAX,
        flag_reason_max=council.FLAG_REASON_MAX,
        photo_max_mb=photos.MAX_BYTES // (1024 * 1024),
        area=service_area(),
    )


def public_error(exc: CouncilError) -> ApiError:
    code = {404: "not_found", 403: "forbidden"}.get(exc.status, "bad_request")
    return ApiError(exc.message, field=exc.field, status=exc.status, code=code)


def courier_error(exc: CouncilError) -> ApiError:
    """public_error in the courier's words (staff pages keep the council's own message,
    which names exactly what was refused)."""
    error = public_error(exc)
    return ApiError(
        error_message(exc.field, exc.code), field=error.field, status=error.status, code=error.code
    )


@bp.context_processor
def _context() -> dict[str, Any]:
    from stationfinder.web.auth import current_staff

    lang = page_lang()
    return {
        **template_context(),
        "courier_chrome": True,
        "council_key": key_for_form,
        "source_label": lambda source: gettext(SOURCES[source]) if source in SOURCES else source,
        "actor_label": lambda actor: gettext("courier") if actor == council.COURIER else actor,
        "cv": messages.labels(),
        "council_js_text": messages.script_text(),
        "category_label": lambda c: c.en if lang == "en" else c.zh,
        "asset_url": asset_url,
        "current_staff": current_staff(),
        "categories": council.CATEGORIES,
        "category_by_code": CATEGORY_BY_CODE,
        "work_order": council.work_order_number,
        "mask_phone": mask_phone,
        "local_time": local_time,
        "distance_label": distance_label,
        "event_body": event_body,
        "meeting_held": council_meetings.is_held,
        "nl2br": nl2br,
    }


def distance_label(metres: float) -> str:
    """How far a similar issue is, worded like the courier pages: metres to the nearest
    ten below a kilometre, kilometres to one decimal from there; under ten metres it is
    "right nearby" (never "about 0 m")."""
    if metres < 10:
        return gettext("right nearby")
    tens = math.floor(metres / 10 + 0.5) * 10
    if tens < 1000:
        return gettext("about %(n)s m", n=tens)
    tenths = math.floor(metres / 100 + 0.5)
    return gettext("about %(n)s km", n=f"{tenths // 10}.{tenths % 10}")


def event_body(kind: str, body: str | None) -> str:
    """What an event in an issue's story says, in words: a responsible body by its name,
    a decision's progress by its label and note. The stored body keeps the codes (the
    follow-up as "code: note"), so older events read the same."""
    body = body or ""
    words = messages.labels()
    if kind == "assigned":
        return words["responsible"].get(body, body)
    if kind == "follow_up":
        code, _sep, note = body.partition(": ")
        if code in words["follow_up"]:
            label = words["follow_up"][code]
            return f"{label}{gettext(': ')}{note}" if note else label
    return body


def local_time(moment: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(council.SHANGHAI).strftime(fmt) if moment else ""


def nl2br(text: str) -> Markup:
    """Escaped text with its line breaks kept."""
    return Markup("<br>").join(Markup.escape(line) for line in (text or "").split("\n"))


@bp.after_request
def _after(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.vary.add("Cookie")
    key = g.get("council_key")
    if key and request.cookies.get(KEY_COOKIE) != key:
        response.set_cookie(
            KEY_COOKIE,
            key,
            max_age=TWO_YEARS,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return remember_choice(response)
