"""Weather alerts: heat (高温), cold waves (寒潮) and rainstorms (暴雨), set by the union.

While an alert holds, the courier pages and the API say so, list first the stations
that help against it (air-conditioned ones in heat, shelters in cold and rain), and
state the working-time rules that apply.

The heat rules are those of the 防暑降温措施管理办法 (Measures for Heatstroke
Prevention and Cooling, 2012, art. 8): from 40 °C outdoor work in the open stops for the
day; from 37 °C it is limited to 6 hours a day and none in the 3 hottest hours; from
35 °C shifts are rotated and shortened and no overtime is arranged in the open; and a
high-temperature allowance is due (art. 17). When staff give no forecast maximum, the
signal's level stands for its threshold, as the China Meteorological Administration
defines the heat signals: yellow 35 °C, orange 37 °C, red 40 °C. Flask-free.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from stationfinder.core.errors import DomainError, NotFoundError
from stationfinder.core.text import N_
from stationfinder.models import WeatherAlert, utcnow


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # an English msgid
    helps: str  # the amenity code of the stations listed first


KINDS: tuple[Kind, ...] = (
    Kind("heat", N_("Heat"), "cooling"),
    Kind("cold_wave", N_("Cold wave"), "warm_shelter"),
    Kind("rainstorm", N_("Rainstorm"), "warm_shelter"),
)
KIND_BY_CODE = {k.code: k for k in KINDS}
LEVELS = {"yellow": N_("yellow"), "orange": N_("orange"), "red": N_("red")}
HEAT_THRESHOLD_C = {"yellow": 35, "orange": 37, "red": 40}
MAX_PERIOD = timedelta(days=7)  # an alert is renewed, not left standing
NOTE_MAX = 200


log = logging.getLogger(__name__)


class AlertError(DomainError):
    code = "invalid_alert"


def heat_rules(max_temp_c: int) -> list[str]:
    """The working-time rules (English msgids) that apply at a day's maximum temperature."""
    if max_temp_c >= 40:
        return [N_("From 40 °C, outdoor work in the open stops for the day.")]
    if max_temp_c >= 37:
        return [
            N_(
                "From 37 °C, outdoor work in the open is limited to 6 hours a day, and none"
                " in the 3 hottest hours."
            )
        ]
    if max_temp_c >= 35:
        return [
            N_(
                "From 35 °C, shifts are rotated and shortened, and no overtime is arranged"
                " in the open."
            )
        ]
    return []


ALLOWANCE = N_("A high-temperature allowance is due for outdoor work from 35 °C.")
COLD_ADVICE = N_("Warm up at a station between deliveries; roads may be icy.")
RAIN_ADVICE = N_("Shelter at a station while the rain is heaviest; avoid flooded underpasses.")


@dataclass(frozen=True)
class AlertNotice:
    """What the pages and the API say about an alert that holds."""

    id: int
    kind: str
    level: str
    starts_at: datetime
    ends_at: datetime
    max_temp_c: int | None
    note: str
    helps: str  # the amenity listed first
    rules: tuple[str, ...]  # English msgids


def notice(alert: WeatherAlert) -> AlertNotice:
    kind = KIND_BY_CODE[alert.kind]
    if alert.kind == "heat":
        temp = alert.max_temp_c if alert.max_temp_c is not None else HEAT_THRESHOLD_C[alert.level]
        rules = (*heat_rules(temp), ALLOWANCE)
    elif alert.kind == "cold_wave":
        rules = (COLD_ADVICE,)
    else:
        rules = (RAIN_ADVICE,)
    return AlertNotice(
        id=alert.id,
        kind=alert.kind,
        level=alert.level,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        max_temp_c=alert.max_temp_c,
        note=alert.note,
        helps=kind.helps,
        rules=rules,
    )


def active_alert(session: Session, at: datetime | None = None) -> WeatherAlert | None:
    """The alert that holds at `at` (the most severe, then the latest set), or None."""
    at = at or utcnow()
    query = select(WeatherAlert).where(
        WeatherAlert.starts_at <= at, WeatherAlert.ends_at > at, WeatherAlert.ended_at.is_(None)
    )
    alerts = list(session.scalars(query))
    order = list(LEVELS)
    return max(alerts, key=lambda a: (order.index(a.level), a.created_at), default=None)


def alerts_for_staff(session: Session, limit: int = 50) -> list[WeatherAlert]:
    query = select(WeatherAlert).order_by(WeatherAlert.starts_at.desc()).limit(limit)
    return list(session.scalars(query))


def issue_alert(
    session: Session,
    *,
    kind: str,
    level: str,
    starts_at: datetime,
    ends_at: datetime,
    by: str,
    max_temp_c: int | None = None,
    note: str = "",
) -> WeatherAlert:
    """Set an alert; AlertError (nothing written) when a value is not usable."""
    if kind not in KIND_BY_CODE:
        raise AlertError(N_("Choose the kind of alert."), "kind")
    if level not in LEVELS:
        raise AlertError(N_("Choose the alert's level."), "level")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise AlertError(N_("Give the period with its time zone."), "starts_at")
    if ends_at <= starts_at:
        raise AlertError(N_("The alert must end after it starts."), "ends_at")
    if ends_at - starts_at > MAX_PERIOD:
        raise AlertError(N_("An alert lasts at most 7 days; set a new one after."), "ends_at")
    if max_temp_c is not None and not -40 <= max_temp_c <= 50:
        raise AlertError(N_("Give the forecast maximum between -40 and 50 °C."), "max_temp_c")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise AlertError(
            N_("The note is longer than %(n)s characters."), "note", params={"n": NOTE_MAX}
        )
    alert = WeatherAlert(
        kind=kind,
        level=level,
        starts_at=starts_at,
        ends_at=ends_at,
        max_temp_c=max_temp_c,
        note=note,
        created_by=by,
        created_at=utcnow(),
    )
    session.add(alert)
    session.flush()
    return alert


def end_alert(session: Session, alert_id: int, by: str) -> WeatherAlert:
    alert = session.get(WeatherAlert, alert_id)
    if alert is None:
        raise NotFoundError(N_("There is no such alert."), "alert")
    if alert.ended_at is None:
        alert.ended_at = utcnow()
        alert.ended_by = by
    return alert


class AlertWatch:
    """The alert that holds now, read from the database at most every `ttl_s` seconds.

    Every courier page and the API ask; a read per request would be a query on the
    hottest path for something that changes a few times a season. A worker that sets
    or ends an alert calls `invalidate`; the others see it within `ttl_s`.
    """

    def __init__(self, sessions: Callable[[], Session], ttl_s: float = 30.0) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._alert: AlertNotice | None = None

    def current(self) -> AlertNotice | None:
        now = time.monotonic()
        if now - self._read_at < self._ttl_s and (
            self._alert is None or self._alert.ends_at > utcnow()
        ):
            return self._alert
        with self._lock:
            try:
                with self._sessions() as session:
                    alert = active_alert(session)
                    self._alert = notice(alert) if alert is not None else None
            except SQLAlchemyError:
                # The database is down: the page that asked (perhaps the 503 page itself)
                # must still render; keep what was known and try again after ttl_s.
                log.warning("weather alert not readable; keeping the last one known")
            self._read_at = time.monotonic()
            return self._alert

    def invalidate(self) -> None:
        self._read_at = -math.inf
