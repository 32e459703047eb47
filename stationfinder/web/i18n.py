"""The page language and the one translation mechanism, Flask-Babel.

`?lang=en` or `?lang=zh` switches the language and a cookie keeps it; zh-CN is the
default. Text people read is written in English in the code and templates
(`gettext`/`_()`, `lazy_gettext` for module-level text, `N_()` in Flask-free domain
modules) and translated by the gettext catalogues in `stationfinder/translations`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Flask, Response, g, request

from stationfinder.core.text import LOCALES, N_, TRANSLATIONS
from stationfinder.web.messages import DEFAULT_LANG, HTML_LANG, LANGS, script_text

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def current_lang() -> str:
    if "lang" not in g:
        asked = request.args.get("lang")
        if asked in LANGS:
            g.lang = asked
            g.lang_chosen = True
        else:
            cookie = request.cookies.get(COOKIE)
            g.lang = cookie if cookie in LANGS else DEFAULT_LANG
    return str(g.lang)


def messages() -> dict[str, str]:
    """The courier script's words in this request's language (see web/messages.py)."""
    return script_text(current_lang())


def remember_choice(response: Response) -> Response:
    """Keep a language picked with ?lang= for the next visit (on every page: the choice
    is the site's, staff pages included; once per response)."""
    if g.get("lang_chosen") and not g.get("lang_remembered"):
        g.lang_remembered = True
        response.set_cookie(COOKIE, g.lang, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def switch_url(lang: str) -> str:
    """This page in ``lang``: the same path and query, with only ``lang`` changed (the
    board's filters or a typed place survive the switch)."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', lang)])}"


def vocabulary_label(kind: str, value: str | None) -> str:
    """A kind's, subdistrict's or amenity's name in the page's language: the
    vocabulary's (or the loaded areas') bilingual data (names shared with the registry,
    the import files and OpenStreetMap), not catalogue entries. Unknown values are shown
    as they are."""
    from stationfinder.core.vocabulary import AMENITY_BY_CODE, KINDS

    english = current_lang() == "en"
    if value is None:
        return ""
    if kind == "access":  # how couriers get in: a code with a name in both languages
        from stationfinder.core.vocabulary import ACCESS_BY_CODE

        access = ACCESS_BY_CODE.get(value)
        return (access.en if english else access.zh) if access else value
    if kind == "amenity":
        amenity = AMENITY_BY_CODE.get(value)
        return (amenity.en if english else amenity.zh) if amenity else value
    if kind == "kind":
        found = next((k for k in KINDS if k.name == value), None)
        return found.en if english and found else value
    from stationfinder.web.context import current_areas

    return current_areas().label(value, english)


_PLACEHOLDERS_ONLY = re.compile(r"(?:\s*%\(\w+\)s\s*)+")
# What a page says for a refusal whose words the catalogues do not have yet.
NOT_VALID = N_("this value is not valid")


def refusal_words(template: str, params: Mapping[str, object], message: str) -> str:
    """A domain refusal (msgid `template` with `params`; `message` its English words) in
    the page's language. A msgid without a translation is never shown as English on a
    Chinese page: it reads as NOT_VALID there, and as its own words in English."""
    from flask_babel import get_translations, gettext

    if template in getattr(get_translations(), "_catalog", {}):
        return gettext(template, **params) if params else gettext(template)
    if params and _PLACEHOLDERS_ONLY.fullmatch(template):
        return message  # the values are the words (e.g. opening hours' own message)
    return message if current_lang() == "en" else gettext(NOT_VALID)


def area_groups() -> list[tuple[str | None, list[tuple[str, str]]]]:
    """The loaded subdistricts for a picker, in the page's language and the one
    division-code order: [(district label, [(key, label), ...]), ...]. With one district
    loaded there is one group without a label (a picker needs no heading then)."""
    from stationfinder.web.context import current_areas

    areas = current_areas()
    english = current_lang() == "en"
    if len(areas.districts()) == 1:
        return [(None, [(s.key, s.label(english)) for s in areas.listed()])]
    return [
        (d.label(english), [(s.key, s.short_label(english)) for s in areas.listed(d.code)])
        for d in areas.districts()
    ]


def lists_districts() -> bool:
    """Whether there are too many loaded subdistricts for one picker (PICKER_MAX): the
    pages then offer the districts, and a chosen district's subdistricts."""
    from flask import current_app

    from stationfinder.web.context import current_areas

    return len(current_areas().listed()) > current_app.config["PICKER_MAX"]


def district_groups(district: str | None) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """A picker's subdistricts where there are too many to list: none until a district
    is chosen, then its own (one group); else every loaded one, as `area_groups`."""
    from stationfinder.web.context import current_areas

    if not lists_districts():
        return area_groups()
    if district is None:
        return []
    english = current_lang() == "en"
    return [(None, [(s.key, s.short_label(english)) for s in current_areas().listed(district)])]


def service_area() -> str:
    """Where the loaded areas are, in the page's language: the district when one is
    loaded (钱塘区), else the city all of them are in (杭州市), else the districts' count."""
    from stationfinder.web.context import current_areas

    english = current_lang() == "en"
    districts = current_areas().districts()
    if len(districts) == 1:
        return districts[0].label(english)
    cities = {(d.city, d.city_en) for d in districts}
    if len(cities) == 1:
        city, city_en = cities.pop()
        if city:
            return (city_en or city) if english else city
    from flask_babel import gettext

    return gettext("%(n)s districts", n=len(districts))


def district_label(code: str | None) -> str:
    """A district's name in the page's language, by its division code."""
    from stationfinder.web.context import current_areas

    found = current_areas().district(code)
    return found.label(current_lang() == "en") if found else (code or "")


def template_context() -> dict[str, object]:
    lang = current_lang()
    return {
        "lang": lang,
        "kind_label": lambda value: vocabulary_label("kind", value),
        "street_label": lambda value: vocabulary_label("street", value),
        "district_label": district_label,
        "service_area": service_area,
        "area_groups": area_groups,
        "amenity_label": lambda value: vocabulary_label("amenity", value),
        "switch_url": switch_url,
        "html_lang": HTML_LANG[lang],
        "other_lang": "en" if lang == "zh" else "zh",
    }


def current_locale() -> str:
    """The gettext locale for this request (Flask-Babel's locale selector).

    Chinese is zh_Hans_CN, the name Babel gives zh_CN once it adds the script (CLDR knows
    no plain zh_CN); the catalogue's folder has that name, so gettext finds it."""
    return LOCALES[current_lang()]


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogues shipped in the package, Chinese by default."""
    from flask_babel import Babel

    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES[DEFAULT_LANG])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=current_locale)
    app.context_processor(template_context)
    app.after_request(remember_choice)
