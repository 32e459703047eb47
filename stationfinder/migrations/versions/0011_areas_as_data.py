"""areas as data: subdistrict keys up to 60 characters, district_admin's district, and
staff-loaded outlines in the documented schema

Subdistricts now come from the loaded outlines (geo/areas.py), for a city or a province,
not from a table in the code. Stored values are unchanged: Qiantang's subdistricts keep
their names as keys (白杨街道) and their stations their ids (QT-BY-001). This revision

- widens the street columns to 60 characters: a key is the name, or the district's name
  and the name where two districts share one (示例东区城南街道);
- adds staff_accounts.district, the 6-digit division code a district_admin keeps;
- rewrites an outline document that staff loaded before (it named Qiantang's seven
  subdistricts only) into the schema with division codes, names and id stems, from the
  table below: the table that was the code's until now, kept here as this revision's data.
  A document in the new schema is left as it is.

SQLite does not enforce VARCHAR lengths, so there the columns are left as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KEY_MAX = 60  # geo.areas.MAX_KEY_LENGTH when this was written
OLD_KEY_MAX = 20
STREET_COLUMNS = (
    ("stations", False),
    ("council_issues", True),
    ("council_meetings", False),
    ("staff_accounts", True),
)
QIANTANG = ("330114", "钱塘区", "Qiantang District")
# Qiantang's subdistricts as vocabulary.STREETS held them: name, English, id stem, code.
LEGACY_SUBDISTRICTS = (
    ("下沙街道", "Xiasha Subdistrict", "XS", "330114001"),
    ("白杨街道", "Baiyang Subdistrict", "BY", "330114002"),
    ("河庄街道", "Hezhuang Subdistrict", "HZ", "330114003"),
    ("义蓬街道", "Yipeng Subdistrict", "YP", "330114004"),
    ("新湾街道", "Xinwan Subdistrict", "XW", "330114005"),
    ("临江街道", "Linjiang Subdistrict", "LJ", "330114006"),
    ("前进街道", "Qianjin Subdistrict", "QJ", "330114007"),
)


def legacy_document(document: dict[str, Any]) -> dict[str, Any] | None:
    """The same outlines in the new schema, or None when the document needs nothing."""
    features = document.get("features")
    if not isinstance(features, list):
        return None
    if all(
        isinstance(f, dict)
        and isinstance(f.get("properties"), dict)
        and f["properties"].get("division")
        and f["properties"].get("level")
        for f in features
    ):
        return None  # already in the new schema
    known = {name: (en, code, division) for name, en, code, division in LEGACY_SUBDISTRICTS}
    out = []
    district_geometry = None
    for feature in features:
        properties = dict(feature.get("properties") or {})
        name = properties.get("name")
        if properties.get("level") == "district" or name == QIANTANG[1]:
            district_geometry = feature.get("geometry")
            continue
        if name in known:
            en, code, division = known[name]
            properties = {
                "level": "subdistrict",
                "division": properties.get("division") or division,
                "name": name,
                "name_en": properties.get("name_en") or en,
                "district": QIANTANG[0],
                "id_prefix": f"QT-{code}",
            }
        out.append({**feature, "properties": properties})
    district = {
        "type": "Feature",
        "geometry": district_geometry,
        "properties": {
            "level": "district",
            "division": QIANTANG[0],
            "name": QIANTANG[1],
            "name_en": QIANTANG[2],
            "city": "杭州市",
            "city_en": "Hangzhou",
        },
    }
    return {**document, "features": [district, *out]}


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("staff_accounts", sa.Column("district", sa.String(length=6), nullable=True))
    if bind.dialect.name != "sqlite":
        for table, nullable in STREET_COLUMNS:
            op.alter_column(
                table,
                "street",
                type_=sa.String(length=KEY_MAX),
                existing_type=sa.String(length=OLD_KEY_MAX),
                existing_nullable=nullable,
            )
    rows = bind.execute(sa.text("SELECT id, document FROM area_sets")).all()
    for row_id, stored in rows:
        document = json.loads(stored) if isinstance(stored, str) else stored
        if not isinstance(document, dict):
            continue
        upgraded = legacy_document(document)
        if upgraded is not None:
            bind.execute(
                sa.text("UPDATE area_sets SET document = :d WHERE id = :i"),
                {"d": json.dumps(upgraded, ensure_ascii=False), "i": row_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_column("district")
