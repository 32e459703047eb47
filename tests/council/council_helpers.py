"""Helpers the council's tests share: the app with the council's blueprints (until
create_app registers them), CSRF tokens from pages, signed-in staff clients."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from stationfinder.db import session_scope
from stationfinder.models import StaffAccount
from stationfinder.staff.auth import hash_password

PASSWORD = "correct horse battery"


def with_council(app: Flask) -> Flask:
    from stationfinder.council_web import bp as council_bp
    from stationfinder.open311 import bp as open311_bp

    try:  # the CSP headers another change is adding; create_app will wire them
        from stationfinder import security
    except ImportError:
        pass
    else:
        security.init_app(app)
    if "council" not in app.blueprints:
        app.register_blueprint(council_bp)
    if "open311" not in app.blueprints:
        app.register_blueprint(open311_bp)
        app.extensions["csrf"].exempt(open311_bp)
    return app


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def staff_client(app: Flask, username: str, role: str) -> FlaskClient:
    with session_scope(app) as session:
        session.add(
            StaffAccount(
                username=username,
                display_name=username,
                password_hash=hash_password(PASSWORD),
                role=role,
            )
        )
    client = app.test_client()
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302, response.text
    return client
