"""API tokens for integrations: shown once, stored as a SHA-256 digest, revocable.

A token is 32 random bytes, so a plain (unsalted, fast) digest is enough: nobody can
guess one by trying, and the digest lets a request find its token with one lookup.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stationfinder.models import ApiToken, StaffAccount, utcnow

TOKEN_PREFIX = "sf_"
MAX_TOKEN_LENGTH = 200


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(session: Session, staff_id: int, name: str) -> str:
    """Make a token for `staff_id`; the only time its text exists outside the client."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(staff_id=staff_id, name=name, token_hash=token_digest(token)))
    session.flush()
    return token


def token_owner(session: Session, token: str) -> StaffAccount | None:
    """The active account a live token belongs to (and note its use), else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.execute(
        select(ApiToken, StaffAccount)
        .join(StaffAccount, StaffAccount.id == ApiToken.staff_id)
        .where(ApiToken.token_hash == token_digest(token))
    ).first()
    if row is None or row.ApiToken.revoked_at is not None or not row.StaffAccount.active:
        return None
    row.ApiToken.last_used_at = utcnow()
    return row.StaffAccount


def revoke_all(session: Session, staff_id: int) -> int:
    """Revoke every live token of an account; how many were live."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.staff_id == staff_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0
