"""The council's rate limits count per device (the council key's hash) and per address:
one phone that sends too much is stopped while another phone on the same Wi-Fi goes on,
minting keys does not get past the address's ceiling, and the key never reaches the
counters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from staff_login import csrf_from

from stationfinder.db import session_scope
from stationfinder.models import CouncilIssue
from stationfinder.web.council import public
from stationfinder.web.limits import limiter

KEY_A = "a1" * 32
KEY_B = "b2" * 32


@pytest.fixture
def limited_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(RATE_LIMITS=True)


def _limit_count(limit: str) -> int:
    """The smallest count in a limit string such as "5 per hour;20 per day"."""
    return min(int(part.split()[0]) for part in limit.split(";"))


def _raise(client: FlaskClient, key: str, title: str, token: str) -> tuple[int, str]:
    response = client.post(
        "/council/new",
        data={
            "csrf_token": token,
            "device_key": key,
            "title": title,
            "category": "rest_facilities",
            "description": "下沙这个小哥之家的饮水机坏了一个星期。",
            "station_id": "QT-XS-001",
            "confirmed": "1",
        },
    )
    return response.status_code, response.get_data(as_text=True)


def _issues(app: Flask) -> int:
    with session_scope(app) as session:
        return int(session.scalar(select(func.count()).select_from(CouncilIssue)) or 0)


def test_one_phone_is_stopped_while_another_on_the_same_address_goes_on(
    limited_app: Flask,
) -> None:
    client = limited_app.test_client()  # both phones come from 127.0.0.1
    token = csrf_from(client.get("/council/new").text)
    allowed = _limit_count(public.RAISE_LIMIT)
    for n in range(allowed):
        status, _page = _raise(client, KEY_A, f"饮水机坏了 {n}", token)
        assert status == 302, n
    status, page = _raise(client, KEY_A, "第六个问题", token)
    assert status == 429
    assert "你提交得太频繁了" in page and 'data-testid="errors"' in page
    assert 'value="第六个问题"' in page  # what was typed is still there
    assert _issues(limited_app) == allowed

    status, _page = _raise(client, KEY_B, "另一台手机", token)
    assert status == 302
    assert _issues(limited_app) == allowed + 1


def test_a_phone_that_mistypes_has_not_used_up_its_issues(limited_app: Flask) -> None:
    client = limited_app.test_client()
    token = csrf_from(client.get("/council/new").text)
    allowed = _limit_count(public.RAISE_LIMIT)
    for _ in range(allowed + 2):  # an empty title: a form message each time
        status, page = _raise(client, KEY_A, "", token)
        assert status == 400 and 'data-testid="errors"' in page
    for n in range(allowed):
        status, _page = _raise(client, KEY_A, f"饮水机坏了 {n}", token)
        assert status == 302, n
    assert _raise(client, KEY_A, "再一个", token)[0] == 429
    assert _issues(limited_app) == allowed


def test_backing_answers_json_429_per_phone(limited_app: Flask) -> None:
    client = limited_app.test_client()
    token = csrf_from(client.get("/council/new").text)
    assert _raise(client, KEY_A, "饮水机坏了", token)[0] == 302
    number = client.get("/council/mine").text.split('href="/council/issues/')[1].split('"')[0]
    allowed = _limit_count(public.BACK_LIMIT)

    def back(key: str) -> tuple[int, dict[str, object]]:
        response = client.post(
            f"/council/issues/{number}/back",
            data={"csrf_token": token, "device_key": key},
            headers={"Accept": "application/json"},
        )
        return response.status_code, response.get_json()

    for _ in range(allowed):
        assert back(KEY_B)[0] == 200
    status, body = back(KEY_B)
    assert status == 429
    assert body == {
        "error": {
            "code": "rate_limited",
            "message": "操作太频繁了，请过一会儿再试。",
            "field": None,
        }
    }
    status, body = back("c3" * 32)  # a third phone, same address
    assert status == 200 and body == {"status": "backed", "backing": 3}


def test_the_address_ceiling_holds_whatever_keys_are_sent(limited_app: Flask) -> None:
    client = limited_app.test_client()
    token = csrf_from(client.get("/council/new").text)
    ceiling = _limit_count(public.RAISE_ADDRESS_LIMIT)
    for n in range(ceiling):  # a new key every time; an empty title is refused quickly
        status, _page = _raise(client, f"{n:064x}", "", token)
        assert status == 400, n
    status, page = _raise(client, "f" * 64, "饮水机坏了", token)
    assert status == 429 and "你提交得太频繁了" in page
    assert _issues(limited_app) == 0


def test_the_english_page_says_so_in_english(limited_app: Flask) -> None:
    client = limited_app.test_client()
    token = csrf_from(client.get("/council/new?lang=en").text)
    for n in range(_limit_count(public.RAISE_LIMIT) + 1):
        status, page = _raise(client, KEY_A, f"Water dispenser {n}", token)
    assert status == 429 and "You have sent too many times" in page


def test_the_counters_hold_a_hash_never_the_key(limited_app: Flask) -> None:
    client = limited_app.test_client()
    token = csrf_from(client.get("/council/new").text)
    _raise(client, KEY_A, "饮水机坏了", token)
    client.set_cookie("sf_council_key", KEY_B)  # from the cookie, as without script
    _raise(client, "", "饮水机又坏了", token)
    keys = " ".join(limiter.storage.storage)  # type: ignore[attr-defined]
    assert "new_issue" in keys  # the counters are where we look
    assert KEY_A not in keys and KEY_B not in keys
    devices = {k.split("/")[2] for k in limiter.storage.storage if "@" in k}  # type: ignore[attr-defined]
    assert len({d for d in devices if not d.startswith("-@")}) == 2  # one per phone
