"""Issue 12, items 1-2: one client minting fresh device keys can neither hide an issue
by flags nor inflate its backings; a crowd of established couriers behind one address
still backs it."""

from __future__ import annotations

import time

from flask import Flask
from staff_login import csrf_from
from test_council_pages import raise_issue

from stationfinder.core.privacy import mint_device_key
from stationfinder.council.issues import get_issue
from stationfinder.db import session_scope


def _post(app: Flask, number: str, step: str, key: str | None = None) -> None:
    client = app.test_client()  # a fresh client: no cookie
    page = client.get(f"/council/issues/{number}")
    data = {"csrf_token": csrf_from(page.text)}
    if key:
        data["device_key"] = key
    client.post(f"/council/issues/{number}/{step}", data=data)


def _issue(app: Flask, number: str):  # type: ignore[no-untyped-def]
    with session_scope(app) as session:
        issue = get_issue(session, int(number.rsplit("-", 1)[1]))
        return issue.hidden, issue.needs_review, issue.backing_count


def test_fresh_keys_cannot_hide_an_issue(council_app: Flask) -> None:
    _, _, number = raise_issue(council_app.test_client())
    for _ in range(5):
        _post(council_app, number, "flag")
    hidden, needs_review, _ = _issue(council_app, number)
    assert not hidden and needs_review  # queued for the secretary, still on the board
    assert number in council_app.test_client().get("/council").text


def test_rotating_keys_from_one_address_add_a_handful(council_app: Flask) -> None:
    _, _, number = raise_issue(council_app.test_client())
    for _ in range(20):
        _post(council_app, number, "back")
    assert _issue(council_app, number)[2] <= 1 + 3


def test_established_crowd_behind_one_address_counts(council_app: Flask) -> None:
    _, _, number = raise_issue(council_app.test_client())
    secret = str(council_app.config["SECRET_KEY"])
    for _ in range(12):
        _post(council_app, number, "back", mint_device_key(secret, time.time() - 2 * 86400))
    assert _issue(council_app, number)[2] == 13
