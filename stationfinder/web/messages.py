"""The page languages, and the words the courier page's script shows.

Every word is a gettext msgid (English; the catalogues in stationfinder/translations hold
zh_CN and en). Templates call `_()` themselves; the page's script (static/app.js) cannot,
so it gets `script_text()` as JSON: the same catalogue, with `%(n)s` written `{n}`, the
placeholder app.js fills. The cards the server renders (couriers/present.py) take the
same dict, so a card reads the same from either side. Amenity, kind and subdistrict
labels come from the vocabulary, not from here.
"""

from __future__ import annotations

import re

from stationfinder.core.text import N_, translations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

# key (what app.js and present.py look up) -> msgid
SCRIPT_TEXT: dict[str, str] = {
    # How to get in (couriers/present.access_text and app.js's accessText).
    "access_note": N_("%(how)s (%(note)s)"),
    "open_24h": N_("open 24 hours"),
    "seats": N_("seats: %(n)s"),
    "step_free": N_("step-free"),
    "steps": N_("steps at the door"),
    "age_days": N_("%(n)s days ago"),
    "age_hours": N_("%(n)s h ago"),
    "age_minutes": N_("%(n)s min ago"),
    "age_now": N_("just now"),
    "closed": N_("Closed"),
    "closes_at": N_("closes at %(time)s"),
    "did_you_mean": N_("Did you mean:"),
    "confirm_failed": N_("Not saved; reload and try again"),
    "geo_denied": N_("No position. Pick a subdistrict or type a place."),
    "geo_unsupported": N_("This device cannot locate you. Pick a subdistrict or type a place."),
    "hours": N_("Opening hours"),
    "hours_unknown": N_("Hours unknown"),
    "km": N_("%(n)s km"),
    "last_confirmed": N_("Last confirmed %(when)s"),
    "locating": N_("Finding your position…"),
    "metres": N_("%(n)s m"),
    "navigate": N_("Navigate"),
    "near": N_("Near %(place)s"),
    "need_place": N_("Type a place or pick a subdistrict."),
    "no_results": N_("No station matches; try fewer filters."),
    "offline_data": N_("Offline data from %(age)s"),
    "offline_none": N_("No network and no offline data yet. Open this page once online."),
    "open": N_("Open"),
    "opens_at": N_("opens at %(time)s"),
    "or_pick_street": N_("Or pick a subdistrict:"),
    "or_pick_district": N_("Or pick a district:"),
    "paused": N_("Paused: %(note)s"),
    "place_offline": N_("No network, so places cannot be looked up now."),
    # Past the place searches' limit per address (/places answered 429).
    "too_many_searches": N_("Too many searches from here; wait a minute and try again."),
    "place_not_found": N_("No place called “%(place)s”. Try one below or pick a subdistrict."),
    "results": N_("Nearest stations"),
    # While a weather alert holds, the nearest answer lists these stations first.
    "first_cooling": N_("Weather alert: stations with air conditioning are listed first."),
    "first_warm_shelter": N_("Weather alert: stations to shelter in are listed first."),
    "ride": N_("%(n)s min by e-bike"),
    "searching": N_("Searching…"),
    "tomorrow": N_("tomorrow"),
    # A time on another day: "09:00 tomorrow" in English, 「明天 09:00」 in Chinese.
    "time_on_day": N_("%(time)s %(day)s"),
    "walk": N_("%(n)s min walk"),
    "you_are_here": N_("You are here"),
    # What still works when tiles do not come, by page (app.js picks by data-page).
    "map_unavailable": N_(
        "The map cannot load here (weak signal or blocked). The list works as usual."
    ),
    "map_unavailable_map": N_(
        "The map cannot load here (weak signal or blocked). The stations are still"
        " marked: tap one for its page."
    ),
    "map_unavailable_station": N_(
        "The map cannot load here (weak signal or blocked). The address and the"
        " navigation links work as usual."
    ),
    "amap": N_("Amap"),
    "baidu": N_("Baidu Maps"),
    "tencent": N_("Tencent Maps"),
    "apple": N_("Apple Maps"),
}

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def script_text(lang: str) -> dict[str, str]:
    """SCRIPT_TEXT in `lang`, placeholders as ``{name}`` for app.js and str.format."""
    gettext = translations(lang if lang in LANGS else DEFAULT_LANG).gettext
    return {key: _PLACEHOLDER.sub(r"{\1}", gettext(msgid)) for key, msgid in SCRIPT_TEXT.items()}
