"""Council forms carry the server-minted key, so a courier's phone can come to weigh fully."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from stationfinder.core.privacy import device_key_minted_at


def _field_key(html: str) -> str:
    found = re.findall(r'name="device_key" value="([^"]*)"', html)
    assert found, "the form has a device_key field"
    assert len(set(found)) == 1
    return found[0]


def test_the_raise_form_carries_a_minted_key_and_keeps_it(
    council_app: Flask, courier: FlaskClient
) -> None:
    first = courier.get("/council/new")
    key = _field_key(first.get_data(as_text=True))
    secret = str(council_app.config["SECRET_KEY"])
    assert device_key_minted_at(key, secret) is not None  # minted and signed by us
    assert key in first.headers.get("Set-Cookie", "")
    again = courier.get("/council/new")
    assert _field_key(again.get_data(as_text=True)) == key  # the same phone, the same key


def test_a_forged_cookie_gets_a_fresh_minted_key_not_an_error(
    council_app: Flask, courier: FlaskClient
) -> None:
    courier.set_cookie("sf_council_key", "not a key!")
    page = courier.get("/council/new")
    assert page.status_code == 200
    key = _field_key(page.get_data(as_text=True))
    assert device_key_minted_at(key, str(council_app.config["SECRET_KEY"])) is not None
