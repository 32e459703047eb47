"""Marking text for translation in Flask-free code.

Domain modules cannot call Flask-Babel (they run in the CLI and in tests without an
app), so they mark the English text they hand to the web layer with `N_`, which
`pybabel extract` finds; the web layer translates it with `gettext` when it shows it.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for extraction; it is translated where it is shown."""
    return message
