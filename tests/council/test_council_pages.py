"""The council's pages through the test client: a courier raises, backs, flags and reads
"my issues" without an account; the secretary triages, plans a meeting and records a
decision; bad input gets a clear answer and nothing half-written."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from staff_login import csrf_from, staff_client

from stationfinder.db import session_scope
from stationfinder.models import CouncilIssue, IssueEvent

KEY_A = "a1" * 32
KEY_B = "b2" * 32
SCRIPT = '<script>alert("x")</script>'


def raise_issue(client: FlaskClient, key: str = KEY_A, **fields: str) -> tuple[int, str, str]:
    """(status, final page, work-order number or '')."""
    page = client.get("/council/new")
    data = {
        "csrf_token": csrf_from(page.text),
        "device_key": key,
        "title": "双节期间派件压力大",
        "category": "workload",
        "description": "国庆中秋快递量翻倍，每天派到晚上十点。",
        "lon": "120.35",
        "lat": "30.31",
        "confirmed": "1",
        **fields,
    }
    response = client.post("/council/new", data=data, follow_redirects=True)
    match = re.search(r'data-testid="number">(YS-\d{8}-\d+)<', response.text)
    return response.status_code, response.text, match.group(1) if match else ""


def _count(app: Flask, model: type) -> int:
    with session_scope(app) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_raise_back_and_find_my_issue(council_app: Flask, courier: FlaskClient) -> None:
    status, page, number = raise_issue(courier, phone="13812345678")
    assert status == 200 and number and 'data-testid="raised"' in page
    assert "13812345678" not in page and "138****5678" not in page  # never public
    other = council_app.test_client()
    token = csrf_from(other.get(f"/council/issues/{number}").text)
    for _ in range(2):  # backing twice is the same as once
        response = other.post(
            f"/council/issues/{number}/back",
            data={"csrf_token": token, "device_key": KEY_B},
            follow_redirects=True,
        )
        assert response.status_code == 200
    assert "2 人遇到" in response.text and "你已经支持过" in response.text
    mine = courier.get("/council/mine")  # the cookie the raise left
    assert number in mine.text
    # Another browser, the key from localStorage posted: same list.
    fresh = council_app.test_client()
    token = csrf_from(fresh.get("/council/mine").text)
    posted = fresh.post("/council/mine", data={"csrf_token": token, "device_key": KEY_A})
    assert number in posted.text
    forged = council_app.test_client()
    token = csrf_from(forged.get("/council/mine").text)
    unknown = forged.post("/council/mine", data={"csrf_token": token, "device_key": "f" * 64})
    assert number not in unknown.text
    bad = forged.post("/council/mine", data={"csrf_token": token, "device_key": "<x>"})
    assert bad.status_code == 400


def test_similar_issues_are_offered_before_sending(
    council_app: Flask, courier: FlaskClient
) -> None:
    _status, _page, number = raise_issue(courier)
    other = council_app.test_client()
    status, page, _ = raise_issue(
        other, KEY_B, confirmed="", title="过节派件压力太大", description="快递量太多了"
    )
    assert status == 200 and 'data-testid="similar"' in page and number in page
    assert _count(council_app, CouncilIssue) == 1  # not sent yet
    _status, page, second = raise_issue(other, KEY_B, title="过节派件压力太大")  # confirmed
    assert second and second != number


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ({"description": ""}, "error-description", "请填写具体情况，最多 2000 字。"),
        ({"description": "长" * 100_000}, "error-description", "请填写具体情况，最多 2000 字。"),
        ({"category": "parcels"}, "error-category", "请从列表中选择分类。"),
        ({"lon": "120.15", "lat": "30.25"}, "error-place", "这个地点不在钱塘区。"),
        ({"lon": "abc", "lat": "30.25"}, "error-place", "位置无效"),
        ({"phone": "x" * 30}, "error-phone", "电话号码不正确。"),
    ],
)
def test_bad_input_gets_a_message_and_writes_nothing(
    council_app: Flask, courier: FlaskClient, fields: dict[str, str], where: str, message: str
) -> None:
    status, page, number = raise_issue(courier, **fields)
    assert status == 400 and not number
    shown = re.search(rf'data-testid="{where}">([^<]*)<', page)
    assert shown and message in shown.group(1), page
    assert _count(council_app, CouncilIssue) == 0 and _count(council_app, IssueEvent) == 0


def test_html_is_escaped_everywhere(council_app: Flask, courier: FlaskClient) -> None:
    _s, page, number = raise_issue(
        courier, title=SCRIPT[:60], description=SCRIPT, place_label=SCRIPT
    )
    assert SCRIPT not in page and "&lt;script&gt;" in page
    secretary = staff_client(council_app, "mishu", "council_secretary")
    issue_id = int(number.rsplit("-", 1)[1])
    token = csrf_from(secretary.get(f"/staff/council/issues/{issue_id}").text)
    secretary.post(
        f"/staff/council/issues/{issue_id}/reply",
        data={"csrf_token": token, "text": SCRIPT, "public": "1"},
    )
    for url in (f"/council/issues/{number}", "/council", f"/staff/council/issues/{issue_id}"):
        client = secretary if url.startswith("/staff") else courier
        assert SCRIPT not in client.get(url).text, url
    board = courier.get("/open311/v2/requests.json").get_json()
    assert board[0]["description"].startswith(SCRIPT[:60])  # JSON carries text, not HTML


@pytest.mark.skip(
    reason="superseded: flags hide only from established keys on distinct networks"
    " (test_participation_integrity.py)"
)
def test_flags_from_three_devices_hide_an_issue(council_app: Flask, courier: FlaskClient) -> None:
    _s, _p, number = raise_issue(courier, description="某某是骗子 13912345678")
    for n in range(3):
        client = council_app.test_client()
        token = csrf_from(client.get(f"/council/issues/{number}").text)
        client.post(
            f"/council/issues/{number}/flag",
            data={"csrf_token": token, "device_key": f"{n}" * 64, "reason": "骂人"},
        )
    page = courier.get(f"/council/issues/{number}")
    assert 'data-testid="hidden"' in page.text and "骗子" not in page.text
    assert number not in courier.get("/council").text


def test_staff_pages_need_the_council_roles(council_app: Flask) -> None:
    anonymous = council_app.test_client()
    assert anonymous.get("/staff/council").status_code == 302
    street = staff_client(council_app, "jiedao", "street_staff")
    assert street.get("/staff/council").status_code == 403
    admin = staff_client(council_app, "admin", "union_admin")
    assert admin.get("/staff/council").status_code == 200


def test_triage_merge_decline_and_phone_masking(council_app: Flask, courier: FlaskClient) -> None:
    _s, _p, first = raise_issue(courier, phone="13812345678")
    _s, _p, second = raise_issue(council_app.test_client(), KEY_B)
    secretary = staff_client(council_app, "mishu", "council_secretary")
    a, b = (int(n.rsplit("-", 1)[1]) for n in (first, second))
    page = secretary.get(f"/staff/council/issues/{a}")
    assert "138****5678" in page.text and "13812345678" not in page.text
    token = csrf_from(page.text)
    inbox = secretary.get("/staff/council")
    assert first in inbox.text and second in inbox.text
    itself = secretary.post(
        f"/staff/council/issues/{a}/merge", data={"csrf_token": token, "target": str(a)}
    )
    assert itself.status_code == 400 and "合并到它自己" in itself.text
    merged = secretary.post(
        f"/staff/council/issues/{b}/merge", data={"csrf_token": token, "target": first}
    )
    assert merged.status_code == 302
    assert (
        courier.get(f"/council/issues/{second}")
        .headers["Location"]
        .endswith(f"/council/issues/{first}?merged={second}")
    )
    no_reason = secretary.post(
        f"/staff/council/issues/{a}/status", data={"csrf_token": token, "to": "declined"}
    )
    assert no_reason.status_code == 400
    declined = secretary.post(
        f"/staff/council/issues/{a}/status",
        data={"csrf_token": token, "to": "declined", "reason": "不属于工会职责"},
    )
    assert declined.status_code == 302
    public = courier.get(f"/council/issues/{first}").text
    assert "不属于工会职责" in public and "2 人遇到" in public
    shown = secretary.post(f"/staff/council/issues/{a}/phone", data={"csrf_token": token})
    assert "13812345678" in shown.text


def test_meeting_agenda_decision_record_ics_and_stats(
    council_app: Flask, courier: FlaskClient
) -> None:
    _s, _p, number = raise_issue(courier)
    issue_id = int(number.rsplit("-", 1)[1])
    secretary = staff_client(council_app, "mishu", "council_secretary")
    token = csrf_from(secretary.get("/staff/council/meetings").text)
    created = secretary.post(
        "/staff/council/meetings",
        data={
            "csrf_token": token,
            "title": "十一月议事会",
            "starts_at": "2026-11-28T14:00",
            "street": "白杨街道",
            "place": "白杨街道党群服务中心",
            "organisations": "区总工会\n白杨街道\n顺丰速运",
        },
    )
    assert created.status_code == 302
    meeting_url = created.headers["Location"]
    meeting_id = int(meeting_url.rsplit("/", 1)[1])
    page = secretary.get(meeting_url)
    assert number in page.text  # proposed: most backed in the subdistrict
    secretary.post(f"{meeting_url}/agenda", data={"csrf_token": token, "issue_id": str(issue_id)})
    record = secretary.get(meeting_url).text
    item_id = re.search(r'name="item_id" value="(\d+)"', record).group(1)
    missing = secretary.post(
        "/staff/council/meetings/999999/decisions",
        data={"csrf_token": token, "item_id": item_id, "text": "x", "owner": "y"},
    )
    assert missing.status_code == 404
    decided = secretary.post(
        f"{meeting_url}/decisions",
        data={
            "csrf_token": token,
            "item_id": item_id,
            "text": "招募红色派递员",
            "owner": "区总工会",
            "due_on": "2026-12-15",
            "votes_for": "12",
            "votes_against": "1",
        },
    )
    assert decided.status_code == 302
    secretary.post(
        f"{meeting_url}/sign-in",
        data={"csrf_token": token, "organisation": ["区总工会", "顺丰速运"], "present": ["3", "5"]},
    )
    public = courier.get(f"/council/meetings/{meeting_id}").text
    assert "招募红色派递员" in public and "共 8 人" in public and "print.css" in public
    ics = courier.get(f"/council/meetings/{meeting_id}.ics")
    assert ics.mimetype == "text/calendar" and b"BEGIN:VEVENT" in ics.data
    assert b"DTSTART" in ics.data and b"20261128T" in ics.data
    assert "招募红色派递员" in courier.get("/council/mine").text
    stats = secretary.get("/staff/council/stats")
    assert stats.status_code == 200 and "<svg" in stats.text
    csv = secretary.get("/staff/council/stats.csv")
    assert csv.mimetype == "text/csv" and number in csv.text
