"""Where the shipped templates and data live, installed or in a source checkout.

The wheel maps the top-level `templates/` and `data/` folders into the package
(`stationfinder/templates`, `stationfinder/data`); an editable install or a plain
checkout finds them beside the package instead.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # stationfinder/, not core/


def shipped_dir(name: str) -> Path:
    """The folder `name` ("templates" or "data"), installed or from the checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"stationfinder cannot find its {name!r} folder (looked in {_PACKAGE / name} "
        f"and {_PACKAGE.parent / name}); reinstall the package"
    )


def data_file(name: str) -> Path:
    return shipped_dir("data") / name
