"""Making, changing and signing in staff accounts; the CLI and the accounts page both
call these, inside a transaction they own (`with session.begin():`).

Usernames are normalised once, here, before they are stored, looked up or counted:
NFKC (full-width letters become ASCII), surrounding whitespace dropped, case folded.
So "Admin", " admin " and "ａｄｍｉｎ" are one account, and one set of throttling
counters: another spelling of a name buys a guesser nothing.

Every account carries a `session_generation`; a session names the generation it was
made in, and a password reset, a deactivation or a logout moves the generation on, so
every session made before ends at its next request (the cookie cannot be "un-signed",
but it stops opening anything).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stationfinder.accounts import passwords, throttling, tokens
from stationfinder.accounts.roles import DISTRICT_ADMIN, ROLES, STREET_STAFF
from stationfinder.core.errors import DomainError, NotFoundError
from stationfinder.core.text import N_
from stationfinder.geo.areas import Areas
from stationfinder.models import StaffAccount

MIN_USERNAME = 2
MAX_USERNAME = 64


class AccountError(DomainError):
    """A refused account change (400); nothing was written. `message` is an English
    gettext msgid (with `%(name)s` placeholders filled from `params`), `field` the bad
    input. The web layer's one DomainError handler answers it like any other refusal."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        field: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, field, code=code, params=params)


class AccountNotFound(AccountError, NotFoundError):
    """No such account (404)."""


def normalise_username(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().casefold()


def _check_password(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD:
        raise AccountError(
            N_("the password needs at least %(n)s characters"),
            code="password_too_short",
            field="password",
            params={"n": passwords.MIN_PASSWORD},
        )
    if len(password) > passwords.MAX_PASSWORD:
        raise AccountError(
            N_("the password may have at most %(n)s characters"),
            code="password_too_long",
            field="password",
            params={"n": passwords.MAX_PASSWORD},
        )


def find_account(session: Session, username: str) -> StaffAccount | None:
    return session.scalar(
        select(StaffAccount).where(StaffAccount.username == normalise_username(username))
    )


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    street: str | None = None,
    district: str | None = None,
    display_name: str = "",
    areas: Areas | None = None,
) -> StaffAccount:
    """A new account; refused (AccountError) for a taken name, a role without its area
    (street staff a loaded subdistrict, district admins a loaded district: `areas`), a
    short password. The subdistrict may be given by key, division code or English name;
    the district by code or name."""
    if role not in ROLES:
        raise AccountError(N_("unknown role"), code="bad_role", field="role")
    if role == STREET_STAFF:
        if not street:
            raise AccountError(
                N_("street staff need a subdistrict"), code="street_required", field="street"
            )
        street = areas.resolve(street) if areas is not None else None
        if street is None:
            raise AccountError(N_("unknown subdistrict"), code="bad_street", field="street")
    elif role == DISTRICT_ADMIN:
        if not district:
            raise AccountError(
                N_("a district admin needs a district"),
                code="district_required",
                field="district",
            )
        found = areas.district(district) if areas is not None else None
        if found is None:
            raise AccountError(N_("unknown district"), code="bad_district", field="district")
        district = found.code
    _check_password(password)
    name = normalise_username(username)
    if not MIN_USERNAME <= len(name) <= MAX_USERNAME or any(
        ch.isspace() or unicodedata.category(ch).startswith("C") for ch in name
    ):
        raise AccountError(
            N_("a username has %(min)s to %(max)s characters and no spaces"),
            code="bad_username",
            field="username",
            params={"min": MIN_USERNAME, "max": MAX_USERNAME},
        )
    if find_account(session, name) is not None:
        raise AccountError(N_("this username is taken"), code="username_taken", field="username")
    account = StaffAccount(
        username=name,
        display_name=display_name.strip() or name,
        password_hash=passwords.hash_password(password),
        role=role,
        street=street if role == STREET_STAFF else None,
        district=district if role == DISTRICT_ADMIN else None,
    )
    session.add(account)
    session.flush()
    return account


def _account(session: Session, account_id: int) -> StaffAccount:
    account = session.get(StaffAccount, account_id)
    if account is None:
        raise AccountNotFound(N_("no such account"), code="not_found")
    return account


def end_sessions(account: StaffAccount) -> None:
    """Every session of this account made before now stops opening anything."""
    account.session_generation = (account.session_generation or 0) + 1


def reset_password(session: Session, account_id: int, password: str) -> StaffAccount:
    """A new password; it ends the account's sessions and revokes its API tokens (a reset
    is how an admin takes an account back: whoever knew the old password may have made
    a token with it)."""
    _check_password(password)
    account = _account(session, account_id)
    account.password_hash = passwords.hash_password(password)
    end_sessions(account)
    tokens.revoke_all(session, account.id)
    return account


def set_active(session: Session, account_id: int, active: bool, *, by: int) -> StaffAccount:
    """Enable or disable an account (never one's own). Disabling ends its sessions and
    revokes its tokens, so enabling it again brings back neither."""
    if account_id == by and not active:
        raise AccountError(
            N_("you cannot deactivate your own account"), code="own_account", field=None
        )
    account = _account(session, account_id)
    account.active = active
    if not active:
        end_sessions(account)
        tokens.revoke_all(session, account.id)
    return account


def session_id(account: StaffAccount) -> str:
    """What a session stores to name its account: the id and the current generation."""
    return f"{account.id}:{account.session_generation or 0}"


def account_for_session(session: Session, stored: str) -> StaffAccount | None:
    """The active account a session's id names, if the session is of its current
    generation (else it was ended by a logout, a reset or a deactivation)."""
    account_id, _, generation = stored.partition(":")
    if not account_id.isdigit() or not generation.isdigit():
        return None
    account = session.get(StaffAccount, int(account_id))
    if account is None or not account.active:
        return None
    if str(account.session_generation or 0) != generation:
        return None
    return account


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    address: str | None,
    secret: str | bytes,
    known_device: bool = False,
    now: datetime | None = None,
) -> StaffAccount | None:
    """The account, or None. None means "wrong name or password" whatever the reason
    (unknown name, wrong password, disabled, throttled), and every path costs one
    argon2 verification, so neither the answer nor its time tells them apart."""
    name = normalise_username(username)
    attempt = throttling.Attempt.of(name, address, secret, known_device=known_device)
    account = find_account(session, name)
    if throttling.wait_for(session, attempt, now) is not None:
        passwords.burn_verification(password)
        return None
    if account is None or not account.active:
        passwords.burn_verification(password)
        accepted = False
    else:
        accepted = passwords.verify_password(account.password_hash, password)
    if not accepted or account is None:
        throttling.record_failure(session, attempt, now)
        return None
    throttling.record_success(session, attempt)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    return account
