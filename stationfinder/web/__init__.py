"""The courier pages blueprint: the locator, station pages and the map."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)
