"""station phone: 30 characters, the registry's one limit

The registry's validation never accepted a phone longer than 30 characters (its
pattern allows 30), while the column and the staff form said 40; registry/fields.py now
declares 30 for all of them. No stored phone can be longer, but a row written by hand
could be: the upgrade stops and names the stations rather than cut a number short.
SQLite does not enforce VARCHAR lengths, so there the column is left as it is (changing
it would mean copying the table the revisions and reports point at).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PHONE_MAX = 30  # registry.fields.PHONE_MAX when this was written; migrations keep their numbers


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    longer = (
        bind.execute(
            sa.text("SELECT id FROM stations WHERE length(phone) > :limit ORDER BY id"),
            {"limit": PHONE_MAX},
        )
        .scalars()
        .all()
    )
    if longer:
        raise RuntimeError(
            f"stations with a phone longer than {PHONE_MAX} characters: {', '.join(longer)}; "
            "shorten them, then upgrade again"
        )
    op.alter_column(
        "stations",
        "phone",
        existing_type=sa.String(length=40),
        type_=sa.String(length=PHONE_MAX),
        existing_nullable=True,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "stations",
        "phone",
        existing_type=sa.String(length=PHONE_MAX),
        type_=sa.String(length=40),
        existing_nullable=True,
    )
