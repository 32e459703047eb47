"""Staff edit stations on the pages: what they save reaches couriers, a stale copy never
overwrites a newer one, bad input changes nothing, and every change is in the history."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session
from staff_login import add_staff, csrf_from, log_in

from stationfinder.core.clock import local_now
from stationfinder.db import get_db, session_scope
from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point
from stationfinder.models import Station, StationRevision
from stationfinder.registry import editing
from stationfinder.registry import stations as registry
from stationfinder.web.context import current_areas

OWN = "QT-BY-001"  # 文海北路城管驿站, in 白杨街道, 24/7
NEIGHBOUR = "QT-BY-002"
OUTSIDE_DISTRICT = (120.15, 30.25)  # West Lake


@pytest.fixture
def baiyang(app: Flask) -> FlaskClient:
    add_staff(app, "baiyang", "street_staff", "白杨街道")
    return log_in(app, "baiyang")


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    add_staff(app, "admin", "union_admin", None)
    return log_in(app, "admin")


def _station(app: Flask, station_id: str) -> Station:
    with session_scope(app) as session:
        station = session.get(Station, station_id)
        assert station is not None
        session.expunge(station)
        return station


def _form(client: FlaskClient, app: Flask, station_id: str, **changes: Any) -> dict[str, Any]:
    """What the edit page would send back unchanged, with `changes` typed in."""
    page = client.get(f"/staff/stations/{station_id}/edit")
    assert page.status_code == 200
    s = _station(app, station_id)
    data: dict[str, Any] = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
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
        "access": s.access or "",
        "access_note": s.access_note or "",
        "seats": "" if s.seats is None else str(s.seats),
        "step_free": {True: "yes", False: "no", None: ""}[s.step_free],
        "reason": "",
        "action": "save",
    }
    data.update(changes)
    return data


def test_an_edit_reaches_couriers_and_the_history(app: Flask, baiyang: FlaskClient) -> None:
    version_before = _registry_version(app)
    data = _form(
        baiyang, app, OWN, name="文海北路城管驿站（新）", opening_hours="Mo-Fr 08:00-20:00"
    )
    data["reason"] = "门口挂了新牌子"
    saved = baiyang.post(f"/staff/stations/{OWN}/edit", data=data)
    assert saved.status_code == 302
    assert "已保存" in baiyang.get(saved.headers["Location"]).get_data(as_text=True)

    api = app.test_client().get(f"/api/v1/stations/{OWN}").get_json()
    assert api["properties"]["name"] == "文海北路城管驿站（新）"
    assert api["properties"]["opening_hours"] == "Mo-Fr 08:00-20:00"
    assert api["properties"]["version"] == 2
    assert _registry_version(app) == version_before + 1
    courier = app.test_client().get(f"/stations/{OWN}").get_data(as_text=True)
    assert "文海北路城管驿站（新）" in courier

    history = baiyang.get(f"/staff/stations/{OWN}/history").get_data(as_text=True)
    assert "门口挂了新牌子" in history and "baiyang" in history
    assert "文海北路城管驿站" in history and "Mo-Fr 08:00-20:00" in history
    with session_scope(app) as session:
        revision = session.scalars(
            select(StationRevision).where(
                StationRevision.station_id == OWN, StationRevision.version == 2
            )
        ).one()
        assert revision.changed_by == "baiyang"
        assert revision.changes == {
            "name": ["文海北路城管驿站", "文海北路城管驿站（新）"],
            "opening_hours": ["24/7", "Mo-Fr 08:00-20:00"],
        }


def _registry_version(app: Flask) -> int:
    with session_scope(app) as session:
        return registry.registry_version(session)


def test_a_stale_copy_gets_the_conflict_and_overwrites_nothing(
    app: Flask, baiyang: FlaskClient, admin: FlaskClient
) -> None:
    mine = _form(baiyang, app, OWN, address="文海北路 1 号", phone="0571-86000000")
    theirs = _form(admin, app, OWN, address="文海北路 2 号")
    assert admin.post(f"/staff/stations/{OWN}/edit", data=theirs).status_code == 302

    conflict = baiyang.post(f"/staff/stations/{OWN}/edit", data=mine)
    assert conflict.status_code == 409
    page = conflict.get_data(as_text=True)
    assert 'data-testid="conflict"' in page
    assert "文海北路 1 号" in page and "文海北路 2 号" in page  # yours and theirs
    saved = _station(app, OWN)
    assert saved.address == "文海北路 2 号"
    assert saved.version == 2
    assert saved.phone != "0571-86000000"

    # The form now carries their version: saving again is a deliberate overwrite.
    assert 'name="version" type="hidden" value="2"' in page
    again = {**mine, "version": "2", "csrf_token": csrf_from(page)}
    assert baiyang.post(f"/staff/stations/{OWN}/edit", data=again).status_code == 302
    assert _station(app, OWN).address == "文海北路 1 号"


def test_two_saves_racing_from_the_same_version_cannot_both_win(app: Flask) -> None:
    """The version check passes, then another save lands before ours is flushed: the
    versioned UPDATE matches no row and the edit is refused, not applied over theirs."""
    areas = current_areas(app)
    editor = editing.Editor("admin", editing.UNION_ADMIN)
    with get_db(app).sessions() as session:

        @event.listens_for(session, "before_flush")
        def someone_else_saves(flushing: Session, *_: Any) -> None:
            flushing.connection().execute(
                text("UPDATE stations SET version = version + 1, address = 'theirs' WHERE id = :i"),
                {"i": OWN},
            )

        with pytest.raises(editing.VersionConflict), session.begin():
            editing.update_station(
                session, OWN, {"address": "ours"}, areas, editor, expected_version=1
            )
    assert _station(app, OWN).address != "ours"


def test_a_point_outside_the_district_is_refused(app: Flask, baiyang: FlaskClient) -> None:
    lon, lat = OUTSIDE_DISTRICT
    data = _form(baiyang, app, OWN, lon=str(lon), lat=str(lat))
    response = baiyang.post(f"/staff/stations/{OWN}/edit", data=data)
    assert response.status_code == 400
    assert "不在本区范围内" in response.get_data(as_text=True)  # the page is Chinese
    assert _station(app, OWN).version == 1


def test_a_point_in_another_subdistrict_is_refused_for_street_staff(
    app: Flask, baiyang: FlaskClient
) -> None:
    xiasha = _station(app, "QT-XS-001")
    data = _form(baiyang, app, OWN, lon=str(xiasha.lon + 0.001), lat=str(xiasha.lat), street="")
    response = baiyang.post(f"/staff/stations/{OWN}/edit", data=data)
    assert response.status_code == 403
    assert _station(app, OWN).street == "白杨街道"


def test_amap_coordinates_are_converted_to_wgs84(app: Flask, baiyang: FlaskClient) -> None:
    target = Point(120.3450, 30.3290)
    gcj = crs.from_wgs84(target, CRS.GCJ02)
    data = _form(baiyang, app, OWN, crs="gcj02", lon=f"{gcj.lon:.7f}", lat=f"{gcj.lat:.7f}")
    data["confirmed"] = "1"
    assert baiyang.post(f"/staff/stations/{OWN}/edit", data=data).status_code == 302
    saved = _station(app, OWN)
    assert saved.lon == pytest.approx(target.lon, abs=2e-7)
    assert saved.lat == pytest.approx(target.lat, abs=2e-7)
    page = baiyang.get(f"/staff/stations/{OWN}/edit").get_data(as_text=True)
    assert "从高德地图复制的坐标是 GCJ-02" in page


def test_a_station_within_30_m_or_with_the_same_name_asks_first(
    app: Flask, admin: FlaskClient
) -> None:
    near = _station(app, NEIGHBOUR)
    data = _form(
        admin,
        app,
        OWN,
        lon=f"{near.lon + 0.0002:.7f}",  # about 19 m east
        lat=f"{near.lat:.7f}",
    )
    first = admin.post(f"/staff/stations/{OWN}/edit", data=data)
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert 'data-testid="warnings"' in page and NEIGHBOUR in page and "米内已有站点" in page
    assert _station(app, OWN).version == 1  # not saved yet
    assert 'name="confirmed" type="hidden" value="1"' in page
    confirmed = {**data, "confirmed": "1", "csrf_token": csrf_from(page)}
    assert admin.post(f"/staff/stations/{OWN}/edit", data=confirmed).status_code == 302
    assert _station(app, OWN).version == 2

    same_name = _form(admin, app, OWN, name=near.name)
    response = admin.post(f"/staff/stations/{OWN}/edit", data=same_name)
    assert response.status_code == 200 and "已有同名站点" in response.get_data(as_text=True)


def test_the_hours_preview_shows_the_week_and_saves_nothing(
    app: Flask, baiyang: FlaskClient
) -> None:
    data = _form(baiyang, app, OWN, opening_hours="Mo-Fr 09:00-17:00", action="preview")
    response = baiyang.post(f"/staff/stations/{OWN}/edit", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="hours-preview"' in page
    assert "09:00–17:00" in page
    assert _station(app, OWN).opening_hours == "24/7"

    bad = _form(baiyang, app, OWN, opening_hours="Mo-Fr 9 to 5")
    refused = baiyang.post(f"/staff/stations/{OWN}/edit", data=bad)
    assert refused.status_code == 400
    assert "营业时间格式有误" in refused.get_data(as_text=True)


def test_create_retire_and_reinstate(app: Flask, baiyang: FlaskClient) -> None:
    page = baiyang.get("/staff/stations/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "name": "白杨新驿站",
        "kind": "工会驿站",
        "street": "",
        "crs": "wgs84",
        "lon": "120.3400",
        "lat": "30.3150",
        "amenities": ["rest", "toilet"],
        "opening_hours": "Mo-Su 08:00-20:00",
        "action": "save",
    }
    created = baiyang.post("/staff/stations/new", data=data)
    assert created.status_code == 302
    new_id = created.headers["Location"].split("/")[3]
    assert re.fullmatch(r"QT-BY-\d{3}", new_id)
    assert _station(app, new_id).street == "白杨街道"  # derived from the point
    assert app.test_client().get(f"/api/v1/stations/{new_id}").status_code == 200

    edit = baiyang.get(f"/staff/stations/{new_id}/edit").get_data(as_text=True)
    token = csrf_from(edit)
    no_reason = baiyang.post(
        f"/staff/stations/{new_id}/retire", data={"csrf_token": token, "version": "1"}
    )
    assert no_reason.status_code == 400
    assert _station(app, new_id).active
    retired = baiyang.post(
        f"/staff/stations/{new_id}/retire",
        data={"csrf_token": token, "version": "1", "reason": "场地收回"},
    )
    assert retired.status_code == 302
    station = _station(app, new_id)
    assert not station.active and station.retired_reason == "场地收回"
    assert app.test_client().get(f"/stations/{new_id}").status_code == 410
    listed = app.test_client().get("/api/v1/stations").get_json()
    assert new_id not in {f["id"] for f in listed["features"]}

    back = baiyang.post(
        f"/staff/stations/{new_id}/reinstate",
        data={"csrf_token": token, "version": "2", "reason": "重新开放"},
    )
    assert back.status_code == 302
    assert _station(app, new_id).active
    assert app.test_client().get(f"/stations/{new_id}").status_code == 200


def test_restoring_an_earlier_version_makes_a_new_one(app: Flask, admin: FlaskClient) -> None:
    for n in (1, 2):
        data = _form(admin, app, OWN, address=f"第 {n} 次修改")
        assert admin.post(f"/staff/stations/{OWN}/edit", data=data).status_code == 302
    history = admin.get(f"/staff/stations/{OWN}/history").get_data(as_text=True)
    restore = admin.post(
        f"/staff/stations/{OWN}/history/restore",
        data={"csrf_token": csrf_from(history), "version": "3", "target": "1", "reason": "改错了"},
    )
    assert restore.status_code == 302
    station = _station(app, OWN)
    assert station.version == 4
    with session_scope(app) as session:
        assert editing.station_values(station) == {
            **editing.values_at(session, OWN, 1),
            "photo_id": None,
        }
    stale = admin.post(
        f"/staff/stations/{OWN}/history/restore",
        data={"csrf_token": csrf_from(history), "version": "3", "target": "2"},
    )
    assert stale.status_code == 409
    assert _station(app, OWN).version == 4


def test_out_of_service_amenity_leaves_the_locator_until_fixed(
    app: Flask, baiyang: FlaskClient
) -> None:
    station = _station(app, OWN)
    query = f"/api/v1/stations/nearest?lon={station.lon}&lat={station.lat}&k=1"
    courier = app.test_client()
    assert courier.get(query + "&amenity=drinking_water").get_json()["features"][0]["id"] == OWN
    token = csrf_from(baiyang.get(f"/staff/stations/{OWN}/edit").get_data(as_text=True))
    marked = baiyang.post(
        f"/staff/stations/{OWN}/out-of-service",
        data={"csrf_token": token, "amenity": "drinking_water", "note": "饮水机维修中"},
    )
    assert marked.status_code == 302
    found = courier.get(query + "&amenity=drinking_water").get_json()["features"]
    assert found[0]["id"] != OWN
    assert courier.get(f"/api/v1/stations/{OWN}").get_json()["properties"]["out_of_service"] == {
        "drinking_water": "饮水机维修中"
    }
    cleared = baiyang.post(
        f"/staff/stations/{OWN}/out-of-service",
        data={"csrf_token": token, "amenity": "drinking_water", "note": ""},
    )
    assert cleared.status_code == 302
    assert courier.get(query + "&amenity=drinking_water").get_json()["features"][0]["id"] == OWN
    missing = baiyang.post(
        f"/staff/stations/{OWN}/out-of-service",
        data={"csrf_token": token, "amenity": "toilet", "note": "坏了"},
    )
    assert missing.status_code == 400  # this station has no toilet to break


def test_set_out_of_service_for_the_report_inbox(app: Flask) -> None:
    """The function part B's inbox calls: permission, version and history included."""
    areas_free_editor = editing.Editor("xiasha", editing.STREET_STAFF, "下沙街道")
    sessions = get_db(app).sessions
    with sessions() as session, pytest.raises(editing.NotAllowed), session.begin():
        editing.set_out_of_service(session, OWN, "toilet", "x", areas_free_editor)
    editor = editing.Editor("baiyang", editing.STREET_STAFF, "白杨街道")
    with sessions() as session, session.begin():
        station = editing.set_out_of_service(
            session, OWN, "drinking_water", "饮水机维修中", editor, expected_version=1
        )
        assert station.version == 2
    with sessions() as session, pytest.raises(editing.VersionConflict), session.begin():
        editing.set_out_of_service(session, OWN, "drinking_water", None, editor, 1)
    with sessions() as session:
        assert editing.history(session, OWN)[0].changes == {
            "out_of_service": [{}, {"drinking_water": "饮水机维修中"}]
        }


def test_the_change_log_filters_by_person_subdistrict_and_date(
    app: Flask, baiyang: FlaskClient, admin: FlaskClient
) -> None:
    by_staff = _form(baiyang, app, OWN, address="白杨的修改")
    assert baiyang.post(f"/staff/stations/{OWN}/edit", data=by_staff).status_code == 302
    by_admin = _form(admin, app, "QT-XS-001", address="下沙的修改")
    assert admin.post("/staff/stations/QT-XS-001/edit", data=by_admin).status_code == 302

    def rows(query: str) -> str:
        response = admin.get(f"/staff/changes?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True).split('data-testid="change-log"')[1]

    assert OWN in rows("person=baiyang") and "QT-XS-001" not in rows("person=baiyang")
    assert "QT-XS-001" in rows("street=下沙街道") and OWN not in rows("street=下沙街道")
    today = local_now().date().isoformat()  # staff read days in Shanghai time, not the host's
    assert OWN in rows(f"start={today}&end={today}&person=baiyang")
    assert OWN not in rows("end=2020-01-01&person=baiyang")
    assert admin.get("/staff/changes?start=yesterday").status_code == 400


def test_what_staff_type_is_escaped_everywhere(app: Flask, admin: FlaskClient) -> None:
    hostile = "<script>alert(1)</script>"
    data = _form(admin, app, OWN, name=hostile, address=hostile, reason=hostile)
    data["confirmed"] = "1"
    assert admin.post(f"/staff/stations/{OWN}/edit", data=data).status_code == 302
    for path in (
        "/staff/stations?q=script",
        f"/staff/stations/{OWN}/edit",
        f"/staff/stations/{OWN}/history",
        "/staff/changes",
    ):
        page = admin.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page, path
        assert "&lt;script&gt;alert(1)" in page, path


def test_the_list_searches_and_filters(app: Flask, baiyang: FlaskClient) -> None:
    own_street = baiyang.get("/staff/stations").get_data(as_text=True)
    assert OWN in own_street and "QT-XS-001" not in own_street  # their subdistrict first
    by_name = baiyang.get("/staff/stations?street=&q=九沙").get_data(as_text=True)
    assert "QT-XS-001" in by_name and OWN not in by_name
    by_id = baiyang.get("/staff/stations?street=&q=qt-by-001").get_data(as_text=True)
    assert OWN in by_id
    by_kind = baiyang.get("/staff/stations?street=&kind=爱心驿家").get_data(as_text=True)
    assert "QT-XS-001" in by_kind and OWN not in by_kind
