"""One error shape for the whole service, and the handlers that produce it.

API clients get `{"error": {"code", "message", "field"}}` with the right status;
browsers get a page. Routing's own 404 and 405 take the same shape.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error that carries its HTTP status and a public message."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


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
    if _wants_json():
        response = jsonify(error_body(code, message, field))
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return _respond(exc.status, exc.code, exc.message, exc.field)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = _respond(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # The request's session is rolled back in teardown, so nothing half-written stays.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "internal_error", "The server had a problem; nothing was saved.")
