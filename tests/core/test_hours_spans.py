"""`hours.state_spans` says, at any moment of its window, what `state_at` says.

The phone's offline copy is these spans (GET /api/v1/stations/hours), so a card offline
reads "开放中 · 21:00 关门" only if the span holding that moment has the server's state and
ends at the server's next change. Checked for every sample station's hours and a few
harder expressions, at random moments of windows that hold holidays and make-up working
days (holidays_cn.json) and one that runs past the calendar's last year.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stationfinder.core import hours

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "stations.geojson"
SAMPLE_HOURS = sorted(
    {
        f["properties"].get("opening_hours")
        for f in json.loads(SAMPLE.read_text())["features"]
        if f["properties"].get("opening_hours")
    }
)
HARDER = [
    "Mo-Fr 09:00-18:00; PH 10:00-14:00",  # different hours on holidays
    "Mo-Su 22:00-02:00",  # past midnight, into a day of another case
    "Mo-Fr 08:00-12:00 unknown; Sa 10:00-12:00",  # unknown is never closed
    'Mo-Sa 08:00-18:00; PH off; Su 09:00-12:00 "周日半天"',
    "Mo-Fr 08:30-17:30; PH +1 day off",  # an offset: the library's own calendar
]
EXPRESSIONS = SAMPLE_HOURS + HARDER
# Windows (start day) that hold special days of the calendar:
WINDOWS = [
    date(2026, 9, 18),  # Sunday 9-20 is a make-up working day (调休上班)
    date(2026, 9, 29),  # National Day 10-01..10-07
    date(2026, 10, 5),  # its end, and Saturday 10-10 worked
    date(2026, 2, 11),  # Spring Festival, with 2-14 worked before it
    date(2026, 12, 28),  # into 2027, past the calendar's last year
]
DAYS = 7


def _span_at(spans: tuple[hours.Span, ...], at: datetime) -> hours.Span:
    for span in spans:
        if span.start <= at and (span.end is None or at < span.end):
            return span
    raise AssertionError(f"no span holds {at}")


def test_the_windows_hold_special_days() -> None:
    """Else the property below would prove less than it says."""
    assert len(SAMPLE_HOURS) >= 5
    office = "Mo-Fr 08:30-17:30; PH off"
    assert hours.is_open(office, datetime(2026, 9, 20, 9, 0, tzinfo=hours.TZ)) is True  # a Sunday
    assert hours.is_open(office, datetime(2026, 10, 1, 9, 0, tzinfo=hours.TZ)) is False  # Thursday
    assert hours.is_open(office, datetime(2026, 2, 14, 9, 0, tzinfo=hours.TZ)) is True  # Saturday


@settings(max_examples=400, deadline=None)
@given(
    expr=st.sampled_from(EXPRESSIONS),
    window=st.sampled_from(WINDOWS),
    offset_s=st.integers(min_value=0, max_value=DAYS * 86400 - 1),
)
def test_spans_agree_with_state_at_at_any_moment(expr: str, window: date, offset_s: int) -> None:
    spans = hours.state_spans(expr, window, DAYS)
    assert spans is not None
    at = datetime.combine(window, time(), tzinfo=hours.TZ) + timedelta(seconds=offset_s)
    span = _span_at(spans, at)
    server = hours.state_at(expr, at)
    assert span.open == server.open == hours.is_open(expr, at), (expr, at)
    assert span.end == server.next_change, (expr, at)


@pytest.mark.parametrize("expr", EXPRESSIONS)
@pytest.mark.parametrize("window", WINDOWS)
def test_spans_cover_the_window_without_gaps_and_change_state_at_each_edge(
    expr: str, window: date
) -> None:
    spans = hours.state_spans(expr, window, DAYS)
    assert spans is not None
    start = datetime.combine(window, time(), tzinfo=hours.TZ)
    assert spans[0].start == start
    for before, after in itertools.pairwise(spans):
        assert before.end == after.start
        assert before.open != after.open
        # Just before and at each edge, the server agrees too.
        assert hours.is_open(expr, after.start - timedelta(seconds=1)) == before.open
        assert hours.is_open(expr, after.start) == after.open
    last = spans[-1]
    assert last.end is None or last.end >= start + timedelta(days=DAYS)


def test_a_holiday_and_a_make_up_day_are_in_the_spans() -> None:
    """The weekday office is closed all of National Day and open on Saturday 10-10."""
    office = "Mo-Fr 08:30-11:30,13:30-17:30; PH off"
    spans = hours.state_spans(office, date(2026, 9, 30), DAYS + 5)
    assert spans is not None
    closed = _span_at(spans, datetime(2026, 10, 3, 12, 0, tzinfo=hours.TZ))
    assert closed.open is False
    assert closed.start == datetime(2026, 9, 30, 17, 30, tzinfo=hours.TZ)
    assert closed.end == datetime(2026, 10, 8, 8, 30, tzinfo=hours.TZ)
    saturday = _span_at(spans, datetime(2026, 10, 10, 9, 0, tzinfo=hours.TZ))
    assert saturday.open is True
    assert saturday.end == datetime(2026, 10, 10, 11, 30, tzinfo=hours.TZ)


def test_unknown_hours_have_no_spans_and_days_must_be_positive() -> None:
    assert hours.state_spans(None, date(2026, 10, 1)) is None
    assert hours.state_spans("", date(2026, 10, 1)) is None
    assert hours.state_spans("Mo-Fr 25:00-26:00 nonsense", date(2026, 10, 1)) is None
    with pytest.raises(ValueError):
        hours.state_spans("24/7", date(2026, 10, 1), 0)


def test_an_expression_with_a_ph_offset_has_no_make_up_days_either() -> None:
    """Such an expression is the library's on every date (module docstring): Sunday 9-20,
    a make-up working day, was still evaluated as Monday by is_open while next_change
    skipped over it, so the two disagreed (found by the property above)."""
    expr = "Mo-Fr 08:30-17:30; PH +1 day off"
    sunday = datetime(2026, 9, 20, 9, 0, tzinfo=hours.TZ)
    assert hours.is_open(expr, sunday) is False
    friday_evening = datetime(2026, 9, 18, 17, 30, tzinfo=hours.TZ)
    assert hours.state_at(expr, friday_evening).next_change == datetime(
        2026, 9, 21, 8, 30, tzinfo=hours.TZ
    )
