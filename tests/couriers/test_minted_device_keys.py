"""Issue 12, items 2 and 7: station confirmations and problem reports know a device by a
key the server minted and signed, as the council does; a client-made id is replaced,
the cookie is Secure over HTTPS, and minting is rationed per network.

What clearing cookies buys: a new key each time. Within the ration (MINT_RATION per
network) that key is a full one that becomes established after a day; beyond it the
key is on probation and never counts as established, so an attacker cannot bank keys
for tomorrow from one network. Per-address limits cap what fresh keys do today.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from http.cookies import SimpleCookie

import pytest
from flask import Flask
from flask.testing import FlaskClient

from stationfinder.core.privacy import (
    device_key_minted_at,
    is_minted_device_key,
    mint_device_key,
)
from stationfinder.web import device_keys
from stationfinder.web.couriers import reports

STATION = "QT-XS-001"
SAME_ORIGIN = {"Origin": "http://localhost", "Accept": "application/json"}


def _set_cookie(response, name: str) -> SimpleCookie | None:  # type: ignore[no-untyped-def]
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            return cookie
    return None


def _minted(app: Flask, cookie: SimpleCookie | None) -> str:
    assert cookie is not None, "no device cookie set"
    key = cookie["sf_device"].value
    assert is_minted_device_key(key, str(app.config["SECRET_KEY"])), key
    return key


@pytest.fixture
def limited(make_app: Callable[..., Flask]) -> Flask:
    return make_app(RATE_LIMITS=True)


def test_a_confirmation_gets_a_minted_key_instead_of_a_made_up_id(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("sf_device", "made-up-by-the-client-0001")
    response = client.post(
        f"/stations/{STATION}/confirm",
        data={"device": "made-up-by-the-client-0002"},
        headers={**SAME_ORIGIN, "X-Device-Id": "made-up-by-the-client-0003"},
    )
    assert response.status_code == 200
    cookie = _set_cookie(response, "sf_device")
    key = _minted(app, cookie)
    assert "made-up" not in key
    assert cookie is not None and cookie["sf_device"]["httponly"]
    again = client.post(f"/stations/{STATION}/confirm", headers=SAME_ORIGIN)
    assert again.get_json()["status"] == "already"  # the minted key is what it goes by
    assert _set_cookie(again, "sf_device") is None


def test_a_report_form_gets_a_minted_key(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("sf_device", "made-up-by-the-client-0001")
    page = client.get(f"/stations/{STATION}/report")
    assert page.status_code == 200
    _minted(app, _set_cookie(page, "sf_device"))
    assert _set_cookie(client.get(f"/stations/{STATION}/report"), "sf_device") is None


def test_device_cookies_are_secure_over_https(app: Flask) -> None:
    client = app.test_client()
    confirmed = client.post(
        f"/stations/{STATION}/confirm",
        base_url="https://localhost",
        headers={**SAME_ORIGIN, "Origin": "https://localhost"},
    )
    assert confirmed.status_code == 200
    cookie = _set_cookie(confirmed, "sf_device")
    assert cookie is not None and cookie["sf_device"]["secure"]
    report = app.test_client().get(f"/stations/{STATION}/report", base_url="https://localhost")
    cookie = _set_cookie(report, "sf_device")
    assert cookie is not None and cookie["sf_device"]["secure"]
    plain = app.test_client().get(f"/stations/{STATION}/report")
    cookie = _set_cookie(plain, "sf_device")
    assert cookie is not None and not cookie["sf_device"]["secure"]


def test_clearing_cookies_mints_only_a_ration_of_full_keys(limited: Flask) -> None:
    """One network asking for key after key: the first MINT_RATION-per-hour are full
    keys, the rest are probation keys that never become established, though they
    still work (the confirmation is recorded)."""
    secret = str(limited.config["SECRET_KEY"])
    per_hour = int(re.match(r"(\d+) per hour", device_keys.MINT_RATION).group(1))  # type: ignore[union-attr]
    keys = []
    for _ in range(per_hour + 5):
        page = limited.test_client().get(f"/stations/{STATION}/report")  # no cookie each time
        assert page.status_code == 200
        keys.append(_minted(limited, _set_cookie(page, "sf_device")))
    full = [k for k in keys if device_key_minted_at(k, secret) is not None]
    assert len(full) == per_hour
    assert keys[:per_hour] == full  # the ration is used first, the rest are on probation
    other_network = limited.test_client().get(
        f"/stations/{STATION}/report", environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert device_key_minted_at(_minted(limited, _set_cookie(other_network, "sf_device")), secret)


def test_council_keys_are_rationed_too(limited: Flask) -> None:
    secret = str(limited.config["SECRET_KEY"])
    per_hour = int(re.match(r"(\d+) per hour", device_keys.MINT_RATION).group(1))  # type: ignore[union-attr]
    for _ in range(per_hour):  # the network's ration, used up by cleared cookies
        limited.test_client().get(f"/stations/{STATION}/report")
    client: FlaskClient = limited.test_client()
    page = client.get("/council/new")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token
    raised = client.post("/council/new", data={"csrf_token": token.group(1), "title": ""})
    # The form page mints the key (it carries it in its device_key fields).
    cookie = _set_cookie(page, "sf_council_key") or _set_cookie(raised, "sf_council_key")
    assert cookie is not None
    key = cookie["sf_council_key"].value
    assert is_minted_device_key(key, secret)  # the courier can still raise and back
    assert device_key_minted_at(key, secret) is None  # on probation: never established


def test_a_probation_key_never_becomes_established(app: Flask) -> None:
    secret = str(app.config["SECRET_KEY"])
    old = mint_device_key(secret, time.time() - 30 * 86400, probation=True)
    assert is_minted_device_key(old, secret)
    assert device_key_minted_at(old, secret) is None
    assert not is_minted_device_key(old, "another-secret")


def test_rotating_keys_from_one_address_hits_the_address_limit(limited: Flask) -> None:
    """Each fresh client is a fresh device; the address-wide ceiling still holds."""
    ceiling = int(reports.REPORT_ADDRESS_LIMIT.split(" per hour")[0])
    codes = []
    for _ in range(ceiling + 1):
        client = limited.test_client()
        page = client.get(f"/stations/{STATION}/report")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token
        codes.append(
            client.post(
                f"/stations/{STATION}/report",
                data={"csrf_token": token.group(1), "category": "closed_when_open"},
            ).status_code
        )
    assert codes[:ceiling] == [200] * ceiling and codes[-1] == 429
