"""Personal data in what couriers type: phone numbers, ID-card numbers, device keys.

In free text, mainland mobile numbers (11 digits starting 13..19, with or without
+86/0086) are shown as 138****5678, landlines with their area code as 0571-****5678, and
resident ID-card numbers (18 characters, the last a digit or X) keep their first three
and last four characters, whatever the notation (see mask_personal_numbers). The
15-digit ID form retired in 2013 is left alone: too many parcel numbers look like it.
Device keys are secrets the courier's browser keeps; only a keyed hash is stored, so a
database dump does not let anyone read "my issues" of a device.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

DEVICE_KEY = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def mask_phone(phone: str) -> str:
    """138****1234 for a mobile number; other numbers keep only their last four digits."""
    digits = re.sub(r"[^0-9]", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[7:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


# --- personal numbers in free text --------------------------------------------------
#
# Couriers type numbers in whatever notation their input method gives: full-width
# digits (１３８…), spaced or dotted groups, brackets, zero-width characters pasted from a
# chat app, Chinese numerals (一三八…, 幺 for 1 as numbers are read aloud). Matching runs
# on a normal form of each character, and only the matched digits are starred, so the
# rest of the text stays exactly as typed.

# Read one character at a time: a digit's value, or None. Unicode decimal digits cover
# ASCII, full-width and every other script's digits; the Chinese numerals are the ones
# people use to write a phone number (not 十/百, which no phone number reads with).
_CHINESE_DIGITS = {
    **dict.fromkeys("〇零○", "0"),
    **dict.fromkeys("一幺壹", "1"),
    **dict.fromkeys("二两贰", "2"),
    **dict.fromkeys("三叁", "3"),
    **dict.fromkeys("四肆", "4"),
    **dict.fromkeys("五伍", "5"),
    **dict.fromkeys("六陆", "6"),
    **dict.fromkeys("七柒", "7"),
    **dict.fromkeys("八捌", "8"),
    **dict.fromkeys("九玖", "9"),
}
# What people put between the groups of a number (never a line break: a number is not
# split over lines, while lists of figures are), beyond spaces, dashes, format
# characters (zero-width space, word joiner, soft hyphen) and brackets, which are
# recognised by their Unicode category. Not ':' (08:00-20:00) and not ',' (a list of
# prices would join into one long number).
_SEPARATOR_CHARS = frozenset("._+*/\\·・‧•")
_SEPARATOR_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf", "Mn", "Me", "Pd", "Pc", "Ps", "Pe"})
_MOBILE_DIGITS = re.compile(r"1[3-9][0-9]{9}")
# An ID card: region (six digits), birth date, sequence, check character. The birth
# date is what tells an ID card from any 18 digits (two dates on one line, run together).
_ID_DIGITS = re.compile(
    r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]"
)
# Dates written with one separator (2026-05-01, 2026.5.1, 2026/12/02), sums of money
# (¥1300.00, 13.5元), clock times (08:00) and codes such as station ids (QT-BY-001) are
# not phone numbers; their digits stay out of every run, so two of them on a line do not
# join into something that reads like one. A date or a sum glued to digits before it
# (through separators) is read as digits after all: "0571 2000-1-1" is a landline.
_NOT_A_NUMBER = re.compile(
    r"(?P<glued>(?<![0-9])(?:19|20|21)[0-9]{2}([-./])(?:0?[1-9]|1[0-2])\2"
    r"(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])"
    r"|(?<![0-9])[0-9]+(?:\.[0-9]{1,2})? ?[元块角])"
    r"|¥ ?[0-9]+(?:\.[0-9]{1,2})?"
    r"|(?<![0-9])[0-9]{1,2}:[0-5][0-9]"
    r"|(?<=[A-Za-z][-_])[0-9]{1,6}(?![0-9])"
)
# A landline with its area code: 010 and 02x take eight-digit numbers, the other area
# codes (0571 for Hangzhou) three digits after the 0 and seven or eight-digit numbers,
# which never start with 0. Without an area code, eight digits are as likely a date
# (20261202) as a number, so those are left alone.
_LANDLINE_DIGITS = re.compile(r"0(?:(?:10|2[0-9])[1-9][0-9]{7}|[3-9][0-9]{2}[1-9][0-9]{6,7})")


def _digit(ch: str) -> str | None:
    if ch in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[ch]
    if ch.isdecimal():
        return str(unicodedata.decimal(ch, ""))
    return None


def _is_separator(ch: str) -> bool:
    if ch == "\t" or unicodedata.category(ch) in _SEPARATOR_CATEGORIES:
        return True
    return unicodedata.normalize("NFKC", ch) in _SEPARATOR_CHARS


def _is_check_x(ch: str) -> bool:
    return unicodedata.normalize("NFKC", ch) in {"x", "X"}


def _notation(ch: str) -> str:
    """Which way of writing digits a character belongs to: switching notation in the
    middle of a run (一三八 then 12345678) starts a new group."""
    return "zh" if ch in _CHINESE_DIGITS else "digit"


def _star(chars: list[str], where: list[int], begin: int, end: int) -> None:
    for k in range(begin, end):
        chars[where[k]] = "*"


def _mask_run(chars: list[str], run: list[int]) -> None:
    """Mask the numbers in one run of digits and separators, in place.

    A number starts and ends at a group edge (a separator, a change of notation, or the
    run's edge), so digits glued to more digits (a parcel number, a date run together
    with a time) are not cut into a phone number.
    """
    digits: list[str] = []
    where: list[int] = []
    edges = {0}
    last_notation = None
    for i in run:
        ch = chars[i]
        value = _digit(ch)
        if value is None:
            edges.add(len(digits))
            if _is_check_x(ch):  # an ID card's check character (never a run's first)
                digits.append("X")
                where.append(i)
                edges.add(len(digits))
            last_notation = None
            continue
        notation = _notation(ch)
        if last_notation is not None and notation != last_notation:
            edges.add(len(digits))
        last_notation = notation
        digits.append(value)
        where.append(i)
    edges.add(len(digits))
    text = "".join(digits)
    for start in sorted(edges):
        end = start + 18
        if end in edges and _ID_DIGITS.fullmatch(text, start, end):
            _star(chars, where, start + 3, start + 14)  # 330***********123X
            continue
        for prefix in ("", "86", "0086"):
            if not text.startswith(prefix, start):
                continue
            begin = start + len(prefix)
            end = begin + 11
            if end in edges and _MOBILE_DIGITS.fullmatch(text, begin, end):
                _star(chars, where, begin + 3, begin + 7)  # 138****5678
                break
            # A landline: 0571… at home, 86 571… (the trunk 0 dropped) from abroad.
            trunk = "0" if prefix else ""
            if _mask_landline(chars, where, text, begin, trunk, edges):
                break


def _mask_landline(
    chars: list[str], where: list[int], text: str, begin: int, trunk: str, edges: set[int]
) -> bool:
    for length in (12, 11):  # the longer reading first: it masks more
        end = begin + length - len(trunk)
        number = trunk + text[begin:end]
        if end in edges and _LANDLINE_DIGITS.fullmatch(number):
            area = 3 if number.startswith(("010", "02")) else 4
            _star(chars, where, begin + area - len(trunk), end - 4)  # 0571-****5678
            return True
    return False


def mask_personal_numbers(text: str) -> str:
    """The text with mobile, landline and ID-card numbers masked, whatever the notation:
    full-width or Chinese digits, spaces of any width, dots, dashes, brackets, zero-width
    characters, +86/0086. Everything else is kept as typed; only the masked digits
    become '*', so a reader still sees that a number was there (138****5678)."""
    chars = list(text)
    normal = "".join(
        n if len(n := unicodedata.normalize("NFKC", ch)) == 1 else "\x00" for ch in chars
    )
    kept: set[int] = set()
    for match in _NOT_A_NUMBER.finditer(normal):
        before = match.start() - 1
        while before >= 0 and _is_separator(chars[before]):
            before -= 1
        # Digits before it, through separators, make it the tail of a number (0571
        # 2000-1-1 is a landline): then it is read like any other digits.
        glued = match.group("glued") is not None
        if not glued or before < 0 or before in kept or _digit(chars[before]) is None:
            kept.update(range(match.start(), match.end()))
    run: list[int] = []
    for i, ch in enumerate([*chars, "\n"]):
        in_run = (
            i < len(chars)
            and i not in kept
            and (_digit(ch) is not None or (run and (_is_separator(ch) or _is_check_x(ch))))
        )
        if in_run:
            run.append(i)
            continue
        if run:
            _mask_run(chars, run)
        run = []
    return "".join(chars)


def normalise_phone(raw: str) -> str | None:
    """A call-back number as digits (a leading + kept), or None when none was given.
    ValueError when it is not a phone number."""
    cleaned = re.sub(r"[\s()-]", "", raw.strip())
    if not cleaned:
        return None
    if not re.fullmatch(r"\+?[0-9]{7,15}", cleaned):
        raise ValueError("not a phone number")
    return cleaned


def is_device_key(key: str | None) -> bool:
    return key is not None and DEVICE_KEY.fullmatch(key) is not None


def hash_device_key(key: str, secret: str | bytes, purpose: str = "council") -> str:
    """The stored form of a device's private key: HMAC-SHA256 under the app's secret.
    Each `purpose` gets its own hash (the rate limiter's counters never hold the one the
    database identifies a device by)."""
    if not is_device_key(key):
        raise ValueError("not a device key")
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    message = purpose.encode() + b":" + key.encode()
    return hmac.new(secret_bytes, message, hashlib.sha256).hexdigest()


def network_of(address: str | None) -> str:
    """The network an address belongs to: an IPv4 /24 or an IPv6 /48 (what one client
    can change within cheaply). An unparseable address is its own network."""
    import ipaddress

    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return f"other:{(address or '')[:64]}"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def hash_network(address: str | None, secret: str | bytes) -> str:
    """The stored form of an address's network: a keyed hash, never the address."""
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    message = b"network:" + network_of(address).encode()
    return hmac.new(secret_bytes, message, hashlib.sha256).hexdigest()


_MINT = b"mint:"
# A key minted beyond its network's ration (see web/device_keys.py) is signed for
# another purpose: it is ours, so it is not replaced on every request, but it never
# becomes established however old it gets.
_MINT_PROBATION = b"mint-probation:"


def mint_device_key(secret: str | bytes, minted_at: float, *, probation: bool = False) -> str:
    """A server-minted device key: random part, mint time (hex seconds), and an HMAC
    of both under the app's secret, joined by "_" (fits DEVICE_KEY)."""
    import secrets as _secrets

    body = f"{_secrets.token_hex(16)}_{int(minted_at):x}"
    return f"{body}_{_signature(secret, _MINT_PROBATION if probation else _MINT, body)}"


def _signature(secret: str | bytes, purpose: bytes, body: str) -> str:
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret_bytes, purpose + body.encode(), hashlib.sha256).hexdigest()[:32]


def _minted_with(key: str, secret: str | bytes, purpose: bytes) -> float | None:
    parts = key.split("_")
    if len(parts) != 3 or not is_device_key(key):
        return None
    body = f"{parts[0]}_{parts[1]}"
    if not hmac.compare_digest(_signature(secret, purpose, body), parts[2]):
        return None
    try:
        return float(int(parts[1], 16))
    except ValueError:
        return None


def device_key_minted_at(key: str, secret: str | bytes) -> float | None:
    """When the server minted this key, for a key that may become established; None
    for a key it did not mint (made up or forged) and for a probation key."""
    return _minted_with(key, secret, _MINT)


def is_minted_device_key(key: str | None, secret: str | bytes) -> bool:
    """Whether the server minted this key (probation keys included): what a view that
    refuses client-made ids accepts."""
    if not key:
        return False
    return (
        _minted_with(key, secret, _MINT) is not None
        or _minted_with(key, secret, _MINT_PROBATION) is not None
    )
