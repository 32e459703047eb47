"""stations: how a courier gets in (access, access_note), seats, step_free

Four nullable columns: None is "not recorded", which is what every station stored before
says. Whether a station is open 24 hours is not a column: registry/fields.py derives it
from opening_hours, so it cannot contradict them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# registry.fields' limits when this was written; migrations keep their numbers.
ACCESS_MAX = 20
ACCESS_NOTE_MAX = 60


def upgrade() -> None:
    op.add_column("stations", sa.Column("access", sa.String(length=ACCESS_MAX), nullable=True))
    op.add_column(
        "stations", sa.Column("access_note", sa.String(length=ACCESS_NOTE_MAX), nullable=True)
    )
    op.add_column("stations", sa.Column("seats", sa.Integer(), nullable=True))
    op.add_column("stations", sa.Column("step_free", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        for name in ("step_free", "seats", "access_note", "access"):
            batch.drop_column(name)
