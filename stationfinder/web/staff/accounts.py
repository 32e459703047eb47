"""Staff sign-in and the account pages: login, logout, accounts (union_admin), API tokens.

Thin views: the rules (throttling, same answer for every refusal, what a reset ends)
are in accounts/; the session side is web/auth.py.
"""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.accounts import staff as accounts
from stationfinder.accounts import tokens as api_tokens
from stationfinder.accounts.passwords import MIN_PASSWORD
from stationfinder.accounts.roles import UNION_ADMIN
from stationfinder.core.text import N_
from stationfinder.db import get_session
from stationfinder.models import ApiToken, StaffAccount, utcnow
from stationfinder.web.auth import (
    current_staff,
    is_known_device,
    remember_device,
    staff_required,
    staff_user,
    start_session,
)
from stationfinder.web.context import current_areas
from stationfinder.web.errors import ApiError
from stationfinder.web.i18n import refusal_words
from stationfinder.web.limits import limiter
from stationfinder.web.security import same_site_path
from stationfinder.web.staff import bp
from stationfinder.web.staff.forms import (
    AccountForm,
    ActionForm,
    LoginForm,
    PasswordForm,
    TokenForm,
)


def _words(exc: accounts.AccountError) -> str:
    return refusal_words(exc.template, exc.params, exc.message)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute;60 per hour", methods=["POST"])
def login() -> BaseResponse | tuple[str, int]:
    form = LoginForm()
    problem = None
    if form.validate_on_submit():
        username = accounts.normalise_username(form.username.data)
        db_session = get_session()
        with db_session.begin():
            account = accounts.sign_in(
                db_session,
                username,
                form.password.data,
                address=request.remote_addr,
                secret=current_app.secret_key or "",
                known_device=is_known_device(username),
            )
            user = staff_user(account) if account is not None else None
        if user is not None:
            target = same_site_path(request.args.get("next")) or url_for("staff.home")
            start_session(user)
            response = redirect(target)
            remember_device(response, username)
            return response
        # One answer for an unknown name, a wrong password, a disabled account and a
        # throttled attempt: the page tells a guesser nothing about which it was.
        problem = "bad_login"
    status = 401 if problem else 200
    return render_template("staff/login.html", form=form, problem=problem), status


@bp.post("/logout")
def logout() -> BaseResponse:
    """Ends this account's sessions everywhere, not only this cookie: a copy of the
    cookie saved before (a shared computer, a stolen backup) opens nothing after."""
    ActionForm().validate_on_submit()  # CSRFProtect has already checked the token
    staff = current_staff()
    if staff is not None:
        db_session = get_session()
        with db_session.begin():
            account = db_session.get(StaffAccount, staff.id)
            if account is not None:
                accounts.end_sessions(account)
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


# --- accounts (union_admin) -----------------------------------------------------------


@bp.route("/accounts", methods=["GET", "POST"], endpoint="accounts")
@staff_required(UNION_ADMIN)
def accounts_page() -> BaseResponse | tuple[str, int]:
    form = AccountForm()
    db_session = get_session()
    if form.validate_on_submit():
        try:
            with db_session.begin():
                accounts.create_account(
                    db_session,
                    username=form.username.data,
                    password=form.password.data,
                    role=form.role.data,
                    street=form.street.data or None,
                    district=form.district.data or None,
                    display_name=form.display_name.data or "",
                    areas=current_areas(),
                )
        except accounts.AccountError as exc:
            getattr(form, exc.field or "username").errors = [_words(exc)]
        else:
            flash("account_created")
            return redirect(url_for("staff.accounts"))
    rows = db_session.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()
    html = render_template(
        "staff/accounts.html",
        form=form,
        accounts=rows,
        action=ActionForm(),
        password_form=PasswordForm(),
    )
    return html, 400 if form.errors else 200


@bp.post("/accounts/<int:account_id>/active")
@staff_required(UNION_ADMIN)
def toggle_account(account_id: int) -> BaseResponse:
    staff = current_staff()
    assert staff is not None
    db_session = get_session()
    with db_session.begin():  # an AccountError is answered by the one DomainError handler
        account = db_session.get(StaffAccount, account_id)
        active = not account.active if account is not None else False
        account = accounts.set_active(db_session, account_id, active, by=staff.id)
    flash("account_activated" if active else "account_deactivated")
    return redirect(url_for("staff.accounts"))


@bp.post("/accounts/<int:account_id>/password")
@staff_required(UNION_ADMIN)
def reset_password(account_id: int) -> BaseResponse:
    form = PasswordForm()
    if not form.validate_on_submit():
        raise ApiError(
            N_("the password needs at least %(n)s characters"),
            field="password",
            params={"n": MIN_PASSWORD},
        )
    db_session = get_session()
    with db_session.begin():  # an AccountError is answered by the one DomainError handler
        accounts.reset_password(db_session, account_id, form.password.data)
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
def tokens() -> BaseResponse:
    form = TokenForm()
    staff = current_staff()
    assert staff is not None
    new_token = None
    if form.validate_on_submit():
        db_session = get_session()
        with db_session.begin():
            new_token = api_tokens.new_token(db_session, staff.id, form.name.data.strip())
        form = TokenForm(formdata=None)
    html = render_template(
        "staff/tokens.html",
        form=form,
        tokens=_visible_tokens(),
        new_token=new_token,
        action=ActionForm(),
    )
    return make_response(html, 400 if form.errors else 200)


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
