"""The staff area blueprint, /staff: login, station editing, imports, reports, coverage.

App-wide pieces the staff area relies on (sessions, CSRF, the login manager, the photos
blueprint) are wired by `create_app`, not here.
"""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.after_request
def no_store(response: Response) -> Response:
    """Staff pages show what only staff may see: never keep them in a shared cache."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# The views register themselves on bp.
from stationfinder.web.staff import (  # noqa: E402,F401
    accounts,
    alerts,
    coverage,
    history,
    imports,
    posters,
    reports,
    stations,
)
