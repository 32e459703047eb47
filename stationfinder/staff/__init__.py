"""The staff area blueprint, /staff: login, station editing, imports, reports, coverage."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
