"""The report reasons couriers asked for: wrong hours, a wrong phone and "进不了"
(locked, or not let in). A courier files each without an account; staff see it in the
inbox in their language and confirm it like the others; "进不了" leads to the station's
edit page, where staff check how couriers get in."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import select
from staff_login import csrf_from, staff_client

import stationfinder.web.staff.reports  # noqa: F401  (registers the routes until staff/__init__ does)
from stationfinder.db import session_scope
from stationfinder.models import ProblemReport, Station
from stationfinder.registry import reports
from stationfinder.web.couriers.reports import report_bp

CATALOGUE = (
    Path(__file__).resolve().parents[2]
    / "stationfinder"
    / "translations"
    / "zh_Hans_CN"
    / "LC_MESSAGES"
    / "messages.po"
)

# category: (the courier's choice, the staff inbox's heading, the confirm button)
NEW_REASONS = {
    "wrong_hours": (
        "The opening hours are wrong",
        "Wrong hours",
        "Confirm (check the hours)",
    ),
    "wrong_phone": (
        "The phone number is wrong",
        "Wrong phone",
        "Confirm (check the phone)",
    ),
    "no_entry": (
        "Couldn't get in (locked, or not let in)",
        "Couldn't get in",
        "Confirm and check how couriers get in",
    ),
}
CHINESE = {
    "The opening hours are wrong": "营业时间不对",
    "The phone number is wrong": "电话不对",
    "Couldn't get in (locked, or not let in)": "进不了（锁门或不让进）",
}


@pytest.fixture
def site(app: Flask) -> Flask:
    if "report" not in app.blueprints:
        app.register_blueprint(report_bp)
    return app


def _station(app: Flask) -> Station:
    with session_scope(app) as session:
        return session.scalars(
            select(Station).where(Station.street == "下沙街道", Station.active).order_by(Station.id)
        ).first()


def _file(client: FlaskClient, station_id: str, category: str, lang: str) -> str:
    form = client.get(f"/stations/{station_id}/report?lang={lang}")
    assert form.status_code == 200
    response = client.post(
        f"/stations/{station_id}/report",
        data={
            "csrf_token": csrf_from(form.text),
            "category": category,
            "message": "18:00 就锁门了",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.text
    assert 'data-testid="report-sent"' in response.text
    return form.text


def _shown(text: str, page: str) -> bool:
    """Whether the page shows the text (an apostrophe may come escaped or not)."""
    return text in page or text.replace("'", "&#39;") in page


def _zh(app: Flask, msgid: str) -> str:
    with app.test_request_context("/?lang=zh"), force_locale("zh_Hans_CN"):
        return gettext(msgid)


def test_a_courier_files_each_new_reason_without_an_account(site: Flask) -> None:
    station = _station(site)
    courier = site.test_client()  # no login, no cookie
    for category, (choice, _heading, _button) in NEW_REASONS.items():
        page = _file(courier, station.id, category, "en")
        assert f'value="{category}"' in page, page
        assert _shown(choice, page)
    zh_form = courier.get(f"/stations/{station.id}/report?lang=zh").text
    for choice, _heading, _button in NEW_REASONS.values():
        assert _shown(_zh(site, choice), zh_form)
    with session_scope(site) as session:
        filed = session.scalars(
            select(ProblemReport.category).where(ProblemReport.station_id == station.id)
        ).all()
    assert sorted(filed) == sorted(NEW_REASONS)


def test_staff_see_and_confirm_the_new_reasons_and_no_entry_leads_to_the_edit_page(
    site: Flask,
) -> None:
    station = _station(site)
    courier = site.test_client()
    for category in NEW_REASONS:
        _file(courier, station.id, category, "zh")
    staff = staff_client(site, "xs", "street_staff", "下沙街道")
    inbox = staff.get("/staff/reports?lang=en")
    assert inbox.status_code == 200
    with session_scope(site) as session:
        ids = {
            r.category: r.id
            for r in session.scalars(select(ProblemReport).where(ProblemReport.status == "new"))
        }
    for category, (_choice, heading, button) in NEW_REASONS.items():
        article = inbox.text.split(f'data-testid="report-{ids[category]}"', 1)[1].split(
            "</article>", 1
        )[0]
        assert _shown(heading, article) and _shown(button, article)
    zh_inbox = staff.get("/staff/reports?lang=zh").text
    for _choice, heading, button in NEW_REASONS.values():
        assert _shown(_zh(site, heading), zh_inbox) and _shown(_zh(site, button), zh_inbox)
    before = site.test_client().get(f"/api/v1/stations/{station.id}").get_json()

    token = csrf_from(inbox.text)
    for category in ("wrong_hours", "wrong_phone"):
        done = staff.post(
            f"/staff/reports/{ids[category]}/confirm",
            data={"csrf_token": token, "note": "已电话核实"},
        )
        assert done.status_code == 302
        assert done.location.endswith(f"/staff/reports?done={ids[category]}")
    locked = staff.post(f"/staff/reports/{ids['no_entry']}/confirm", data={"csrf_token": token})
    assert locked.status_code == 302
    assert f"/staff/stations/{station.id}/edit" in locked.location
    assert "check=access" in locked.location
    assert staff.get(locked.location).status_code == 200

    with session_scope(site) as session:
        handled = {
            r.category: (r.status, r.handled_by, r.staff_note)
            for r in session.scalars(select(ProblemReport))
        }
    assert handled["wrong_hours"] == ("confirmed", "xs", "已电话核实")
    assert handled["no_entry"] == ("confirmed", "xs", None)
    # Confirming is a note for staff: the public station is untouched until they edit it.
    after = site.test_client().get(f"/api/v1/stations/{station.id}").get_json()
    assert after["properties"]["version"] == before["properties"]["version"]
    confirmed = staff.get("/staff/reports?status=confirmed&lang=en").text
    assert _shown("Couldn't get in", confirmed) and "已电话核实" in confirmed


def test_another_subdistricts_staff_cannot_confirm_a_no_entry_report(site: Flask) -> None:
    station = _station(site)
    _file(site.test_client(), station.id, "no_entry", "zh")
    other = staff_client(site, "by", "street_staff", "白杨街道")
    inbox = other.get("/staff/reports")
    assert 'data-testid="report-' not in inbox.text
    with session_scope(site) as session:
        report_id = session.scalars(select(ProblemReport.id)).one()
    refused = other.post(
        f"/staff/reports/{report_id}/confirm", data={"csrf_token": csrf_from(inbox.text)}
    )
    assert refused.status_code == 403
    with session_scope(site) as session:
        assert session.get_one(ProblemReport, report_id).status == "new"


def test_every_reason_has_a_staff_action_and_an_unknown_reason_is_refused(site: Flask) -> None:
    assert set(reports.ACTIONS) == set(reports.CATEGORIES)
    station = _station(site)
    client = site.test_client()
    form = client.get(f"/stations/{station.id}/report")
    refused = client.post(
        f"/stations/{station.id}/report",
        data={"csrf_token": csrf_from(form.text), "category": "locked_out"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    with session_scope(site) as session:
        assert session.scalars(select(ProblemReport)).first() is None


def test_the_new_reasons_have_their_chinese_in_the_catalogue() -> None:
    with CATALOGUE.open("rb") as stream:
        chinese = {str(m.id): str(m.string) for m in read_po(stream) if m.id}
    existing = {"Confirm (check the hours)"}  # the button closed_when_open already had
    for texts in NEW_REASONS.values():
        for msgid in set(texts) - existing:
            assert chinese.get(msgid), f"no Chinese for {msgid!r}"
    for msgid, zh in CHINESE.items():
        assert chinese[msgid] == zh
