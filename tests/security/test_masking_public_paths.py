"""Issue 12, item 3, end to end: a phone or ID number typed in a tricky notation is
masked on every public output of couriers' and staff's text.

Every path where text people typed becomes public goes through
`council.issues.clean_text`, which masks before storing: titles, descriptions and
places of issues (raise form and Open311 POST), a raiser's additions and rating
comments, staff replies and reasons, and meetings (title, place, minutes, decisions).
Each test posts a number the old regex let through and reads it back from the public
side: the issue page, the board, Open311 JSON and XML, the meeting page and its .ics.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shipped_areas import SHIPPED
from staff_login import csrf_from, staff_client
from test_masking_notations import _survives

from stationfinder.council import meetings as council_meetings
from stationfinder.db import session_scope

KEY = "d1" * 32
MOBILE = "13957120846"
ID_CARD = "33010619880523417X"
TRICKY = {
    "full-width": "１３９ ５７１２ ０８４６",
    "chinese": "幺三九·五七幺二·〇八四六",
    "zero-width": "139\u200b5712\u20600846",
    "dotted +86": "+86.139.5712.0846",
}
TRICKY_ID = "３３０１０６ １９８８０５２３ ４１７Ｘ"


@pytest.fixture
def council(make_app: Callable[..., Flask]) -> Flask:
    return make_app(RATE_LIMITS=False)


def _raise(client: FlaskClient, title: str, description: str, place: str = "") -> str:
    token = csrf_from(client.get("/council/new").text)
    response = client.post(
        "/council/new",
        data={
            "csrf_token": token,
            "device_key": KEY,
            "title": title,
            "category": "income_rights",
            "description": description,
            "place_label": place,
            "confirmed": "1",
        },
    )
    assert response.status_code == 302, response.text
    match = re.search(r"(YS-\d{8}-\d+)", response.headers["Location"])
    assert match
    return match.group(1)


def _public(app: Flask, number: str) -> dict[str, str]:
    reader = app.test_client()
    return {
        "issue page": reader.get(f"/council/issues/{number}").text,
        "board": reader.get("/council").text,
        "open311 json": reader.get(f"/open311/v2/requests/{number}.json").text,
        "open311 xml": reader.get(f"/open311/v2/requests/{number}.xml").text,
        "open311 list": reader.get("/open311/v2/requests.json").text,
    }


def _assert_masked(outputs: dict[str, str], *numbers: str) -> None:
    for where, text in outputs.items():
        for number in numbers:
            assert not _survives(number, text), (where, number)


@pytest.mark.parametrize("notation", sorted(TRICKY))
def test_raise_form_title_description_and_place(council: Flask, notation: str) -> None:
    written = TRICKY[notation]
    number = _raise(
        council.test_client(),
        title=f"老板电话{written}",
        description=f"拖欠工资，找他：{written}，身份证{TRICKY_ID}",
        place=f"门口电话{written}",
    )
    outputs = _public(council, number)
    assert "拖欠工资" in outputs["issue page"]  # the text itself is there
    _assert_masked(outputs, MOBILE, ID_CARD)


def test_open311_post_description(council: Flask) -> None:
    client = council.test_client()
    posted = client.post(
        "/open311/v2/requests.json",
        data={
            "service_code": "income_rights",
            "address_string": f"联系{TRICKY['chinese']}",
            "description": f"站长电话 {TRICKY['full-width']} 不接，身份证 {TRICKY_ID}",
        },
    )
    assert posted.status_code == 201, posted.text
    number = posted.get_json()[0]["service_request_id"]
    _assert_masked(_public(council, number), MOBILE, ID_CARD)


def test_a_raisers_addition(council: Flask) -> None:
    raiser = council.test_client()
    number = _raise(raiser, "押金不退", "押金一直不退。")
    token = csrf_from(raiser.get(f"/council/issues/{number}").text)
    added = raiser.post(
        f"/council/issues/{number}/add",
        data={"csrf_token": token, "device_key": KEY, "text": f"补充：{TRICKY['zero-width']}"},
    )
    assert added.status_code == 302
    outputs = _public(council, number)
    assert "补充" in outputs["issue page"]
    _assert_masked(outputs, MOBILE)


def test_a_staff_reply(council: Flask) -> None:
    number = _raise(council.test_client(), "押金不退", "押金一直不退。")
    issue_id = int(number.rsplit("-", 1)[1])
    staff = staff_client(council, "mishu", "council_secretary")
    page = staff.get(f"/staff/council/issues/{issue_id}").text
    replied = staff.post(
        f"/staff/council/issues/{issue_id}/reply",
        data={"csrf_token": csrf_from(page), "text": f"已联系企业，经理{TRICKY['dotted +86']}"},
    )
    assert replied.status_code == 302
    outputs = _public(council, number)
    assert "已联系企业" in outputs["issue page"]
    _assert_masked(outputs, MOBILE)


def test_a_meeting_page_and_its_calendar_file(council: Flask) -> None:
    with session_scope(council) as session:
        meeting = council_meetings.create_meeting(
            session,
            title=f"议事会（报名{TRICKY['full-width']}）",
            starts_at=datetime.now(UTC) + timedelta(days=3),
            place=f"白杨街道小哥之家，联系{TRICKY['chinese']}",
            street="白杨街道",
            actor="mishu",
            areas=SHIPPED,
        )
        meeting_id = meeting.id
    reader = council.test_client()
    page = reader.get(f"/council/meetings/{meeting_id}")
    ics = reader.get(f"/council/meetings/{meeting_id}.ics")
    assert page.status_code == 200 and ics.status_code == 200
    assert "议事会" in page.text
    _assert_masked({"meeting page": page.text, "ics": ics.text}, MOBILE)


def test_a_problem_report_message_stays_off_the_station_page(council: Flask) -> None:
    """A report's message goes to street staff only: the station's page and its API
    record never show it (so it needs no masking there, and gets none)."""
    station = "QT-XS-001"
    courier = council.test_client()
    form = courier.get(f"/stations/{station}/report")
    sent = courier.post(
        f"/stations/{station}/report",
        data={
            "csrf_token": csrf_from(form.text),
            "category": "closed_when_open",
            "message": f"门关着，站长电话{TRICKY['full-width']}",
        },
    )
    assert sent.status_code == 200
    reader = council.test_client()
    page = reader.get(f"/stations/{station}").text
    api = reader.get(f"/api/v1/stations/{station}").text
    assert "门关着" not in page and "门关着" not in api
    _assert_masked({"station page": page, "station api": api}, MOBILE)
