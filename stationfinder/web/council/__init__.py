"""小哥议事厅 pages: the couriers' public board and forms (/council) and the staff's
triage, meetings and statistics (/staff/council). Views parse input, call the council
modules, and render; the council modules hold the rules."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("council", __name__)

# The views register themselves on bp.
from stationfinder.web.council import public, staff_issues, staff_meetings  # noqa: E402,F401
