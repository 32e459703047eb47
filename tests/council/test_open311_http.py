"""Open311 GeoReport v2 over real HTTP, as a stock client does it: discovery, services,
a form-encoded POST, JSON GETs with filters, errors as [{"code", "description"}]."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

KEY = "k1" * 32


@pytest.fixture
def server(make_app: Callable[..., Flask]) -> Iterator[str]:
    app = make_app(RATE_LIMITS=False)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/open311/v2/"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


def call(url: str, form: dict[str, str] | None = None) -> tuple[int, Any, str]:
    """(status, parsed JSON, content type), the way urllib-based clients call."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data)  # POST with a body, else GET
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body, status, kind = response.read(), response.status, response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        body, status, kind = exc.read(), exc.code, exc.headers["Content-Type"]
    return status, json.loads(body) if "json" in kind else body.decode(), kind


def test_a_stock_client_posts_and_follows_a_request(server: str) -> None:
    status, discovery, _ = call(server + "discovery.json")
    assert status == 200 and discovery["endpoints"][0]["url"] == server
    status, services, _ = call(server + "services.json")
    codes = [s["service_code"] for s in services]
    assert status == 200 and "storage_points" in codes and len(codes) == 7
    status, definition, _ = call(server + "services/storage_points.json")
    assert definition == {"service_code": "storage_points", "attributes": []}

    status, created, _ = call(
        server + "requests.json",
        {
            "service_code": "storage_points",
            "lat": "30.31",
            "long": "120.35",
            "description": "小区快递柜太小，放不下。电话 13912345678",
            "phone": "13912345678",
            "device_id": KEY,
        },
    )
    assert status == 201, created
    number = created[0]["service_request_id"]
    assert number.startswith("YS-")

    status, one, _ = call(server + f"requests/{number}.json")
    assert status == 200
    request = one[0]
    assert request["status"] == "open" and request["service_code"] == "storage_points"
    assert request["lat"] == 30.31 and request["long"] == 120.35
    text = json.dumps(one, ensure_ascii=False)
    assert "13912345678" not in text and "phone" not in request  # never in Open311

    status, listed, _ = call(server + "requests.json?service_code=storage_points&status=open")
    assert [r["service_request_id"] for r in listed] == [number]
    status, none, _ = call(server + "requests.json?status=closed")
    assert none == []
    status, by_id, _ = call(server + f"requests.json?service_request_id={number}")
    assert [r["service_request_id"] for r in by_id] == [number]
    status, xml, kind = call(server + f"requests/{number}.xml")
    assert status == 200 and "xml" in kind and f"<service_request_id>{number}<" in xml


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"lat": "30.31", "long": "120.35", "description": "x"}, 400, "service_code"),
        ({"service_code": "nope", "lat": "30.31", "long": "120.35"}, 400, "service_code"),
        ({"service_code": "safety", "description": "路口没有红绿灯"}, 400, "location"),
        (
            {"service_code": "safety", "lat": "30.25", "long": "120.15", "description": "x"},
            400,
            "outside",
        ),
        (
            {
                "service_code": "safety",
                "lat": "30.31",
                "long": "120.35",
                "description": "长" * 4001,
            },
            400,
            "description",
        ),
        (
            {"service_code": "safety", "lat": "north", "long": "120.35", "description": "x"},
            400,
            "lat",
        ),
    ],
)
def test_bad_posts_get_open311_errors(
    server: str, form: dict[str, str], status: int, words: str
) -> None:
    got, body, _ = call(server + "requests.json", form)
    assert got == status
    assert isinstance(body, list) and body[0]["code"] == status and words in body[0]["description"]
    _s, listed, _ = call(server + "requests.json")
    assert listed == []


def test_unknown_things_answer_in_the_spec_shape(server: str) -> None:
    for url in ("requests/YS-20260101-9999.json", "services/nope.json", "nothing.json"):
        status, body, _ = call(server + url)
        assert status == 404 and body[0]["code"] == 404, url
    status, body, _ = call(server + "services.json", {"a": "b"})
    assert status == 405 and body[0]["code"] == 405


def test_an_api_key_when_configured(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATE_LIMITS=False, OPEN311_API_KEY="secret-key")
    client = app.test_client()
    form = {"service_code": "safety", "lat": "30.31", "long": "120.35", "description": "路口危险"}
    refused = client.post("/open311/v2/requests.json", data=form)
    assert refused.status_code == 403 and refused.get_json()[0]["code"] == 403
    accepted = client.post("/open311/v2/requests.json", data={**form, "api_key": "secret-key"})
    assert accepted.status_code == 201
