"""staff sign-in: throttling counters in the database, session generations, one spelling
of each username

Failed sign-ins are counted per name+address, per address and per name in
`staff_login_throttles` (keyed hashes only), replacing the per-account lock
(`failed_logins`, `last_failed_login_at`) that let anyone lock an account. Each account
gets a `session_generation` that a logout, a password reset or a deactivation moves on.
Existing usernames are normalised (NFKC, trimmed, case folded) unless two would then
collide, in which case both stay as they are for an admin to sort out.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_login_throttles",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_hash", name="pk_staff_login_throttles"),
    )
    op.create_index(
        "ix_staff_login_throttles_last_failure", "staff_login_throttles", ["last_failure_at"]
    )
    with op.batch_alter_table("staff_accounts") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )
        batch.drop_column("last_failed_login_at")
        batch.drop_column("failed_logins")
    _normalise_usernames()


def _normalise_usernames() -> None:
    accounts = sa.table("staff_accounts", sa.column("id", sa.Integer), sa.column("username"))
    bind = op.get_bind()
    rows = bind.execute(sa.select(accounts.c.id, accounts.c.username)).all()
    wanted: dict[str, list[int]] = {}
    for account_id, username in rows:
        wanted.setdefault(unicodedata.normalize("NFKC", username).strip().casefold(), []).append(
            account_id
        )
    current = dict(rows)
    for name, ids in wanted.items():
        if len(ids) == 1 and current[ids[0]] != name:
            bind.execute(accounts.update().where(accounts.c.id == ids[0]).values(username=name))


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("last_failed_login_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.drop_column("session_generation")
    op.drop_index("ix_staff_login_throttles_last_failure", table_name="staff_login_throttles")
    op.drop_table("staff_login_throttles")
