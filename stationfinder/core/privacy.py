"""Personal data in what couriers type: phone numbers, ID-card numbers, device keys.

Mainland mobile numbers (11 digits starting 13..19, optionally +86 and spaced or dashed
3-4-4) are shown as 138****1234; resident ID-card numbers (18 characters, the last a
digit or X) keep their first three and last four characters. The 15-digit form retired
in 2013 is left alone: too many parcel numbers look like it.
Device keys are secrets the courier's browser keeps; only a keyed hash is stored, so a
database dump does not let anyone read "my issues" of a device.
"""

from __future__ import annotations

import hashlib
import hmac
import re

# Digits glued to other digits are something else (a parcel number): refuse those.
_MOBILE = re.compile(
    r"(?<![0-9])(?:\+?86[\s-]?)?(1[3-9][0-9])[\s-]?([0-9]{4})[\s-]?([0-9]{4})(?![0-9])"
)
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{2})([0-9]{11})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
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


def mask_personal_numbers(text: str) -> str:
    """The text with mobile and ID-card numbers masked (ID cards first: they are longer)."""
    text = _ID_CARD.sub(lambda m: m.group(1) + "*" * 11 + m.group(3), text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


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


def mint_device_key(secret: str | bytes, minted_at: float) -> str:
    """A server-minted device key: random part, mint time (hex seconds), and an HMAC
    of both under the app's secret, joined by "_" (fits DEVICE_KEY)."""
    import secrets as _secrets

    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    body = f"{_secrets.token_hex(16)}_{int(minted_at):x}"
    sig = hmac.new(secret_bytes, b"mint:" + body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}_{sig}"


def device_key_minted_at(key: str, secret: str | bytes) -> float | None:
    """When the server minted this key; None for a key it did not mint (or forged)."""
    parts = key.split("_")
    if len(parts) != 3:
        return None
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    body = f"{parts[0]}_{parts[1]}"
    sig = hmac.new(secret_bytes, b"mint:" + body.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(sig, parts[2]):
        return None
    try:
        return float(int(parts[1], 16))
    except ValueError:
        return None
