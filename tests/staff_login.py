"""Staff accounts and logins for the staff-area tests: made and used the way a person
would, through the real login form with its CSRF token."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from stationfinder.accounts.passwords import hash_password
from stationfinder.db import session_scope
from stationfinder.models import StaffAccount

PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def add_staff(
    app: Flask, username: str, role: str, street: str | None = None, district: str | None = None
) -> None:
    with session_scope(app) as session:
        session.add(
            StaffAccount(
                username=username,
                display_name=username,
                password_hash=hash_password(PASSWORD),
                role=role,
                street=street,
                district=district,
            )
        )


def log_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def staff_client(
    app: Flask, username: str, role: str, street: str | None = None, district: str | None = None
) -> FlaskClient:
    """A browser session of a new staff member who has just logged in."""
    add_staff(app, username, role, street, district)
    return log_in(app, username)


def api_token(client: FlaskClient, name: str = "integration") -> str:
    """A new API token made by the staff member signed in on `client`, as /staff/tokens
    shows it once."""
    page = client.get("/staff/tokens").get_data(as_text=True)
    made = client.post("/staff/tokens", data={"name": name, "csrf_token": csrf_from(page)})
    assert made.status_code == 200
    match = re.search(r'data-testid="new-token">([^<]+)<', made.get_data(as_text=True))
    assert match, made.get_data(as_text=True)[:500]
    return match.group(1)
