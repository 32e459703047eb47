"""Staff accounts: login and logout, who is asking (`current_staff`), who may
(`staff_required`), account management for the union's admin, and API tokens.

Passwords are argon2 hashes (as `stationfinder create-staff` makes them). A session
holds the account id plus a digest of its password hash, so a password reset or a
deactivation ends every session of that account. After five wrong passwords an account
refuses logins for a delay that doubles with each further failure; Flask-Limiter limits
attempts per address on top.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, update
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.db import get_db, get_session
from stationfinder.models import ApiToken, StaffAccount, utcnow
from stationfinder.registry.editing import STREET_STAFF, UNION_ADMIN, Editor
from stationfinder.web.errors import ApiError
from stationfinder.web.limits import limiter
from stationfinder.web.staff import bp
from stationfinder.web.staff.forms import (
    AccountForm,
    ActionForm,
    LoginForm,
    PasswordForm,
    TokenForm,
)

P = ParamSpec("P")
R = TypeVar("R")

LOCK_AFTER = 5  # failed logins before the account starts refusing
LOCK_FIRST = timedelta(seconds=30)
LOCK_LONGEST = timedelta(hours=1)
TOKEN_PREFIX = "sf_"


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
        return f"{self.id}:{self.session_key}"

    @property
    def is_admin(self) -> bool:
        return self.role == UNION_ADMIN


def _session_key(account: StaffAccount) -> str:
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def staff_user(account: StaffAccount) -> StaffUser:
    return StaffUser(
        username=account.username,
        role=account.role,
        street=account.street if account.role == STREET_STAFF else None,
        id=account.id,
        display_name=account.display_name or account.username,
        session_key=_session_key(account),
    )


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's user loader; its own short session, so views own theirs."""
    account_id, _, key = user_id.partition(":")
    if not account_id.isdigit():
        return None
    with get_db().sessions() as db_session:
        account = db_session.get(StaffAccount, int(account_id))
        if account is None or not account.active or _session_key(account) != key:
            return None
        return staff_user(account)


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
            # The API takes tokens only: a cookie would let another site's page write
            # through a signed-in browser (the API has no CSRF tokens).
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
                raise ApiError(
                    "your role may not do this 你的角色无权进行此操作", status=403, code="forbidden"
                )
            return view(*args, **kwargs)

        return wrapped

    return decorate


# --- tokens -------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate_bearer() -> StaffUser | None:
    """Accept `Authorization: Bearer <token>`; 401 for a token that is wrong or revoked."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise ApiError("use Authorization: Bearer <token>", status=401, code="unauthorized")
    with get_db().sessions() as db_session, db_session.begin():
        row = db_session.execute(
            select(ApiToken, StaffAccount)
            .join(StaffAccount, StaffAccount.id == ApiToken.staff_id)
            .where(ApiToken.token_hash == token_digest(token))
        ).first()
        if row is None or row.ApiToken.revoked_at is not None or not row.StaffAccount.active:
            raise ApiError("the token is unknown or revoked", status=401, code="unauthorized")
        row.ApiToken.last_used_at = utcnow()
        staff = staff_user(row.StaffAccount)
    g.api_staff = staff
    return staff


# --- login --------------------------------------------------------------------------


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against for unknown usernames, so they take as long as known ones."""
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def locked_for(account: StaffAccount) -> timedelta | None:
    """How much longer the account refuses logins, or None."""
    if account.failed_logins < LOCK_AFTER or account.last_failed_login_at is None:
        return None
    delay = min(LOCK_FIRST * 2 ** (account.failed_logins - LOCK_AFTER), LOCK_LONGEST)
    left = account.last_failed_login_at + delay - utcnow()
    return left if left > timedelta(0) else None


def check_login(username: str, password: str) -> tuple[StaffUser | None, str | None]:
    """(the user, None) or (None, a message key for the login page)."""
    db_session = get_session()
    with db_session.begin():
        account = db_session.scalar(select(StaffAccount).where(StaffAccount.username == username))
        if account is None or not account.active:
            with suppress(VerificationError):
                _hasher().verify(_dummy_hash(), password)
            return None, "bad_login"
        if (left := locked_for(account)) is not None:
            minutes = max(1, round(left.total_seconds() / 60))
            return None, f"locked:{minutes}"
        try:
            _hasher().verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            db_session.execute(
                update(StaffAccount)
                .where(StaffAccount.id == account.id)
                .values(failed_logins=StaffAccount.failed_logins + 1, last_failed_login_at=utcnow())
            )
            return None, "bad_login"
        if _hasher().check_needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        account.failed_logins = 0
        account.last_failed_login_at = None
        return staff_user(account), None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("staff.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute;60 per hour", methods=["POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    form = LoginForm()
    problem = None
    if form.validate_on_submit():
        user, problem = check_login(form.username.data.strip(), form.password.data)
        if user is not None:
            target = _safe_next(request.args.get("next"))
            session.clear()  # a new session: nothing from before the login survives
            login_user(user, fresh=True)
            return redirect(target)
    status = 401 if problem else 200
    return render_template("staff/login.html", form=form, problem=problem), status


@bp.post("/logout")
def logout() -> BaseResponse:
    ActionForm().validate_on_submit()  # CSRFProtect has already checked the token
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


# --- accounts (union_admin) -----------------------------------------------------------


@bp.route("/accounts", methods=["GET", "POST"])
@staff_required(UNION_ADMIN)
def accounts() -> str | BaseResponse | tuple[str, int]:
    form = AccountForm()
    db_session = get_session()
    status = 200
    if form.validate_on_submit():
        role = form.role.data
        street = form.street.data or None
        username = form.username.data.strip()
        if role == STREET_STAFF and street is None:
            form.street.errors = ["街道工作人员需要选择街道 street staff need a subdistrict"]
        else:
            with db_session.begin():
                taken = db_session.scalar(
                    select(StaffAccount.id).where(StaffAccount.username == username)
                )
                if taken is None:
                    db_session.add(
                        StaffAccount(
                            username=username,
                            display_name=(form.display_name.data or "").strip() or username,
                            password_hash=hash_password(form.password.data),
                            role=role,
                            street=street if role == STREET_STAFF else None,
                        )
                    )
            if taken is None:
                flash("account_created")
                return redirect(url_for("staff.accounts"))
            form.username.errors = ["用户名已存在 this username is taken"]
    if form.errors:
        status = 400
    rows = db_session.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()
    return (
        render_template(
            "staff/accounts.html",
            form=form,
            accounts=rows,
            action=ActionForm(),
            password_form=PasswordForm(),
        ),
        status,
    )


@bp.post("/accounts/<int:account_id>/active")
@staff_required(UNION_ADMIN)
def toggle_account(account_id: int) -> BaseResponse:
    staff = current_staff()
    assert staff is not None
    if account_id == staff.id:
        raise ApiError("you cannot deactivate your own account", status=400)
    db_session = get_session()
    with db_session.begin():
        account = db_session.get(StaffAccount, account_id)
        if account is None:
            raise ApiError("no such account", status=404, code="not_found")
        account.active = not account.active
    flash("account_activated" if account.active else "account_deactivated")
    return redirect(url_for("staff.accounts"))


@bp.post("/accounts/<int:account_id>/password")
@staff_required(UNION_ADMIN)
def reset_password(account_id: int) -> BaseResponse | tuple[str, int]:
    form = PasswordForm()
    if not form.validate_on_submit():
        raise ApiError("the new password needs at least 10 characters", field="password")
    db_session = get_session()
    with db_session.begin():
        account = db_session.get(StaffAccount, account_id)
        if account is None:
            raise ApiError("no such account", status=404, code="not_found")
        account.password_hash = hash_password(form.password.data)
        account.failed_logins = 0
        account.last_failed_login_at = None
    flash("password_reset")
    return redirect(url_for("staff.accounts"))


# --- tokens -------------------------------------------------------------------------


def _visible_tokens() -> list[tuple[ApiToken, str]]:
    staff = current_staff()
    assert staff is not None
    query = select(ApiToken, StaffAccount.username).join(
        StaffAccount, StaffAccount.id == ApiToken.staff_id
    )
    if not staff.is_admin:
        query = query.where(ApiToken.staff_id == staff.id)
    query = query.order_by(ApiToken.created_at.desc())
    return [(t, name) for t, name in get_session().execute(query)]


@bp.route("/tokens", methods=["GET", "POST"])
@staff_required()
def tokens() -> str | tuple[str, int]:
    form = TokenForm()
    staff = current_staff()
    assert staff is not None
    new_token = None
    if form.validate_on_submit():
        new_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        db_session = get_session()
        with db_session.begin():
            db_session.add(
                ApiToken(
                    staff_id=staff.id,
                    name=form.name.data.strip(),
                    token_hash=token_digest(new_token),
                )
            )
        form = TokenForm(formdata=None)
    response = render_template(
        "staff/tokens.html",
        form=form,
        tokens=_visible_tokens(),
        new_token=new_token,
        action=ActionForm(),
    )
    return response, 400 if form.errors else 200


@bp.post("/tokens/<int:token_id>/revoke")
@staff_required()
def revoke_token(token_id: int) -> BaseResponse:
    staff = current_staff()
    assert staff is not None
    db_session = get_session()
    with db_session.begin():
        token = db_session.get(ApiToken, token_id)
        if token is None or (token.staff_id != staff.id and not staff.is_admin):
            raise ApiError("no such token", status=404, code="not_found")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    flash("token_revoked")
    return redirect(url_for("staff.tokens"))


@bp.after_request
def no_store(response: Response) -> Response:
    """Staff pages show what only staff may see: never keep them in a shared cache."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def login_manager_setup(app: Any) -> None:
    from flask_login import LoginManager

    manager = LoginManager()
    manager.login_view = "staff.login"
    manager.login_message = ""  # type: ignore[assignment]
    manager.session_protection = "basic"
    manager.user_loader(load_user)
    manager.init_app(app)
