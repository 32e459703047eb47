"""The place of an issue through the test client: a pin's WGS-84 position is stored
rounded to the public ~100 m grid, a point outside the district gets the form's message
with the pin kept where it was, and the issue's page carries its place map (self-hosted
Leaflet, no inline code)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from staff_login import csrf_from

from stationfinder.db import session_scope
from stationfinder.models import CouncilIssue

KEY = "f6" * 32
BAIYANG = ("120.335127", "30.310482")  # WGS-84, in 白杨街道
WEST_LAKE = ("120.148001", "30.242001")  # WGS-84, not in Qiantang


def post_issue(client: FlaskClient, **fields: str) -> Any:
    token = csrf_from(client.get("/council/new").text)
    data = {
        "csrf_token": token,
        "device_key": KEY,
        "title": "路口没有遮阳的地方",
        "category": "safety",
        "description": "中午等单的时候太晒了。",
        "confirmed": "1",
        **fields,
    }
    return client.post("/council/new", data=data)


def map_config(page: str, testid: str) -> dict[str, Any]:
    match = re.search(rf"data-map-config='([^']*)' data-testid=\"{testid}\"", page)
    assert match, f"no {testid} on the page"
    return json.loads(html.unescape(match.group(1)))


def stored(app: Flask) -> CouncilIssue:
    with session_scope(app) as session:
        issue = session.scalars(select(CouncilIssue)).one()
        session.expunge(issue)
        return issue


def test_a_pinned_point_is_stored_and_shown_on_the_issue_page(
    council_app: Flask, courier: FlaskClient
) -> None:
    response = post_issue(courier, lon=BAIYANG[0], lat=BAIYANG[1])
    assert response.status_code == 302
    issue = stored(council_app)
    assert (issue.lon, issue.lat, issue.street) == (120.335, 30.31, "白杨街道")  # ~100 m
    page = courier.get(response.headers["Location"]).text
    config = map_config(page, "place-map")
    assert config["point"] == [120.335, 30.31]  # WGS-84, coarse: the script converts
    assert config["tileCrs"] == "gcj02" and "{x}" in config["tileUrl"]
    leaflet = re.search(r'<script src="(/static/vendor/leaflet/[^"]+/leaflet\.js)"', page)
    assert leaflet and courier.get(leaflet.group(1)).status_code == 200
    assert re.search(r'<script src="/assets/coords\.js\?v=\w+"', page)


def test_a_point_outside_the_district_keeps_the_form_and_the_pin(
    council_app: Flask, courier: FlaskClient
) -> None:
    response = post_issue(courier, lon=WEST_LAKE[0], lat=WEST_LAKE[1], place_label="断桥")
    assert response.status_code == 400
    page = response.text
    message = re.search(r'data-testid="error-place">([^<]*)<', page)
    assert message and message.group(1).startswith("这个地点不在钱塘区")
    assert f'name="lon" value="{WEST_LAKE[0]}"' in page
    assert map_config(page, "pick-map")["point"] == [float(WEST_LAKE[0]), float(WEST_LAKE[1])]
    assert 'value="路口没有遮阳的地方"' in page and 'value="断桥"' in page
    with session_scope(council_app) as session:
        assert session.scalars(select(CouncilIssue)).first() is None


def test_the_form_works_without_script_and_the_map_waits_for_it(courier: FlaskClient) -> None:
    page = courier.get("/council/new").text
    # In the first paint (no layout shift when the map comes); hidden without script.
    assert '<div class="council-pick" data-place-pick>' in page
    assert re.search(r'<noscript><link rel="stylesheet" href="/assets/council/noscript\.css', page)
    assert "leaflet.js" not in page.split("</head>")[0]  # council.js loads it after the paint
    config = map_config(page, "pick-map")
    assert config["point"] is None and config["centre"] == [120.45, 30.3]
    assert post_issue(courier, station_id="QT-XS-001").status_code == 302  # no map needed


def test_no_map_without_a_point_or_on_a_hidden_issue(
    council_app: Flask, courier: FlaskClient
) -> None:
    response = post_issue(courier, place_label="下沙某小区门口")
    page = courier.get(response.headers["Location"]).text
    assert 'data-testid="place-map"' not in page and "leaflet.js" not in page
    located = post_issue(courier, lon=BAIYANG[0], lat=BAIYANG[1], title="另一个路口")
    with session_scope(council_app) as session:
        for issue in session.scalars(select(CouncilIssue)):
            issue.hidden, issue.hidden_reason = True, "含个人信息"
    assert 'data-testid="place-map"' not in courier.get(located.headers["Location"]).text


def test_council_pages_carry_no_inline_code(council_app: Flask, courier: FlaskClient) -> None:
    response = post_issue(courier, lon=BAIYANG[0], lat=BAIYANG[1])
    for url in ("/council/new", response.headers["Location"], "/council", "/council/mine"):
        page = courier.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert " style=" not in page and "<style" not in page, url
        assert "unpkg.com" not in page and "cdn" not in page.lower(), url
