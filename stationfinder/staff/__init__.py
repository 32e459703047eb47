"""The staff area blueprint, /staff: login, station editing, imports, reports, coverage."""

from __future__ import annotations

from flask import Blueprint, Flask, request
from flask.sessions import SecureCookieSessionInterface

bp = Blueprint("staff", __name__, url_prefix="/staff")


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag whenever the request came
    over HTTPS (behind a proxy: with STATIONFINDER_TRUSTED_PROXIES set, ProxyFix makes
    X-Forwarded-Proto count)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_app(app: Flask) -> None:
    """App-wide pieces the staff area needs (login manager, CSRF protection)."""
    from flask_wtf.csrf import CSRFProtect

    from ..api import write
    from ..photos import configure_pillow

    app.session_interface = _SessionInterface()
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    auth.login_manager_setup(app)
    csrf = CSRFProtect(app)
    from ..open311 import bp as open311_bp

    csrf.exempt(open311_bp)  # a cookie-less API: nothing for a forged request to ride on
    # The write API authenticates with a bearer token, never a cookie, so a forged
    # cross-site request has nothing to ride on.
    for view in write.VIEWS:
        csrf.exempt(view)
    # A courier's anonymous "信息准确" tap: no account to ride on, refused unless Origin or
    # Referer is this site (web/confirm.py), which its tests pin without a token.
    csrf.exempt("stationfinder.web.confirm.confirm")
    configure_pillow()
    app.register_blueprint(stations.photos_bp)


# The views register themselves on bp.
from . import auth, coverage, history, imports, reports, stations  # noqa: E402,F401
