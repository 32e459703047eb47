"""A crawler over every public and staff page, in Chinese and in English.

It follows the links the pages themselves offer (a union admin is logged in, so every
staff page is reachable), and reads what a person reads: text nodes and the attributes
that are shown or read out (placeholder, title, alt, aria-label). What people typed
(input values, textareas), file-format identifiers shown as `<code>` (the English CSV
headers are the field names) and the language switch (marked with its own `lang`) are not
the page's words.

- In zh-CN no English word may show (beyond a short list of names and notations: GPS,
  OpenStreetMap, WGS-84, CSV, opening-hours syntax...), and no raw code (`street_office`,
  `drinking_water`: snake_case words).
- In English no Chinese may show outside proper names and data: the stations' names and
  addresses, the subdistricts' names (many stations have no English name), and what
  people typed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shipped_areas import SHIPPED
from staff_login import csrf_from, staff_client

from stationfinder.db import session_scope
from stationfinder.models import Station

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# An English word; not part of a code, an id, a path (/api/v1/stations, POST/PATCH) or a
# file name (stations.geojson).
WORD = r"(?<![\w/-])(?<!\w\.)[A-Za-z][A-Za-z'’]*[A-Za-z](?![\w/-])(?!\.\w)"
RAW_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
# Names and notations that are the same in both languages.
NOTATIONS = {
    "API",
    "CSV",
    "Excel",
    "GeoJSON",
    "GPS",
    "JPEG",
    "PNG",
    "WebP",
    "UTF",
    "WGS",
    "GCJ",
    "OpenStreetMap",
    "Leaflet",
    "km",
    "MB",
    "xlsx",
    "csv",
    "geojson",
    "ics",
    "Open311",
    "PH",
    "off",
    "Mo",
    "Tu",
    "We",
    "Th",
    "Fr",
    "Sa",
    "Su",
    "Bearer",
    "Authorization",
    "QT",
    "Ctrl",
}
SKIP_PREFIXES = ("/api/", "/static/", "/assets/", "/photos/", "/open311/", "/sw.js")
SKIP_SUFFIXES = (".csv", ".xlsx", ".geojson", ".ics", ".js", ".css", ".webmanifest", "/photo")
LIMIT = 400
PER_SHAPE = 3
# What the fixture's people type (data, shown as typed in either language).
TYPED = ("饮水机坏了", "一个星期没有水了。", "十二月议事会", "白杨街道党群服务中心", "区总工会")


def shown_text(page: str) -> str:
    """The words a person reads on `page`, one chunk per line."""
    page = re.sub(r"<(script|style|textarea|code)\b.*?</\1>", "\n", page, flags=re.S | re.I)
    page = re.sub(r"<(?!html\b)(\w+)[^>]*\blang=\"[^\"]*\"[^>]*>.*?</\1>", "\n", page, flags=re.S)
    said = re.findall(r'\b(?:placeholder|aria-label|alt|title)="([^"]*)"', page)
    page = re.sub(r"<[^>]+>", "\n", page)
    return html.unescape("\n".join([page, *said]))


def english_words(text: str) -> list[str]:
    return [w for w in re.findall(WORD, text) if w not in NOTATIONS]


def raw_codes(text: str) -> list[str]:
    return RAW_CODE.findall(text)


def without(text: str, data: set[str]) -> str:
    """`text` without the proper names and typed data in `data` (longest first)."""
    for item in sorted(data, key=len, reverse=True):
        text = text.replace(item, " ")
    return text


def chinese_outside(text: str, names: set[str]) -> list[str]:
    return CJK.findall(without(text, names))


def _links(page: str, base: str) -> Iterator[str]:
    for href in re.findall(r'<a\b[^>]*\bhref="([^"#]+)', page):
        url = urljoin(base, html.unescape(href))
        parts = urlsplit(url)
        if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost"):
            continue
        path = parts.path
        if path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
            continue
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("lang="))
        yield path + (f"?{query}" if query else "")


def _shape(url: str) -> str:
    """Pages that differ only by a station id or a number are one kind of page."""
    return re.sub(r"\d+", "N", re.sub(r"QT-[A-Z]{2}-\d{3}", "ID", url.split("?")[0]))


def crawl(client: FlaskClient, start: list[str]) -> dict[str, str]:
    """Every kind of page reachable from `start` by links (at most PER_SHAPE of each:
    the station pages are alike), path -> HTML."""
    seen: dict[str, str] = {}
    shapes: dict[str, int] = {}
    todo = list(start)
    while todo and len(seen) < LIMIT:
        url = todo.pop(0)
        if url in seen or (url not in start and shapes.get(_shape(url), 0) >= PER_SHAPE):
            continue
        shapes[_shape(url)] = shapes.get(_shape(url), 0) + 1
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        seen[url] = response.get_data(as_text=True)
        todo.extend(link for link in _links(seen[url], url) if link not in seen)
    return seen


@pytest.fixture
def site(make_app: Callable[..., Flask]) -> tuple[Flask, FlaskClient]:
    """The demo registry plus one of everything: a council issue with a story, a
    meeting, a courier's report; a union admin logged in."""
    app = make_app(RATE_LIMITS=False)
    courier = app.test_client()
    token = csrf_from(courier.get("/council/new").get_data(as_text=True))
    raised = courier.post(
        "/council/new",
        data={
            "csrf_token": token,
            "device_key": "a7" * 32,
            "title": TYPED[0],
            "category": "rest_facilities",
            "description": TYPED[1],
            "lon": "120.35",
            "lat": "30.31",
            "confirmed": "1",
        },
    )
    assert raised.status_code == 302, raised.get_data(as_text=True)
    token = csrf_from(courier.get("/stations/QT-XS-001/report").get_data(as_text=True))
    reported = courier.post(
        "/stations/QT-XS-001/report",
        data={"csrf_token": token, "category": "amenity_broken", "amenity": "drinking_water"},
    )
    assert reported.status_code == 200, reported.get_data(as_text=True)
    admin = staff_client(app, "admin", "union_admin")
    issue = admin.get("/staff/council").get_data(as_text=True)
    number = re.search(r"/staff/council/issues/(\d+)", issue)
    assert number
    token = csrf_from(issue)
    admin.post(
        f"/staff/council/issues/{number.group(1)}/assign",
        data={"csrf_token": token, "responsible": "street_office"},
    )
    admin.post(
        "/staff/council/meetings",
        data={
            "csrf_token": token,
            "title": TYPED[2],
            "starts_at": "2026-12-20T14:00",
            "duration_minutes": "60",
            "street": SHIPPED.listed()[0].key,
            "place": TYPED[3],
            "organisations": TYPED[4],
        },
    )
    return app, admin


START = [
    "/",
    "/map",
    "/nearest?place=金沙湖",
    "/stations/QT-XS-001",
    "/council",
    "/council/new",
    "/council/mine",
    "/staff/",
    "/staff/council",
    "/staff/council/meetings",
    "/staff/council/stats",
    "/staff/stations",
    "/staff/changes",
    "/staff/reports",
    "/staff/import",
    "/staff/coverage",
    "/staff/tokens",
    "/staff/accounts",
    "/staff/stations/new",
    "/staff/stations/QT-XS-001/edit",
    "/staff/stations/QT-XS-001/history",
]


def _data(app: Flask) -> set[str]:
    """Proper names and typed data: the stations' names (both), addresses, ids and notes
    on getting in, the subdistricts' names (both), the staff account's name, TYPED."""
    with session_scope(app) as session:
        stations = session.query(Station).all()
        rows = [
            (s.id, s.name, s.name_en, s.address, getattr(s, "access_note", None)) for s in stations
        ]
    data = {s.name for s in SHIPPED.listed()} | {s.name_en for s in SHIPPED.listed()}
    data |= set(TYPED) | {"admin"}
    data |= {s.name.removesuffix("街道") for s in SHIPPED.listed()}
    for row in rows:
        data.update(value for value in row if value)
    return data


def test_every_page_in_chinese_has_no_english_word_and_no_raw_code(
    site: tuple[Flask, FlaskClient],
) -> None:
    app, admin = site
    admin.get("/?lang=zh")
    pages = crawl(admin, START)
    assert len(pages) > 25, sorted(pages)
    data = _data(app)
    leaks = {}
    for url, page in pages.items():
        text = shown_text(page)
        found = english_words(without(text, data)) + raw_codes(text)
        if found:
            leaks[url] = sorted(set(found))
    assert not leaks, "\n".join(f"{url}: {words}" for url, words in leaks.items())


def test_every_page_in_english_has_no_chinese_outside_proper_names(
    site: tuple[Flask, FlaskClient],
) -> None:
    app, admin = site
    admin.get("/?lang=en")
    pages = crawl(admin, START)
    assert len(pages) > 25, sorted(pages)
    data = _data(app)
    leaks = {}
    for url, page in pages.items():
        text = shown_text(page)
        found = chinese_outside(text, data) + raw_codes(text)
        if found:
            leaks[url] = sorted(set(found))
    assert not leaks, "\n".join(f"{url}: {words}" for url, words in leaks.items())


def test_the_detectors_see_what_they_are_meant_to() -> None:
    """The crawler's eyes, on the leaks issue 11 found."""
    assert english_words(shown_text("<p>请选择 choose which facility is broken</p>"))
    assert english_words(shown_text("<p>6 per 1 hour</p>")) == ["per", "hour"]
    assert english_words(shown_text('<input placeholder="name, id or address">'))
    assert raw_codes(shown_text("<td>street_office</td><td>drinking_water</td>"))
    assert not english_words(shown_text("<p>坐标为 WGS-84（GPS、OpenStreetMap）</p>"))
    assert not english_words(shown_text('<input value="typed by someone">'))
    assert not chinese_outside(shown_text('<a lang="zh-CN" href="?lang=zh">中文</a>'), set())
    assert chinese_outside(shown_text("<p>已保存</p>"), set()) == ["已保存"]
    assert chinese_outside(shown_text("<p>下沙街道</p>"), {"下沙街道"}) == []


# --- the leaks issue 11 named, pinned in Chinese ----------------------------------------


def _report_form(client: FlaskClient, **data: str) -> str:
    token = csrf_from(client.get("/stations/QT-XS-001/report").get_data(as_text=True))
    return client.post("/stations/QT-XS-001/report", data={"csrf_token": token, **data}).get_data(
        as_text=True
    )


def test_the_report_form_says_which_facility_in_chinese(app: Flask) -> None:
    page = _report_form(app.test_client(), category="amenity_broken")
    assert "请选择哪个设施坏了。" in page
    assert "facility" not in page and "choose" not in page


def test_the_429_page_is_in_chinese_not_flask_limiters_words(app: Flask) -> None:
    client = app.test_client()
    token = csrf_from(client.get("/stations/QT-XS-001/report").get_data(as_text=True))
    answers = [
        client.post(
            "/stations/QT-XS-001/report",
            data={"csrf_token": token, "category": "gone", "message": f"第{n}次"},
        )
        for n in range(8)
    ]
    statuses = [a.status_code for a in answers]
    assert 200 in statuses and 429 in statuses, statuses
    text = answers[statuses.index(429)].get_data(as_text=True)
    assert "操作太频繁了，请过一会儿再试。" in text
    assert "per" not in shown_text(text) and "hour" not in shown_text(text)


def test_the_403_page_is_in_chinese(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATE_LIMITS=False)
    secretary = staff_client(app, "mishu", "council_secretary")
    refused = secretary.get("/staff/import")
    assert refused.status_code == 403
    assert "只有街道工作人员和工会管理员可以导入站点。" in refused.get_data(as_text=True)
    street = staff_client(app, "jiedao", "street_staff", SHIPPED.listed()[0].key)
    refused = street.get("/staff/accounts")
    assert refused.status_code == 403
    text = shown_text(refused.get_data(as_text=True))
    assert "你没有权限打开这个页面" in text
    assert not english_words(text), english_words(text)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [("get", "/no-such-page", 404), ("post", "/map", 405), ("get", "/stations/QT-XX-999", 404)],
)
def test_error_pages_speak_the_pages_language(
    app: Flask, method: str, url: str, status: int
) -> None:
    client = app.test_client()
    chinese = getattr(client, method)(url)
    assert chinese.status_code == status
    text = shown_text(chinese.get_data(as_text=True))
    assert CJK.search(text) and not english_words(without(text, {"QT-XX-999"})), text
    client.get("/?lang=en")
    english = getattr(client, method)(url)
    assert english.status_code == status
    assert not CJK.search(shown_text(english.get_data(as_text=True)))
