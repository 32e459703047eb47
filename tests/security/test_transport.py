"""HTTPS-only promises: HSTS and Secure cookies over HTTPS, never over plain HTTP, and a
forwarded "this was HTTPS" believed only from a trusted proxy."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from staff_login import PASSWORD, add_staff, csrf_from

HSTS = "Strict-Transport-Security"
FORWARDED_HTTPS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.5",
    "Referer": "https://localhost/staff/login",  # CSRF over HTTPS checks the referrer
}


def test_hsts_only_over_https(app: Flask) -> None:
    client = app.test_client()
    assert HSTS not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers[HSTS].startswith("max-age=")
    assert int(secure.headers[HSTS].split("=")[1].split(";")[0]) >= 180 * 86400
    assert HSTS in client.get("/api/v1/stations", base_url="https://localhost").headers


def test_a_forwarded_https_counts_only_behind_a_trusted_proxy(
    make_app: Callable[..., Flask],
) -> None:
    direct = make_app().test_client()
    assert HSTS not in direct.get("/", headers=FORWARDED_HTTPS).headers
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    assert HSTS in proxied.get("/", headers=FORWARDED_HTTPS).headers
    assert HSTS not in proxied.get("/", headers={"X-Forwarded-Proto": "http"}).headers


def _login_cookie(app: Flask, **kw: object) -> str:
    client = app.test_client()
    page = client.get("/staff/login", **kw)
    response = client.post(
        "/staff/login",
        data={"username": "baiyang", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        **kw,
    )
    assert response.status_code == 302, response.text
    return "; ".join(response.headers.getlist("Set-Cookie"))


def test_the_session_cookie_is_secure_behind_a_trusted_tls_proxy(
    make_app: Callable[..., Flask],
) -> None:
    proxied = make_app(TRUSTED_PROXIES=1, RATE_LIMITS=False)
    add_staff(proxied, "baiyang", "street_staff", "白杨街道")
    cookies = _login_cookie(proxied, headers=FORWARDED_HTTPS)
    assert "session=" in cookies and "Secure" in cookies
    plain = _login_cookie(proxied)
    assert "Secure" not in plain  # plain HTTP: a Secure cookie would be lost
    direct = make_app(RATE_LIMITS=False)
    assert "Secure" not in _login_cookie(direct, headers=FORWARDED_HTTPS)  # a forged header
