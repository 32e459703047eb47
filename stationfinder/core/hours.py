"""Opening hours in OpenStreetMap `opening_hours` syntax, evaluated in Asia/Shanghai.

Parsing and evaluation are the `opening-hours-py` library's. What this module adds is
China's holiday calendar, because the library's built-in CN calendar is incomplete (it
knows e.g. only 2026-10-01 of National Day, and nothing of make-up working days, 调休上班).
The official State Council arrangements live in `holidays_cn.json`, which we control.

How the calendar is applied. Every date falls in one of four cases:

- an official holiday (放假): the expression is evaluated with `PH` rewritten to `Mo-Su`,
  so every rule that selects PH selects this day, as if the library knew it (the rewrite
  works on the library's canonical form, where `PH Mo-Fr` is the union `PH,Mo-Fr`, which
  is also how the library evaluates it);
- a make-up working day (调休上班, a Saturday or Sunday): the station keeps the hours the
  expression gives on the *nearest ordinary working day* (Monday–Friday, not a holiday;
  in practice a Saturday takes Friday's hours and a Sunday Monday's). Dated rules the
  expression may have for the make-up day itself are therefore not seen;
- any other date in the calendar's years: evaluated with no public holidays at all;
- a date outside the calendar's years (before 2025, or after its last year until the next
  State Council notice is added to the JSON): the library's own behaviour, with its CN
  calendar.

`PH` with a day offset (`PH +1 day`) cannot be expressed this way; such expressions use
the library's behaviour on every date. Each calendar day is evaluated as its own case, so
hours running past midnight into a day of another case follow that day's case.

Unknown is never closed: a missing, blank or unparseable expression, or an `unknown` rule,
gives `open=None`. (The library itself reads a blank expression as 24/7; we do not.)
`next_change` looks at most about a year ahead and is None beyond that.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from functools import cache, lru_cache
from importlib import resources

from opening_hours import OpeningHours, ParserError, State

from stationfinder.core.clock import SHANGHAI
from stationfinder.core.text import N_, translations

__all__ = [
    "TZ",
    "HoursState",
    "Span",
    "always_open",
    "is_open",
    "state_at",
    "state_spans",
    "today_in_words",
    "validate",
    "week_in_words",
]

# Words come from the gettext catalogues (msgids in English, see core/text.py). The
# calendar (holidays_cn.json) names holidays in Chinese; these are their msgids.
HOLIDAY_NAMES: dict[str, str] = {
    "元旦": N_("New Year's Day"),
    "春节": N_("Spring Festival"),
    "清明节": N_("Qingming Festival"),
    "劳动节": N_("Labour Day"),
    "端午节": N_("Dragon Boat Festival"),
    "中秋节": N_("Mid-Autumn Festival"),
    "国庆节": N_("National Day"),
}

TZ = SHANGHAI  # opening hours are local times
# Sunrise/sunset rules need a place; the district's centre is good to a minute. (With
# auto_timezone=False the library ignores coords and uses 07:00/19:00.)
_QIANTANG_LAT_LON = (30.30, 120.50)
# Without a cap the library searches to year 9999 for a change that never comes (over a
# second for an always-closed day); with it, "no change within a year" reads as None.
_HORIZON_DAYS = 366
_MAX_SEGMENTS = 1000
_DAY = timedelta(days=1)
_STATE: dict[State, bool | None] = {State.OPEN: True, State.CLOSED: False, State.UNKNOWN: None}
_PH = re.compile(r"\bPH\b")
_PH_OFFSET = re.compile(r"\bPH\s*[+-]?\s*\d+\s*days?\b")
_QUOTED = re.compile(r'("[^"]*")')
_ERROR_COLUMN = re.compile(r"-->\s*\d+:(\d+)")


@dataclass(frozen=True)
class HoursState:
    """Open now, and when that changes. `open=None` is unknown, never to be read as closed."""

    open: bool | None
    next_change: datetime | None


# --- the holiday calendar -------------------------------------------------------------


class _Kind(Enum):
    ORDINARY = "ordinary"
    HOLIDAY = "holiday"
    MAKEUP = "makeup"
    OUTSIDE = "outside"  # no calendar data: the library decides


@dataclass(frozen=True)
class _Day:
    kind: _Kind
    shift: timedelta = timedelta(0)  # MAKEUP: evaluate at the same time on date + shift
    names: tuple[str, ...] = ()  # the holiday's names, as in the JSON (Chinese)


_ORDINARY = _Day(_Kind.ORDINARY)
_OUTSIDE = _Day(_Kind.OUTSIDE)


@dataclass(frozen=True)
class _Calendar:
    first: date
    last: date
    special: dict[date, _Day]
    boundaries: tuple[date, ...]  # sorted dates whose case differs from the day before

    def day(self, d: date) -> _Day:
        if d < self.first or d > self.last:
            return _OUTSIDE
        return self.special.get(d, _ORDINARY)

    def segment_end(self, d: date) -> date | None:
        """The first date after `d` evaluated differently from `d` (None: never)."""
        i = bisect_right(self.boundaries, d)
        return self.boundaries[i] if i < len(self.boundaries) else None


@cache
def _calendar() -> _Calendar:
    """Load `holidays_cn.json` once, on first use (nothing happens at import time)."""
    raw = json.loads(resources.files("stationfinder.core").joinpath("holidays_cn.json").read_text())
    years = sorted(int(y) for y in raw["years"])
    if years != list(range(years[0], years[-1] + 1)):
        raise ValueError(f"holidays_cn.json skips a year between {years[0]} and {years[-1]}")
    first, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    special: dict[date, _Day] = {}
    makeups: dict[date, tuple[str, ...]] = {}
    for entries in raw["years"].values():
        for entry in entries:
            names = tuple(entry["names"])
            d, to = date.fromisoformat(entry["from"]), date.fromisoformat(entry["to"])
            while d <= to:
                special[d] = _Day(_Kind.HOLIDAY, names=names)
                d += _DAY
            for w in entry["workdays"]:
                makeups[date.fromisoformat(w)] = names

    def ordinary_workday(d: date) -> bool:
        return d.weekday() < 5 and d not in special and d not in makeups

    for d, names in makeups.items():
        # Nearest ordinary working day, earlier first on a tie.
        k = next(k for n in range(1, 15) for k in (-n, n) if ordinary_workday(d + k * _DAY))
        special[d] = _Day(_Kind.MAKEUP, shift=k * _DAY, names=names)

    cal = _Calendar(first, last, special, ())
    boundaries = []
    d = first
    while d <= last + _DAY:
        if cal.day(d) != cal.day(d - _DAY):
            boundaries.append(d)
        d += _DAY
    return _Calendar(first, last, special, tuple(boundaries))


# --- compiling an expression ----------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    ordinary: OpeningHours  # no public holidays
    holiday: OpeningHours  # every day a public holiday
    library: OpeningHours  # the library's own CN calendar
    uses_calendar: bool

    def day(self, d: date) -> _Day:
        """How date `d` is evaluated for this expression: the library's way on every
        date when it does not use our calendar (no make-up day shift either)."""
        return _calendar().day(d) if self.uses_calendar else _OUTSIDE

    def for_day(self, day: _Day) -> OpeningHours:
        if not self.uses_calendar or day.kind is _Kind.OUTSIDE:
            return self.library
        return self.holiday if day.kind is _Kind.HOLIDAY else self.ordinary


def _parse(expr: str, country: str | None = None, horizon: int = _HORIZON_DAYS) -> OpeningHours:
    return OpeningHours(
        expr,
        timezone=TZ,
        country=country,
        coords=_QIANTANG_LAT_LON,
        auto_country=False,  # country=None must mean "no public holidays"
        max_interval_days=horizon,
    )


def _with_every_day_a_holiday(canonical: str) -> str:
    """The library's canonical form with PH replaced by Mo-Su outside quoted comments."""
    parts = _QUOTED.split(canonical)
    return "".join(p if i % 2 else _PH.sub("Mo-Su", p) for i, p in enumerate(parts))


@lru_cache(maxsize=4096)
def _compile(expr: str) -> _Compiled | None:
    """Parse once per distinct string; None when the expression cannot be evaluated."""
    if not expr.strip():
        return None
    try:
        library = _parse(expr, country="CN")
        ordinary = _parse(expr)
    except ParserError:
        return None
    bare = "".join(p for i, p in enumerate(_QUOTED.split(expr)) if not i % 2)
    if not _PH.search(bare):
        return _Compiled(ordinary, ordinary, library, uses_calendar=True)
    if _PH_OFFSET.search(bare):
        return _Compiled(library, library, library, uses_calendar=False)
    try:
        # Only asked within a run of holidays (at most 9 days), so a short horizon will do.
        holiday = _parse(_with_every_day_a_holiday(str(ordinary)), horizon=31)
    except ParserError:  # a canonical form that does not parse back: the library decides
        return _Compiled(library, library, library, uses_calendar=False)
    return _Compiled(ordinary, holiday, library, uses_calendar=True)


# --- evaluation -----------------------------------------------------------------------


def _local(at: datetime) -> datetime:
    """Naive Asia/Shanghai wall time; naive input is taken to be that already."""
    if at.tzinfo is None:
        return at
    return at.astimezone(TZ).replace(tzinfo=None)


def _naive(dt: datetime) -> datetime:
    return dt.replace(tzinfo=None)


def _state(c: _Compiled, t: datetime) -> bool | None:
    day = c.day(t.date())
    return _STATE[c.for_day(day).state(t + day.shift)[0]]


def _next_change(c: _Compiled, t: datetime) -> datetime | None:
    """Walk the stretches of days evaluated alike, asking the library within each."""
    cal = _calendar()
    current = _state(c, t)
    pos = t
    for _ in range(_MAX_SEGMENTS):
        day = c.day(pos.date())
        oh = c.for_day(day)
        end_date = cal.segment_end(pos.date()) if c.uses_calendar else None
        end = datetime.combine(end_date, time()) if end_date else None
        probe = pos
        while (found := oh.next_change(probe + day.shift)) is not None:
            found = _naive(found) - day.shift
            if found <= probe or (end is not None and found >= end):
                break
            if _STATE[oh.state(found + day.shift)[0]] != current:
                return found
            probe = found  # only the comment changed
        if end is None or (found is None and end - pos > timedelta(days=_HORIZON_DAYS)):
            return None
        if _state(c, end) != current:
            return end
        pos = end
    return None


def is_open(expr: str | None, at: datetime) -> bool | None:
    """Whether a station is open at `at`; None when unknown. The hot path of a query."""
    c = _compile(expr) if expr is not None else None
    if c is None:
        return None
    t = _local(at)
    day = c.day(t.date())
    return _STATE[c.for_day(day).state(t + day.shift)[0]]


def state_at(expr: str | None, at: datetime) -> HoursState:
    """Open at `at`, and when that next changes (in Asia/Shanghai time)."""
    c = _compile(expr) if expr is not None else None
    if c is None:
        return HoursState(open=None, next_change=None)
    t = _local(at)
    change = _next_change(c, t)
    return HoursState(_state(c, t), None if change is None else change.replace(tzinfo=TZ))


@lru_cache(maxsize=4096)
def always_open(expr: str | None) -> bool:
    """Whether `expr` says open around the clock on every day, holidays included.

    The library's normal form of any spelling of that is exactly "24/7" ("Mo-Su
    00:00-24:00", "00:00-24:00" and "Mo-Fr; Sa,Su" among them), while any exception
    ("24/7; PH off", an `unknown` rule, a comment) keeps another form. It depends on the
    expression alone, not on the day asked, so a station's 24-hour flag is derived from its
    hours and can never contradict them. Unknown or unparseable hours are not 24-hour.
    """
    if expr is None or not expr.strip():
        return False
    try:
        return str(OpeningHours(expr).normalize()) == "24/7"
    except ParserError:
        return False


def validate(expr: str, lang: str = "zh") -> str | None:
    """None if `expr` is usable, else a message for a form or an import report."""
    _ = translations(lang).gettext
    if not expr.strip():
        return _("The opening hours are empty.")
    try:
        OpeningHours(expr)
    except ParserError as e:
        m = _ERROR_COLUMN.search(str(e))
        column = int(m.group(1)) if m else 1
        excerpt = expr[column - 1 : column + 19] or expr[-20:]
        return _("Not valid opening_hours syntax near character %(column)s: “%(excerpt)s”.") % {
            "column": column,
            "excerpt": excerpt,
        }
    return None


# --- words ----------------------------------------------------------------------------


def _day_intervals(c: _Compiled, d: date) -> list[tuple[datetime, datetime, bool | None]]:
    day = c.day(d)
    start = datetime.combine(d, time())
    end = start + _DAY
    merged: list[tuple[datetime, datetime, bool | None]] = []
    for s, e, state, _comment in c.for_day(day).intervals(start + day.shift, end + day.shift):
        s, e = max(_naive(s) - day.shift, start), min(_naive(e) - day.shift, end)
        value = _STATE[state]
        if s >= e:
            continue
        if merged and merged[-1][2] == value and merged[-1][1] == s:
            merged[-1] = (merged[-1][0], e, value)
        else:
            merged.append((s, e, value))
    return merged


def _clock(t: datetime, day_start: datetime) -> str:
    return "24:00" if t - day_start == _DAY else t.strftime("%H:%M")


def _day_in_words(expr: str | None, d: date, _: Callable[[str], str]) -> str:
    c = _compile(expr) if expr is not None else None
    if c is None:
        return _("unknown")
    intervals = _day_intervals(c, d)
    if len(intervals) == 1:
        text = {True: _("open 24 hours"), False: _("closed"), None: _("unknown")}[intervals[0][2]]
    else:
        start = datetime.combine(d, time())
        spans = []
        for s, e, value in intervals:
            span = f"{_clock(s, start)}–{_clock(e, start)}"
            if value is True:
                spans.append(span)
            elif value is None:
                spans.append(_("%(span)s (unknown)") % {"span": span})
        text = _(", ").join(spans) or _("closed")
    day = _calendar().day(d)
    if c.uses_calendar and day.kind is _Kind.HOLIDAY:
        label = _(" and ").join(_(HOLIDAY_NAMES.get(name, name)) for name in day.names)
        return _("%(label)s: %(text)s") % {"label": label, "text": text}
    if c.uses_calendar and day.kind is _Kind.MAKEUP:
        return _("%(label)s: %(text)s") % {"label": _("make-up working day"), "text": text}
    return text


def week_in_words(expr: str | None, start: date, lang: str = "zh") -> list[tuple[date, str]]:
    """Seven days from `start`, each with its hours in words.

    Holidays and make-up working days are labelled even when the hours do not change, so
    a courier planning around 国庆节 sees at a glance which days are special.
    """
    _ = translations(lang).gettext
    return [(d, _day_in_words(expr, d, _)) for d in (start + k * _DAY for k in range(7))]


def today_in_words(expr: str | None, at: datetime, lang: str = "zh") -> str:
    """The hours of the Asia/Shanghai day containing `at`, e.g. "今天 08:00–20:00"."""
    _ = translations(lang).gettext
    return _("Today %(text)s") % {"text": _day_in_words(expr, _local(at).date(), _)}


# --- the coming days, for a copy kept on the phone ------------------------------------


@dataclass(frozen=True)
class Span:
    """A stretch of time with one state, from `start` until the next change `end`.

    `end` is exactly what `state_at` gives as `next_change` anywhere inside the span, so
    the last span of a window may end after the window (or never: None, no change within
    the year `state_at` looks ahead). Times are aware, Asia/Shanghai.
    """

    start: datetime
    end: datetime | None
    open: bool | None


def state_spans(expr: str | None, start: date, days: int = 7) -> tuple[Span, ...] | None:
    """The states from `start` 00:00 for `days` days, as `state_at` would say them.

    Computed on the server (holidays and make-up working days included) so that a phone
    with no network can answer "open now, closes at 21:00" exactly as the server would,
    without an evaluator of its own. None when the hours cannot be evaluated at all
    (what `state_at` reports as open=None with no next change, at every moment).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    return _state_spans(expr, start, days) if expr is not None else None


@lru_cache(maxsize=1024)
def _state_spans(expr: str, start: date, days: int) -> tuple[Span, ...] | None:
    # A few dozen expressions serve a whole registry, and the window moves once a day.
    c = _compile(expr)
    if c is None:
        return None
    merged: list[tuple[datetime, datetime, bool | None]] = []
    for k in range(days):
        for s, e, value in _day_intervals(c, start + k * _DAY):
            if merged and merged[-1][2] == value and merged[-1][1] == s:
                merged[-1] = (merged[-1][0], e, value)
            else:
                merged.append((s, e, value))
    spans = [Span(s.replace(tzinfo=TZ), e.replace(tzinfo=TZ), v) for s, e, v in merged]
    # The last one runs on past the window until its state changes, as state_at says.
    last = spans[-1]
    after = _next_change(c, _naive(last.start))
    spans[-1] = Span(last.start, None if after is None else after.replace(tzinfo=TZ), last.open)
    return tuple(spans)
