"""One error shape for the whole service, and the handlers that produce it.

Any `DomainError` (core/errors.py: it carries its status, code, field and words) that a
view lets through becomes a response here, and nowhere else: API clients get
`{"error": {"code", "message", "field"}}` with the right status, browsers get a page,
both in the page's language (the words are gettext msgids). Routing's own 404 and 405
take the same shape. Open311 answers in its own spec's shape (web/open311).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import get_translations, gettext
from werkzeug.exceptions import HTTPException

from stationfinder.core.errors import DomainError
from stationfinder.core.text import N_

log = logging.getLogger(__name__)


class ApiError(DomainError):
    """A refusal made by the web layer itself (a bad parameter, an unknown id)."""

    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, field, code=code, params=params)
        if status is not None:
            self.status = status  # type: ignore[misc]  (an instance's own status)


def public_message(exc: DomainError) -> str:
    """The error's words in the page's language, its values filled in (never English on
    a Chinese page: see i18n.refusal_words)."""
    from stationfinder.web.i18n import refusal_words

    return refusal_words(exc.template, exc.params, exc.message)


class InvalidParameter(ApiError):
    status = 400
    code = "invalid_parameter"


class NotFound(ApiError):
    status = 404
    code = "not_found"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "field": field}}


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/open311/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


# Form fields that are machinery, not what a person typed.
_NOT_TYPED = {"csrf_token", "device_key", "version", "lat", "lon", "next", "lang"}
# Never shown back, whatever the page: a shoulder, a screenshot or a shared screen
# would read them.
_SECRET_WORDS = ("password", "token", "secret", "key", "phone")


def _typed_text() -> list[str]:
    """What a person typed into the form this failed request carried, to show it back:
    a refusal that the view could not turn into a form message (the database down, the
    disk full) must not throw a courier's words away. Passwords, keys and phone numbers
    are never shown back; a body too large to read (413) shows nothing."""
    if request.method != "POST":
        return []
    try:
        form = request.form
    except HTTPException:  # the body itself was the problem (too large, malformed)
        return []
    return [
        value
        for key, value in form.items(multi=True)
        if key not in _NOT_TYPED
        and not any(word in key.lower() for word in _SECRET_WORDS)
        and len(value.strip()) >= 2
    ]


ErrorShape = Callable[[int, str], Response]
_SHAPES = "stationfinder.error_shapes"


def answer_errors_under(app: Flask, prefix: str, shape: ErrorShape) -> None:
    """Have every error under `prefix` answered by `shape(status, message)`: a face with
    its own error document (Open311's GeoReport errors), routing's 404/405 included."""
    app.extensions.setdefault(_SHAPES, {})[prefix] = shape


def _respond(status: int, code: str, message: str, field: str | None = None) -> Response:
    for prefix, shape in current_app.extensions.get(_SHAPES, {}).items():
        if request.path.startswith(prefix):
            return shape(status, message)
    if _wants_json():
        response = jsonify(error_body(code, message, field))
    else:
        response = Response(
            render_template("error.html", status=status, message=message, kept=_typed_text()),
            mimetype="text/html",
        )
    response.status_code = status
    return response


DB_DOWN_MESSAGE = N_("The database is unavailable; nothing was saved. Try again shortly.")
DISK_FULL_MESSAGE = N_(
    "The server's disk is full; nothing was saved. Try again later, and keep what you typed."
)
RETRY_AFTER_SECONDS = "30"


def _database_error(exc: Exception) -> Response | None:
    """503 for an outage, 507 for a full disk; None when it is some other database error."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    text = str(getattr(exc, "orig", exc) or exc).lower()
    if "database or disk is full" in text or "no space left" in text:
        response = _respond(507, "disk_full", gettext(DISK_FULL_MESSAGE))
    elif isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        response = _respond(503, "database_unavailable", gettext(DB_DOWN_MESSAGE))
    else:
        return None
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


# What a person reads on an HTTP error page: werkzeug's descriptions and Flask-Limiter's
# ("6 per 1 hour") are English for developers. A view's own description (a gettext'd
# abort(404, description=...)) is kept; machines (the API) keep the original.
HTTP_WORDS: dict[int, str] = {
    400: N_("The request could not be understood. Go back and try again."),
    403: N_("You may not open this page. Sign in with an account that may, or go back."),
    404: N_("There is no such page. Check the address, or start again from the start page."),
    405: N_("This page cannot be used that way. Go back and try again."),
    410: N_("This page is gone."),
    413: N_("What you sent is too large."),
    429: N_("Too many tries; please wait a while and try again."),
    500: N_("The server had a problem; nothing was saved."),
}


def has_translation(msgid: str) -> bool:
    """Whether the catalogues know `msgid` (English has msgstr = msgid, so the check is
    the same in both languages)."""
    catalog = getattr(get_translations(), "_catalog", {})
    return msgid in catalog


def _http_words(exc: HTTPException) -> str:
    status = exc.code or 500
    if _wants_json():
        return str(exc.description or exc.name)
    own = exc.description and exc.description != type(exc).description and status != 429
    if own:
        return str(exc.description)
    return gettext(HTTP_WORDS[status]) if status in HTTP_WORDS else str(exc.name)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        if _wants_json():
            # A client branches on the code; the words stay informative: translated
            # where the catalogue has them, else the English they were written in.
            message = gettext(exc.template, **exc.params) if exc.params else gettext(exc.template)
            return _respond(exc.status, exc.code, message, exc.field)
        message = public_message(exc)
        if not has_translation(exc.template) and exc.status in HTTP_WORDS:
            # A page never shows an English developer's message in place of the page's
            # language: without a catalogue entry it says what the status means.
            message = gettext(HTTP_WORDS[exc.status])
        return _respond(exc.status, exc.code, message, exc.field)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = _respond(exc.code or 500, code, _http_words(exc))
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        database = _database_error(exc)
        if database is not None:
            log.error("database error on %s %s: %s", request.method, request.path, exc)
            return database
        if isinstance(exc, RecursionError):
            return _respond(400, "too_deep", gettext("The request is nested too deeply."))
        # The request's session is rolled back in teardown, so nothing half-written stays.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(
            500, "internal_error", gettext("The server had a problem; nothing was saved.")
        )
