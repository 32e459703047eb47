"""Who is asking, and may they: the web side of staff accounts (accounts/ holds the rest).

- Flask-Login keeps the signed-in account in the session cookie as "<id>:<generation>"
  (accounts/staff.py); the user loader opens nothing for an older generation, so a
  logout, a password reset or a deactivation ends every earlier session at once.
- A session also ends after `STAFF_SESSION_IDLE_MINUTES` without a request and
  `STAFF_SESSION_MAX_HOURS` after the sign-in, whatever happens in between; both times
  live in the signed cookie, so neither can be moved by the browser.
- `staff_required` guards pages (strangers go to the login) and the API (bearer tokens
  only: a cookie would let another site's page write through a signed-in browser).
- A browser that has signed in to an account before carries a signed "known device"
  mark for it (accounts/throttling.py explains what that spares it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.accounts import staff as accounts
from stationfinder.accounts import throttling
from stationfinder.accounts.roles import DISTRICT_ADMIN, STREET_STAFF, UNION_ADMIN
from stationfinder.accounts.tokens import token_owner
from stationfinder.db import get_db
from stationfinder.models import StaffAccount
from stationfinder.registry.editing import Editor
from stationfinder.web.errors import ApiError

P = ParamSpec("P")
R = TypeVar("R")

SIGNED_IN_AT = "_staff_since"  # session keys: unix seconds
SEEN_AT = "_staff_seen"
SEEN_STEP = 60  # refresh "seen" at most once a minute: not a new cookie per request
KNOWN_DEVICE_COOKIE = "sf_staff_device"
KNOWN_DEVICE_DAYS = 90
KNOWN_DEVICE_NAMES = 5  # accounts one browser remembers


@dataclass(frozen=True)
class StaffUser(Editor):
    """The signed-in staff member (Flask-Login's user), detached from any session."""

    id: int = 0
    display_name: str = ""
    session_key: str = ""

    # Flask-Login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_key

    @property
    def is_admin(self) -> bool:
        return self.role == UNION_ADMIN


def staff_user(account: StaffAccount) -> StaffUser:
    """The account as the signed-in user; a district admin's subdistricts are the
    loaded areas' (an empty scope where the district is no longer loaded)."""
    from stationfinder.web.context import current_areas

    district = account.district if account.role == DISTRICT_ADMIN else None
    areas = current_areas()
    streets = frozenset(areas.subdistrict_keys(district)) if district else frozenset()
    found = areas.district(district) if district else None
    return StaffUser(
        username=account.username,
        role=account.role,
        street=account.street if account.role == STREET_STAFF else None,
        district=district,
        district_streets=streets,
        district_name=found.name if found else None,
        id=account.id,
        display_name=account.display_name or account.username,
        session_key=accounts.session_id(account),
    )


def clock() -> float:
    """Now, in unix seconds (one place, so a test can move it)."""
    return time.time()


def _session_expired(now: float) -> bool:
    since, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(since, int | float) or not isinstance(seen, int | float):
        return True  # a session from before lifetimes existed, or one made up
    idle = current_app.config["STAFF_SESSION_IDLE_MINUTES"] * 60
    longest = current_app.config["STAFF_SESSION_MAX_HOURS"] * 3600
    return now - seen > idle or now - since > longest


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's user loader; its own short database session, so views own theirs."""
    now = clock()
    if _session_expired(now):
        session.clear()
        return None
    with get_db().sessions() as db_session:
        account = accounts.account_for_session(db_session, user_id)
        if account is None:
            session.clear()
            return None
        user = staff_user(account)
    if now - session[SEEN_AT] >= SEEN_STEP:
        session[SEEN_AT] = int(now)
    return user


def start_session(user: StaffUser) -> None:
    """A new session for `user`: nothing from before the sign-in survives in it."""
    session.clear()
    login_user(user, fresh=True)
    now = int(clock())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def current_staff() -> StaffUser | None:
    """Who is asking: the API token's owner, or the signed-in staff member, or None."""
    by_token = g.get("api_staff")
    if by_token is not None:
        return by_token
    if current_user.is_authenticated:
        return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]
    return None


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def staff_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | BaseResponse]]:
    """Only staff (with one of `roles`, if given). Pages send strangers to the login;
    the API answers 401 (no or bad token) or 403 (not allowed)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
            api = request.path.startswith("/api/")
            staff = authenticate_bearer() if api else current_staff()
            if staff is None:
                if _wants_json():
                    raise ApiError(
                        "sign in first (Authorization: Bearer <token>)",
                        status=401,
                        code="unauthorized",
                    )
                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
            if roles and staff.role not in roles:
                raise ApiError("your role may not do this", status=403, code="forbidden")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def authenticate_bearer() -> StaffUser | None:
    """Accept `Authorization: Bearer <token>`; 401 for a token that is wrong or revoked.
    The account is read afresh on every request, so a role change applies at once."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError("use Authorization: Bearer <token>", status=401, code="unauthorized")
    with get_db().sessions() as db_session, db_session.begin():
        account = token_owner(db_session, token)
        if account is None:
            raise ApiError("the token is unknown or revoked", status=401, code="unauthorized")
        staff = staff_user(account)
    g.api_staff = staff
    return staff


# --- the "known device" mark ------------------------------------------------------------


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="staff-known-device")  # type: ignore[arg-type]


def _known_names() -> list[str]:
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not raw or len(raw) > 1000:
        return []
    try:
        names = _device_signer().loads(raw, max_age=KNOWN_DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    if not isinstance(names, list):
        return []
    return [n for n in names if isinstance(n, str)][:KNOWN_DEVICE_NAMES]


def _short_name_key(username: str) -> str:
    return throttling.name_key(username, current_app.secret_key or "")[:20]


def is_known_device(username: str) -> bool:
    """Whether this browser has signed in to `username` (normalised) before."""
    return _short_name_key(username) in _known_names()


def remember_device(response: Response, username: str) -> None:
    """Mark this browser as one `username` signs in from (a signed, HttpOnly cookie
    that names the account by a keyed hash only)."""
    key = _short_name_key(username)
    names = [key, *(n for n in _known_names() if n != key)][:KNOWN_DEVICE_NAMES]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        _device_signer().dumps(names),
        max_age=KNOWN_DEVICE_DAYS * 86400,
        path="/staff/",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def init_app(app: Flask) -> None:
    """Flask-Login for the staff area (create_app calls this)."""
    manager = LoginManager()
    manager.login_view = "staff.login"
    manager.login_message = ""  # type: ignore[assignment]
    manager.session_protection = "basic"
    manager.user_loader(load_user)
    manager.init_app(app)
