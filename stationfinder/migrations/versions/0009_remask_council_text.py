"""council text already stored is masked again with the notation-robust masking

Titles, descriptions, places, replies, reasons and meeting records were masked when
stored, but by a pattern that let full-width digits, dots, zero-width characters,
Chinese numerals, landlines and ID cards in those notations through. This reads every
public text column of the council and writes back what core.privacy's masking gives
now, row by row (only rows that change are written). Masking cannot be undone, so the
downgrade leaves the text as it is.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from stationfinder.core.privacy import mask_personal_numbers

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Every council column whose text may reach a public page, Open311 or a calendar file.
COLUMNS = {
    "council_issues": ("title", "description", "place_label", "public_reason", "hidden_reason"),
    "council_events": ("body",),
    "council_flags": ("reason",),
    "council_meetings": ("title", "place"),
    "council_agenda_items": ("title", "minutes"),
    "council_decisions": ("text", "owner", "follow_up_note"),
}


def upgrade() -> None:
    connection = op.get_bind()
    for table, columns in COLUMNS.items():
        rows = connection.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}"))
        for row in rows.mappings().all():
            changed = {
                column: mask_personal_numbers(row[column])
                for column in columns
                if row[column] and mask_personal_numbers(row[column]) != row[column]
            }
            if changed:
                assignments = ", ".join(f"{column} = :{column}" for column in changed)
                connection.execute(
                    sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id"),
                    {**changed, "id": row["id"]},
                )


def downgrade() -> None:
    """Nothing to undo: the masked digits are gone, which is the point."""
