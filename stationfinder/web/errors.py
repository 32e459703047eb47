"""One error shape for the whole service, and the handlers that produce it.

Any `DomainError` (core/errors.py: it carries its status, code, field and words) that a
view lets through becomes a response here, and nowhere else: API clients get
`{"error": {"code", "message", "field"}}` with the right status, browsers get a page,
both in the page's language (the words are gettext msgids). Routing's own 404 and 405
take the same shape. Open311 answers in its own spec's shape (web/open311).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from stationfinder.core.errors import DomainError

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
    """The error's words in the page's language, its values filled in."""
    return gettext(exc.template, **exc.params) if exc.params else gettext(exc.template)


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


def _respond(status: int, code: str, message: str, field: str | None = None) -> Response:
    if request.path.startswith("/open311/"):
        # GeoReport clients read only their spec's error document, routing's 404/405
        # included (web/open311/documents.py).
        from stationfinder.web.open311.documents import error_response, format_of

        return error_response(status, message, format_of(request.path))
    if _wants_json():
        response = jsonify(error_body(code, message, field))
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    return response


DB_DOWN_MESSAGE = (
    "数据库暂时无法连接，请稍后再试；这次没有保存任何内容。"
    " The database is unavailable; nothing was saved, try again shortly."
)
DISK_FULL_MESSAGE = (
    "服务器磁盘已满，这次没有保存；请稍后再试，并把填写的内容留着。"
    " The server's disk is full; nothing was saved."
)
RETRY_AFTER_SECONDS = "30"


def _database_error(exc: Exception) -> Response | None:
    """503 for an outage, 507 for a full disk; None when it is some other database error."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    text = str(getattr(exc, "orig", exc) or exc).lower()
    if "database or disk is full" in text or "no space left" in text:
        response = _respond(507, "disk_full", DISK_FULL_MESSAGE)
    elif isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        response = _respond(503, "database_unavailable", DB_DOWN_MESSAGE)
    else:
        return None
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def init_app(app: Flask) -> None:
    from stationfinder.web import text_boundary

    text_boundary.init_app(app)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        return _respond(exc.status, exc.code, public_message(exc), exc.field)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = _respond(exc.code or 500, code, exc.description or exc.name)
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
            return _respond(400, "too_deep", "请求嵌套太深。 The request is nested too deeply.")
        # The request's session is rolled back in teardown, so nothing half-written stays.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "internal_error", "The server had a problem; nothing was saved.")
