"""How the courier pages word the weather alert in force (templates/_alert.html)."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext

from stationfinder.alerts.weather import KIND_BY_CODE, LEVELS, AlertNotice
from stationfinder.core.clock import SHANGHAI
from stationfinder.core.text import N_
from stationfinder.web.context import current_alerts

HELPS = {
    "cooling": N_("Nearest stations with air conditioning"),
    "warm_shelter": N_("Nearest stations to shelter in"),
}


def alert_title(alert: AlertNotice) -> str:
    return gettext(
        "%(level)s %(kind)s alert",
        level=gettext(LEVELS[alert.level]),
        kind=gettext(KIND_BY_CODE[alert.kind].label),
    )


def alert_until(alert: AlertNotice) -> str:
    return alert.ends_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def alert_helps(alert: AlertNotice) -> str:
    return gettext(HELPS[alert.helps])


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        weather_alert=lambda: current_alerts().current(),
        alert_title=alert_title,
        alert_until=alert_until,
        alert_helps=alert_helps,
    )
