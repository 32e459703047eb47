"""Couriers' problem reports: the public form, the staff inbox, and what confirming does."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from staff_login import csrf_from, staff_client

import stationfinder.web.staff.reports  # noqa: F401  (registers the routes until staff/__init__ does)
from stationfinder.db import session_scope
from stationfinder.models import Photo, ProblemReport, Station, StationRevision
from stationfinder.registry import reports
from stationfinder.registry.editing import Editor
from stationfinder.web.couriers.reports import report_bp

WATER = "drinking_water"


@pytest.fixture
def site(app: Flask) -> Flask:
    """The app with the report form's blueprint (create_app registers it once wired)."""
    if "report" not in app.blueprints:
        app.register_blueprint(report_bp)
    return app


def _station_with(app: Flask, street: str, amenity: str) -> Station:
    with session_scope(app) as session:
        return next(
            s
            for s in session.scalars(
                select(Station).where(Station.street == street).order_by(Station.id)
            )
            if s.active and amenity in (s.amenities or [])
        )


def _report(
    client: FlaskClient, station_id: str, category: str, **fields: object
) -> tuple[int, str]:
    page = client.get(f"/stations/{station_id}/report")
    assert page.status_code == 200
    data: dict[str, object] = {"csrf_token": csrf_from(page.text), "category": category, **fields}
    response = client.post(
        f"/stations/{station_id}/report", data=data, content_type="multipart/form-data"
    )
    return response.status_code, response.text


def _new_report_ids(app: Flask) -> list[int]:
    with session_scope(app) as session:
        return list(
            session.scalars(
                select(ProblemReport.id)
                .where(ProblemReport.status == "new")
                .order_by(ProblemReport.id)
            )
        )


def _nearest_ids(client: FlaskClient, station: Station, amenity: str) -> list[str]:
    body = client.get(
        f"/api/v1/stations/nearest?lon={station.lon}&lat={station.lat}&k=3&amenity={amenity}"
    ).get_json()
    return [f["id"] for f in body["features"]]


def _post_form(client: FlaskClient, page_url: str, action: str, **data: str) -> int:
    page = client.get(page_url)
    return client.post(action, data={"csrf_token": csrf_from(page.text), **data}).status_code


def test_a_confirmed_broken_amenity_leaves_the_locator_until_fixed(site: Flask) -> None:
    station = _station_with(site, "下沙街道", WATER)
    courier = site.test_client()
    assert _nearest_ids(courier, station, WATER)[0] == station.id

    status, page = _report(courier, station.id, "amenity_broken", amenity=WATER, message="不出水")
    assert status == 200 and 'data-testid="report-sent"' in page
    (report_id,) = _new_report_ids(site)
    assert _nearest_ids(courier, station, WATER)[0] == station.id  # a report alone changes nothing

    staff = staff_client(site, "xs", "street_staff", "下沙街道")
    inbox = staff.get("/staff/reports")
    assert inbox.status_code == 200 and "不出水" in inbox.text
    assert 'value="饮水维修中"' in inbox.text  # the public note staff start from
    response = staff.post(
        f"/staff/reports/{report_id}/confirm",
        data={"csrf_token": csrf_from(inbox.text), "note": "饮水机维修中"},
    )
    assert response.status_code == 302

    assert station.id not in _nearest_ids(courier, station, WATER)
    assert station.id in _nearest_ids(courier, station, "rest") or "rest" not in station.amenities
    api = courier.get(f"/api/v1/stations/{station.id}").get_json()
    assert api["properties"]["out_of_service"] == {WATER: "饮水机维修中"}
    with session_scope(site) as session:
        report = session.get_one(ProblemReport, report_id)
        assert (report.status, report.handled_by) == ("confirmed", "xs")
        revision = session.scalars(
            select(StationRevision)
            .where(StationRevision.station_id == station.id)
            .order_by(StationRevision.id.desc())
        ).first()
        assert revision is not None and revision.changed_by == "xs"

    inbox = staff.get("/staff/reports")
    assert 'data-testid="out-of-service"' in inbox.text and "暂停：饮水机维修中" in inbox.text
    fixed = staff.post(
        f"/staff/reports/back-in-service/{station.id}/{WATER}",
        data={"csrf_token": csrf_from(inbox.text)},
    )
    assert fixed.status_code == 302
    assert _nearest_ids(courier, station, WATER)[0] == station.id


def test_other_categories_change_nothing_on_confirm_and_gone_leads_to_retiring(
    site: Flask,
) -> None:
    station = _station_with(site, "下沙街道", "rest")
    courier = site.test_client()
    for category in ("closed_when_open", "wrong_place", "gone"):
        assert _report(courier, station.id, category)[0] == 200
    ids = _new_report_ids(site)
    staff = staff_client(site, "admin", "union_admin")
    inbox = staff.get("/staff/reports").text
    before = site.test_client().get(f"/api/v1/stations/{station.id}").get_json()
    for report_id in ids[:2]:
        response = staff.post(
            f"/staff/reports/{report_id}/confirm",
            data={"csrf_token": csrf_from(inbox), "note": "周末去看看"},
        )
        assert response.status_code == 302
        assert response.location.endswith(f"/staff/reports?done={report_id}")
    gone = staff.post(f"/staff/reports/{ids[2]}/confirm", data={"csrf_token": csrf_from(inbox)})
    assert gone.status_code == 302
    assert f"/staff/stations/{station.id}/edit" in gone.location
    after = site.test_client().get(f"/api/v1/stations/{station.id}").get_json()
    assert after["properties"]["active"] is True
    assert after["properties"]["version"] == before["properties"]["version"]
    again = staff.post(f"/staff/reports/{ids[0]}/confirm", data={"csrf_token": csrf_from(inbox)})
    assert again.status_code == 400 and "already confirmed" in again.text


def test_street_staff_cannot_see_or_act_on_another_subdistricts_reports(site: Flask) -> None:
    baiyang = _station_with(site, "白杨街道", WATER)
    courier = site.test_client()
    assert _report(courier, baiyang.id, "amenity_broken", amenity=WATER, message="坏了")[0] == 200
    (report_id,) = _new_report_ids(site)
    xiasha = staff_client(site, "xs", "street_staff", "下沙街道")
    inbox = xiasha.get("/staff/reports")
    assert baiyang.id not in inbox.text and 'data-testid="reports-empty"' in inbox.text
    token = csrf_from(inbox.text)
    for verb in ("confirm", "dismiss"):
        response = xiasha.post(
            f"/staff/reports/{report_id}/{verb}", data={"csrf_token": token, "note": "x"}
        )
        assert response.status_code == 403
    response = xiasha.post(
        f"/staff/reports/back-in-service/{baiyang.id}/{WATER}", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert _new_report_ids(site) == [report_id]
    secretary = staff_client(site, "sec", "council_secretary")
    assert secretary.get("/staff/reports").status_code == 403
    assert site.test_client().get("/staff/reports").status_code == 302


def test_what_couriers_typed_is_escaped_in_the_inbox(site: Flask) -> None:
    station = _station_with(site, "下沙街道", "rest")
    courier = site.test_client()
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    assert _report(courier, station.id, "wrong_place", message=hostile)[0] == 200
    staff = staff_client(site, "admin", "union_admin")
    page = staff.get("/staff/reports").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_inbox_shows_beijing_time_like_the_council(site: Flask) -> None:
    """A report sent at 23:30 UTC on 1 March reads 07:30 on 2 March: the council's
    clock, never UTC."""
    station = _station_with(site, "下沙街道", "rest")
    assert _report(site.test_client(), station.id, "wrong_place")[0] == 200
    with session_scope(site) as session:
        report = session.get(ProblemReport, _new_report_ids(site)[-1])
        assert report is not None
        report.created_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    page = staff_client(site, "admin", "union_admin").get("/staff/reports").text
    assert "2026-03-02 07:30" in page
    assert "2026-03-01 23:30" not in page and "UTC" not in page


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (30.0, 18.0, 18.0), 3: "E", 4: (120.0, 19.0, 5.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_is_kept_without_its_location_and_a_non_image_is_refused(site: Flask) -> None:
    station = _station_with(site, "下沙街道", "rest")
    courier = site.test_client()
    data = _jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    status, page = _report(
        courier, station.id, "gone", photo=(io.BytesIO(b"MZ\x90\x00 not an image"), "a.jpg")
    )
    assert status == 400 and 'data-testid="photo-error"' in page
    assert _new_report_ids(site) == []
    status, page = _report(courier, station.id, "gone", photo=(io.BytesIO(data), "p.jpg"))
    assert status == 200
    with session_scope(site) as session:
        report = session.scalars(select(ProblemReport)).one()
        photo = session.get_one(Photo, report.photo_id)
        kept = Image.open(io.BytesIO(photo.content))
        assert not kept.getexif().get_ifd(0x8825)
        assert len(kept.getexif()) == 0
        report_id = report.id
    staff = staff_client(site, "xs", "street_staff", "下沙街道")
    shown = staff.get(f"/staff/reports/{report_id}/photo")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    other = staff_client(site, "by", "street_staff", "白杨街道")
    assert other.get(f"/staff/reports/{report_id}/photo").status_code == 403


def test_bad_reports_are_refused(site: Flask) -> None:
    station = _station_with(site, "下沙街道", "rest")
    missing = next(
        a for a in ("haircut", "legal_advice", "battery_swap") if a not in station.amenities
    )
    courier = site.test_client()
    assert _report(courier, station.id, "amenity_broken")[0] == 400  # which one?
    assert _report(courier, station.id, "amenity_broken", amenity=missing)[0] == 400
    assert _report(courier, station.id, "on_fire")[0] == 400
    assert _report(courier, station.id, "gone", message="x" * 501)[0] == 400
    no_token = courier.post(f"/stations/{station.id}/report", data={"category": "gone"})
    assert no_token.status_code == 400
    assert courier.get("/stations/QT-XX-404/report").status_code == 404
    assert _new_report_ids(site) == []


def test_reports_are_rate_limited_per_device(site: Flask) -> None:
    station = _station_with(site, "下沙街道", "rest")
    courier = site.test_client()
    courier.set_cookie("sf_device", "rate-limit-test-device-0001")
    codes = [_report(courier, station.id, "closed_when_open")[0] for _ in range(7)]
    assert codes[:6] == [200] * 6 and codes[6] == 429


def test_domain_scope_and_states(app: Flask) -> None:
    with session_scope(app) as session:
        station = session.scalars(select(Station).where(Station.street == "白杨街道")).first()
        assert station is not None
        filed = reports.file_report(session, station.id, "wrong_place", device_hash="d" * 64)
        xiasha = Editor("xs", "street_staff", "下沙街道")
        baiyang = Editor("by", "street_staff", "白杨街道")
        assert reports.inbox(session, xiasha) == []
        assert [r.id for r, _ in reports.inbox(session, baiyang)] == [filed.id]
        with pytest.raises(reports.NotAllowed):
            reports.confirm(session, filed.id, xiasha)
        done = reports.dismiss(session, filed.id, baiyang, note="位置没问题")
        assert done.report.status == "dismissed" and done.action is None
        with pytest.raises(reports.ReportError, match="already dismissed"):
            reports.confirm(session, filed.id, baiyang)
        assert session.scalar(select(func.count()).select_from(ProblemReport)) == 1
