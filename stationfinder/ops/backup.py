"""Backups of the whole database as gzip'd JSON lines, portable between SQLite and
PostgreSQL. Flask-free: the CLI passes in an engine.

The tables are the ones the database actually holds (reflected, so tables added by
later migrations, such as the council's, are included without a change here), in
foreign-key order; the models' own column types are used where a model exists, so
UTC timestamps stay aware on both databases.

Format, one JSON document per line:

    {"format": "stationfinder-backup", "version": 1, "schema_revision": "...",
     "created_at": "...", "tables": {"stations": 158, ...}}
    {"table": "stations", "columns": ["id", "name", ...]}
    {"row": ["QT-BY-001", "...", ...]}
    ...

Values that JSON lacks are tagged: {"$dt": ISO 8601}, {"$date": ...}, {"$time": ...},
{"$b64": base64 bytes}, {"$dec": "1.50"}, {"$json": any} for JSON columns.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, MetaData, Table, func, select, text

from stationfinder.models import Base

FORMAT = "stationfinder-backup"
VERSION = 1
SKIPPED = frozenset({"alembic_version"})


class BackupError(Exception):
    """A backup cannot be restored here; the message says why."""


def schema_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def tables(conn: Connection) -> list[Table]:
    """Every table in the database, parents before children."""
    reflected = MetaData()
    reflected.reflect(bind=conn)
    names = set(reflected.tables) - SKIPPED
    ordered: list[Table] = []
    for table in Base.metadata.sorted_tables:  # models' types (UTCDateTime, JSON)
        if table.name in names:
            ordered.append(table)
    known = {t.name for t in ordered}
    ordered += [t for t in reflected.sorted_tables if t.name in names and t.name not in known]
    return ordered


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, dict | list):
        return {"$json": value}
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, raw),) = value.items()
    if tag == "$dt":
        return datetime.fromisoformat(raw)
    if tag == "$date":
        return date.fromisoformat(raw)
    if tag == "$time":
        return time.fromisoformat(raw)
    if tag == "$b64":
        return base64.b64decode(raw)
    if tag == "$dec":
        return Decimal(raw)
    if tag == "$json":
        return raw
    raise BackupError(f"unknown value tag {tag!r}")


def _primary_order(table: Table) -> list[Any]:
    return list(table.primary_key.columns) or list(table.columns)


def rows(conn: Connection, table: Table) -> Iterator[list[Any]]:
    """A table's rows as encoded lists, in primary-key order (so dumps compare)."""
    result = conn.execute(select(*table.columns).order_by(*_primary_order(table)))
    for row in result.yield_per(1000):
        yield [encode(v) for v in row]


def dump(engine: Engine, path: Path) -> dict[str, int]:
    """Write every table to `path` (gzip'd JSON lines) from one consistent snapshot."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        else:
            conn.execute(text("BEGIN"))  # SQLite: a read transaction is a snapshot (WAL)
        found = tables(conn)
        counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in found
        }
        header = {
            "format": FORMAT,
            "version": VERSION,
            "schema_revision": schema_revision(conn),
            "created_at": datetime.now().astimezone().isoformat(),
            "tables": counts,
        }
        tmp = path.with_name(path.name + ".partial")
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            _line(out, header)
            for table in found:
                _line(out, {"table": table.name, "columns": [c.name for c in table.columns]})
                for row in rows(conn, table):
                    _line(out, {"row": row})
        tmp.replace(path)  # a half-written backup never carries the real name
        conn.rollback()
    return counts


def _line(out: IO[str], document: dict[str, Any]) -> None:
    out.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")


def read_header(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as src:
        header = json.loads(src.readline())
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BackupError(f"{path} is not a stationfinder backup (version {VERSION})")
    return header


def restore(engine: Engine, path: Path, *, replace: bool = False) -> dict[str, int]:
    """Load a backup into a database migrated to the same schema revision, in one
    transaction: afterwards the database holds exactly the backup, or (on any error)
    what it held before."""
    header = read_header(path)
    with engine.begin() as conn:
        here = schema_revision(conn)
        if here != header["schema_revision"]:
            raise BackupError(
                f"the backup is at schema revision {header['schema_revision']}, this "
                f"database at {here}; run `stationfinder db upgrade` on a database of the "
                "backup's version, restore there, then upgrade"
            )
        found = {t.name: t for t in tables(conn)}
        missing = sorted(set(header["tables"]) - set(found))
        if missing:
            raise BackupError(f"this database has no table {', '.join(missing)}")
        occupied = [
            name
            for name, t in found.items()
            if conn.execute(select(func.count()).select_from(t)).scalar_one()
        ]
        if occupied and not replace:
            raise BackupError(
                f"the database is not empty ({', '.join(occupied)}); restore into an empty "
                "database, or pass --replace to delete what it holds first"
            )
        for table in reversed(list(found.values())):
            conn.execute(table.delete())
        counts = _load(conn, path, found)
        if counts != header["tables"]:
            raise BackupError(f"the backup is incomplete: {counts} != {header['tables']}")
        _reset_sequences(conn, list(found.values()))
    return counts


def _load(conn: Connection, path: Path, found: dict[str, Table]) -> dict[str, int]:
    counts: dict[str, int] = {}
    table: Table | None = None
    columns: list[str] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch and table is not None:
            conn.execute(table.insert(), batch)
            batch.clear()

    with gzip.open(path, "rt", encoding="utf-8") as src:
        src.readline()  # the header
        for line in src:
            document = json.loads(line)
            if "table" in document:
                flush()
                table = found[document["table"]]
                columns = document["columns"]
                unknown = set(columns) - set(table.columns.keys())
                if unknown:
                    raise BackupError(f"{table.name} has no column {', '.join(sorted(unknown))}")
                counts[table.name] = 0
            else:
                assert table is not None
                batch.append(dict(zip(columns, map(decode, document["row"]), strict=True)))
                counts[table.name] += 1
                if len(batch) >= 1000:
                    flush()
        flush()
    return counts


def _reset_sequences(conn: Connection, found: list[Table]) -> None:
    """PostgreSQL: identity/serial counters continue after the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    for table in found:
        for column in table.primary_key.columns:
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": table.name, "c": column.name},
            ).scalar_one()
            if sequence:
                conn.execute(
                    text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM '
                        f'"{table.name}"), 0) + 1, false)'
                    ),
                    {"s": sequence},
                )


def table_dump(engine: Engine) -> dict[str, list[list[Any]]]:
    """Every table's encoded rows, for comparing two databases."""
    with engine.connect() as conn:
        return {t.name: list(rows(conn, t)) for t in tables(conn)}
