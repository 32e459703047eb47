"""Open311 GeoReport v2 at /open311/v2/: the council's issues for any stock GeoReport
client (one service per category). It is an API without cookies, so CSRFProtect must
exempt this blueprint; POST needs an API key only when one is configured."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

from stationfinder.web.open311 import routes  # noqa: E402,F401
