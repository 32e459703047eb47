"""The page language: `?lang=en` or `?lang=zh` switches and is kept in a cookie."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

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
