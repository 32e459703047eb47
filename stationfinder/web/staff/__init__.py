"""The staff area blueprint, /staff: login, station editing, imports, reports, coverage.

App-wide pieces the staff area relies on (sessions, CSRF, the login manager, the photos
blueprint) are wired by `create_app`, not here.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# The views register themselves on bp.
from stationfinder.web.staff import auth, coverage, history, imports, reports, stations  # noqa: E402,F401
