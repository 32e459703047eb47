"""Migration 0011 on a database from before areas were data: outlines staff loaded in the
old shape (seven names with two-letter codes, the district without a division code)
become the documented schema without losing a subdistrict, and keys up to 60
characters fit where the registry stores them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.orm import Session

from stationfinder import db
from stationfinder.core.resources import data_file
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.models import StaffAccount


def _old_document() -> dict[str, Any]:
    """The shipped outlines as the file before 0011 held them."""
    document = json.loads(data_file("areas.geojson").read_text(encoding="utf-8"))
    features = []
    for f in document["features"]:
        p = f["properties"]
        if p["level"] == "district":
            old = {"name": p["name"], "name_en": p["name_en"], "level": "district"}
        else:
            old = {
                "name": p["name"],
                "name_en": p["name_en"],
                "code": p["id_prefix"].removeprefix("QT-"),
                "division": p["division"],
                "level": "subdistrict",
            }
        features.append({**f, "properties": old})
    return {**document, "features": features}


def test_0011_rewrites_stored_outlines_into_the_schema(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    config = db.alembic_config(engine)
    try:
        command.upgrade(config, "0010")
        area_sets = Table("area_sets", MetaData(), autoload_with=engine)
        with engine.begin() as conn:
            conn.execute(
                insert(area_sets).values(
                    id=1, document=_old_document(), source="official.geojson",
                    loaded_at=datetime.now(UTC),
                )
            )  # fmt: skip
        command.upgrade(config, "head")
        with engine.connect() as conn:
            stored = conn.execute(select(area_sets.c.document)).scalar_one()
        document = json.loads(stored) if isinstance(stored, str) else stored
        areas = Areas.from_geojson(document)
        shipped = Areas.from_file(data_file("areas.geojson"))
        assert areas.subdistrict_keys() == shipped.subdistrict_keys()
        assert [s.id_prefix for s in areas.listed()] == [s.id_prefix for s in shipped.listed()]
        assert [(d.code, d.name) for d in areas.districts()] == [("330114", "钱塘区")]
        assert areas.street_at(Point(120.343, 30.321)) == "白杨街道"

        # A qualified key of 60 characters is stored whole (PostgreSQL enforces lengths).
        key = "示" * 60
        with Session(engine) as session, session.begin():
            session.add(
                StaffAccount(username="k", password_hash="x", role="street_staff", street=key)
            )
        with Session(engine) as session:
            assert session.scalar(select(StaffAccount.street)) == key
    finally:
        engine.dispose()
