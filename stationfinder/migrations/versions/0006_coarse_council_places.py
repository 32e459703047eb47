"""couriers' own positions on council issues kept only to the public ~100 m grid

Issues raised before this stored "use my position" to six decimals (about 0.1 m) and
showed it on the issue page and in Open311. From now on raise_issue keeps only the
point snapped to 0.001 degree (geo/point.py COARSE_DECIMALS); this rounds what is
already stored the same way. An issue that names a station takes the station's own
point (public already), whatever position the courier sent with it. Rounding cannot be
undone, so the downgrade leaves the points as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CAST to NUMERIC: PostgreSQL has ROUND(numeric, int) only; SQLite accepts either.
    op.execute(
        "UPDATE council_issues SET"
        " lon = ROUND(CAST(lon AS NUMERIC), 3), lat = ROUND(CAST(lat AS NUMERIC), 3)"
        " WHERE station_id IS NULL AND lon IS NOT NULL AND lat IS NOT NULL"
    )
    op.execute(
        "UPDATE council_issues SET"
        " lon = (SELECT s.lon FROM stations s WHERE s.id = council_issues.station_id),"
        " lat = (SELECT s.lat FROM stations s WHERE s.id = council_issues.station_id)"
        " WHERE station_id IS NOT NULL AND lon IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM stations s WHERE s.id = council_issues.station_id)"
    )


def downgrade() -> None:
    """Nothing to undo: the exact points are gone, which is the point."""
