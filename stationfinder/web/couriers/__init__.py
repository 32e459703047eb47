"""The courier pages blueprint: the locator, station pages and the map."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)

# The views register themselves on bp.
from stationfinder.web.couriers import confirm, display, routes  # noqa: E402,F401
