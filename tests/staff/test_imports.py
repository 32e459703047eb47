"""Importing from the staff pages: preview, then all or nothing; exports; scopes."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from staff_login import csrf_from, staff_client

import stationfinder.web.staff.imports  # noqa: F401  (registers the routes until staff/__init__ does)
from stationfinder.db import session_scope
from stationfinder.models import Station, StationRevision
from stationfinder.registry import stations as registry

HEADER = "编号,名称,类型,街道,地址,经度,纬度,设施\r\n"
NEW_ROW = "QT-XS-900,金沙湖新驿站,工会驿站,下沙街道,金沙湖路1号,120.3181,30.3051,rest;toilet\r\n"
BAD_ROW = "QT-XS-901,坏数据驿站,工会驿站,下沙街道,远方,121.9,30.3051,rest\r\n"


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """The union's admin, reading the staff pages in English (the messages these tests
    name are the English words; test_import_messages_in_chinese reads them in Chinese)."""
    client = staff_client(app, "admin", "union_admin")
    client.get("/staff/?lang=en")
    return client


@pytest.fixture
def xiasha(app: Flask) -> FlaskClient:
    client = staff_client(app, "xs", "street_staff", "下沙街道")
    client.get("/staff/?lang=en")
    return client


def _upload(
    client: FlaskClient, data: bytes, filename: str, *, retire_missing: bool = False
) -> tuple[int, str]:
    page = client.get("/staff/import")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_from(page.text),
        "file": (io.BytesIO(data), filename),
        "reason": "季度核对",
    }
    if retire_missing:
        form["retire_missing"] = "y"
    response = client.post("/staff/import", data=form, content_type="multipart/form-data")
    return response.status_code, response.text


def _confirm(client: FlaskClient, preview: str) -> tuple[int, str]:
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview)
    assert token, "the preview offers no confirm button"
    response = client.post(
        "/staff/import/confirm", data={"csrf_token": csrf_from(preview), "token": token.group(1)}
    )
    return response.status_code, response.text


def _station(app: Flask, station_id: str) -> Station | None:
    with session_scope(app) as session:
        return session.get(Station, station_id)


def _revisions(app: Flask) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(StationRevision)) or 0


def test_an_import_with_one_bad_row_applies_nothing(app: Flask, admin: FlaskClient) -> None:
    before = _revisions(app)
    status, page = _upload(admin, (HEADER + NEW_ROW + BAD_ROW).encode(), "名录.csv")
    assert status == 422
    assert 'data-testid="import-rejected"' in page
    assert "QT-XS-901" in page and "outside the district" in page
    assert "<td>3</td>" in page  # the spreadsheet row staff see in Excel
    assert 'data-testid="import-confirm"' not in page
    assert 'name="token"' not in page
    assert _station(app, "QT-XS-900") is None
    assert _revisions(app) == before


def test_a_good_import_is_previewed_field_by_field_then_applied_as_one_batch(
    app: Flask, admin: FlaskClient
) -> None:
    with session_scope(app) as session:
        old = session.get_one(Station, "QT-XS-001")
        old_name = old.name
        stations = [s for s in registry.all_stations(session) if s.street == "下沙街道"]
        stations = [s for s in stations if s.id in ("QT-XS-001", "QT-XS-002")]
        from stationfinder.registry import spreadsheets

        book = load_workbook(io.BytesIO(spreadsheets.export_xlsx(stations)))
    sheet = book.worksheets[0]
    assert sheet["A2"].value == "QT-XS-001"
    sheet["B2"] = "金沙湖驿站（新址）"
    sheet.append(
        [
            "QT-XS-900",
            "金沙湖新驿站",
            None,
            "工会驿站",
            "下沙街道",
            "金沙湖路1号",
            120.3181,
            30.3051,
            "rest;toilet",
            None,
            None,
            None,  # access, access_note, seats, step_free: not recorded
            None,
            None,
            None,
            "是",
            None,
        ]
    )
    out = io.BytesIO()
    book.save(out)

    status, page = _upload(admin, out.getvalue(), "名录.xlsx")
    assert status == 200, page
    assert 'data-testid="import-changed"' in page
    assert old_name in page and "金沙湖驿站（新址）" in page
    assert "QT-XS-900" in page
    assert _station(app, "QT-XS-900") is None  # a preview writes nothing

    status, done = _confirm(admin, page)
    assert status == 200 and 'data-testid="import-done"' in done
    changed = _station(app, "QT-XS-001")
    assert changed is not None and changed.name == "金沙湖驿站（新址）"
    assert _station(app, "QT-XS-900") is not None
    with session_scope(app) as session:
        batch = session.scalars(
            select(StationRevision.batch)
            .where(StationRevision.station_id.in_(["QT-XS-001", "QT-XS-900"]))
            .order_by(StationRevision.id.desc())
            .limit(2)
        ).all()
        assert len(set(batch)) == 1 and batch[0]
        (reason,) = set(
            session.scalars(select(StationRevision.reason).where(StationRevision.batch == batch[0]))
        )
        assert reason == "季度核对"
    # The locator serves the new station.
    near = admin.get("/api/v1/stations/nearest?lon=120.3181&lat=30.3051&k=1").get_json()
    assert near["features"][0]["id"] == "QT-XS-900"


def test_confirming_twice_or_with_a_forged_token_does_nothing_more(
    app: Flask, admin: FlaskClient
) -> None:
    status, page = _upload(admin, (HEADER + NEW_ROW).encode(), "a.csv")
    assert status == 200
    assert _confirm(admin, page)[0] == 200
    revisions = _revisions(app)
    status, again = _confirm(admin, page)  # the registry moved on: a fresh preview instead
    assert status == 409 and 'data-testid="import-stale"' in again
    assert 'data-testid="import-nothing"' in again
    forged = admin.post(
        "/staff/import/confirm", data={"csrf_token": csrf_from(page), "token": "x" + "y" * 40}
    )
    assert forged.status_code == 400 and "upload the file again" in forged.text
    assert _revisions(app) == revisions


def test_a_preview_made_by_someone_else_cannot_be_confirmed(
    app: Flask, admin: FlaskClient, xiasha: FlaskClient
) -> None:
    status, page = _upload(admin, (HEADER + NEW_ROW).encode(), "a.csv")
    assert status == 200
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page)
    assert token
    mine = xiasha.get("/staff/import")
    response = xiasha.post(
        "/staff/import/confirm", data={"csrf_token": csrf_from(mine.text), "token": token.group(1)}
    )
    assert response.status_code == 400 and "someone else" in response.text
    assert _station(app, "QT-XS-900") is None


def test_a_stale_preview_is_shown_again_not_applied(app: Flask, admin: FlaskClient) -> None:
    row = NEW_ROW.replace("QT-XS-900", "QT-XS-001").replace("金沙湖新驿站", "改过的名字")
    status, page = _upload(admin, (HEADER + row).encode(), "a.csv")
    assert status == 200
    with session_scope(app) as session:  # someone edits the registry meanwhile
        session.get_one(Station, "QT-XS-002").address = "别人刚改的地址"
        registry.bump_version(session)
    status, fresh = _confirm(admin, page)
    assert status == 409 and 'data-testid="import-stale"' in fresh
    station = _station(app, "QT-XS-001")
    assert station is not None and station.name != "改过的名字"
    status, _ = _confirm(admin, fresh)
    assert status == 200
    station = _station(app, "QT-XS-001")
    assert station is not None and station.name == "改过的名字"


def test_street_staff_import_rows_of_their_own_subdistrict_only(
    app: Flask, xiasha: FlaskClient
) -> None:
    with session_scope(app) as session:
        baiyang = session.get_one(Station, "QT-BY-001")
        lon, lat = baiyang.lon, baiyang.lat
    other = f"QT-BY-001,改名,工会驿站,白杨街道,,{lon},{lat},rest\r\n"
    moved = f"QT-XS-902,新站,工会驿站,,,{lon},{lat},rest\r\n"
    status, page = _upload(xiasha, (HEADER + NEW_ROW + other + moved).encode(), "a.csv")
    assert status == 422
    assert "belongs to 白杨街道" in page
    assert "lies in 白杨街道" in page
    assert 'name="token"' not in page
    assert _station(app, "QT-XS-900") is None


def test_street_staff_retire_missing_retires_only_their_own(
    app: Flask, xiasha: FlaskClient
) -> None:
    export = xiasha.get("/staff/export.csv")
    assert export.status_code == 200
    lines = export.data.decode("utf-8-sig").splitlines()
    assert all(",下沙街道," in line for line in lines[1:])  # their own subdistrict only
    dropped = lines[1].split(",")[0]
    kept = "\r\n".join([lines[0], *lines[2:]]) + "\r\n"
    status, page = _upload(xiasha, kept.encode("utf-8-sig"), "own.csv", retire_missing=True)
    assert status == 200, page
    assert 'data-testid="import-retired"' in page
    retired = re.findall(r"<li>(QT-[A-Z]{2}-\d+)", page.split('data-testid="import-retired"')[1])
    assert retired == [dropped]
    assert _confirm(xiasha, page)[0] == 200
    station = _station(app, dropped)
    assert station is not None and not station.active
    with session_scope(app) as session:
        assert all(
            s.active
            for s in registry.all_stations(session)
            if s.street != "下沙街道" and s.id.startswith("QT-BY")
        )


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        ((HEADER + NEW_ROW).encode("gbk"), "gbk.csv", "CSV UTF-8"),
        (b"PK\x03\x04 not a workbook", "a.xlsx", "not an Excel workbook"),
        (b"old", "a.xls", ".xls files cannot be read"),
    ],
)
def test_files_that_cannot_be_read_are_refused_with_a_message(
    admin: FlaskClient, data: bytes, filename: str, message: str
) -> None:
    status, page = _upload(admin, data, filename)
    assert status == 400
    assert 'data-testid="import-problem"' in page and message in page


def test_a_formula_is_refused_naming_the_cell(admin: FlaskClient) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "名称", "经度"])
    sheet.append(["QT-XS-900", "a", "=SUM(1,2)"])
    out = io.BytesIO()
    book.save(out)
    status, page = _upload(admin, out.getvalue(), "f.xlsx")
    assert status == 400 and "cell C2 holds a formula" in page


def test_a_50_mb_upload_is_refused(app: Flask, admin: FlaskClient) -> None:
    page = admin.get("/staff/import")
    boundary = "sf-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf_from(page.text)}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"0" * (50 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    # A stream of our own: the test client would spool a file this big to a temporary file.
    response = admin.post(
        "/staff/import",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Content-Length": str(len(body))},
    )
    assert response.status_code == 413
    assert _station(app, "QT-XS-900") is None


def test_what_staff_typed_is_escaped_in_the_preview(admin: FlaskClient) -> None:
    hostile = NEW_ROW.replace("金沙湖新驿站", "<script>alert(1)</script>").replace(
        "金沙湖路1号", "<img src=x onerror=alert(2)>"
    )
    status, page = _upload(admin, (HEADER + hostile).encode(), "<b>x</b>.csv")
    assert status == 200
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page
    assert "<b>x</b>" not in page


def test_exports_in_every_format(app: Flask, admin: FlaskClient) -> None:
    geojson = admin.get("/staff/export.geojson")
    assert geojson.status_code == 200
    assert geojson.mimetype == "application/geo+json"
    assert len(json.loads(geojson.data)["features"]) == 158
    csv_response = admin.get("/staff/export.csv?headers=en")
    assert csv_response.data.startswith("\ufeffid,name,".encode())
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert csv_response.headers["Cache-Control"] == "no-store"
    xlsx = admin.get("/staff/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert sheet["A1"].value == "编号" and sheet.max_row == 159
    assert admin.get("/staff/export.pdf").status_code == 404


def test_strangers_and_the_council_secretary_cannot_import(app: Flask, client: FlaskClient) -> None:
    assert client.get("/staff/import").status_code == 302
    assert client.get("/staff/export.csv").status_code == 302
    secretary = staff_client(app, "sec", "council_secretary")
    assert secretary.get("/staff/import").status_code == 403


def test_import_messages_in_chinese(app: Flask) -> None:
    """On the Chinese page a refused file and a refused row are said in Chinese."""
    admin = staff_client(app, "zh-admin", "union_admin")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "名称", "经度"])
    sheet.append(["QT-XS-900", "a", "=SUM(1,2)"])
    out = io.BytesIO()
    book.save(out)
    status, page = _upload(admin, out.getvalue(), "f.xlsx")
    assert status == 400 and "单元格 C2 是公式" in page and "formula" not in page
    status, page = _upload(admin, (HEADER + BAD_ROW).encode(), "bad.csv")
    assert status == 422 and "QT-XS-901" in page
    assert "不在本区范围内" in page  # "point (…) lies outside the district", in Chinese
    assert "feature" not in page and "outside" not in page


def test_every_problem_of_every_row_is_reported_in_one_preview(
    app: Flask, admin: FlaskClient
) -> None:
    """Staff fix a file once: a row with four mistakes shows all four, an unknown amenity
    code (water, for drinking_water) included, beside the other rows' problems."""
    header = "编号,名称,类型,街道,地址,经度,纬度,设施,电话\r\n"
    many = "QT-XS-902,四错驿站,驿站,下沙街道,金沙湖路2号,120.3181,30.3051,rest;water,电话\r\n"
    only_water = "QT-XS-903,饮水驿站,工会驿站,下沙街道,金沙湖路3号,120.3181,30.3051,water\r\n"
    far = "QT-XS-904,远方驿站,工会驿站,白杨街道,远方,121.9,30.3051,hot_tea,\r\n"
    data = (header + many + only_water + far).encode()
    status, page = _upload(admin, data, "名录.csv")
    assert status == 422
    rejected = re.search(r'data-testid="import-rejected".*?</table>', page, flags=re.S)
    assert rejected
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rejected.group(0)))
    rows = re.findall(r"<tr>(.*?)</tr>", rejected.group(0), flags=re.S)
    by_line: dict[str, list[str]] = {}
    for row in rows:
        cells = [
            html.unescape(re.sub(r"<[^>]+>|\s+", " ", c)).strip()
            for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        if cells:
            by_line.setdefault(cells[0], []).append(" ".join(cells[1:]))
    assert len(by_line["2"]) == 3, shown  # kind, amenity, phone
    assert "unknown kind" in " ".join(by_line["2"])
    assert "'water'" in " ".join(by_line["2"]) and "'电话'" in " ".join(by_line["2"])
    assert len(by_line["3"]) == 1 and "'water'" in by_line["3"][0]
    assert len(by_line["4"]) == 2, shown  # outside the district, and hot_tea
    assert "outside the district" in " ".join(by_line["4"])
    assert "'hot_tea'" in " ".join(by_line["4"])
    assert "3 rows were rejected" in shown  # rows, not problems
    assert 'name="token"' not in page
