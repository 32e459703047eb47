"""The locator's fast paths give the same answers as the plain ones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from stationfinder.core import hours
from stationfinder.geo.point import Point
from stationfinder.registry.locator import HoursStates, nearest_stations, nearest_stations_json
from stationfinder.web.context import current_index

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXPRESSIONS = (
    "24/7",
    "Mo-Fr 08:30-17:30; PH off",
    "Mo-Su 07:00-22:00",
    "Mo-Fr 09:00-12:00,13:30-17:30; Sa 09:00-12:00",
    "Mo-Sa 08:00-20:00; Su 10:00-18:00",
    "not hours at all",
    "",
)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    steps=st.lists(st.integers(-3 * 24 * 60, 3 * 24 * 60), min_size=1, max_size=12),
    expr=st.sampled_from(EXPRESSIONS),
)
def test_reused_opening_states_equal_fresh_ones(
    start: datetime, steps: list[int], expr: str
) -> None:
    """The cache against hours.state_at itself, at moments before, inside and after the
    span an earlier answer covers."""
    states = HoursStates()
    at = start.replace(tzinfo=SHANGHAI)
    for minutes in steps:
        at += timedelta(minutes=minutes)
        assert states(expr, at) == hours.state_at(expr, at)
        naive = at.replace(tzinfo=None)  # naive moments are Asia/Shanghai
        assert states(expr, naive) == hours.state_at(expr, naive)


@pytest.mark.parametrize(
    "filters",
    [{}, {"k": 10, "open_now": True}, {"amenities": ["toilet"]}, {"radius_m": 2_000.0}],
)
def test_json_answer_equals_the_features(app: Flask, filters: dict) -> None:
    snapshot = current_index(app).current()
    at = datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)
    common = {"at": at, "walk_kmh": 4.5, "ride_kmh": 15.0, **filters}
    answered = 0
    for lon, lat in ((120.318, 30.305), (120.50, 30.30), (120.70, 30.40)):
        point = Point(lon, lat)
        features = nearest_stations(snapshot, point, **common)
        answered += len(features)
        assert json.loads(nearest_stations_json(snapshot, point, **common)) == features
    assert answered
