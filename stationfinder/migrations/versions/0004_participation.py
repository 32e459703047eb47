"""participation integrity: the network and key standing of backings and flags

A backing or flag remembers a keyed hash of the network it came from (an IPv4 /24 or
an IPv6 /48, never the address) and whether the device key was an established one
(server-minted and old enough). Backings beyond what young keys of one network may add
to an issue are stored as pending (待核实) for the secretary.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("council_backings") as batch:
        batch.add_column(sa.Column("network_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("established", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("council_flags") as batch:
        batch.add_column(sa.Column("network_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("established", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("council_flags") as batch:
        batch.drop_column("established")
        batch.drop_column("network_hash")
    with op.batch_alter_table("council_backings") as batch:
        batch.drop_column("pending")
        batch.drop_column("established")
        batch.drop_column("network_hash")
