"""What the council's views share: the device key, errors as pages, template helpers."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, current_app, g, request
from markupsafe import Markup

from .. import council
from ..council import CATEGORY_BY_CODE, CouncilError
from ..errors import ApiError
from ..privacy import hash_device_key, is_device_key, mask_phone
from ..vocabulary import STREET_BY_NAME, STREET_NAMES
from ..web.assets import asset_url
from ..web.i18n import remember_choice, template_context
from . import bp

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
    for candidate in (
        request.form.get("device_key"),
        request.headers.get(KEY_HEADER),
        request.cookies.get(KEY_COOKIE),
    ):
        if candidate:
            if not is_device_key(candidate):
                raise BadDeviceKey("the device key is not valid", field="device_key")
            g.council_key = candidate
            return candidate
    if create:
        g.council_key = secrets.token_hex(32)
        return str(g.council_key)
    return None


def device_hash(key: str) -> str:
    return hash_device_key(key, str(current_app.config["SECRET_KEY"]))


def public_error(exc: CouncilError) -> ApiError:
    code = {404: "not_found", 403: "forbidden"}.get(exc.status, "bad_request")
    return ApiError(exc.message, field=exc.field, status=exc.status, code=code)


def _street_en(name: str | None) -> str:
    street = STREET_BY_NAME.get(name or "")
    return street.en if street else ""


@bp.context_processor
def _context() -> dict[str, Any]:
    from ..staff.auth import current_staff

    return {
        **template_context(),
        "asset_url": asset_url,
        "current_staff": current_staff(),
        "categories": council.CATEGORIES,
        "category_by_code": CATEGORY_BY_CODE,
        "street_names": STREET_NAMES,
        "street_en": _street_en,
        "work_order": council.work_order_number,
        "mask_phone": mask_phone,
        "local_time": local_time,
        "nl2br": nl2br,
    }


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
        response.set_cookie(KEY_COOKIE, key, max_age=TWO_YEARS, httponly=True, samesite="Lax")
    return remember_choice(response)
