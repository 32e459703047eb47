"""Every response carries the security headers; each page's inline scripts carry that
response's nonce and nothing inline runs without one."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from stationfinder.web import security

PAGES = ["/", "/stations/QT-BY-001", "/map", "/staff/login", "/nearest?lat=30.3&lon=120.35"]


@pytest.fixture
def secured(app: Flask) -> FlaskClient:
    security.init_app(app)  # a no-op once create_app wires it
    return app.test_client()


def _directives(policy: str) -> dict[str, str]:
    return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split("; ")}


@pytest.mark.parametrize("path", [*PAGES, "/api/v1/stations", "/sw.js", "/nowhere", "/healthz"])
def test_every_response_has_the_headers(secured: FlaskClient, path: str) -> None:
    response = secured.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = _directives(response.headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert csp["script-src"].startswith("'self'")


@pytest.mark.parametrize("path", PAGES)
def test_every_inline_script_and_style_carries_this_responses_nonce(
    secured: FlaskClient, path: str
) -> None:
    first, second = secured.get(path), secured.get(path)
    nonces = []
    for response in (first, second):
        html = response.get_data(as_text=True)
        script_src = _directives(response.headers["Content-Security-Policy"])["script-src"]
        nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{24})'", script_src)
        assert nonce, script_src
        nonces.append(nonce.group(1))
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            if "src=" in tag or 'type="application/json"' in tag:
                continue  # served by the app, or data that never runs
            assert f'nonce="{nonce.group(1)}"' in tag, f"{path}: {tag}"
        assert not re.search(r"<[a-z]+[^>]*\sstyle=", html), "inline style attribute"
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html), "inline event handler"
    assert nonces[0] != nonces[1]


def test_json_carries_no_nonce(secured: FlaskClient) -> None:
    policy = secured.get("/api/v1/stations").headers["Content-Security-Policy"]
    assert "nonce" not in policy
    assert _directives(policy)["script-src"] == "'self'"


def test_images_may_come_only_from_the_tile_server(make_app) -> None:
    app = make_app(
        TILE_URL="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", TILE_SUBDOMAINS="abc"
    )
    security.init_app(app)
    policy = app.test_client().get("/map").headers["Content-Security-Policy"]
    assert _directives(policy)["img-src"] == (
        "'self' data: https://a.tile.openstreetmap.org https://b.tile.openstreetmap.org "
        "https://c.tile.openstreetmap.org"
    )


def test_tile_sources() -> None:
    assert security.tile_sources(
        "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}", "12"
    ) == ["https://webrd01.is.autonavi.com", "https://webrd02.is.autonavi.com"]
    assert security.tile_sources("/tiles/{z}/{x}/{y}.png", "abc") == []
    assert security.tile_sources("https://t{r}.example.cn/{z}/{x}/{y}", "") == [
        "https://*.example.cn"
    ]
