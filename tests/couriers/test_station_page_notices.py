"""What a courier reads on a station page about broken amenities, photos and reports."""

from __future__ import annotations

from flask import Flask

from stationfinder.db import get_db
from stationfinder.models import Photo, Station
from stationfinder.registry import stations as registry


def _first_station_with(app: Flask, amenity: str) -> str:
    with get_db(app).sessions() as session:
        for station in registry.active_stations(session):
            if amenity in (station.amenities or []):
                return station.id
    raise AssertionError(f"no station with {amenity}")


def test_out_of_service_amenity_is_marked_paused_with_the_note(app: Flask) -> None:
    station_id = _first_station_with(app, "drinking_water")
    with get_db(app).sessions() as session, session.begin():
        station = session.get_one(Station, station_id)
        station.out_of_service = {"drinking_water": "饮水机维修中<b>"}
        registry.bump_version(session)
    html = app.test_client().get(f"/stations/{station_id}").get_data(as_text=True)
    assert "暂停：饮水机维修中&lt;b&gt;" in html
    assert 'data-amenity="drinking_water" class="out-of-service"' in html


def test_no_paused_notice_when_everything_works(app: Flask) -> None:
    station_id = _first_station_with(app, "drinking_water")
    html = app.test_client().get(f"/stations/{station_id}").get_data(as_text=True)
    assert 'data-testid="paused"' not in html


def test_report_link_on_every_station_page(app: Flask) -> None:
    station_id = _first_station_with(app, "rest")
    client = app.test_client()
    html = client.get(f"/stations/{station_id}").get_data(as_text=True)
    assert f'href="/stations/{station_id}/report"' in html
    assert "信息有误 / 设施坏了" in html
    assert client.get(f"/stations/{station_id}/report").status_code == 200


def test_station_photo_is_shown_when_staff_added_one(app: Flask) -> None:
    station_id = _first_station_with(app, "rest")
    with get_db(app).sessions() as session, session.begin():
        session.add(
            Photo(id="p" * 32, content=b"\xff\xd8\xff", mime="image/jpeg", width=1, height=1)
        )
        session.flush()
        session.get_one(Station, station_id).photo_id = "p" * 32
    client = app.test_client()
    html = client.get(f"/stations/{station_id}").get_data(as_text=True)
    assert f'src="/photos/{"p" * 32}"' in html
    assert client.get(f"/photos/{'p' * 32}").status_code == 200
