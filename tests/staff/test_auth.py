"""Staff log in and out; wrong passwords, forged forms and other people's pages are refused;
each role can do only its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from staff_login import PASSWORD, add_staff, csrf_from

from stationfinder.db import session_scope
from stationfinder.models import LoginThrottle, StaffAccount, Station

OWN = "QT-BY-001"  # in 白杨街道
OTHER = "QT-XS-001"  # in 下沙街道


def log_in(client: FlaskClient, username: str, password: str = PASSWORD, **kw: object):
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": token},
        **kw,
    )


@pytest.fixture
def staffed(app: Flask) -> Flask:
    add_staff(app, "baiyang", "street_staff", "白杨街道")
    add_staff(app, "xiasha", "street_staff", "下沙街道")
    add_staff(app, "secretary", "council_secretary")
    add_staff(app, "admin", "union_admin")
    return app


def test_right_password_logs_in_with_a_safe_cookie(staffed: Flask, client: FlaskClient) -> None:
    response = log_in(client, "baiyang")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in a test: a Secure cookie would be lost
    home = client.get("/staff/")
    assert home.status_code == 200
    assert "baiyang" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "no-store"


def test_the_cookie_is_secure_over_https(staffed: Flask) -> None:
    client = staffed.test_client()
    token_page = client.get("/staff/login", base_url="https://localhost")
    response = client.post(
        "/staff/login",
        base_url="https://localhost",
        data={
            "username": "baiyang",
            "password": PASSWORD,
            "csrf_token": csrf_from(token_page.get_data(as_text=True)),
        },
        headers={"Referer": "https://localhost/staff/login"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_starts_a_new_session(staffed: Flask, client: FlaskClient) -> None:
    client.get("/staff/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by someone who handed the victim this cookie"
    log_in(client, "baiyang")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(str(_account_id(staffed, "baiyang")) + ":")


def _account_id(app: Flask, username: str) -> int:
    with session_scope(app) as session:
        return session.scalar(select(StaffAccount.id).where(StaffAccount.username == username))


def test_wrong_password_is_refused_and_says_so(staffed: Flask, client: FlaskClient) -> None:
    response = log_in(client, "baiyang", "not the password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302  # still not signed in
    unknown = log_in(client, "nobody", "whatever it is")
    assert unknown.status_code == 401
    assert "用户名或密码错误" in unknown.get_data(as_text=True)  # same words: no user probe


def test_five_wrong_passwords_slow_that_name_from_that_address_only(
    staffed: Flask, client: FlaskClient
) -> None:
    """A stranger's guesses cannot lock the owner out: they slow down the name from the
    guesser's address, and say so in the words a wrong password gets."""
    stranger = {"environ_base": {"REMOTE_ADDR": "198.51.100.66"}}
    for _ in range(5):
        assert log_in(client, "baiyang", "guess", **stranger).status_code == 401
    refused = log_in(client, "baiyang", **stranger)  # even the right password
    assert refused.status_code == 401
    assert "用户名或密码错误" in refused.get_data(as_text=True)
    owner = staffed.test_client()
    assert log_in(owner, "baiyang").status_code == 302  # from the owner's own address
    with session_scope(staffed) as session:
        for row in session.scalars(select(LoginThrottle)):
            row.last_failure_at -= timedelta(seconds=31)  # the first wait has passed
    assert log_in(client, "baiyang", **stranger).status_code == 302


def test_one_address_is_slowed_down(staffed: Flask, client: FlaskClient) -> None:
    statuses = [log_in(client, f"user{n}", "guess").status_code for n in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


def test_forms_without_a_valid_csrf_token_are_refused(staffed: Flask, client: FlaskClient) -> None:
    missing = client.post("/staff/login", data={"username": "baiyang", "password": PASSWORD})
    assert missing.status_code == 400
    assert "CSRF" in missing.get_data(as_text=True)
    forged = client.post(
        "/staff/login",
        data={"username": "baiyang", "password": PASSWORD, "csrf_token": "forged.token"},
    )
    assert forged.status_code == 400
    log_in(client, "baiyang")
    retire = client.post(f"/staff/stations/{OWN}/retire", data={"reason": "closed", "version": 1})
    assert retire.status_code == 400
    with session_scope(staffed) as session:
        assert session.get(Station, OWN).active


def test_pages_send_strangers_to_the_login(staffed: Flask, client: FlaskClient) -> None:
    page = client.get("/staff/stations?street=白杨街道")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/staff/login?next=")
    as_json = client.get("/staff/stations", headers={"Accept": "application/json"})
    assert as_json.status_code == 401
    assert as_json.get_json()["error"]["code"] == "unauthorized"


def test_login_returns_to_the_page_asked_for_but_never_off_site(
    staffed: Flask, client: FlaskClient
) -> None:
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    data = {"username": "baiyang", "password": PASSWORD, "csrf_token": token}
    back = client.post("/staff/login?next=/staff/changes", data=data)
    assert back.headers["Location"] == "/staff/changes"
    client.post("/staff/logout", data={"csrf_token": csrf_from(client.get("/staff/").text)})
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    data["csrf_token"] = token
    away = client.post("/staff/login?next=//evil.example/", data=data)
    assert away.headers["Location"] == "/staff/"


def test_logout_ends_the_session(staffed: Flask, client: FlaskClient) -> None:
    log_in(client, "baiyang")
    token = csrf_from(client.get("/staff/").get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/").status_code == 302


def _status(client: FlaskClient, path: str) -> int:
    return client.get(path).status_code


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        (
            "baiyang",
            ["/staff/stations", f"/staff/stations/{OWN}/edit", "/staff/stations/new"],
            [f"/staff/stations/{OTHER}/edit", "/staff/accounts"],
        ),
        (
            "secretary",
            ["/staff/stations", "/staff/changes", f"/staff/stations/{OWN}/history"],
            [f"/staff/stations/{OWN}/edit", "/staff/stations/new", "/staff/accounts"],
        ),
        (
            "admin",
            [f"/staff/stations/{OWN}/edit", f"/staff/stations/{OTHER}/edit", "/staff/accounts"],
            [],
        ),
    ],
)
def test_each_role_sees_only_its_own_pages(
    staffed: Flask, client: FlaskClient, who: str, allowed: list[str], refused: list[str]
) -> None:
    log_in(client, who)
    for path in allowed:
        assert _status(client, path) == 200, path
    for path in refused:
        assert _status(client, path) == 403, path


def test_street_staff_cannot_post_to_another_subdistrict_by_guessing_the_url(
    staffed: Flask, client: FlaskClient
) -> None:
    log_in(client, "baiyang")
    token = csrf_from(client.get(f"/staff/stations/{OWN}/edit").get_data(as_text=True))
    for path, data in (
        (f"/staff/stations/{OTHER}/retire", {"reason": "closed", "version": "1"}),
        (f"/staff/stations/{OTHER}/edit", {"name": "hijacked", "version": "1"}),
        (f"/staff/stations/{OTHER}/out-of-service", {"amenity": "toilet", "note": "broken"}),
        (f"/staff/stations/{OTHER}/history/restore", {"target": "1", "version": "1"}),
    ):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    with session_scope(staffed) as session:
        other = session.get(Station, OTHER)
        assert other.active and other.version == 1


def test_admin_manages_accounts(staffed: Flask, client: FlaskClient) -> None:
    log_in(client, "admin")
    page = client.get("/staff/accounts")
    token = csrf_from(page.get_data(as_text=True))
    no_street = client.post(
        "/staff/accounts",
        data={
            "username": "linjiang",
            "role": "street_staff",
            "street": "",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert no_street.status_code == 400
    created = client.post(
        "/staff/accounts",
        data={
            "username": "linjiang",
            "display_name": "<b>林</b>",
            "role": "street_staff",
            "street": "临江街道",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert created.status_code == 302
    listing = client.get("/staff/accounts").get_data(as_text=True)
    assert "&lt;b&gt;林&lt;/b&gt;" in listing and "<b>林</b>" not in listing

    other = staffed.test_client()
    assert log_in(other, "linjiang").status_code == 302
    assert other.get("/staff/").status_code == 200

    account_id = _account_id(staffed, "linjiang")
    client.post(f"/staff/accounts/{account_id}/active", data={"csrf_token": token})
    assert other.get("/staff/").status_code == 302  # its session ended at once
    assert log_in(other, "linjiang").status_code == 401

    client.post(f"/staff/accounts/{account_id}/active", data={"csrf_token": token})
    assert log_in(other, "linjiang").status_code == 302
    reset = client.post(
        f"/staff/accounts/{account_id}/password",
        data={"password": "a brand new password", "csrf_token": token},
    )
    assert reset.status_code == 302
    assert other.get("/staff/").status_code == 302  # a reset ends old sessions
    assert log_in(other, "linjiang", "a brand new password").status_code == 302


def test_admin_cannot_lock_themselves_out(staffed: Flask, client: FlaskClient) -> None:
    log_in(client, "admin")
    token = csrf_from(client.get("/staff/accounts").get_data(as_text=True))
    own = _account_id(staffed, "admin")
    refused = client.post(f"/staff/accounts/{own}/active", data={"csrf_token": token})
    assert refused.status_code == 400


def test_account_refusals_are_answered_in_the_page_language(
    staffed: Flask, client: FlaskClient
) -> None:
    """An account refusal goes through the one DomainError handler: its status (400, or
    404 for an account that does not exist) and its words in Chinese, the number filled."""
    log_in(client, "admin")
    token = csrf_from(client.get("/staff/accounts").get_data(as_text=True))
    own = _account_id(staffed, "admin")
    short = client.post(
        f"/staff/accounts/{own}/password", data={"password": "short", "csrf_token": token}
    )
    assert short.status_code == 400
    page = short.get_data(as_text=True)
    assert "10" in page and "password needs" not in page and "%(n)s" not in page
    missing = client.post("/staff/accounts/999999/active", data={"csrf_token": token})
    assert missing.status_code == 404
    assert "no such account" not in missing.get_data(as_text=True)
