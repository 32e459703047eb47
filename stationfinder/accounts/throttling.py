"""Slowing down password guessing without handing a stranger the power to lock staff out.

Three counters of recent failures, all in the database (`staff_login_throttles`), so a
second worker or a restart does not reset them:

| scope     | counts failures of          | free | then waits         | forgotten after |
|-----------|-----------------------------|------|--------------------|-----------------|
| `pair`    | one name from one address   | 5    | 30 s, doubling, ≤ 15 min | 1 h quiet |
| `address` | one address, any name       | 20   | 1 min, doubling, ≤ 1 h   | 6 h quiet |
| `name`    | one name, from anywhere     | 20   | 5 s, doubling, ≤ 2 min   | 1 h quiet |

An attempt made while a counter says "wait" is refused without being looked at and is
not counted, so hammering does not lengthen the wait, and the answer is the same as for
a wrong password. A stranger guessing from their own address only slows the pair and
their address down. One rotating addresses to guess at a name meets the `name` counter,
which never waits longer than two minutes, so it cannot lock the owner out: at worst the
owner on a new browser waits a little. A browser the owner has signed in from before
carries a signed "known device" mark for that name and skips the `name` counter
entirely (it still meets the other two, which the attacker cannot move for it).

Addresses count by IPv4 address and IPv6 /64 (what one subscriber gets).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from stationfinder.models import utcnow
from stationfinder.models.accounts import LoginThrottle


@dataclass(frozen=True)
class Rule:
    """`free` failures cost nothing; each further one doubles the wait, up to `longest`;
    a counter quiet for `forget` starts again from zero."""

    scope: str
    free: int
    first: timedelta
    longest: timedelta
    forget: timedelta

    def wait_after(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return min(self.first * 2 ** min(failures - self.free, 30), self.longest)


PAIR = Rule("pair", 5, timedelta(seconds=30), timedelta(minutes=15), timedelta(hours=1))
ADDRESS = Rule("address", 20, timedelta(minutes=1), timedelta(hours=1), timedelta(hours=6))
NAME = Rule("name", 20, timedelta(seconds=5), timedelta(minutes=2), timedelta(hours=1))
RULES = {rule.scope: rule for rule in (PAIR, ADDRESS, NAME)}


def address_of(address: str | None) -> str:
    """What one client cannot change cheaply: an IPv4 address, an IPv6 /64."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return f"other:{(address or '')[:64]}"
    if ip.version == 6:
        mapped = ip.ipv4_mapped  # type: ignore[union-attr]
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _keyed(secret: str | bytes, purpose: str, value: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"login-{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt as the counters know it: keyed hashes only."""

    name_key: str
    address_key: str
    pair_key: str
    known_device: bool = False

    @classmethod
    def of(
        cls, username: str, address: str | None, secret: str | bytes, *, known_device: bool
    ) -> Attempt:
        """`username` already normalised (accounts.staff.normalise_username)."""
        where = address_of(address)
        return cls(
            name_key=_keyed(secret, "name", username),
            address_key=_keyed(secret, "address", where),
            pair_key=_keyed(secret, "pair", f"{username}\x00{where}"),
            known_device=known_device,
        )

    def keys(self) -> dict[str, str]:
        keys = {PAIR.scope: self.pair_key, ADDRESS.scope: self.address_key}
        if not self.known_device:
            keys[NAME.scope] = self.name_key
        return keys


def name_key(username: str, secret: str | bytes) -> str:
    """The keyed hash a "known device" mark names an account by."""
    return _keyed(secret, "name", username)


def wait_for(session: Session, attempt: Attempt, now: datetime | None = None) -> timedelta | None:
    """How long this attempt must wait before it is looked at, or None: go ahead."""
    now = now or utcnow()
    keys = attempt.keys()
    rows = session.scalars(
        select(LoginThrottle).where(
            LoginThrottle.key_hash.in_(list(keys.values())),
        )
    ).all()
    longest = timedelta(0)
    for row in rows:
        if keys.get(row.scope) != row.key_hash:
            continue
        rule = RULES[row.scope]
        if now - row.last_failure_at > rule.forget:
            continue
        left = row.last_failure_at + rule.wait_after(row.failures) - now
        longest = max(longest, left)
    return longest if longest > timedelta(0) else None


def record_failure(session: Session, attempt: Attempt, now: datetime | None = None) -> None:
    """Count a failed attempt on every counter it meets, in one statement each: two
    workers counting at once both count (an upsert, not a read and a write)."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = LoginThrottle.__table__
    keys = {PAIR.scope: attempt.pair_key, ADDRESS.scope: attempt.address_key}
    keys[NAME.scope] = attempt.name_key  # a known device's failures still count for the name
    for scope, key in keys.items():
        rule = RULES[scope]
        statement = insert(table).values(scope=scope, key_hash=key, failures=1, last_failure_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.scope, table.c.key_hash],
            set_={
                "failures": case(
                    (table.c.last_failure_at < now - rule.forget, 1),
                    else_=table.c.failures + 1,
                ),
                "last_failure_at": now,
            },
        )
        session.execute(statement)
        # Counters nobody has failed on for a while tell nothing: keep the table small.
        session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.scope == scope, LoginThrottle.last_failure_at < now - rule.forget
            )
        )


def record_success(session: Session, attempt: Attempt) -> None:
    """The owner got in from here: the pair's failures were theirs, forget them. The
    address and name counters stay (a stranger's guesses elsewhere are still theirs)."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == PAIR.scope, LoginThrottle.key_hash == attempt.pair_key
        )
    )
