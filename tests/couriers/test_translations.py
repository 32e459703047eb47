"""The one translation mechanism: gettext catalogues (stationfinder/translations).

Every msgid has a Chinese (zh_Hans_CN, the default) and an English translation, the
compiled .mo files that ship in the wheel match their .po files, and the words reach
the pages in the chosen language.
"""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from stationfinder.core.text import LOCALES, TRANSLATIONS, translations

CATALOGUES = sorted(LOCALES.values())


def _po(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def _mo(path: Path) -> dict[object, object]:
    with path.open("rb") as f:
        catalog = read_mo(f)
    return {(m.id, m.context): m.string for m in catalog if m.id}


def _filled(string: object) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def test_both_catalogues_hold_the_same_msgids() -> None:
    ids = [
        {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in _po(loc) if m.id}
        for loc in CATALOGUES
    ]
    assert ids[0] == ids[1]
    assert len(ids[0]) > 200


@pytest.mark.parametrize("locale", CATALOGUES)
def test_every_msgid_is_translated_and_none_is_fuzzy(locale: str) -> None:
    missing = [m.id for m in _po(locale) if m.id and not _filled(m.string)]
    fuzzy = [m.id for m in _po(locale) if m.id and m.fuzzy]
    assert not missing, f"{locale}: no translation for {missing}"
    assert not fuzzy, f"{locale}: fuzzy (guessed) translations {fuzzy}"


def test_english_says_what_the_msgid_says() -> None:
    for m in _po("en"):
        if m.id:
            assert m.string == m.id, m.id


def test_placeholders_survive_translation() -> None:
    import re

    names = re.compile(r"%\((\w+)\)s")
    for m in _po(LOCALES["zh"]):
        if m.id and isinstance(m.id, str) and m.string:
            assert sorted(names.findall(m.id)) == sorted(names.findall(m.string)), m.id


@pytest.mark.parametrize("locale", CATALOGUES)
def test_compiled_catalogue_is_not_stale(locale: str, tmp_path: Path) -> None:
    """The committed .mo is what `pybabel compile` makes of the .po today."""
    source = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    fresh = tmp_path / "messages.mo"
    CommandLineInterface().run(
        ["pybabel", "-q", "compile", "-i", str(source), "-o", str(fresh), "-l", locale]
    )
    shipped = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert shipped.exists(), "run: python -m stationfinder.translations.sync"
    assert _mo(shipped) == _mo(fresh), "stale .mo: python -m stationfinder.translations.sync"


def test_domain_code_reads_the_same_catalogues() -> None:
    assert translations("zh").gettext("Today %(text)s") == "今天 %(text)s"
    assert translations("en").gettext("Today %(text)s") == "Today %(text)s"
    assert isinstance(translations("zh"), gettext.GNUTranslations)
    with pytest.raises(ValueError):
        translations("fr")


@pytest.mark.slow
def test_the_wheel_ships_the_compiled_catalogues(tmp_path: Path) -> None:
    """A non-editable install reads its catalogues from the wheel: they must be in it."""
    import subprocess
    import sys
    import zipfile

    root = TRANSLATIONS.parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(root)],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("stationfinder-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for locale in CATALOGUES:
        mo = f"stationfinder/translations/{locale}/LC_MESSAGES/messages.mo"
        assert mo in names, mo
        shipped = zipfile.ZipFile(wheel).read(mo)
        assert shipped == (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").read_bytes()
