"""The page language: `?lang=en` or `?lang=zh` switches and is kept in a cookie."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, g, request

from .messages import DEFAULT_LANG, HTML_LANG, LANGS, catalogue

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


def messages() -> Mapping[str, str]:
    return catalogue(current_lang())


def remember_choice(response: Response) -> Response:
    """Keep a language picked with ?lang= for the next visit."""
    if g.get("lang_chosen"):
        response.set_cookie(COOKIE, g.lang, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def template_context() -> dict[str, object]:
    lang = current_lang()
    return {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "other_lang": "en" if lang == "zh" else "zh",
        "t": catalogue(lang),
    }
