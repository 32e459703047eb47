"""Open311 GeoReport v2 as a stock client (and an attacker) sees it: every error in the
spec's shape in JSON and XML, HEAD and OPTIONS that tell the truth, optional long
descriptions, address_id as a station, a service_request_id list that overrides the
filters, XML that always parses, and absolute links that ignore a forged Host."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shipped_areas import SHIPPED
from sqlalchemy import select, update
from staff_login import csrf_from

from stationfinder.config import ConfigError, load_settings
from stationfinder.council import meetings as council_meetings
from stationfinder.db import session_scope
from stationfinder.models import CouncilIssue, IssueBacking, Station
from stationfinder.web.open311 import documents

BASE = "/open311/v2/"
HERE = {"lat": "30.31", "long": "120.35"}  # in Baiyang, inside the district
GETS = (
    "discovery",
    "services",
    "services/storage_points",
    "requests",
    "requests/{number}",
)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(RATE_LIMITS=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post(client: FlaskClient, fmt: str = "json", **form: str) -> Any:
    return client.post(f"{BASE}requests.{fmt}", data={"service_code": "safety", **form})


def raise_one(client: FlaskClient, **form: str) -> str:
    response = post(client, **{**HERE, "description": "路口没有红绿灯，电动车很危险", **form})
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()[0]["service_request_id"])


def get_one(client: FlaskClient, number: str) -> dict[str, Any]:
    response = client.get(f"{BASE}requests/{number}.json")
    assert response.status_code == 200
    return dict(response.get_json()[0])


def xml_errors(body: bytes) -> list[tuple[int, str]]:
    """(code, description) of each <error>; fails unless the body is the spec's document."""
    root = ElementTree.fromstring(body)
    assert root.tag == "errors"
    errors = [(int(e.findtext("code") or 0), e.findtext("description") or "") for e in root]
    assert errors and all(e.tag == "error" for e in root)
    return errors


def assert_json_error(response: Any, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data())
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status and body[0]["description"]
    return str(body[0]["description"])


def assert_xml_error(response: Any, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/xml"
    [(code, description)] = xml_errors(response.get_data())
    assert code == status and description
    return description


# --- errors: the spec's shape for every status, in the format the path asked for ---------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_refusal_is_the_spec_error_document(client: FlaskClient, fmt: str) -> None:
    check = assert_json_error if fmt == "json" else assert_xml_error
    # 400 from the view, and from the text boundary (a control character in the query)
    assert "service_code" in check(post(client, fmt, **HERE, service_code="nope"), 400)
    check(client.get(f"{BASE}requests.{fmt}?service_code=a%00b"), 400)
    check(client.get(f"{BASE}requests.{fmt}?start_date=0001-01-01T00:00:00"), 400)
    # 404 from the view and from routing (no route at all under the prefix)
    check(client.get(f"{BASE}requests/YS-20260101-9999.{fmt}"), 404)
    check(client.get(f"{BASE}services/nope.{fmt}"), 404)
    check(client.get(f"{BASE}nothing.{fmt}"), 404)
    check(client.get(f"{BASE}requests/a/b/c.{fmt}"), 404)
    # 405 from routing, with the methods the path does take
    for method in ("PUT", "DELETE", "PATCH", "TRACE", "FROB"):
        refused = client.open(f"{BASE}services.{fmt}", method=method)
        check(refused, 405)
        assert set(refused.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    refused = client.post(f"{BASE}discovery.{fmt}", data={"a": "b"})
    check(refused, 405)
    check(client.put(f"{BASE}requests.{fmt}"), 405)


def test_an_unknown_format_is_a_404_in_json(client: FlaskClient) -> None:
    assert "json or xml" in assert_json_error(client.get(f"{BASE}services.txt"), 404)


def test_a_wrong_api_key_is_a_403_in_both_formats(make_app: Callable[..., Flask]) -> None:
    client = make_app(RATE_LIMITS=False, OPEN311_API_KEY="secret-key").test_client()
    assert_json_error(post(client, "json", **HERE, description="x"), 403)
    assert_xml_error(post(client, "xml", **HERE, description="x", api_key="wrong"), 403)
    assert post(client, "xml", **HERE, description="x", api_key="secret-key").status_code == 201


def test_the_post_limit_is_a_429_whatever_device_id_is_sent(
    make_app: Callable[..., Flask],
) -> None:
    """Rotating device ids opens no fresh counters: the limit is per address, and the
    11th request in an hour is refused in the spec's shape."""
    client = make_app(RATE_LIMITS=True).test_client()
    for i in range(10):
        response = post(client, **HERE, description=f"第{i}个", device_id=f"{i:02d}" * 20)
        assert response.status_code == 201
    assert_json_error(post(client, **HERE, description="x", device_id="ff" * 20), 429)
    assert_xml_error(post(client, "xml", **HERE, description="x"), 429)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_crash_is_a_500_in_the_spec_shape(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    def explode() -> list[dict[str, Any]]:
        raise RuntimeError("boom")

    monkeypatch.setattr(documents, "services", explode)
    check = assert_json_error if fmt == "json" else assert_xml_error
    description = check(client.get(f"{BASE}services.{fmt}"), 500)
    assert "boom" not in description


# --- HEAD, OPTIONS, CORS ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_head_answers_wherever_get_does(client: FlaskClient, fmt: str) -> None:
    number = raise_one(client)
    for path in GETS:
        url = f"{BASE}{path.format(number=number)}.{fmt}"
        got, head = client.get(url), client.head(url)
        assert got.status_code == head.status_code == 200, url
        assert head.mimetype == got.mimetype and head.get_data() == b""
        assert head.headers["Access-Control-Allow-Origin"] == "*"
    missing = client.head(f"{BASE}requests/YS-20260101-9999.{fmt}")
    assert missing.status_code == 404 and missing.get_data() == b""


def test_options_names_exactly_the_methods_a_path_takes(client: FlaskClient) -> None:
    number = raise_one(client)
    for path in GETS:
        url = f"{BASE}{path.format(number=number)}.json"
        answer = client.options(url)
        expected = {"GET", "HEAD", "OPTIONS"} | ({"POST"} if path == "requests" else set())
        assert answer.status_code == 200
        assert set(answer.headers["Allow"].split(", ")) == expected, url
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        # what OPTIONS names works; what it does not is a 405
        for method in expected - {"OPTIONS"}:
            status = client.open(url, method=method, data={}).status_code
            assert status != 405, (method, url)
        assert client.delete(url).status_code == 405


def test_any_page_may_read_answers_and_errors(client: FlaskClient) -> None:
    assert client.get(f"{BASE}services.json").headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"{BASE}nothing.xml").headers["Access-Control-Allow-Origin"] == "*"
    assert client.put(f"{BASE}services.json").headers["Access-Control-Allow-Origin"] == "*"


# --- posting --------------------------------------------------------------------------


def test_description_is_optional_and_may_be_4000_characters(
    app: Flask, client: FlaskClient
) -> None:
    bare = raise_one(client, description="")
    assert get_one(client, bare)["description"] is None
    long_text = "快递柜" * 1333 + "满"  # 4,000 characters
    long = raise_one(client, description=long_text)
    assert get_one(client, long)["description"] == long_text
    refused = post(client, **HERE, description=long_text + "了")
    assert "4000" in assert_json_error(refused, 400)
    with session_scope(app) as session:
        titles = dict(session.execute(select(CouncilIssue.id, CouncilIssue.title)).all())
    assert sorted(titles.values()) == sorted(["安全", long_text[:30]])  # a title each


def test_the_courier_form_keeps_its_2000_character_limit(app: Flask, client: FlaskClient) -> None:
    page = client.get("/council/new")
    form = {
        "csrf_token": csrf_from(page.text),
        "title": "派件压力大",
        "category": "workload",
        "description": "长" * 2001,
        "lon": "120.35",
        "lat": "30.31",
        "confirmed": "1",
    }
    assert client.post("/council/new", data=form).status_code == 400
    assert client.post("/council/new", data={**form, "description": ""}).status_code == 400
    with session_scope(app) as session:
        assert session.scalars(select(CouncilIssue)).all() == []


def test_the_description_does_not_repeat_the_title(app: Flask, client: FlaskClient) -> None:
    text = "小区快递柜太小，放不下，每天要跑三趟"
    number = raise_one(client, description=text)
    assert get_one(client, number)["description"] == text
    page = client.get("/council/new")
    form = {
        "csrf_token": csrf_from(page.text),
        "title": "快递柜太小",
        "category": "storage_points",
        "description": "放不下，每天要跑三趟",
        "lon": "120.35",
        "lat": "30.31",
        "confirmed": "1",
    }
    assert client.post("/council/new", data=form).status_code in (302, 303)
    listed = client.get(f"{BASE}requests.json?service_code=storage_points").get_json()
    assert [r["description"] for r in listed] == ["快递柜太小\n放不下，每天要跑三趟"]


def test_address_id_is_a_station(app: Flask, client: FlaskClient) -> None:
    with session_scope(app) as session:
        station = session.scalars(select(Station).where(Station.active).limit(1)).one()
        station_id, name, lon, lat = station.id, station.name, station.lon, station.lat
    number = raise_one(client, lat="", long="", address_id=station_id)
    request = get_one(client, number)
    assert request["address_id"] == station_id and request["address"] == name
    assert (request["long"], request["lat"]) == (round(lon, 6), round(lat, 6))
    for bad in ("QT-XX-999", "x" * 200):
        refused = post(client, address_id=bad, description="x")
        assert "address_id" in assert_json_error(refused, 400)
    nowhere = post(client, description="x")
    assert "address_id" in assert_json_error(nowhere, 400)  # the message names all three


def test_an_open311_request_weighs_what_a_courier_raising_on_the_form_weighs(
    app: Flask, client: FlaskClient
) -> None:
    """One issue, backed once by its raiser, whatever the client sends; GeoReport has no
    door for backing or flagging (those keep the council pages' participation rules)."""
    number = raise_one(client, device_id="ab" * 32)
    again = raise_one(client, device_id="ab" * 32)
    assert number != again
    with session_scope(app) as session:
        counts = session.scalars(select(CouncilIssue.backing_count)).all()
        backings = session.scalars(select(IssueBacking)).all()
    assert counts == [1, 1] and len(backings) == 2
    for path in (f"requests/{number}/back.json", f"requests/{number}/flag.json"):
        assert_json_error(client.post(BASE + path, data={"device_id": "cd" * 32}), 404)
    assert client.get(f"/council/issues/{number}").status_code == 200  # still visible


# --- reading --------------------------------------------------------------------------


def test_a_service_request_id_list_overrides_the_other_filters(
    app: Flask, client: FlaskClient
) -> None:
    first, second, hidden = raise_one(client), raise_one(client), raise_one(client)
    with session_scope(app) as session:
        session.execute(
            update(CouncilIssue)
            .where(CouncilIssue.id == int(hidden.rsplit("-", 1)[1]))
            .values(hidden=True)
        )
    query = (
        f"service_request_id={second},{first},{hidden},YS-20260101-9999,nonsense"
        "&service_code=workload&status=closed&start_date=2001-01-01T00:00:00Z"
        "&end_date=2001-01-02T00:00:00Z"
    )
    listed = client.get(f"{BASE}requests.json?{query}").get_json()
    assert [r["service_request_id"] for r in listed] == [second, first]  # never the hidden
    # without the list the filters apply
    assert client.get(f"{BASE}requests.json?service_code=workload").get_json() == []
    assert client.get(f"{BASE}requests.json?status=open,closed").status_code == 200


HOSTILE = "危险\ufffe路口\uffff，电话 １３８ １２３４ ５６７８ <b>&amp;</b> ]]> \U0001f6f5"


def test_xml_always_parses_whatever_was_typed(app: Flask, client: FlaskClient) -> None:
    number = raise_one(client, description=HOSTILE, address_string="<路口>&\ufffe")
    # A row stored before the text boundary existed, with what XML 1.0 cannot carry.
    with session_scope(app) as session:
        session.execute(
            update(CouncilIssue)
            .where(CouncilIssue.id == int(number.rsplit("-", 1)[1]))
            .values(
                place_label="旧\x01数据\x0b\x1f",
                description=CouncilIssue.description + "\x02\x1b末",
            )
        )
    for url in (f"{BASE}requests/{number}.xml", f"{BASE}requests.xml"):
        response = client.get(url)
        assert response.status_code == 200
        root = ElementTree.fromstring(response.get_data())
        [request] = root.findall("request")
        description = request.findtext("description") or ""
        assert "<b>&amp;</b> ]]>" in description and "\U0001f6f5" in description
        assert "\ufffe" not in description and "\uffff" not in description
        assert description.endswith("\U0001f6f5末")  # the legacy controls are gone
        assert request.findtext("address") == "旧数据"
    assert "危险" in (get_one(client, number)["description"] or "")


def test_to_xml_drops_lone_surrogates_and_controls() -> None:
    body = documents.to_xml("errors", documents.error(400, "a\ud800b\x00c\x7fd\u0085e"))
    [(code, description)] = xml_errors(body)
    assert code == 400 and description.startswith("abc")


# --- absolute links and the Host header -------------------------------------------------


def test_discovery_does_not_reflect_a_forged_host(make_app: Callable[..., Flask]) -> None:
    configured = make_app(RATE_LIMITS=False, PUBLIC_BASE_URL="https://xiaoge.example.cn")
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    answer = configured.test_client().get(f"{BASE}discovery.json", headers=forged)
    assert answer.get_json()["endpoints"][0]["url"] == "https://xiaoge.example.cn/open311/v2/"
    xml = configured.test_client().get(f"{BASE}discovery.xml", headers=forged).get_data()
    assert b"evil" not in xml and b"https://xiaoge.example.cn/open311/v2/" in xml
    mounted = make_app(RATE_LIMITS=False, PUBLIC_BASE_URL="https://example.cn/xiaoge/")
    url = mounted.test_client().get(f"{BASE}discovery.json", headers=forged).get_json()
    assert url["endpoints"][0]["url"] == "https://example.cn/xiaoge/open311/v2/"


def test_a_meeting_calendar_links_to_the_public_address(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATE_LIMITS=False, PUBLIC_BASE_URL="https://xiaoge.example.cn")
    with session_scope(app) as session:
        meeting = council_meetings.create_meeting(
            session,
            title="白杨街道议事会",
            starts_at=datetime(2026, 12, 10, 6, 0, tzinfo=UTC),
            place="白杨小哥之家",
            street="白杨街道",
            actor="mishu",
            areas=SHIPPED,
        )
        meeting_id = meeting.id
    ics = app.test_client().get(
        f"/council/meetings/{meeting_id}.ics", headers={"Host": "evil.example"}
    )
    assert ics.status_code == 200
    text = ics.get_data(as_text=True).replace("\r\n ", "")  # unfold long lines
    assert f"https://xiaoge.example.cn/council/meetings/{meeting_id}" in text
    assert "evil" not in text


@pytest.mark.parametrize(
    "value",
    [
        "xiaoge.example.cn",
        "ftp://xiaoge.example.cn",
        "https://",
        "https://a.cn/?x=1",
        "https://user@a.cn",
        "https://a.cn/#top",
    ],
)
def test_a_bad_public_base_url_stops_the_start(value: str) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_settings({"STATIONFINDER_PUBLIC_BASE_URL": value})


def test_the_public_base_url_is_kept_without_its_trailing_slash() -> None:
    settings = load_settings({"STATIONFINDER_PUBLIC_BASE_URL": " https://a.cn/sf/ "})
    assert settings["PUBLIC_BASE_URL"] == "https://a.cn/sf"
    assert load_settings({})["PUBLIC_BASE_URL"] is None


def test_a_photo_link_starts_with_the_public_address(make_app: Callable[..., Flask]) -> None:
    from io import BytesIO

    from PIL import Image

    from stationfinder.registry import photos

    app = make_app(RATE_LIMITS=False, PUBLIC_BASE_URL="https://xiaoge.example.cn")
    client = app.test_client()
    number = raise_one(client)
    picture = BytesIO()
    Image.new("RGB", (8, 8), "red").save(picture, "PNG")
    with session_scope(app) as session:
        photo_id = photos.store_photo(session, picture.getvalue()).id
        session.execute(
            update(CouncilIssue)
            .where(CouncilIssue.id == int(number.rsplit("-", 1)[1]))
            .values(photo_id=photo_id)
        )
    answer = client.get(f"{BASE}requests/{number}.json", headers={"Host": "evil.example"})
    media = answer.get_json()[0]["media_url"]
    assert media == f"https://xiaoge.example.cn/council/issues/{number}/photo"
    assert client.get(media.removeprefix("https://xiaoge.example.cn")).status_code == 200
