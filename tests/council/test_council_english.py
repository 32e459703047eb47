"""The council's public pages in English: `?lang=en` turns every word of the pages' own
into English (what couriers and staff typed stays as typed), the cookie keeps the choice,
a link switches back, and form messages follow the language, and so do the staff pages."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from staff_login import csrf_from, staff_client

KEY = "e5" * 32
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def shown_text(page: str) -> str:
    """What a reader sees or hears: text nodes and the attributes read out, without
    scripts, the language switch (its label is the other language's name) and the
    stations' own names in the station list (data, some have no English name)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<a [^>]*data-testid="lang-switch".*?</a>', " ", page, flags=re.S)
    page = re.sub(r'<select id="station_id".*?</select>', " ", page, flags=re.S)
    said = re.findall(r'(?:placeholder|aria-label|alt|title|label)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *said]))


def chinese_in(page: str) -> list[str]:
    return sorted({m.group(0) for m in re.finditer(rf"{CJK.pattern}+", shown_text(page))})


def raise_in_english(client: FlaskClient, **fields: str) -> str:
    token = csrf_from(client.get("/council/new").text)
    data = {
        "csrf_token": token,
        "device_key": KEY,
        "title": "Water dispenser broken",
        "category": "rest_facilities",
        "description": "The dispenser at this station has not worked for a week.",
        "lon": "120.35",
        "lat": "30.31",
        "place_label": "Next to the door",
        "confirmed": "1",
        **fields,
    }
    response = client.post("/council/new", data=data, follow_redirects=True)
    match = re.search(r'data-testid="number">(YS-\d{8}-\d+)<', response.text)
    assert match, response.text
    return match.group(1)


def test_every_public_page_reads_in_english_and_the_cookie_keeps_it(
    council_app: Flask, courier: FlaskClient
) -> None:
    board = courier.get("/council?lang=en")
    assert "lang=en" in board.headers["Set-Cookie"]
    assert '<html lang="en">' in board.text and "Couriers' Council" in html.unescape(board.text)
    number = raise_in_english(courier)
    meeting_id = _meeting_with_a_decision(council_app, number)

    for url in (
        "/council",  # no ?lang= from here on: the cookie carries the choice
        "/council/new",
        f"/council/issues/{number}",
        "/council/mine",
        f"/council/meetings/{meeting_id}",
    ):
        page = courier.get(url).text
        assert chinese_in(page) == [], url
        assert 'data-testid="lang-switch"' in page and ">中文</a>" in page, url
    issue = courier.get(f"/council/issues/{number}").text
    assert "Affected: 1" in issue and "Rest and station facilities" in issue
    assert "Baiyang Subdistrict" in issue and "Me too" not in issue  # the raiser backs it
    assert "Council decision" in courier.get("/council/mine").text
    record = courier.get(f"/council/meetings/{meeting_id}").text
    assert "Vote: 12 for, 1 against, 0 abstaining" in record

    back = courier.get("/council?lang=zh")
    assert "问题看板" in back.text and chinese_in(back.text)


def test_the_same_pages_stay_chinese_by_default(council_app: Flask, courier: FlaskClient) -> None:
    number = raise_in_english(courier)
    page = courier.get(f"/council/issues/{number}").text
    assert '<html lang="zh-CN">' in page
    assert "1 人遇到" in page and "休息与站点设施" in page and "白杨街道" in page


def test_form_messages_follow_the_language(courier: FlaskClient) -> None:
    courier.get("/council/new?lang=en")
    token = csrf_from(courier.get("/council/new").text)
    outside = courier.post(
        "/council/new",
        data={
            "csrf_token": token,
            "device_key": KEY,
            "title": "Too hot",
            "category": "safety",
            "description": "No shade at noon.",
            "lon": "120.15",  # West Lake: not in Qiantang
            "lat": "30.25",
            "confirmed": "1",
        },
    )
    assert outside.status_code == 400
    assert "That place is outside Qiantang District" in outside.text
    assert chinese_in(outside.text) == []
    assert 'value="Too hot"' in outside.text  # what was typed stays


def test_a_refused_step_answers_in_the_language(council_app: Flask, courier: FlaskClient) -> None:
    number = raise_in_english(courier)
    stranger = council_app.test_client()
    token = csrf_from(stranger.get(f"/council/issues/{number}?lang=en").text)
    refused = stranger.post(
        f"/council/issues/{number}/add", data={"csrf_token": token, "device_key": "d4" * 32}
    )
    assert refused.status_code == 403
    assert "Only the phone that raised this issue can do this." in refused.text


def test_staff_pages_follow_the_chosen_language(council_app: Flask, courier: FlaskClient) -> None:
    """One choice of language for the whole site: Chinese by default, English once picked."""
    number = raise_in_english(courier)
    secretary = staff_client(council_app, "mishu", "council_secretary")
    inbox = secretary.get("/staff/council").text
    assert number in inbox and "待受理" in inbox and "Awaiting review" not in inbox
    secretary.get("/council?lang=en")
    inbox = secretary.get("/staff/council").text
    assert number in inbox and "Awaiting review" in inbox and "待受理" not in inbox


def _meeting_with_a_decision(app: Flask, number: str) -> int:
    """A meeting (typed in English by the secretary) that decided on the issue."""
    secretary = staff_client(app, "mishu", "council_secretary")
    token = csrf_from(secretary.get("/staff/council/meetings").text)
    created = secretary.post(
        "/staff/council/meetings",
        data={
            "csrf_token": token,
            "title": "November council",
            "starts_at": "2026-11-28T14:00",
            "street": "白杨街道",
            "place": "Baiyang service centre",
            "organisations": "District union\nSF Express",
        },
    )
    meeting_url = created.headers["Location"]
    issue_id = int(number.rsplit("-", 1)[1])
    secretary.post(f"{meeting_url}/agenda", data={"csrf_token": token, "issue_id": str(issue_id)})
    item_id = re.search(r'name="item_id" value="(\d+)"', secretary.get(meeting_url).text)
    assert item_id
    decided = secretary.post(
        f"{meeting_url}/decisions",
        data={
            "csrf_token": token,
            "item_id": item_id.group(1),
            "text": "Repair the dispenser",
            "owner": "Baiyang office",
            "due_on": "2026-12-15",
            "votes_for": "12",
            "votes_against": "1",
        },
    )
    assert decided.status_code == 302
    secretary.post(
        f"{meeting_url}/sign-in",
        data={"csrf_token": token, "organisation": ["District union"], "present": ["3"]},
    )
    return int(meeting_url.rsplit("/", 1)[1])
