"""强光模式 (high contrast): the courier's choice for reading a phone in strong sunlight.

A small POST form in every page's header (templates/base.html) works without
JavaScript: it sets the `contrast` cookie and sends the courier back to the page they
were on. Every page then renders `<html class="contrast-high">` from the cookie, so the
choice is there on the first paint (the rules are in static/app.css and
static/council/council.css, under that class). The cookie is readable by scripts on
purpose: a page the service worker kept for offline use carries the choice of the day it
was saved, and app.js corrects it from the cookie (and, with JavaScript, flips the mode
at once without posting the form).
"""

from __future__ import annotations

from flask import has_request_context, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.web.couriers import bp
from stationfinder.web.i18n import COOKIE_MAX_AGE
from stationfinder.web.security import same_site_path

__all__ = ["COOKIE", "HIGH", "HTML_CLASS", "NORMAL", "contrast_high", "same_site_path"]

COOKIE = "contrast"
HIGH = "high"
NORMAL = "normal"
HTML_CLASS = "contrast-high"


def contrast_high() -> bool:
    """Whether this request's courier chose 强光模式."""
    return request.cookies.get(COOKIE) == HIGH


def _this_page() -> str:
    """Where the toggle's form sends the courier back to: this page, query included."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


@bp.app_context_processor
def _display_context() -> dict[str, object]:
    if not has_request_context():
        return {"contrast_high": False, "contrast_next": "/"}
    return {"contrast_high": contrast_high(), "contrast_next": _this_page()}


@bp.post("/display/contrast")
def set_contrast() -> BaseResponse:
    """Switch 强光模式 on (`contrast=high`) or off (anything else), then back to `next`.

    The form says which mode it wants rather than "toggle", so a form sent twice (or
    from a page left open in another tab) leaves the mode the courier saw on the button.
    CSRFProtect has checked the form's token before this runs.
    """
    wanted = request.form.get("contrast") == HIGH
    target = same_site_path(request.form.get("next")) or url_for("web.index")
    response = redirect(target, code=303)
    if wanted:
        response.set_cookie(
            COOKIE,
            HIGH,
            max_age=COOKIE_MAX_AGE,
            path="/",
            samesite="Lax",
            secure=request.is_secure,
            httponly=False,  # app.js reads it to correct pages kept offline
        )
    else:
        response.delete_cookie(COOKIE, path="/", samesite="Lax", secure=request.is_secure)
    response.headers["Cache-Control"] = "no-store"
    return response
