"""Confirming a station ("信息准确"): once per device a day, and never from another site."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from stationfinder.db import session_scope
from stationfinder.models import Station, StationConfirmation
from stationfinder.registry import stations as registry

STATION = "QT-XS-001"
SAME_ORIGIN = {"Origin": "http://localhost", "Accept": "application/json"}
DEVICE = "device-0123456789abcdef"


def _confirm(client: FlaskClient, station: str = STATION, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/stations/{station}/confirm",
        data={"device": DEVICE},
        headers={**SAME_ORIGIN, **headers},
    )


def _state(app: Flask) -> tuple[datetime | None, int, int]:
    with session_scope(app) as session:
        station = session.get(Station, STATION)
        count = session.scalar(select(func.count()).select_from(StationConfirmation))
        return station.last_confirmed_at, registry.registry_version(session), count or 0


def test_first_tap_sets_last_confirmed_and_bumps_the_registry(
    app: Flask, client: FlaskClient
) -> None:
    before, version, _ = _state(app)
    assert before is None
    response = _confirm(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "confirmed"
    assert body["message"] == "谢谢！已记录"
    after, new_version, count = _state(app)
    assert after is not None
    moment = after if after.tzinfo else after.replace(tzinfo=UTC)
    assert datetime.now(UTC) - moment < timedelta(minutes=1)
    assert new_version == version + 1
    assert count == 1
    api = client.get(f"/api/v1/stations/{STATION}").get_json()
    assert api["properties"]["last_confirmed_at"] is not None
    html = client.get(f"/stations/{STATION}").get_data(as_text=True)
    assert "最后确认于 " in html


def test_second_tap_the_same_day_counts_once(app: Flask, client: FlaskClient) -> None:
    assert _confirm(client).get_json()["status"] == "confirmed"
    first, version, _ = _state(app)
    again = _confirm(client)
    assert again.status_code == 200
    assert again.get_json()["status"] == "already"
    last, new_version, count = _state(app)
    assert (last, new_version, count) == (first, version, 1)


def test_another_device_counts_too(app: Flask, client: FlaskClient) -> None:
    _confirm(client)
    other = app.test_client().post(f"/stations/{STATION}/confirm", headers=SAME_ORIGIN)
    assert other.get_json()["status"] == "confirmed"
    assert _state(app)[2] == 2


def test_a_made_up_device_id_is_not_another_device(app: Flask, client: FlaskClient) -> None:
    """The server mints the device's key; an id the client invents is ignored."""
    _confirm(client)
    other = client.post(
        f"/stations/{STATION}/confirm",
        data={"device": "another-device-0000000000"},
        headers={**SAME_ORIGIN, "X-Device-Id": "yet-another-device-00000"},
    )
    assert other.get_json()["status"] == "already"
    assert _state(app)[2] == 1


def test_device_without_script_is_kept_in_a_cookie(app: Flask, client: FlaskClient) -> None:
    first = client.post(f"/stations/{STATION}/confirm", headers={"Origin": "http://localhost"})
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/stations/{STATION}?confirmed=confirmed")
    assert "sf_device=" in first.headers["Set-Cookie"]
    second = client.post(f"/stations/{STATION}/confirm", headers={"Origin": "http://localhost"})
    assert second.headers["Location"].endswith("confirmed=already")
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "你今天已确认过这个站点" in page


def test_cross_site_posts_are_refused(app: Flask, client: FlaskClient) -> None:
    evil = _confirm(client, Origin="https://evil.example")
    assert evil.status_code == 403
    no_origin = client.post(f"/stations/{STATION}/confirm", data={"device": DEVICE})
    assert no_origin.status_code == 403
    referer_only = client.post(
        f"/stations/{STATION}/confirm",
        data={"device": DEVICE},
        headers={"Referer": "https://evil.example/page"},
    )
    assert referer_only.status_code == 403
    assert _state(app)[0] is None


def test_same_origin_referer_is_enough(client: FlaskClient) -> None:
    response = client.post(
        f"/stations/{STATION}/confirm",
        data={"device": DEVICE},
        headers={"Referer": f"http://localhost/stations/{STATION}", "Accept": "application/json"},
    )
    assert response.get_json()["status"] == "confirmed"


def test_unknown_station_is_404(client: FlaskClient) -> None:
    assert _confirm(client, station="QT-XX-404").status_code == 404


def test_get_is_not_allowed(client: FlaskClient) -> None:
    assert client.get(f"/stations/{STATION}/confirm").status_code == 405
