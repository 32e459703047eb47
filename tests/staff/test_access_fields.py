"""How a courier gets in, as staff record it: a CSV with the Chinese headers imports the
way in, its note, seats and the step at the door, and the API answers them; the staff
form keeps 0 seats and "no step-free" as answers, not blanks."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from staff_login import api_token, csrf_from, staff_client

import stationfinder.web.staff.imports  # noqa: F401  (registers the routes until staff/__init__ does)
from stationfinder.db import session_scope
from stationfinder.models import Station
from stationfinder.registry import spreadsheets
from stationfinder.registry import stations as registry

HEADER = "编号,名称,类型,街道,地址,经度,纬度,电话,进入方式,进入说明,座位数,无台阶\r\n"
ROWS = (
    "QT-XS-900,金沙湖工会驿站,工会驿站,下沙街道,金沙湖路1号,120.3181,30.3051,"
    "0571-86910001,按铃,门卫处登记,12,是\r\n"
    "QT-XS-901,金沙湖爱心驿家,爱心驿家,下沙街道,金沙湖路2号,120.3191,30.3061,,"
    "walk_in,,0,否\r\n"
    "QT-XS-902,金沙湖城管驿站,城管驿站,下沙街道,金沙湖路3号,120.3201,30.3071,,,,,\r\n"
)


def _upload(client: FlaskClient, data: bytes, filename: str) -> tuple[int, str]:
    page = client.get("/staff/import")
    form = {
        "csrf_token": csrf_from(page.text),
        "file": (io.BytesIO(data), filename),
        "reason": "核对进入方式",
    }
    response = client.post("/staff/import", data=form, content_type="multipart/form-data")
    return response.status_code, response.text


def _confirm(client: FlaskClient, preview: str) -> tuple[int, str]:
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview)
    assert token, "the preview offers no confirm button"
    response = client.post(
        "/staff/import/confirm", data={"csrf_token": csrf_from(preview), "token": token.group(1)}
    )
    return response.status_code, response.text


def test_a_csv_with_chinese_headers_sets_how_to_get_in_and_the_api_says_it(app: Flask) -> None:
    admin = staff_client(app, "admin", "union_admin")
    status, preview = _upload(admin, (HEADER + ROWS).encode(), "进入方式.csv")
    assert status == 200, preview
    status, done = _confirm(admin, preview)
    assert status == 200 and 'data-testid="import-done"' in done

    public = app.test_client()
    rung = public.get("/api/v1/stations/QT-XS-900").get_json()["properties"]
    assert (rung["access"], rung["access_note"], rung["seats"], rung["step_free"]) == (
        "bell",  # the Chinese label 按铃 is kept as its code
        "门卫处登记",
        12,
        True,
    )
    walked = public.get("/api/v1/stations/QT-XS-901").get_json()["properties"]
    assert (walked["access"], walked["access_note"], walked["seats"], walked["step_free"]) == (
        "walk_in",
        None,
        0,  # none to sit on is an answer, not a blank
        False,
    )
    unknown = public.get("/api/v1/stations/QT-XS-902").get_json()["properties"]
    assert [unknown[k] for k in ("access", "access_note", "seats", "step_free")] == [None] * 4
    assert rung["open_24h"] is False  # no hours given: not 24-hour

    # The export writes them back under the same headers; unknown stays blank.
    with session_scope(app) as session:
        exported = spreadsheets.export_csv(registry.all_stations(session)).decode("utf-8-sig")
    header = exported.splitlines()[0].split(",")
    assert header[-6:] == ["进入方式", "进入说明", "座位数", "无台阶", "在用", "停用原因"]
    lines = {line.split(",")[0]: line.split(",") for line in exported.splitlines()[1:]}
    assert lines["QT-XS-900"][-6:-2] == ["bell", "门卫处登记", "12", "是"]
    assert lines["QT-XS-901"][-6:-2] == ["walk_in", "", "0", "否"]
    assert lines["QT-XS-902"][-6:-2] == ["", "", "", ""]


def test_a_bad_way_in_or_seat_count_is_refused_by_row_and_nothing_is_written(app: Flask) -> None:
    admin = staff_client(app, "admin", "union_admin")
    admin.get("/staff/?lang=en")
    bad = (
        HEADER
        + "QT-XS-900,甲驿站,工会驿站,下沙街道,金沙湖路1号,120.3181,30.3051,,敲门,,,\r\n"
        + "QT-XS-901,乙驿站,工会驿站,下沙街道,金沙湖路2号,120.3191,30.3061,,,,201,\r\n"
        + "QT-XS-902,丙驿站,工会驿站,下沙街道,金沙湖路3号,120.3201,30.3071,,打电话,,,\r\n"
        + "QT-XS-903,丁驿站,工会驿站,下沙街道,金沙湖路4号,120.3211,30.3081,,,,,也许\r\n"
    )
    status, page = _upload(admin, bad.encode(), "bad.csv")
    assert status == 422
    assert "unknown way in" in page and "敲门" in page
    assert "201 is outside 0..200" in page
    assert "phoning ahead needs the station&#39;s phone" in page
    assert "must be true or false" in page
    with session_scope(app) as session:
        assert session.get(Station, "QT-XS-900") is None


def test_the_staff_form_records_how_to_get_in(app: Flask) -> None:
    baiyang = staff_client(app, "baiyang", "street_staff", "白杨街道")
    page = baiyang.get("/staff/stations/QT-BY-001/edit").text
    assert 'data-testid="access-fields"' in page
    assert 'name="seats"' in page and 'min="0"' in page and 'max="200"' in page
    with session_scope(app) as session:
        s = session.get_one(Station, "QT-BY-001")
        data = {
            "csrf_token": csrf_from(page),
            "version": str(s.version),
            "name": s.name,
            "name_en": s.name_en or "",
            "kind": s.kind,
            "street": s.street,
            "address": s.address,
            "crs": "wgs84",
            "lon": str(s.lon),
            "lat": str(s.lat),
            "amenities": list(s.amenities),
            "opening_hours": s.opening_hours or "",
            "phone": s.phone or "",
            "access": "door_entry",
            "access_note": "门卫处登记",
            "seats": "0",
            "step_free": "no",
            "reason": "记录进入方式",
            "action": "save",
        }
    saved = baiyang.post("/staff/stations/QT-BY-001/edit", data=data)
    assert saved.status_code == 302, saved.text
    with session_scope(app) as session:
        s = session.get_one(Station, "QT-BY-001")
        assert (s.access, s.access_note, s.seats, s.step_free) == (
            "door_entry",
            "门卫处登记",
            0,
            False,
        )
    again = baiyang.get("/staff/stations/QT-BY-001/edit").text
    assert re.search(
        r'<option selected value="door_entry">|<option value="door_entry" selected', again
    )
    assert re.search(r'<option selected value="no">|<option value="no" selected', again)

    too_many = {**data, "version": str(s.version), "seats": "201", "step_free": "maybe"}
    refused = baiyang.post("/staff/stations/QT-BY-001/edit", data=too_many)
    assert refused.status_code == 400
    assert 'value="201"' in refused.text  # what was typed is kept
    with session_scope(app) as session:
        assert session.get_one(Station, "QT-BY-001").seats == 0


def _token(app: Flask) -> str:
    return api_token(staff_client(app, "integration", "union_admin"), "系统")


def test_the_write_api_sets_how_to_get_in_and_never_open_24h(app: Flask) -> None:
    client = app.test_client()
    auth = {"Authorization": f"Bearer {_token(app)}"}

    def patch(properties: dict[str, object]) -> object:
        etag = client.get("/api/v1/stations/QT-BY-001").headers["ETag"]
        return client.patch(
            "/api/v1/stations/QT-BY-001",
            json={"properties": properties, "reason": "进入方式"},
            headers={**auth, "If-Match": etag},
        )

    ok = patch({"access": "scan_code", "access_note": "扫码登记", "seats": 200, "step_free": True})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    props = client.get("/api/v1/stations/QT-BY-001").get_json()["properties"]
    assert (props["access"], props["access_note"], props["seats"], props["step_free"]) == (
        "scan_code",
        "扫码登记",
        200,
        True,
    )
    for bad, field in (
        ({"seats": 201}, "seats"),
        ({"seats": -1}, "seats"),
        ({"access": "knock"}, "access"),
        ({"access": "call_ahead", "phone": None}, "access"),
        ({"step_free": "yes"}, "step_free"),
        ({"access_note": "驿" * 61}, "access_note"),
        ({"open_24h": True}, "open_24h"),  # derived from the hours, never set
    ):
        response = patch(bad)
        assert response.status_code == 400, (bad, response.get_data(as_text=True))
        error = response.get_json()["error"]
        assert set(error) == {"code", "message", "field"}
        assert field in (error["field"] or "") or field in error["message"], (bad, error)
    props = client.get("/api/v1/stations/QT-BY-001").get_json()["properties"]
    assert props["seats"] == 200 and props["access"] == "scan_code"
