"""Opening hours in Asia/Shanghai, with China's holidays and make-up working days."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from opening_hours import OpeningHours, State

from stationfinder.core.hours import (
    HoursState,
    is_open,
    state_at,
    today_in_words,
    validate,
    week_in_words,
)

CST = timezone(timedelta(hours=8))  # a plain offset, to show any tzinfo is accepted
OFFICE = "Mo-Fr 08:00-20:00; PH off"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))


# --- the basics -----------------------------------------------------------------------


def test_24_7_is_open_and_never_changes() -> None:
    assert state_at("24/7", at(2026, 10, 2, 3)) == HoursState(open=True, next_change=None)
    assert is_open("24/7", at(2026, 2, 17, 0)) is True


@pytest.mark.parametrize("expr", [None, "", "   ", "garbage", "Mo-Fr 25:00-26:00"])
def test_missing_or_unreadable_hours_are_unknown_not_closed(expr: str | None) -> None:
    assert is_open(expr, at(2026, 9, 30, 12)) is None
    assert state_at(expr, at(2026, 9, 30, 12)) == HoursState(open=None, next_change=None)


def test_an_unknown_rule_is_unknown() -> None:
    assert is_open("Mo-Fr 08:00-20:00 unknown", at(2026, 9, 30, 12)) is None
    assert is_open("Mo-Fr 08:00-20:00 || unknown", at(2026, 10, 11, 12)) is None
    state = state_at("Mo-Fr 08:00-20:00 unknown", at(2026, 9, 30, 12))
    assert state == HoursState(open=None, next_change=at(2026, 9, 30, 20))


def test_at_in_utc_is_read_in_shanghai() -> None:
    # 00:30 UTC on Friday 9 October is 08:30 in Hangzhou.
    utc = datetime(2026, 10, 9, 0, 30, tzinfo=UTC)
    assert is_open(OFFICE, utc) is True
    assert is_open(OFFICE, utc.replace(tzinfo=None)) is False  # naive: Shanghai already
    assert state_at(OFFICE, utc).next_change == datetime(2026, 10, 9, 20, tzinfo=CST)
    assert is_open(OFFICE, datetime(2026, 10, 9, 8, 30, tzinfo=CST)) is True


# --- holidays and make-up working days ------------------------------------------------


def test_closed_on_national_day_until_the_morning_after_the_holiday() -> None:
    state = state_at(OFFICE, at(2026, 10, 2, 12))  # a Friday inside 国庆节
    assert state.open is False
    assert state.next_change == datetime(2026, 10, 8, 8, tzinfo=CST)
    assert state.next_change.utcoffset() == timedelta(hours=8)


def test_next_change_on_the_eve_of_a_holiday_jumps_over_it() -> None:
    assert state_at(OFFICE, at(2026, 9, 30, 12)).next_change == at(2026, 9, 30, 20)
    assert state_at(OFFICE, at(2026, 9, 30, 21)).next_change == at(2026, 10, 8, 8)


def test_open_on_a_make_up_working_day() -> None:
    # Saturday 10 October 2026 is worked (调休上班) and keeps Friday's hours.
    assert state_at(OFFICE, at(2026, 10, 10, 10)) == HoursState(True, at(2026, 10, 10, 20))
    assert state_at(OFFICE, at(2026, 10, 10, 21)) == HoursState(False, at(2026, 10, 12, 8))
    assert state_at(OFFICE, at(2026, 10, 9, 21)).next_change == at(2026, 10, 10, 8)
    # ... and an ordinary Saturday stays closed.
    assert is_open(OFFICE, at(2026, 10, 17, 10)) is False


def test_a_sunday_make_up_day_takes_mondays_hours() -> None:
    expr = "Mo 09:00-17:00; Tu-Fr 08:00-20:00"
    assert is_open(expr, at(2026, 9, 20, 8, 30)) is False  # Sunday 20 Sep, worked
    assert is_open(expr, at(2026, 9, 20, 9, 30)) is True


def test_the_librarys_own_calendar_is_why_we_ship_one() -> None:
    """If the library learns 国庆节, this fails: then reconsider holidays_cn.json."""
    oh = OpeningHours(OFFICE, country="CN")
    assert oh.is_open(datetime(2026, 10, 2, 12)) is True
    assert is_open(OFFICE, at(2026, 10, 2, 12)) is False


@pytest.mark.parametrize(
    ("expr", "when", "expected"),
    [
        ("Mo-Fr 08:00-20:00; PH 09:00-12:00", at(2026, 10, 2, 10), True),
        ("Mo-Fr 08:00-20:00; PH 09:00-12:00", at(2026, 10, 2, 13), False),
        ("Mo-Fr,PH 08:00-20:00", at(2026, 10, 3, 10), True),  # a Saturday holiday
        ("Mo-Fr,PH 08:00-20:00", at(2026, 10, 17, 10), False),
        ("PH,Su off; 24/7", at(2026, 2, 17, 10), True),  # later rules win, as in OSM
        ('Mo-Fr 08:00-20:00 "not on PH"; PH,Sa,Su off', at(2025, 1, 29, 10), False),
        ('Mo-Fr 08:00-20:00 "not on PH"; PH,Sa,Su off', at(2025, 1, 27, 10), True),
        ("24/7; PH 10:00-16:00 unknown", at(2025, 5, 2, 12), None),
        ("Mo-Su 08:00-20:00; PH off", at(2026, 9, 26, 12), False),  # 中秋节
        ("Mo-Su 08:00-20:00; PH off", at(2026, 10, 8, 12), True),
    ],
)
def test_ph_selects_the_calendars_holidays(
    expr: str, when: datetime, expected: bool | None
) -> None:
    assert is_open(expr, when) is expected


@pytest.mark.parametrize(
    "expr",
    [
        OFFICE,
        "Mo-Fr,PH 08:00-20:00",
        "PH Mo-Fr 08:00-12:00",  # the library reads this as a union, so must we
        "Mo-Fr PH off; Sa 10:00-14:00",
        "24/7; PH 10:00-12:00,14:00-16:00",
        "2026 PH off; 24/7",
        "Oct PH 09:00-11:00",
        "Mo-Su 06:00-22:00; PH sunrise-sunset",
        'Mo-Fr 08:00-20:00; PH off "PH: closed"',
        "Mo-Fr 08:00-20:00; PH 10:00-16:00 unknown",
        "Mo-Fr 08:00-20:00 || PH closed",
    ],
)
def test_on_a_day_the_library_also_knows_as_ph_we_agree_with_it(expr: str) -> None:
    """2026-10-01 is PH for the library too: our reading of PH must match its reading."""
    library = OpeningHours(
        expr, timezone=ZoneInfo("Asia/Shanghai"), country="CN", coords=(30.30, 120.50)
    )
    for minute in range(0, 24 * 60, 30):
        when = datetime(2026, 10, 1) + timedelta(minutes=minute)
        expected = {State.OPEN: True, State.CLOSED: False}.get(library.state(when)[0])
        assert is_open(expr, when) is expected, when


@pytest.mark.parametrize("when", [datetime(2027, 10, 1, 12), datetime(2024, 10, 1, 12)])
def test_outside_the_calendar_the_library_decides(when: datetime) -> None:
    library = OpeningHours(OFFICE, timezone=ZoneInfo("Asia/Shanghai"), country="CN")
    assert is_open(OFFICE, when) is library.is_open(when)


def test_calendar_file_is_sound() -> None:
    raw = json.loads(resources.files("stationfinder.core").joinpath("holidays_cn.json").read_text())
    assert raw["source"] and raw["notice"]
    assert {"2025", "2026"} <= set(raw["years"])
    names = {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
    seen: set[date] = set()
    for year, entries in raw["years"].items():
        assert set().union(*(e["names"] for e in entries)) == names, year
        for entry in entries:
            start, end = date.fromisoformat(entry["from"]), date.fromisoformat(entry["to"])
            assert start.year == end.year == int(year) and start <= end
            days = {start + timedelta(n) for n in range((end - start).days + 1)}
            assert not days & seen
            seen |= days
            for w in map(date.fromisoformat, entry["workdays"]):
                assert w.weekday() >= 5, f"make-up day {w} is not a weekend"
                assert w not in seen


# --- words ----------------------------------------------------------------------------


def test_week_in_words_in_chinese() -> None:
    expr = "Mo-Fr 08:30-11:30,13:30-17:30; Sa 09:00-12:00 unknown; PH off"
    assert week_in_words(expr, date(2026, 10, 5)) == [
        (date(2026, 10, 5), "国庆节 休息"),
        (date(2026, 10, 6), "国庆节 休息"),
        (date(2026, 10, 7), "国庆节 休息"),
        (date(2026, 10, 8), "08:30–11:30, 13:30–17:30"),
        (date(2026, 10, 9), "08:30–11:30, 13:30–17:30"),
        (date(2026, 10, 10), "调休上班 08:30–11:30, 13:30–17:30"),
        (date(2026, 10, 11), "休息"),
    ]
    assert [text for _, text in week_in_words(expr, date(2026, 10, 12))][5] == (
        "09:00–12:00（未知）"
    )


def test_week_in_words_in_english() -> None:
    words = week_in_words("24/7; PH 08:00-20:00", date(2025, 9, 29), lang="en")
    assert [text for _, text in words] == [
        "open 24 hours",
        "open 24 hours",
        "National Day and Mid-Autumn Festival: 08:00–20:00",
        "National Day and Mid-Autumn Festival: 08:00–20:00",
        "National Day and Mid-Autumn Festival: 08:00–20:00",
        "National Day and Mid-Autumn Festival: 08:00–20:00",
        "National Day and Mid-Autumn Festival: 08:00–20:00",
    ]


def test_week_in_words_for_unknown_and_overnight_hours() -> None:
    assert week_in_words(None, date(2026, 3, 2), lang="en")[0] == (date(2026, 3, 2), "unknown")
    assert week_in_words("Mo-Su 22:00-02:00", date(2026, 3, 2))[0][1] == (
        "00:00–02:00, 22:00–24:00"
    )
    assert week_in_words("Mo-Fr 08:00-20:00", date(2026, 3, 7))[0][1] == "休息"


def test_today_in_words() -> None:
    assert today_in_words("Mo-Fr 08:00-20:00", at(2026, 3, 2, 9)) == "今天 08:00–20:00"
    assert today_in_words("Mo-Fr 08:00-20:00", at(2026, 3, 2, 9), "en") == "Today 08:00–20:00"
    # 16:30 UTC on Thursday 1 October is already Friday 2 October in Hangzhou.
    utc = datetime(2026, 10, 1, 16, 30, tzinfo=UTC)
    assert today_in_words(OFFICE, utc) == "今天 国庆节 休息"
    assert today_in_words("24/7", at(2026, 3, 2, 9)) == "今天 24小时"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="fr"):
        today_in_words("24/7", at(2026, 3, 2, 9), lang="fr")


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr", ["24/7", "Mo-Fr 08:00-20:00; PH off", "Mo-Fr 08:00-20:00 unknown", "sunrise-sunset"]
)
def test_valid_expressions_have_no_message(expr: str) -> None:
    assert validate(expr) is None


def test_impossible_times_get_a_message_that_points_at_them() -> None:
    message = validate("Mo-Fr 25:00-26:00")
    assert message is not None and "7" in message and "25:00-26:00" in message
    english = validate("Mo-Fr 25:00-26:00", lang="en")
    assert english is not None and english.startswith("Not valid opening_hours syntax")


@pytest.mark.parametrize("expr", ["garbage", "", "  ", "Mo-Fr 08:00-", "开放"])
def test_garbage_gets_a_message(expr: str) -> None:
    assert validate(expr)
    assert validate(expr, lang="en")


# --- against a brute force ------------------------------------------------------------

minutes = st.integers(0, 24 * 60 - 1)
moments = st.datetimes(min_value=datetime(2024, 6, 1), max_value=datetime(2028, 6, 1))


def hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@given(opens=minutes, closes=st.integers(1, 24 * 60), when=moments)
def test_daily_hours_match_a_brute_force(opens: int, closes: int, when: datetime) -> None:
    """`HH:MM-HH:MM` every day: holidays and make-up days must change nothing."""
    assume(opens != closes)
    # Past midnight (closes <= opens) the hours run on into the next morning.
    end = closes if closes > opens else closes + 24 * 60
    open_minutes = {m % (24 * 60) for m in range(opens, end)}
    expected = when.hour * 60 + when.minute in open_minutes
    assert is_open(f"{hhmm(opens)}-{hhmm(closes)}", when) is expected


@given(
    expr=st.sampled_from(
        [OFFICE, "Mo-Fr 08:30-11:30,13:30-17:30; Sa 09:00-12:00; PH,Su off", "PH 10:00-16:00"]
    ),
    when=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)),
)
def test_next_change_is_where_the_state_changes(expr: str, when: datetime) -> None:
    state = state_at(expr, when)
    assert state.next_change is not None
    change = state.next_change.replace(tzinfo=None)
    assert change > when
    assert is_open(expr, change) is not state.open
    assert is_open(expr, change - timedelta(seconds=1)) is state.open
    # No change hides in between: sample each hour and each day boundary.
    t = when
    while t < change:
        assert is_open(expr, t) is state.open
        t = datetime.combine(t.date(), time(t.hour)) + timedelta(hours=1)
