"""Staff sign-in state kept in the database (so every worker and a restart see it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stationfinder.models.base import Base


class LoginThrottle(Base):
    """Recent failed sign-ins of one key: an account name, an address, or the pair.

    The key is a keyed hash (HMAC under the app's secret), never the name or address
    itself, so the table tells a reader of a backup nothing about who tried what.
    """

    __tablename__ = "staff_login_throttles"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # pair, address, name
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime]

    __table_args__ = (Index("ix_staff_login_throttles_last_failure", "last_failure_at"),)
