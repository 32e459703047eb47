"""Station posters: an A5 page per station, to print and put up at the door.

Each poster carries the station's name, kind and address, its opening hours over a
week, what couriers find there, and a QR code (segno, as inline SVG: no image file, no
outside service) to the station's page, where a courier confirms the information or
reports a problem. The QR code's address is built on STATIONFINDER_PUBLIC_BASE_URL:
a poster outlives the laptop it was printed from, so an address from the request (a
staff member on http://127.0.0.1) would be printed useless. Without the setting the
page warns on screen and uses the request's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date
from flask import abort, current_app, render_template, request
from flask_babel import force_locale, gettext
from markupsafe import Markup
from sqlalchemy import select

from stationfinder.core import hours
from stationfinder.core.clock import local_now
from stationfinder.core.text import LOCALES, N_, natural_key
from stationfinder.db import get_session
from stationfinder.models import Station
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.couriers.present import AmenityItem, amenity_items
from stationfinder.web.public_urls import external_url
from stationfinder.web.staff import bp

MAX_POSTERS = 200  # a subdistrict has a few dozen; this bounds one print job


@dataclass(frozen=True)
class Poster:
    station: Station
    url: str
    qr_svg: Markup
    week: list[tuple[str, str]]  # (weekday in Chinese, hours that day)
    every_day: str | None  # the hours when every day of the week reads the same
    amenities: list[AmenityItem]


def _qr_svg(url: str) -> Markup:
    """The URL as an SVG QR code, error correction M (a poster gets scuffed)."""
    # Imported here: ~10 MB resident in every worker for a page staff print now and then.
    import segno

    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=6, border=2, dark="#000", light="#fff", omitsize=True)
    return Markup(svg.replace("<svg ", '<svg role="img" class="qr" ', 1))


def _next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def _poster(station: Station) -> Poster:
    url = external_url("web.station", station_id=station.id)
    days_hours = hours.week_in_words(station.opening_hours, _next_monday(local_now().date()), "zh")
    week = [(format_date(d, "EEEE", locale=LOCALES["zh"]), words) for d, words in days_hours]
    days = {words for _, words in week}
    return Poster(
        station=station,
        url=url,
        qr_svg=_qr_svg(url),
        week=week,
        every_day=days.pop() if len(days) == 1 else None,
        amenities=amenity_items(station.amenities or [], "zh", station.out_of_service),
    )


# The poster speaks both languages at once, Chinese first: each line in zh_CN and en.
POSTER_WORDS = {
    "scan": N_("Scan to confirm the information or report a problem"),
    "hours": N_("Opening hours"),
    "every_day": N_("Every day"),
    "here": N_("What you find here"),
    "holidays": N_("Hours may change on public holidays: scan for today's."),
}


def _both(msgid: str) -> tuple[str, str]:
    pair = []
    for locale in (LOCALES["zh"], LOCALES["en"]):
        with force_locale(locale):
            pair.append(gettext(msgid))
    return pair[0], pair[1]


@bp.get("/posters")
@staff_required()
def posters() -> str:
    """Posters for one station (`?station=QT-BY-001`) or a whole subdistrict
    (`?street=白杨街道`); street staff print their own subdistrict's only."""
    staff = current_staff()
    assert staff is not None
    station_id, street = request.args.get("station"), request.args.get("street")
    session = get_session()
    if station_id:
        station = session.get(Station, station_id[:32])
        if station is None or not station.active:
            abort(404)
        chosen = [station]
        street = station.street
    elif (found := current_areas().subdistrict(street)) is not None:
        street = found.key
        query = select(Station).where(Station.active, Station.street == street)
        chosen = sorted(session.scalars(query), key=lambda s: natural_key(s.name))
    else:
        abort(400, description="choose a station or a subdistrict")
    if not staff.may_edit(str(street)):
        abort(403)
    return render_template(
        "staff/posters.html",
        posters=[_poster(s) for s in chosen[:MAX_POSTERS]],
        street=street,
        base_configured=bool(current_app.config.get("PUBLIC_BASE_URL")),
        words={key: _both(msgid) for key, msgid in POSTER_WORDS.items()},
    )
