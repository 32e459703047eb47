"""Every route that changes something through a page's form refuses a forged post.

The routes are not listed by hand: they are read from the app's URL map (every rule that
accepts POST, PUT, PATCH or DELETE), minus the deliberately exempt ones named below with
their reason. A new form route is therefore checked the day it is added, and a new
exemption fails here until it is listed with its reason.

For each route, a logged-in staff member's browser posts: without a token, with the
token of another session, with the token their own browser had before logging in (the
login starts a new session), and, where an operator limits a token's age
(WTF_CSRF_TIME_LIMIT), with an expired one. Each must answer the CSRF failure page (400)
and change nothing in the database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.routing import Rule

from stationfinder.accounts.passwords import hash_password
from stationfinder.db import session_scope
from stationfinder.models import Base, StaffAccount

PASSWORD = "correct horse battery"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Exempt on purpose: nothing rides on a cookie there, so a forged cross-site request has
# no session to borrow. Keyed by endpoint; a blueprint's endpoints by "<blueprint>.*".
EXEMPT: dict[str, str] = {
    "api.create_station": "write API: a bearer token in Authorization, never a cookie",
    "api.update_station": "write API: a bearer token in Authorization, never a cookie",
    "api.retire_station": "write API: a bearer token in Authorization, never a cookie",
    "open311.*": "Open311 GeoReport v2: a cookie-less API for other systems",
    "web.confirm": "a courier's anonymous 信息准确 tap: no account to ride on; refused "
    "unless Origin or Referer is this site (tests/couriers/test_confirm_station.py)",
}
# Flask-WTF names an exempt view by module and function, a blueprint by its name.
EXEMPT_VIEWS = {
    "api.create_station": "stationfinder.web.api.write.create_station",
    "api.update_station": "stationfinder.web.api.write.update_station",
    "api.retire_station": "stationfinder.web.api.write.retire_station",
    "web.confirm": "stationfinder.web.couriers.confirm.confirm",
}

# Values for the URL's variables: real rows where the seed or the fixture has them, so a
# post that got through would reach a real station, account or report.
URL_VALUES: dict[str, str] = {
    "station_id": "QT-BY-001",
    "amenity": "drinking_water",
    "step": "status",
}
# What a form would send, enough to change something if the token were not checked.
FORM = {
    "username": "intruder",
    "password": "a new password of some length",
    "display_name": "intruder",
    "role": "union_admin",
    "name": "被篡改的驿站",
    "reason": "forged",
    "version": "1",
    "target": "1",
    "amenity": "drinking_water",
    "note": "forged",
    "status": "accepted",
    "title": "forged issue title",
    "description": "forged description of the issue",
    "category": "workload",
    "confirmed": "1",
    "token": "forged",
}


def _exempt(endpoint: str) -> bool:
    return endpoint in EXEMPT or f"{endpoint.split('.')[0]}.*" in EXEMPT


def form_routes(app: Flask) -> list[tuple[Rule, str]]:
    """(rule, method) of every route that writes and is not exempt."""
    return [
        (rule, method)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        for method in sorted((rule.methods or set()) & WRITE_METHODS)
        if not _exempt(rule.endpoint)
    ]


# --- the app, with CSRF as configured in production ---------------------------------------


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app(RATE_LIMITS=False)
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True
    return app


def _add_staff(app: Flask, username: str, role: str) -> int:
    with session_scope(app) as session:
        account = StaffAccount(
            username=username,
            display_name=username,
            password_hash=hash_password(PASSWORD),
            role=role,
        )
        session.add(account)
        session.flush()
        return account.id


def _logged_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _signed_token(client: FlaskClient) -> str:
    """The token this browser's pages carry (made on first use, kept in the session)."""
    page = client.get("/staff/stations" if _logged_in(client) else "/staff/login")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def _log_in(client: FlaskClient, username: str) -> None:
    response = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _signed_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def admin_id(app: Flask) -> int:
    return _add_staff(app, "admin", "union_admin")


@pytest.fixture
def admin(app: Flask, admin_id: int) -> FlaskClient:
    client = app.test_client()
    _log_in(client, "admin")
    return client


def _snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the app's whole state)."""
    with session_scope(app) as session:
        return {
            table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }


def _url(rule: Rule, ids: dict[str, int]) -> str:
    values = {}
    for name in rule.arguments:
        if name in URL_VALUES:
            values[name] = URL_VALUES[name]
        elif name in ids:
            values[name] = ids[name]
        else:
            converter = rule._converters[name]
            values[name] = 1 if type(converter).__name__ == "IntegerConverter" else "x"
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def _forged_posts(
    app: Flask,
    client: FlaskClient,
    ids: dict[str, int],
    token: str | None,
    *,
    headers: dict[str, str] | None = None,
) -> Iterator[str]:
    """Each route's post with this token (or none); yields what went wrong."""
    for rule, method in form_routes(app):
        url = _url(rule, ids)
        data = dict(FORM) if token is None else {**FORM, "csrf_token": token}
        before = _snapshot(app)
        response = client.open(url, method=method, data=data, headers=headers or {})
        body = response.get_data(as_text=True)
        if response.status_code != 400 or "CSRF" not in body:
            yield f"{method} {url} ({rule.endpoint}): {response.status_code}, not refused"
        elif _snapshot(app) != before:
            yield f"{method} {url} ({rule.endpoint}): refused, but something changed"


@pytest.fixture
def ids(app: Flask, admin_id: int) -> dict[str, int]:
    """Ids of rows a forged post could reach (another member's account)."""
    return {"account_id": _add_staff(app, "xs01", "street_staff")}


# --- the list of routes ----------------------------------------------------------------


def test_the_exempt_routes_are_exactly_those_listed_with_a_reason(app: Flask) -> None:
    csrf = app.extensions["csrf"]
    listed_views = {EXEMPT_VIEWS[e] for e in EXEMPT if not e.endswith(".*")}
    listed_blueprints = {e.removesuffix(".*") for e in EXEMPT if e.endswith(".*")}
    assert set(csrf._exempt_views) == listed_views
    assert {bp.name for bp in csrf._exempt_blueprints} == listed_blueprints
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for name in EXEMPT:
        prefix = name.removesuffix("*")
        assert any(e == name or e.startswith(prefix) for e in endpoints), f"{name} is gone"


def test_the_form_routes_include_every_kind_of_page(app: Flask) -> None:
    endpoints = {rule.endpoint for rule, _method in form_routes(app)}
    # A sample across the blueprints, so an empty or truncated list cannot pass.
    for expected in (
        "staff.login",
        "staff.logout",
        "staff.edit_station",
        "staff.import_upload",
        "staff.tokens",
        "report.report",
        "council.new_issue",
        "council.back",
        "council.staff_issue_step",
    ):
        assert expected in endpoints
    assert len(endpoints) >= 25


# --- forged posts ---------------------------------------------------------------------------


def test_a_post_without_a_token_is_refused_and_changes_nothing(
    app: Flask, admin: FlaskClient, ids: dict[str, int]
) -> None:
    problems = list(_forged_posts(app, admin, ids, None))
    assert problems == [], "\n".join(problems)


def test_a_token_from_another_session_is_refused(
    app: Flask, admin: FlaskClient, ids: dict[str, int]
) -> None:
    _add_staff(app, "other", "union_admin")
    other = app.test_client()
    _log_in(other, "other")
    stolen = _signed_token(other)
    problems = list(_forged_posts(app, admin, ids, stolen))
    assert problems == [], "\n".join(problems)


@pytest.mark.usefixtures("admin_id")
def test_the_token_from_before_logging_in_is_refused(app: Flask, ids: dict[str, int]) -> None:
    """The login starts a new session, so a token planted or read before it is void."""
    client = app.test_client()
    before_login = _signed_token(client)
    _log_in(client, "admin")
    problems = list(_forged_posts(app, client, ids, before_login))
    assert problems == [], "\n".join(problems)


def test_an_expired_token_is_refused_where_tokens_have_an_age_limit(
    make_app: Callable[..., Flask],
) -> None:
    """The app keeps a token for the session's life (WTF_CSRF_TIME_LIMIT None); an operator
    who sets a limit gets it enforced on every form route."""
    app = make_app(RATE_LIMITS=False, WTF_CSRF_TIME_LIMIT=3600)
    _add_staff(app, "admin", "union_admin")
    client = app.test_client()
    _log_in(client, "admin")
    fresh = _signed_token(client)
    with client.session_transaction() as session:
        raw = session["csrf_token"]

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    signer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="wtf-csrf-token", signer=TwoHoursAgo
    )
    expired = str(signer.dumps(raw))
    ids = {"account_id": _add_staff(app, "xs01", "street_staff")}
    problems = list(_forged_posts(app, client, ids, expired))
    assert problems == [], "\n".join(problems)
    # The same session's token, signed within the hour, is taken: only the age differed.
    assert client.post("/staff/logout", data={"csrf_token": fresh}).status_code == 302
