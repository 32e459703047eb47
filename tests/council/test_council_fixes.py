"""Council defects a courier tripped over (issue 13), each held by a test: how far a
similar issue is, and what counts as nearby."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from staff_login import csrf_from

KEY_A = "a7" * 32
KEY_B = "b8" * 32
BAIYANG = ("120.35", "30.31")
XINWAN = ("120.50", "30.28")  # about 14.8 km east of BAIYANG, still in Qiantang
ONE_AND_A_HALF_KM_AWAY = ("120.3655", "30.31")


def post_issue(client: FlaskClient, key: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/council/new").text)
    data = {
        "csrf_token": token,
        "device_key": key,
        "title": "双节期间派件压力大",
        "category": "workload",
        "description": "国庆中秋快递量翻倍，每天派到晚上十点。",
        "lon": BAIYANG[0],
        "lat": BAIYANG[1],
        "confirmed": "1",
        **fields,
    }
    return client.post("/council/new", data=data)


def similar_shown(page: str) -> str:
    match = re.search(r'data-testid="similar">(.*?)</section>', page, flags=re.S)
    assert match, "no similar issues offered"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def test_a_similar_issue_at_the_same_spot_reads_right_nearby_never_about_0_m(
    council_app: Flask, courier: FlaskClient
) -> None:
    assert post_issue(courier, KEY_A).status_code == 302
    other = council_app.test_client()
    zh = similar_shown(post_issue(other, KEY_B, confirmed="").text)
    assert "0 米" not in zh and "0 m" not in zh
    other.get("/council?lang=en")
    en = similar_shown(post_issue(other, KEY_B, confirmed="").text)
    assert "right nearby" in en


def test_a_far_similar_issue_shows_kilometres_not_12500_metres(
    council_app: Flask, courier: FlaskClient
) -> None:
    assert post_issue(courier, KEY_A, lon=XINWAN[0], lat=XINWAN[1]).status_code == 302
    other = council_app.test_client()
    other.get("/council?lang=en")
    shown = similar_shown(post_issue(other, KEY_B, confirmed="").text)
    assert re.search(r"about 1[45]\.\d km", shown), shown
    assert not re.search(r"\d{4,} m", shown)


def test_same_category_one_and_a_half_km_away_is_not_nearby(
    council_app: Flask, courier: FlaskClient
) -> None:
    """Unrelated words, same category, 1.5 km off: not the same problem."""
    far = post_issue(
        courier,
        KEY_A,
        title="电动车充电排队",
        description="充电桩太少",
        lon=ONE_AND_A_HALF_KM_AWAY[0],
        lat=ONE_AND_A_HALF_KM_AWAY[1],
    )
    assert far.status_code == 302
    other = council_app.test_client()
    page = post_issue(other, KEY_B, confirmed="", title="午饭没地方吃", description="食堂关了")
    assert page.status_code == 302, "a 1.5 km-away issue was offered as nearby"
