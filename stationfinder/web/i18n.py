"""The page language and the one translation mechanism, Flask-Babel.

`?lang=en` or `?lang=zh` switches the language and a cookie keeps it; zh-CN is the
default. Text people read is written in English in the code and templates
(`gettext`/`_()`, `lazy_gettext` for module-level text, `N_()` in Flask-free domain
modules) and translated by the gettext catalogues in `stationfinder/translations`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, g, request

from stationfinder.web.messages import DEFAULT_LANG, HTML_LANG, LANGS, catalogue

COOKIE = "lang"
LOCALES = {"zh": "zh_CN", "en": "en"}  # page language -> gettext locale
COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


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


def messages() -> Mapping[str, str]:
    return catalogue(current_lang())


def remember_choice(response: Response) -> Response:
    """Keep a language picked with ?lang= for the next visit."""
    if g.get("lang_chosen"):
        response.set_cookie(COOKIE, g.lang, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def switch_url(lang: str) -> str:
    """This page in ``lang``: the same path and query, with only ``lang`` changed (the
    board's filters or a typed place survive the switch)."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', lang)])}"


def template_context() -> dict[str, object]:
    lang = current_lang()
    return {
        "lang": lang,
        "switch_url": switch_url,
        "html_lang": HTML_LANG[lang],
        "other_lang": "en" if lang == "zh" else "zh",
        "t": catalogue(lang),
    }


def current_locale() -> str:
    """The gettext locale for this request (Flask-Babel's locale selector)."""
    return LOCALES[current_lang()]


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogues shipped in the package, zh_CN by default."""
    from flask_babel import Babel

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=current_locale)
