"""Bring the gettext catalogues up to date: ``python -m stationfinder.translations.sync``.

Run from the repository's root. In order:

1. ``pybabel extract`` every msgid (English) from the code and templates into
   ``messages.pot`` (the map is ``babel.cfg``; ``N_`` and ``lazy_gettext`` are keywords);
2. ``pybabel update`` the zh_Hans_CN (zh-CN) and en catalogues from it (no fuzzy matching: a guessed
   translation of a near-identical English text is worse than a missing one);
3. with ``--merge-pending``, copy the Chinese of ``pending/*.po`` (where engineers put the
   translations of the msgids they add) into zh_Hans_CN (a msgid that already has Chinese keeps
   it); with ``--delete-merged`` too, delete each pending file whose entries all arrived;
4. set every English msgstr to its msgid, so "every message has both translations" is
   checkable (tests/couriers/test_translations.py);
5. ``pybabel compile`` both (the .mo files are committed: the wheel ships them, and a
   test fails when one is stale);
6. list the msgids that still have no Chinese, and exit 1 if there are any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
POT = HERE / "messages.pot"
LOCALES = ("zh_Hans_CN", "en")
KEYWORDS = ("N_", "lazy_gettext", "lazy_pgettext:1c,2")


def po_path(locale: str) -> Path:
    return HERE / locale / "LC_MESSAGES" / "messages.po"


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=False)


def extract(root: Path) -> None:
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    _pybabel(
        "extract",
        "-F",
        str(HERE / "babel.cfg"),
        *keywords,
        "--no-location",
        "--sort-output",
        "--project",
        "stationfinder",
        "-o",
        str(POT),
        str(root),
    )


def update() -> None:
    for locale in LOCALES:
        if not po_path(locale).exists():
            _pybabel("init", "-i", str(POT), "-d", str(HERE), "-l", locale)
        _pybabel(
            "update",
            "-i",
            str(POT),
            "-d",
            str(HERE),
            "-l",
            locale,
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        )


def merge_pending(zh: Catalog, *, delete: bool) -> list[str]:
    """Copy pending translations into `zh`; return what was left unmerged. With
    `delete`, a pending file whose every entry arrived is removed."""
    left: list[str] = []
    for pending in sorted((HERE / "pending").glob("*.po")):
        kept = 0
        for message in _read(pending, "zh_Hans_CN"):
            if not message.id:
                continue
            target = zh.get(message.id, message.context)
            if target is None:  # not (or no longer) in the code: keep it for later
                kept += 1
                left.append(f"{pending.name}: {message.id!r} is not in the code")
                continue
            if not target.string:
                target.string = message.string
            elif target.string != message.string:
                left.append(
                    f"{pending.name}: {message.id!r} kept {target.string!r}, not {message.string!r}"
                )
        if delete and not kept:
            pending.unlink()
    return left


def fill_english(en: Catalog) -> None:
    for message in en:
        if not message.id:
            continue
        if message.pluralizable:
            message.string = (message.id[0], message.id[1])
        else:
            message.string = message.id
        message.flags.discard("fuzzy")


def compile_all() -> None:
    _pybabel("compile", "-d", str(HERE), "--statistics")


def untranslated(zh: Catalog) -> list[str]:
    return [
        str(m.id)
        for m in zh
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merge-pending", action="store_true", help="merge pending/*.po")
    parser.add_argument(
        "--delete-merged", action="store_true", help="delete pending files that fully merged"
    )
    parser.add_argument("--root", type=Path, default=HERE.parent.parent, help="repository root")
    args = parser.parse_args(argv)
    extract(args.root)
    update()
    zh = _read(po_path("zh_Hans_CN"), "zh_Hans_CN")
    if args.merge_pending:
        for line in merge_pending(zh, delete=args.delete_merged):
            print("pending:", line, file=sys.stderr)
    _write(po_path("zh_Hans_CN"), zh)
    en = _read(po_path("en"), "en")
    fill_english(en)
    _write(po_path("en"), en)
    compile_all()
    missing = untranslated(zh)
    for msgid in missing:
        print("no Chinese yet:", msgid, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
