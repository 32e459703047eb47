"""Text in Flask-free code: marking it for translation, and sorting it as people read it.

Domain modules cannot call Flask-Babel (they run in the CLI and in tests without an
app), so they mark the English text they hand to the web layer with `N_`, which
`pybabel extract` finds; the web layer translates it with `gettext` when it shows it.
"""

from __future__ import annotations

import gettext
import re
from functools import cache
from pathlib import Path


def N_(message: str) -> str:
    """Mark `message` for extraction; it is translated where it is shown."""
    return message


# The page languages and their gettext locales; zh-CN is the default. Chinese is
# zh_Hans_CN, the name Babel (and so Flask-Babel) gives zh_CN: CLDR adds the script.
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The compiled catalogue for a page language, read with the standard library.

    Flask-Babel serves requests; this serves the few domain functions that must answer
    in a given language outside a request (opening hours in words for the API, the CLI
    and the tests). Both read the same .mo files. An unknown language is a ValueError.
    """
    try:
        locale = LOCALES[lang]
    except KeyError:
        raise ValueError(f"no messages for language {lang!r}") from None
    return gettext.translation("messages", TRANSLATIONS, languages=[locale])


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that reads numbers as numbers: 「1号大街」 before 「2号大街」 before
    「14号大街」 (a plain string sort puts 14 before 2 and 1号 after 14号)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part
    )
