"""The app runs its own cookie sessions (web/application.py), not a blueprint's.

Before the restructure the staff blueprint replaced the app's session interface with its
own, so `CookieSessions` — which answers a cookie-less request without building a
signer (couriers' phones and API clients never carry the cookie) — never ran.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from stationfinder.web.application import CookieSessions


def test_the_app_uses_cookie_sessions(app: Flask) -> None:
    assert type(app.session_interface) is CookieSessions


def test_a_request_without_the_cookie_builds_no_signer(app: Flask, monkeypatch) -> None:
    built: list[str] = []
    original = SecureCookieSessionInterface.get_signing_serializer

    def counting(self, flask_app):  # type: ignore[no-untyped-def]
        built.append(flask_app.name)
        return original(self, flask_app)

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", counting)
    client = app.test_client()
    answer = client.get("/api/v1/stations/nearest?lat=30.305&lon=120.318&k=1")
    assert answer.status_code == 200
    assert built == []  # nothing to verify, nothing built
    assert "Set-Cookie" not in answer.headers
