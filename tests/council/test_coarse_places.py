"""Issue 12, item 4: a courier's own position is never public to better than ~100 m.

"Use my position" sends a point to a tenth of a metre. Only the point snapped to the
0.001-degree grid (111 m by 96 m in Hangzhou) is stored, so the issue page, its map,
the board, "my issues", Open311 (JSON and XML, list and single) and the staff's page
can show nothing finer. A station the courier chooses is public already and keeps its
own exact point, whatever position was sent with it.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from staff_login import csrf_from, staff_client

from stationfinder.db import session_scope
from stationfinder.geo.point import Point
from stationfinder.models import CouncilIssue, Station

KEY = "c0" * 32
EXACT = ("120.335127", "30.310482")  # where the courier stands, in 白杨街道
COARSE = ("120.335", "30.31")


def _raise(client: FlaskClient, **fields: str) -> str:
    token = csrf_from(client.get("/council/new").text)
    data = {
        "csrf_token": token,
        "device_key": KEY,
        "title": "小区门口不让电动车进",
        "category": "traffic_parking",
        "description": "保安拦着，只能走进去送。",
        "confirmed": "1",
        "lon": EXACT[0],
        "lat": EXACT[1],
        **fields,
    }
    response = client.post("/council/new", data=data)
    assert response.status_code == 302, response.text
    match = re.search(r"/council/issues/(YS-\d{8}-\d+)", response.headers["Location"])
    assert match
    return match.group(1)


def _public_outputs(app: Flask, number: str) -> dict[str, str]:
    reader = app.test_client()
    courier = app.test_client()
    courier.set_cookie("sf_council_key", KEY)
    return {
        "issue page": reader.get(f"/council/issues/{number}").text,
        "board": reader.get("/council").text,
        "my issues": courier.get("/council/mine").text,
        "open311 list json": reader.get("/open311/v2/requests.json").text,
        "open311 list xml": reader.get("/open311/v2/requests.xml").text,
        "open311 one json": reader.get(f"/open311/v2/requests/{number}.json").text,
        "open311 one xml": reader.get(f"/open311/v2/requests/{number}.xml").text,
    }


def _finer_than_coarse(text: str) -> list[str]:
    """Coordinates near the courier's that say more than three decimals do (120.33500
    on a staff page says no more than 120.335)."""
    return re.findall(r"120\.335\d*[1-9]|30\.31\d*[1-9]", text)


def test_a_pinned_position_is_kept_and_shown_only_to_about_100_m(council_app: Flask) -> None:
    number = _raise(council_app.test_client())
    outputs = _public_outputs(council_app, number)
    for where, text in outputs.items():
        assert EXACT[0] not in text and EXACT[1] not in text, where
        assert not _finer_than_coarse(text), (where, _finer_than_coarse(text))
    assert '"long":120.335' in outputs["open311 one json"].replace(" ", "")
    assert "<lat>30.31</lat>" in outputs["open311 one xml"]
    staff = staff_client(council_app, "mishu", "council_secretary")
    issue_id = int(number.rsplit("-", 1)[1])
    assert not _finer_than_coarse(staff.get(f"/staff/council/issues/{issue_id}").text)
    with session_scope(council_app) as session:  # nothing exact is kept anywhere
        issue = session.scalars(select(CouncilIssue)).one()
        assert (issue.lon, issue.lat, issue.street) == (120.335, 30.31, "白杨街道")


def test_open311_positions_are_coarse_too(council_app: Flask) -> None:
    client = council_app.test_client()
    posted = client.post(
        "/open311/v2/requests.json",
        data={
            "service_code": "safety",
            "lat": EXACT[1],
            "long": EXACT[0],
            "description": "路口红绿灯坏了，电动车很危险。",
        },
    )
    assert posted.status_code == 201, posted.text
    number = posted.get_json()[0]["service_request_id"]
    for where, text in _public_outputs(council_app, number).items():
        assert not _finer_than_coarse(text), where


def test_a_chosen_station_keeps_its_own_point_and_drops_the_couriers(
    council_app: Flask,
) -> None:
    with session_scope(council_app) as session:
        station = session.get(Station, "QT-BY-001")
        assert station is not None
        at = Point(station.lon, station.lat)
    number = _raise(council_app.test_client(), station_id="QT-BY-001")
    with session_scope(council_app) as session:
        issue = session.scalars(select(CouncilIssue)).one()
        assert (issue.lon, issue.lat) == (at.lon, at.lat)  # exact: public already
    for where, text in _public_outputs(council_app, number).items():
        assert EXACT[0] not in text and EXACT[1] not in text, where


def test_the_form_says_how_exactly_the_place_is_shown(courier: FlaskClient) -> None:
    page = courier.get("/council/new").text
    assert 'data-testid="place-privacy"' in page
    assert "100" in page.split('data-testid="place-privacy"', 1)[1].split("</p>", 1)[0]


def test_coarse_is_the_public_grid() -> None:
    point = Point(120.3351274, 30.3104826)
    assert point.coarse() == Point(120.335, 30.31)
    assert point.coarse().coarse() == point.coarse()
