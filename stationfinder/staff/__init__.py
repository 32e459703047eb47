"""The staff area blueprint, /staff: login, station editing, imports, reports, coverage."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("staff", __name__, url_prefix="/staff")


def init_app(app: Flask) -> None:
    """App-wide pieces the staff area needs (login manager, CSRF protection)."""
