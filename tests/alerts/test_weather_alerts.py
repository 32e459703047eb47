"""Weather alerts: the union sets one, couriers see it with the rules that apply."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from staff_login import csrf_from, staff_client

from stationfinder.alerts import weather
from stationfinder.db import session_scope
from stationfinder.models import Station
from stationfinder.registry import stations as registry

LOCAL = "%Y-%m-%dT%H:%M"


def _local(delta: timedelta) -> str:
    return (datetime.now(UTC) + timedelta(hours=8) + delta).strftime(LOCAL)


@pytest.mark.parametrize(
    ("temp", "words"),
    [(41, "40 °C"), (40, "40 °C"), (38, "6 hours"), (36, "rotated"), (30, None)],
)
def test_heat_rules_follow_the_measures_thresholds(temp: int, words: str | None) -> None:
    rules = weather.heat_rules(temp)
    assert (words is None and rules == []) or (len(rules) == 1 and words in rules[0])


def test_a_level_without_a_forecast_stands_for_its_threshold(app: Flask) -> None:
    now = datetime.now(UTC)
    with session_scope(app) as session:
        alert = weather.issue_alert(
            session,
            kind="heat",
            level="orange",
            starts_at=now,
            ends_at=now + timedelta(days=1),
            by="admin",
        )
        notice = weather.notice(alert)
    assert notice.helps == "cooling"
    assert "6 hours" in notice.rules[0] and "allowance" in notice.rules[-1]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "tornado"}, "kind"),
        ({"level": "purple"}, "level"),
        ({"ends_at": -1}, "ends_at"),
        ({"ends_at": 24 * 8}, "ends_at"),
        ({"max_temp_c": 99}, "max_temp_c"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_an_unusable_alert_is_refused_and_nothing_written(
    app: Flask, change: dict, field: str
) -> None:
    now = datetime.now(UTC)
    values = {"kind": "heat", "level": "red", "starts_at": now, "ends_at": now + timedelta(hours=6)}
    if "ends_at" in change:
        change = {"ends_at": now + timedelta(hours=change["ends_at"])}
    with session_scope(app) as session, pytest.raises(weather.AlertError) as refused:
        weather.issue_alert(session, **{**values, **change}, by="admin")
    assert refused.value.field == field
    with session_scope(app) as session:
        assert weather.alerts_for_staff(session) == []


def test_admin_sets_a_heat_alert_couriers_see_it_and_it_ends(app: Flask) -> None:
    admin = staff_client(app, "admin", "union_admin", None)
    page = admin.get("/staff/alerts").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "kind": "heat",
        "level": "red",
        "starts_at": _local(-timedelta(minutes=5)),
        "ends_at": _local(timedelta(hours=10)),
        "max_temp_c": "41",
        "note": "今天下午 41 度，午后尽量别在外面跑",
    }
    assert admin.post("/staff/alerts", data=form).status_code == 302
    courier = app.test_client()
    for path in ("/", "/map", "/council"):
        shown = courier.get(path).get_data(as_text=True)
        assert 'data-testid="weather-alert"' in shown, path
        assert "41 度" in shown and ("40℃" in shown or "40 °C" in shown), path
        assert "amenity=cooling" in shown
    in_english = courier.get("/?lang=en").get_data(as_text=True)
    assert "stops for the day" in in_english
    # Ended early: gone from the courier pages at once (this worker re-reads it).
    listing = admin.get("/staff/alerts").get_data(as_text=True)
    with session_scope(app) as session:
        alert_id = weather.alerts_for_staff(session)[0].id
    ended = admin.post(f"/staff/alerts/{alert_id}/end", data={"csrf_token": csrf_from(listing)})
    assert ended.status_code == 302
    assert 'data-testid="weather-alert"' not in courier.get("/").get_data(as_text=True)


def test_a_bad_period_is_a_form_message_that_keeps_what_was_typed(app: Flask) -> None:
    admin = staff_client(app, "admin", "union_admin", None)
    page = admin.get("/staff/alerts").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "kind": "cold_wave",
        "level": "yellow",
        "starts_at": _local(timedelta(hours=5)),
        "ends_at": _local(timedelta(hours=1)),
        "note": "寒潮来了注意保暖",
    }
    answer = admin.post("/staff/alerts", data=form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'data-testid="error-ends_at"' in html and "寒潮来了注意保暖" in html


def test_only_union_admins_set_alerts(app: Flask) -> None:
    street = staff_client(app, "baiyang", "street_staff", "白杨街道")
    assert street.get("/staff/alerts").status_code == 403
    assert app.test_client().get("/staff/alerts").status_code in (302, 401)


def _set_heat_alert(app: Flask) -> None:
    admin = staff_client(app, "heat_admin", "union_admin", None)
    page = admin.get("/staff/alerts").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "kind": "heat",
        "level": "orange",
        "starts_at": _local(-timedelta(minutes=5)),
        "ends_at": _local(timedelta(hours=6)),
        "max_temp_c": "38",
        "note": "",
    }
    assert admin.post("/staff/alerts", data=form).status_code == 302


XIASHA = {"lat": "30.3051", "lon": "120.3181", "k": "10"}


def test_while_an_alert_holds_the_api_says_so_and_lists_cooling_stations_first(
    app: Flask,
) -> None:
    courier = app.test_client()
    plain = courier.get("/api/v1/stations/nearest", query_string=XIASHA).get_json()
    assert plain["alert"] is None
    distances = [f["properties"]["distance_m"] for f in plain["features"]]
    assert distances == sorted(distances)

    _set_heat_alert(app)
    body = courier.get("/api/v1/stations/nearest", query_string=XIASHA).get_json()
    alert = body["alert"]
    assert alert["kind"] == "heat" and alert["level"] == "orange"
    assert alert["helps"] == "cooling" and alert["listed_first"] is True
    assert any("不得超过6小时" in rule for rule in alert["rules"])  # 37 °C and over, in words
    features = body["features"]
    # The same k nearest stations: nearest is still exactly nearest ...
    assert {f["id"] for f in features} == {f["id"] for f in plain["features"]}

    # ... with those whose air conditioning works first, each group nearest first.
    def cools(f: dict) -> bool:
        props = f["properties"]
        return "cooling" in props["amenities"] and "cooling" not in props["out_of_service"]

    helping = [f for f in features if cools(f)]
    others = [f for f in features if not cools(f)]
    assert helping and others, "the sample point should have both"
    assert features == helping + others
    for group in (helping, others):
        metres = [f["properties"]["distance_m"] for f in group]
        assert metres == sorted(metres)

    # Asking for an amenity of one's own: plain distance order, the alert still said.
    toilets = courier.get(
        "/api/v1/stations/nearest", query_string={**XIASHA, "amenity": "toilet"}
    ).get_json()
    assert toilets["alert"]["listed_first"] is False
    metres = [f["properties"]["distance_m"] for f in toilets["features"]]
    assert metres == sorted(metres)

    # The page without script: the same order, and why.
    page = courier.get("/nearest", query_string=XIASHA).get_data(as_text=True)
    assert _listed_first(page) == "天气预警期间：有空调的驿站排在前面。"
    shown = re.findall(r'data-testid="station-card" data-station-id="([^"]+)"', page)
    assert shown == [f["id"] for f in features]
    english = courier.get("/nearest", query_string={**XIASHA, "lang": "en"}).get_data(as_text=True)
    assert _listed_first(english) == (
        "Weather alert: stations with air conditioning are listed first."
    )


def _listed_first(page: str) -> str | None:
    """The note above the cards, when shown (None when hidden)."""
    note = re.search(
        r'<p class="listed-first" data-testid="listed-first"( hidden)?>(.*?)</p>', page
    )
    assert note, "no place for the note"
    return None if note.group(1) else note.group(2)


def test_without_an_alert_the_page_says_nothing_of_an_order(app: Flask) -> None:
    page = app.test_client().get("/nearest", query_string=XIASHA).get_data(as_text=True)
    assert _listed_first(page) is None


def test_with_no_cooling_at_hand_the_page_does_not_say_it_lists_cooling_first(app: Flask) -> None:
    """The ten nearest have their air conditioning paused: the order is plain distance,
    and the page does not claim to list cooling stations first."""
    courier = app.test_client()
    plain = courier.get("/api/v1/stations/nearest", query_string=XIASHA).get_json()
    nearest = [f["id"] for f in plain["features"]]
    with session_scope(app) as session:
        for station_id in nearest:
            row = session.get_one(Station, station_id)
            row.out_of_service = {**(row.out_of_service or {}), "cooling": "空调维修中"}
        registry.bump_version(session)
    _set_heat_alert(app)
    body = courier.get("/api/v1/stations/nearest", query_string=XIASHA).get_json()
    assert [f["id"] for f in body["features"]] == nearest  # none works: distance order
    page = courier.get("/nearest", query_string=XIASHA).get_data(as_text=True)
    assert _listed_first(page) is None
