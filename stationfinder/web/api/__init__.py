"""The JSON API blueprint, /api/v1."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from stationfinder.web.api import routes, write  # noqa: E402,F401  (routes register themselves on bp)
