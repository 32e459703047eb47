"""Stations by name from the in-memory copy (registry/name_search.py): the same stations,
in the same order, as the database's LIKE finds them; never stale after an edit; and no
typed pattern that makes a search slow."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, or_, select

from stationfinder.db import session_scope
from stationfinder.geo.place_names import like_patterns
from stationfinder.models import Station
from stationfinder.models.base import utcnow
from stationfinder.registry import name_search
from stationfinder.registry.name_search import StationNames, like_regex

PIECES = st.sampled_from(["a", "b", "ab", "%", "_", "\\", "\\%", "\\_", "下", "沙", "x"])
TEXT = st.sampled_from(["a", "b", "ab", "%", "_", "\\", "下", "沙", " ", "-"])


def _sql_like(text: str, pattern: str) -> bool:
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA case_sensitive_like = ON")
    return bool(db.execute("SELECT ? LIKE ? ESCAPE '\\'", (text, pattern)).fetchone()[0])


@settings(max_examples=500, deadline=None)
@given(pattern=st.lists(PIECES, max_size=6).map("".join), text=st.lists(TEXT, max_size=8))
def test_a_like_pattern_as_a_regex_matches_what_sql_matches(pattern: str, text: list[str]) -> None:
    name = "".join(text)
    if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
        pattern += "\\"  # SQL refuses a pattern ending in a lone escape
    lines = f"other\n{name}\nmore"  # a name is one line among others
    found = any(m for m in like_regex(pattern).finditer(lines) if _line_of(lines, m) == 1)
    assert found == _sql_like(name, pattern), (pattern, name)


def _line_of(text: str, match: Any) -> int:
    return text.count("\n", 0, match.start())


def test_a_hostile_pattern_costs_no_more_than_a_plain_one() -> None:
    """Subsequence patterns ("e%e%e%...%z") against names full of e's: a lazy regex
    retries every placement (minutes); the atomic one answers in milliseconds."""
    names = ["ee" * 20 + " service centre" for _ in range(2_000)]
    column = name_search._Column(names)
    hostile = like_regex("%" + "%".join("e" * 12) + "%z%")
    plain = like_regex("%驿%站%")
    started = time.perf_counter()
    assert column.first(hostile, 10, frozenset()) == []
    hostile_s = time.perf_counter() - started
    started = time.perf_counter()
    assert column.first(plain, 10, frozenset()) == []
    plain_s = time.perf_counter() - started
    assert hostile_s < max(50 * plain_s, 0.5), (hostile_s, plain_s)


def _oracle(session: Any, patterns: list[str], limit: int) -> list[tuple[Any, ...]]:
    """What the database's LIKE finds: every match, shortest names first, then by id."""
    matches = or_(
        *(
            or_(
                func.lower(Station.name).like(p, escape="\\"),
                func.lower(func.coalesce(Station.name_en, "")).like(p, escape="\\"),
            )
            for p in patterns
        )
    )
    rows = session.execute(
        select(
            Station.id, Station.name, Station.name_en, Station.street, Station.lon, Station.lat
        ).where(Station.active, matches)
    ).all()
    return sorted((tuple(r) for r in rows), key=lambda r: (len(r[1]), r[0]))[:limit]


QUERIES = ["驿站", "服务中心", "下沙", "金沙", "1号大街", "二号大街", "xiasha", "lake", "zz", "站"]


@pytest.mark.parametrize("limit", [3, 200])
def test_the_copy_finds_what_the_database_finds_in_its_order(app: Flask, limit: int) -> None:
    names = StationNames()
    with session_scope(app) as session:
        for query in QUERIES:
            patterns = like_patterns(query)
            got = [tuple(r) for r in names.named_like(session, patterns, limit)]
            assert got == _oracle(session, patterns, limit), query


def _search(client: FlaskClient, q: str) -> list[str]:
    places = client.get("/places", query_string={"q": q}).get_json()["places"]
    return [p["station_id"] for p in places if p["station_id"]]


def test_an_edit_is_found_at_once_after_the_copy_was_read(app: Flask, client: FlaskClient) -> None:
    assert _search(client, "金沙天街")  # the copy is read now
    with session_scope(app) as session:
        renamed = session.scalars(select(Station).where(Station.name.like("%金沙天街%"))).first()
        assert renamed is not None
        renamed.name, renamed.updated_at = "钱塘江边临时驿站", utcnow()
        retired = session.scalars(select(Station).where(Station.name.like("%党群%"))).first()
        assert retired is not None
        retired.active, retired.updated_at = False, utcnow()
        renamed_id, retired_id, retired_name = renamed.id, retired.id, retired.name
    assert renamed_id in _search(client, "钱塘江边临时")
    assert renamed_id not in _search(client, "金沙天街")
    assert retired_id not in _search(client, retired_name)


def test_many_edits_make_the_copy_read_again(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(name_search, "REREAD_AFTER", 2)
    names = StationNames()
    with session_scope(app) as session:
        names.named_like(session, like_patterns("驿站"))
        first = names._copy
        assert first is not None
        stations = session.scalars(select(Station).order_by(Station.id).limit(3)).all()
        for k, station in enumerate(stations):
            station.name, station.updated_at = f"改名驿站{k}", utcnow()
        ids = sorted(s.id for s in stations)
    with session_scope(app) as session:
        found = names.named_like(session, like_patterns("改名驿站"))
    assert sorted(r[0] for r in found) == ids
    assert names._copy is not first  # read again: three changes are more than two
    # ... and the copy read again holds the new names.
    assert names._copy is not None and names._copy.since > first.since
    assert names._copy.zh.text.count("改名驿站") == 3
