"""Staff sign-in tried as an attacker would: fresh cookies, other addresses, forged
forwarding headers, other spellings of a name, a copied session cookie, the clock.

The rules under test (accounts/throttling.py): failures slow one name from one address
(5 free), one address across names (20 free) and one name from anywhere (20 free, never
more than two minutes' wait, and not at all for a browser the owner signed in from
before); every refusal is the same page in about the same time.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from staff_login import PASSWORD, add_staff, csrf_from

from stationfinder.db import session_scope
from stationfinder.models import ApiToken, LoginThrottle, StaffAccount
from stationfinder.web.auth import KNOWN_DEVICE_COOKIE, SEEN_AT, SIGNED_IN_AT

HOME = "203.0.113.10"  # the owner's office


def attempt(
    app: Flask,
    username: str,
    password: str = PASSWORD,
    *,
    client: FlaskClient | None = None,
    address: str = HOME,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """One sign-in through the real form; a fresh browser (no cookies) unless given."""
    client = client or app.test_client()
    env = {"REMOTE_ADDR": address}
    page = client.get("/staff/login", environ_base=env, headers=headers)
    response = client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
        environ_base=env,
        headers=headers,
    )
    return response.status_code, response.text


def _wait_passes(app: Flask, by: timedelta) -> None:
    """Move every counter's last failure back, as if `by` had gone by."""
    with session_scope(app) as session:
        for row in session.scalars(select(LoginThrottle)):
            row.last_failure_at = row.last_failure_at - by


@pytest.fixture
def quiet_app(make_app: Callable[..., Flask]) -> Flask:
    """Flask-Limiter's per-process address limit off, so only the database rules act."""
    app = make_app(RATE_LIMITS=False)
    add_staff(app, "baiyang", "street_staff", "白杨街道")
    add_staff(app, "admin", "union_admin")
    return app


def test_a_fresh_cookie_for_every_guess_changes_nothing(quiet_app: Flask) -> None:
    for _ in range(5):
        assert attempt(quiet_app, "baiyang", "guess")[0] == 401
    status, page = attempt(quiet_app, "baiyang")  # the right password, a new browser
    assert status == 401
    assert "用户名或密码错误" in page and "分钟" not in page  # same words as a wrong password


def test_a_stranger_elsewhere_cannot_lock_the_owner_out(quiet_app: Flask) -> None:
    for _ in range(8):
        attempt(quiet_app, "baiyang", "guess", address="198.51.100.7")
    assert attempt(quiet_app, "baiyang", address="198.51.100.7")[0] == 401
    assert attempt(quiet_app, "baiyang", address=HOME)[0] == 302  # the owner gets in


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(
    make_app: Callable[..., Flask],
) -> None:
    direct = make_app(RATE_LIMITS=False)
    add_staff(direct, "baiyang", "street_staff", "白杨街道")
    for n in range(5):  # a made-up forwarding header per guess
        attempt(direct, "baiyang", "guess", headers={"X-Forwarded-For": f"192.0.2.{n}"})
    forged = attempt(direct, "baiyang", headers={"X-Forwarded-For": "192.0.2.99"})
    assert forged[0] == 401  # still the same address: the header is ignored

    proxied = make_app(RATE_LIMITS=False, TRUSTED_PROXIES=1)
    _wait_passes(proxied, timedelta(days=1))
    for _ in range(5):
        attempt(proxied, "baiyang", "guess", headers={"X-Forwarded-For": "192.0.2.1"})
    assert attempt(proxied, "baiyang", headers={"X-Forwarded-For": "192.0.2.1"})[0] == 401
    assert attempt(proxied, "baiyang", headers={"X-Forwarded-For": "192.0.2.2"})[0] == 302


@pytest.mark.parametrize("spelling", ["BaiYang", " baiyang ", "ｂａｉｙａｎｇ", "BAIYANG\t"])
def test_other_spellings_of_a_name_are_the_same_name(quiet_app: Flask, spelling: str) -> None:
    assert attempt(quiet_app, spelling)[0] == 302  # the owner may type it either way
    for guess in range(5):
        wrong = ["baiyang", spelling, "BAIYANG", "ｂａｉｙａｎｇ", "Baiyang"][guess]
        attempt(quiet_app, wrong, "guess")
    assert attempt(quiet_app, "baiyang")[0] == 401  # one counter for all five spellings


def test_rotating_addresses_meets_a_slow_rate_for_the_name_not_a_lock(quiet_app: Flask) -> None:
    owner = quiet_app.test_client()
    assert attempt(quiet_app, "baiyang", client=owner)[0] == 302  # the owner's own browser
    assert owner.get_cookie(KNOWN_DEVICE_COOKIE, path="/staff/") is not None
    owner.post("/staff/logout", data={"csrf_token": csrf_from(owner.get("/staff/").text)})

    for n in range(21):  # one guess from each of 21 addresses
        attempt(quiet_app, "baiyang", "guess", address=f"198.51.100.{n}")
    # A new browser at a new address now waits, even with the right password...
    assert attempt(quiet_app, "baiyang", address="192.0.2.200")[0] == 401
    # ...but the owner's browser is known and is not held up by the stranger's guesses,
    assert attempt(quiet_app, "baiyang", client=owner, address="192.0.2.201")[0] == 302
    # and the wait is short: never more than two minutes, however long the attack.
    _wait_passes(quiet_app, timedelta(minutes=2))
    assert attempt(quiet_app, "baiyang", address="192.0.2.202")[0] == 302


def test_one_address_guessing_many_names_is_slowed_for_every_name(quiet_app: Flask) -> None:
    for n in range(20):
        attempt(quiet_app, f"name{n}", "guess", address="198.51.100.50")
    assert attempt(quiet_app, "admin", address="198.51.100.50")[0] == 401
    assert attempt(quiet_app, "admin", address=HOME)[0] == 302


def test_ipv6_neighbours_in_one_64_are_one_address(quiet_app: Flask) -> None:
    for n in range(5):
        attempt(quiet_app, "baiyang", "guess", address=f"2001:db8:1:2::{n + 1:x}")
    assert attempt(quiet_app, "baiyang", address="2001:db8:1:2:ffff::1")[0] == 401
    assert attempt(quiet_app, "baiyang", address="2001:db8:1:3::1")[0] == 302


def test_the_wait_passes_and_success_forgets_the_pair(quiet_app: Flask) -> None:
    for _ in range(5):
        attempt(quiet_app, "baiyang", "guess")
    assert attempt(quiet_app, "baiyang")[0] == 401
    with session_scope(quiet_app) as session:  # hammering while refused is not counted
        assert {r.scope: r.failures for r in session.scalars(select(LoginThrottle))} == {
            "pair": 5,
            "address": 5,
            "name": 5,
        }
    _wait_passes(quiet_app, timedelta(seconds=31))
    assert attempt(quiet_app, "baiyang")[0] == 302
    with session_scope(quiet_app) as session:
        scopes = {r.scope for r in session.scalars(select(LoginThrottle))}
    assert "pair" not in scopes  # the owner's own typos are forgiven


def test_a_second_worker_and_a_restart_keep_the_count(
    quiet_app: Flask, make_app: Callable[..., Flask]
) -> None:
    for _ in range(5):
        attempt(quiet_app, "baiyang", "guess")
    other_worker = make_app(RATE_LIMITS=False)
    assert attempt(other_worker, "baiyang")[0] == 401


def _normalised(page: str) -> str:
    page = re.sub(r'value="[^"]+"', 'value=""', page)  # CSRF token
    return re.sub(r'nonce[-=]"?[A-Za-z0-9_-]+', "nonce", page)


def test_every_refusal_is_the_same_page_in_about_the_same_time(quiet_app: Flask) -> None:
    add_staff(quiet_app, "gone", "street_staff", "下沙街道")
    with session_scope(quiet_app) as session:
        session.execute(
            update(StaffAccount).where(StaffAccount.username == "gone").values(active=False)
        )
    for _ in range(5):  # throttle the pair (admin, 192.0.2.9)
        attempt(quiet_app, "admin", "guess", address="192.0.2.9")
    kinds = {
        "unknown name": ("nobody", "guess", "192.0.2.1"),
        "wrong password": ("baiyang", "guess", "192.0.2.2"),
        "disabled": ("gone", PASSWORD, "192.0.2.3"),
        "throttled": ("admin", PASSWORD, "192.0.2.9"),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    pages: dict[str, set[str]] = {k: set() for k in kinds}
    for _ in range(5):  # interleaved, so the machine's noise falls on every kind alike
        for kind, (name, password, address) in kinds.items():
            client = quiet_app.test_client()
            token = csrf_from(client.get("/staff/login").text)
            started = time.perf_counter()
            response = client.post(
                "/staff/login",
                data={"username": name, "password": password, "csrf_token": token},
                environ_base={"REMOTE_ADDR": address},
            )
            times[kind].append(time.perf_counter() - started)
            assert response.status_code == 401, kind
            pages[kind].add(_normalised(response.text))
    assert len(set().union(*pages.values())) == 1  # one page, whatever the reason
    medians = {k: statistics.median(v) for k, v in times.items()}
    # Each path verifies one argon2 hash (~0.1-0.3 s here); before, a locked account
    # answered without one, a hundred times faster.
    assert max(medians.values()) / min(medians.values()) < 2.0, medians


# --- sessions ---------------------------------------------------------------------------


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert attempt(app, username, client=client)[0] == 302
    return client


def _copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie, as saved now."""
    saved = client.get_cookie("session")
    assert saved is not None
    thief = app.test_client()
    thief.set_cookie("session", saved.value)
    return thief


def test_a_cookie_saved_before_logout_opens_nothing_after(quiet_app: Flask) -> None:
    client = _signed_in(quiet_app, "baiyang")
    saved = _copy_of(client, quiet_app)
    assert saved.get("/staff/").status_code == 200
    client.post("/staff/logout", data={"csrf_token": csrf_from(client.get("/staff/").text)})
    page = saved.get("/staff/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/staff/login")


def test_a_password_reset_ends_sessions_and_tokens(quiet_app: Flask) -> None:
    victim = _signed_in(quiet_app, "baiyang")
    saved = _copy_of(victim, quiet_app)
    token_page = victim.get("/staff/tokens")
    made = victim.post(
        "/staff/tokens", data={"name": "sync", "csrf_token": csrf_from(token_page.text)}
    )
    token = re.search(r"sf_[A-Za-z0-9_-]{20,}", made.text).group(0)
    auth = {"Authorization": f"Bearer {token}"}
    probe = {"name": "x"}
    assert victim.patch("/api/v1/stations/QT-XS-001", json=probe, headers=auth).status_code != 401

    admin = _signed_in(quiet_app, "admin")
    with session_scope(quiet_app) as session:
        account_id = session.scalar(
            select(StaffAccount.id).where(StaffAccount.username == "baiyang")
        )
    reset = admin.post(
        f"/staff/accounts/{account_id}/password",
        data={
            "password": "a brand new password",
            "csrf_token": csrf_from(admin.get("/staff/accounts").text),
        },
    )
    assert reset.status_code == 302
    for browser in (victim, saved):
        page = browser.get("/staff/")
        assert page.status_code == 302 and page.headers["Location"].startswith("/staff/login")
    refused = victim.patch("/api/v1/stations/QT-XS-001", json=probe, headers=auth)
    assert refused.status_code == 401
    with session_scope(quiet_app) as session:
        assert session.scalar(select(ApiToken.revoked_at)) is not None
    assert admin.get("/staff/").status_code == 200  # the admin's own session goes on


def test_disabling_ends_sessions_and_enabling_brings_none_back(quiet_app: Flask) -> None:
    victim = _signed_in(quiet_app, "baiyang")
    admin = _signed_in(quiet_app, "admin")
    token = csrf_from(admin.get("/staff/accounts").text)
    with session_scope(quiet_app) as session:
        account_id = session.scalar(
            select(StaffAccount.id).where(StaffAccount.username == "baiyang")
        )
    admin.post(f"/staff/accounts/{account_id}/active", data={"csrf_token": token})
    admin.post(f"/staff/accounts/{account_id}/active", data={"csrf_token": token})
    assert victim.get("/staff/").status_code == 302  # enabled again, the old session is over


def _age_session(client: FlaskClient, *, signed_in: float, seen: float) -> None:
    """Set when the session began and last saw a request, in seconds ago."""
    now = time.time()
    with client.session_transaction() as sess:
        sess[SIGNED_IN_AT] = int(now - signed_in)
        sess[SEEN_AT] = int(now - seen)


def test_an_idle_session_ends(quiet_app: Flask) -> None:
    client = _signed_in(quiet_app, "baiyang")
    _age_session(client, signed_in=3600, seen=59 * 60)
    assert client.get("/staff/").status_code == 200  # 59 idle minutes: still on
    with client.session_transaction() as sess:  # ...and the request counted as activity
        assert time.time() - sess[SEEN_AT] < 60
    _age_session(client, signed_in=3600, seen=61 * 60)
    assert client.get("/staff/").status_code == 302


def test_a_busy_session_still_ends_at_its_maximum(quiet_app: Flask) -> None:
    client = _signed_in(quiet_app, "baiyang")
    _age_session(client, signed_in=11.9 * 3600, seen=5)
    assert client.get("/staff/").status_code == 200
    _age_session(client, signed_in=12.1 * 3600, seen=5)
    assert client.get("/staff/").status_code == 302


def test_lifetimes_are_settings(make_app: Callable[..., Flask]) -> None:
    app = make_app(STAFF_SESSION_IDLE_MINUTES=5, STAFF_SESSION_MAX_HOURS=1)
    add_staff(app, "baiyang", "street_staff", "白杨街道")
    client = _signed_in(app, "baiyang")
    _age_session(client, signed_in=60, seen=6 * 60)
    assert client.get("/staff/").status_code == 302
    client = _signed_in(app, "baiyang")
    _age_session(client, signed_in=61 * 60, seen=5)
    assert client.get("/staff/").status_code == 302


def test_accounts_made_by_the_cli_sign_in_with_any_spelling(quiet_app: Flask) -> None:
    runner = quiet_app.test_cli_runner()
    made = runner.invoke(args=["create-staff", " Ｌｉｎ ", "--password", "a-long-password"])
    assert made.exit_code == 0, made.output
    assert "created union_admin lin" in made.output
    again = runner.invoke(args=["create-staff", "LIN", "--password", "a-long-password"])
    assert "already an account" in again.output
    assert attempt(quiet_app, "Lin", "a-long-password")[0] == 302


def test_the_accounts_page_refuses_another_spelling_of_a_taken_name(quiet_app: Flask) -> None:
    admin = _signed_in(quiet_app, "admin")
    token = csrf_from(admin.get("/staff/accounts").text)
    taken = admin.post(
        "/staff/accounts",
        data={
            "username": "ＢａｉＹａｎｇ",
            "role": "council_secretary",
            "street": "",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert taken.status_code == 400
    with session_scope(quiet_app) as session:
        assert (
            session.scalar(select(StaffAccount).where(StaffAccount.role == "council_secretary"))
            is None
        )
    made = admin.post(
        "/staff/accounts",
        data={
            "username": "  Secretary ",
            "role": "council_secretary",
            "street": "",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert made.status_code == 302
    assert attempt(quiet_app, "SECRETARY")[0] == 302
