"""How people write a place's name, folded to keys the gazetteer can compare.

A courier types 「二号大街」 for 2号大街, 「下沙」 for 下沙街道, 「杭电」 for 杭州电子科技大学,
"xiasha", "Xia Sha" or just "xs" for 下沙. This module turns a name, or a query, into
the keys that make those the same thing:

- `normalise`: width, case, accents, spaces and punctuation folded, and Chinese numerals
  read as digits (「二号」 → "2号", 「十四号」 → "14号"), so both notations meet.
- `stem`: the generic tail a person leaves off (街道, 站).
- `derived_short_forms`: the forms Chinese names are shortened to by rule (the campus in
  brackets dropped, 办事处 dropped, 人民政府 → 政府).
- `is_abbreviation`: the rule Chinese abbreviations (缩略语) follow, characters of the
  full name picked in order starting with its first (杭州电子科技大学 → 杭电, 浙江理工大学
  → 浙理工, 杭州师范大学 → 杭师大).
- `reading`: a name's pinyin syllables (pypinyin, imported only when called: its phrase
  dictionary costs each process ~56 MB, so the shipped names carry their readings in
  data/gazetteer.json, made by data/make_sample_data.py, and a worker never loads it).
- `pinyin_forms`: full pinyin and initials, with where each syllable starts.
- `like_patterns`: SQL LIKE patterns for the database's station names, which are stored
  as typed, so a query in digits must also find a name in Chinese numerals.

Flask-free, and no state: the gazetteer precomputes these once per place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

MAX_QUERY_LENGTH = 60

_DROPPED = frozenset("·・-_'’,，.。()（）[]【】「」“”\"/、")
_SUFFIXES = ("街道", "站", "subdistrict", "station")
_ZH_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_ZH_DIGITS |= {"八": 8, "九": 9}
_DIGIT_ZH = "〇一二三四五六七八九"
# Only numbers below a hundred are read: 百 and 千 are words in names far more often
# (百货, 千岛湖) than numbers, and numbered streets here stop at 29号大街.
_ZH_NUMERAL_RUN = re.compile(r"(?<![0-9])[〇零一二三四五六七八九十]+(?![0-9])")
_POSITIONAL = re.compile(r"^([一二三四五六七八九])?十([一二三四五六七八九])?$")
_DIGIT_RUN = re.compile(r"[0-9]+")
_BRACKETED = re.compile(r"[（(][^（）()]*[）)]")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")
# A pattern per way of writing each number; past this many numbers in one query the
# numbers are left out of the pattern (still a superset: the gazetteer ranks exactly).
_MAX_NUMBER_RUNS = 2


def _zh_number(run: str) -> str:
    """A run of Chinese numerals as digits: positional (十四 → 14, 二十 → 20) or read
    digit by digit (二〇二六 → 2026); a run that is neither (十十) stays as written."""
    positional = _POSITIONAL.match(run)
    if positional:
        tens, units = positional.groups()
        return str((_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[units] if units else 0))
    if "十" in run:
        return run
    return "".join(str(_ZH_DIGITS[ch]) for ch in run)


def normalise(text: str) -> str:
    """Fold width, case, accents, spacing and numerals: "ＪＩＮＳＨＡ  lake" finds
    "Jinsha Lake", "xià shā" finds "xiasha", 「二号大街」 finds 「2号大街」."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Tone marks off (xià → xia); NFKD leaves Chinese characters as they are.
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch)
    )
    kept = "".join(ch for ch in folded if not ch.isspace() and ch not in _DROPPED)
    return _ZH_NUMERAL_RUN.sub(lambda m: _zh_number(m.group()), kept)


def stem(key: str) -> str:
    """A normalised key without its generic tail: "下沙街道" → "下沙", "金沙湖站" → "金沙湖"."""
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


def without_qualifier(name: str) -> str:
    """The name without a bracketed qualifier: 浙江财经大学（下沙校区） → 浙江财经大学."""
    return _BRACKETED.sub("", name).strip() or name


def derived_short_forms(name: str) -> list[str]:
    """The shorter names a name is used by, by rule rather than by list: the bracketed
    campus dropped (浙江财经大学（下沙校区） → 浙江财经大学), 办事处 dropped (下沙街道办事处 →
    下沙街道), 人民政府 said 政府 (钱塘区人民政府 → 钱塘区政府). Not the name itself."""
    forms: list[str] = []
    base = without_qualifier(name)
    if base != name:
        forms.append(base)
    for long, short in (("办事处", ""), ("人民政府", "政府")):
        if base.endswith(long) and len(base) > len(long) + 1:
            forms.append(base[: -len(long)] + short)
    return forms


# The words that say what kind of place a name is, not which one.
_GENERIC_TAILS = ("大学", "学院", "校区", "园区", "街道", "办事处", "人民政府", "政府", "站")


def _distinctive_length(key: str) -> int:
    """How much of ``key`` names which place it is: without its generic tail words
    (浙江理工大学 → 浙江理工, 下沙街道办事处 → 下沙)."""
    end = len(key)
    trimmed = True
    while trimmed:
        trimmed = False
        for tail in _GENERIC_TAILS:
            if key.endswith(tail, 0, end) and end - len(tail) >= 2:
                end -= len(tail)
                trimmed = True
    return end


def is_abbreviation(query: str, key: str) -> bool:
    """Whether ``query`` shortens ``key`` as Chinese abbreviations do: at least two
    characters, all Chinese, the key's first one first, the rest picked in order, and
    at least one of those from the part that says which place it is (杭电 for
    杭州电子科技大学; not 浙大 for 浙江理工大学, which keeps only the province and
    "university" and would name any of them)."""
    if len(query) < 2 or len(query) >= len(key) or not _CJK.match(query):
        return False
    if query[0] != key[0]:
        return False
    distinctive = _distinctive_length(key)
    at, named = 1, False
    for ch in query[1:]:
        at = key.find(ch, at)
        if at < 0:
            return False
        named = named or at < distinctive
        at += 1
    return named


@dataclass(frozen=True, slots=True)
class Pinyin:
    """A name's pinyin without tones, e.g. "xiashajiedao", where its syllables start
    (0, 3, 6, 9) and its initials "xsjd"; `full_u` writes ü as u ("lucheng" for 绿城,
    which pypinyin spells "lvcheng"), as people without a ü key type it."""

    full: str
    starts: tuple[int, ...]
    initials: str

    @property
    def full_u(self) -> str:
        return self.full.replace("v", "u")


def has_chinese(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def reading(name: str) -> tuple[str, ...]:
    """The pinyin syllables of a name, tones off and folded as `normalise` folds them
    ("2号大街" → "2", "hao", "da", "jie"; brackets and spaces dropped). Uses pypinyin's
    phrase dictionary (行 is "hang" in 银行, "xing" in 步行), which is imported here and
    not at module level: ~56 MB per process, paid only where a name has no stored reading."""
    from pypinyin import lazy_pinyin  # here, not at module level: see the docstring

    return tuple(key for key in (normalise(s) for s in lazy_pinyin(name)) if key)


def pinyin_forms(name: str, syllables: Sequence[str] | None = None) -> Pinyin | None:
    """The pinyin of a name with Chinese characters in it, from its ``syllables`` (a
    stored `reading`) or else from `reading`; None for a name without Chinese characters
    (an English name has no pinyin to match)."""
    if not has_chinese(name):
        return None
    full, starts, initials = "", [], ""
    for key in reading(name) if syllables is None else syllables:
        starts.append(len(full))
        full += key
        initials += key[0]
    return Pinyin(full, tuple(starts), initials)


def number_bounded(query: str, key: str, at: int) -> bool:
    """Whether ``query`` found at ``at`` in ``key`` is whole where numbers are concerned:
    "1号大街" is in "1号大街" but not in "14号大街", nor "4号大街" in "14号大街"."""
    if query[:1].isdigit() and at > 0 and key[at - 1].isdigit():
        return False
    end = at + len(query)
    return not (query[-1:].isdigit() and end < len(key) and key[end].isdigit())


def occurs(query: str, key: str) -> bool:
    """``query`` somewhere in ``key``, numbers kept whole (see `number_bounded`)."""
    at = key.find(query)
    while at >= 0:
        if number_bounded(query, key, at):
            return True
        at = key.find(query, at + 1)
    return False


def _number_spellings(digits: str) -> list[str]:
    """The ways a number may be written in a stored name, as LIKE fragments: digits
    ("14"), positional Chinese ("十四") and digit by digit ("一四"; 〇 or 零 as ``_``)."""
    spellings = [digits]
    if digits == str(int(digits)) and 1 <= int(digits) <= 99:
        tens, units = divmod(int(digits), 10)
        positional = ("" if tens <= 1 else _DIGIT_ZH[tens]) + ("十" if tens else "")
        spellings.append(positional + (_DIGIT_ZH[units] if units else ""))
    spellings.append("".join("_" if d == "0" else _DIGIT_ZH[int(d)] for d in digits))
    return list(dict.fromkeys(spellings))


def _like_chars(text: str) -> str:
    """``text`` as LIKE pattern characters with anything (what `normalise` drops) between."""
    return "%".join(c if c not in "%_\\" else "\\" + c for c in text)


def like_patterns(query: str) -> list[str]:
    """SQL ``LIKE`` patterns (``ESCAPE '\\'``, on lower-cased names) of which every name
    the gazetteer could match for ``query`` satisfies at least one: the characters of its
    stem in order, anything between them (the spaces and punctuation `normalise` drops),
    each number in each way a name may write it. A superset: the gazetteer ranks what the
    database returns. Empty for a query that matches nothing."""
    q = stem(normalise(query[:MAX_QUERY_LENGTH]))
    if not q:
        return []
    pieces = _DIGIT_RUN.split(q)
    numbers = _DIGIT_RUN.findall(q)
    if len(numbers) > _MAX_NUMBER_RUNS:
        choices: list[list[str]] = [[""] for _ in numbers]  # any spelling: "%" alone
    else:
        choices = [_number_spellings(n) for n in numbers]
    patterns = []
    for spelled in product(*choices):
        parts = [_like_chars(pieces[0])]
        for number, piece in zip(spelled, pieces[1:], strict=True):
            # A spelling's own characters are pattern text already ("_" is 〇 or 零).
            parts.append("%".join(number))
            parts.append(_like_chars(piece))
        body = "%".join(p for p in parts if p)
        patterns.append("%" + body + "%" if body else "%")
    return list(dict.fromkeys(patterns))
