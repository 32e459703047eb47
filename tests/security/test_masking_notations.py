"""Issue 12, item 3: phone and ID-card numbers are never public, in any notation.

Hypothesis writes numbers the way couriers' phones and chat apps do: full-width digits,
Chinese numerals (一三八…, 幺 for 1, 〇/零 for 0), groups split by spaces of every width,
dashes, dots, middle dots, brackets, zero-width characters and soft hyphens, with
+86/0086/86 in front, inside Chinese text. The oracle reads the masked text back to
ASCII digits on its own (NFKC, a table of Chinese numerals) and asks that no seven
consecutive digits of the original number survive. Ordinary text with numbers in it
(dates, prices, station ids, house numbers, opening times) must come out unchanged.

Not covered, and said so in SECURITY.md: numbers spelt with look-alike letters (O for
0, l for 1), split by words (138 转 1234 5678), or landlines typed without an area code
(eight digits alone are as likely a date).
"""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stationfinder.core.privacy import mask_personal_numbers

# The oracle's own reading of a character: an ASCII digit, '*', or nothing.
_ZH = dict(
    zip("〇零○一幺壹二两贰三叁四肆五伍六陆七柒八捌九玖", "00011122233445566778899", strict=True)
)
_ZH_FOR = {
    "0": "〇零",
    "1": "一幺",
    "2": "二",
    "3": "三",
    "4": "四",
    "5": "五",
    "6": "六",
    "7": "七",
    "8": "八",
    "9": "九",
}
SEPARATORS = [
    " ",
    "-",
    ".",
    "·",
    "\u2009",  # thin space
    "\u3000",  # ideographic space
    "\u00a0",
    "\u200b",  # zero-width space
    "\u2060",  # word joiner
    "\u00ad",  # soft hyphen
    "\u2014",
    "－",  # full-width hyphen
    "．",  # full-width full stop
    "_",
    "/",
    "",
]
# Chinese text around a number, without numerals (一 or 两 in the text next to a number
# would be read as part of it) and without Latin letters.
TEXT = st.text(
    alphabet="我的电话是请联系站长门口师傅号码身份证，。：！？（）【】 在金沙湖白杨街道",
    max_size=12,
)
AREAS = ["010", "021", "022", "0571", "0572", "0755", "0851"]


def _read_digits(text: str) -> str:
    out = []
    for ch in text:
        normal = unicodedata.normalize("NFKC", ch)
        if ch in _ZH:
            out.append(_ZH[ch])
        elif len(normal) == 1 and normal.isdecimal() and normal.isascii():
            out.append(normal)
        elif normal in {"X", "x"}:
            out.append("X")
        elif ch == "*":
            out.append("*")
    return "".join(out)


def _survives(number: str, masked: str) -> bool:
    read = _read_digits(masked)
    return any(number[i : i + 7] in read for i in range(len(number) - 6))


@st.composite
def _written(draw: st.DrawFn, digits: str) -> str:
    """One way of writing these digits: groups, separators, notation per digit."""
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    notation = draw(st.sampled_from(["ascii", "fullwidth", "chinese", "mixed"]))

    def write(d: str) -> str:
        how = notation if notation != "mixed" else draw(st.sampled_from(["a", "f", "c"]))
        if d == "X":
            return draw(st.sampled_from(["X", "x", "Ｘ"]))
        if how in ("ascii", "a"):
            return d
        if how in ("fullwidth", "f"):
            return chr(ord("０") + int(d))
        return draw(st.sampled_from(_ZH_FOR[d]))

    out = ""
    for k, group in enumerate(groups):
        if k:
            out += draw(st.sampled_from(SEPARATORS))
        out += "".join(write(d) for d in group)
    return out


MOBILE = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
LANDLINE = st.builds(
    lambda area, first, rest: (area, f"{first}{rest}"),
    st.sampled_from(AREAS),
    st.sampled_from("23456789"),
    st.text(alphabet="0123456789", min_size=6, max_size=7),
).map(lambda p: (p[0], p[1] if len(p[0]) == 4 else (p[1] + "0")[:8]))
# 17 digits and a check character; the 17 digits carry a birth date, as every
# resident ID card's do (region, YYYYMMDD, sequence).
ID_CARD = st.builds(
    lambda first, region, born, sequence, check: f"{first}{region}{born:%Y%m%d}{sequence}{check}",
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
    st.dates(date(1900, 1, 1), date(2026, 12, 31)),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
    st.sampled_from("0123456789X"),
)
PREFIX = st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "(+86)", "＋８６ "])


@settings(max_examples=400, deadline=None)
@given(st.data(), MOBILE, PREFIX, TEXT, TEXT)
@example(data=None, mobile="13812345678", prefix="", before="电话", after="")
def test_a_mobile_number_never_survives(
    data: st.DataObject | None, mobile: str, prefix: str, before: str, after: str
) -> None:
    written = data.draw(_written(mobile)) if data else mobile
    text = f"{before}{prefix}{written}{after}"
    masked = mask_personal_numbers(text)
    assert not _survives(mobile, masked), (text, masked)
    assert len(masked) == len(text)  # only digits became '*'


@settings(max_examples=300, deadline=None)
@given(st.data(), LANDLINE, st.booleans(), TEXT, TEXT)
def test_a_landline_never_survives(
    data: st.DataObject, landline: tuple[str, str], abroad: bool, before: str, after: str
) -> None:
    area, local = landline
    number = area + local
    if abroad:  # +86 571 8888 1234: the trunk 0 is dropped
        written = "+86 " + data.draw(_written(area[1:] + local))
        number = area[1:] + local
    else:
        written = data.draw(st.sampled_from(["", "("])) + data.draw(_written(number))
    text = f"{before}{written}{after}"
    masked = mask_personal_numbers(text)
    assert not _survives(number, masked), (text, masked)


@settings(max_examples=300, deadline=None)
@given(st.data(), ID_CARD, TEXT, TEXT)
def test_an_id_card_number_never_survives(
    data: st.DataObject, number: str, before: str, after: str
) -> None:
    text = f"{before}{data.draw(_written(number))}{after}"
    masked = mask_personal_numbers(text)
    assert not _survives(number, masked), (text, masked)


def test_the_masked_form_says_a_number_was_there() -> None:
    assert mask_personal_numbers("电话１３８ １２３４ ５６７８") == "电话１３８ **** ５６７８"
    assert mask_personal_numbers("幺三八幺二三四五六七八") == "幺三八****五六七八"
    assert mask_personal_numbers("+86 571 8888 1234") == "+86 571 **** 1234"
    assert mask_personal_numbers("身份证33010619900101123x") == "身份证330***********123x"
    assert mask_personal_numbers("138\u200b1234\u20605678") == "138\u200b****\u20605678"


# --- ordinary text is left alone -----------------------------------------------------

DATE = st.builds(
    lambda y, m, d, fmt: fmt.format(y=y, m=m, d=d),
    st.integers(2000, 2100),
    st.integers(1, 12),
    st.integers(1, 31),
    st.sampled_from(
        ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}年{m}月{d}日", "{y}.{m:02d}.{d:02d}"]
    ),
)
TIME = st.builds(
    lambda a, b, c, d: f"{a:02d}:{b:02d}-{c:02d}:{d:02d}",
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 45]),
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 45]),
)
PRICE = st.builds(
    lambda yuan, fen, fmt: fmt.format(yuan=yuan, fen=fen),
    st.integers(0, 99999),
    st.integers(0, 99),
    st.sampled_from(["¥{yuan}.{fen:02d}", "{yuan}元", "{yuan}.{fen}元", "￥{yuan}"]),
)
STATION = st.builds(
    lambda s, n: f"QT-{s}-{n:03d}", st.sampled_from(["BY", "XS", "HY", "YQ"]), st.integers(1, 999)
)
HOUSE = st.builds(
    lambda n, unit: f"{n}{unit}",
    st.integers(1, 3000),
    st.sampled_from(["号楼", "单元", "室", "号"]),
)
ORDINARY = st.lists(st.one_of(DATE, TIME, PRICE, STATION, HOUSE), min_size=1, max_size=6)
JOIN = st.sampled_from(["，", "。", " 到 ", "、", "；", "\n", "和", " "])


@settings(max_examples=500, deadline=None)
@given(ORDINARY, JOIN)
@example(["2026-12-02", "¥13.50", "QT-BY-001", "1号楼", "08:00-20:00"], " ")
def test_ordinary_numbers_are_left_alone(items: list[str], join: str) -> None:
    text = join.join(items)
    assert mask_personal_numbers(text) == text
