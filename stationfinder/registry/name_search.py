"""Stations by name in memory: the place search's station half without a table scan.

The place search used to ask the database for names matching LIKE patterns with a
leading wildcard, which no B-tree index serves and trigram indexes do not serve for the
two-character Chinese queries couriers type (下沙, 杭电): at 400,000 stations it read the
whole table on every search (~300 ms on PostgreSQL). Here every active station's
lower-cased names are kept in one string per language, one name per line, in the order
the database would rank matches (shortest name first, then id); a search is a regular
expression over that string, stopping at the first `limit` matches.

The copy is read once (on a worker's first search) and never goes stale: each search
also asks the database for the stations changed since the copy was read (an indexed
`updated_at` range, almost always empty), and those rows count instead of the copy's.
When that delta grows past `REREAD_AFTER` stations the copy is read again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stationfinder.models import Station
from stationfinder.models.base import utcnow
from stationfinder.registry.live_index import raw_chunks, release_freed_memory

# Edits committed while the copy was read, or stamped by another host whose clock is a
# little behind, are after `since` all the same.
OVERLAP = timedelta(seconds=60)
REREAD_AFTER = 2_000  # changed stations beyond which the copy is read again

_ANY = "[^\n]*?"  # LIKE's % within one line (one name)
_COLUMNS = (Station.id, Station.name, Station.name_en, Station.street, Station.lon, Station.lat)


def like_regex(pattern: str) -> re.Pattern[str]:
    """A SQL LIKE pattern (ESCAPE '\\') as a regular expression over one name per line:
    ``%`` any run of characters within the line, ``_`` one character, ``\\x`` x itself.

    Between two ``%`` a pattern is a run of fixed length, and the leftmost place for
    each run leaves the most room for the next: so each gap is matched atomically and
    never backtracked into. A plain lazy gap would retry every way of placing every run
    (a typed "eeeeeeeez" against names full of e's: exponential, a free denial of
    service); atomic, a line costs at most its length per place the first run starts.
    """
    runs: list[str] = [""]
    escaped = False
    for char in pattern:
        if escaped or char not in "\\%_":
            runs[-1] += re.escape(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "_":
            runs[-1] += "[^\n]"
        else:
            runs.append("")
    if escaped:
        runs[-1] += re.escape("\\")
    if len(runs) == 1:  # no wildcard run: the whole name
        return re.compile("^" + runs[0] + "$", re.MULTILINE)
    first, *middle, last = runs
    middle = [run for run in middle if run]
    # No anchor for a leading %: the search starts where the first run is found (an
    # anchor, or a gap first, would make every line, or every place, a start).
    if first:
        regex = "^" + first
    elif middle:
        regex = middle.pop(0)
    else:
        regex = ""
    regex += "".join(f"(?>{_ANY}{run})" for run in middle)
    if last:  # the name ends with this run: the gap before it may not be atomic
        regex += f"{_ANY}{last}$" if regex else f"{last}$"
    return re.compile(regex, re.MULTILINE)


class _Column:
    """One language's names, one per line, and where each line starts."""

    def __init__(self, chunks: Sequence[Sequence[str]]) -> None:
        self.text = "\n".join("\n".join(chunk) for chunk in chunks if chunk)
        self.lines = sum(len(c) for c in chunks)
        lengths = np.fromiter(
            (len(n) + 1 for chunk in chunks for n in chunk), dtype=np.int64, count=self.lines
        )
        self.starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)

    def first(self, regex: re.Pattern[str], limit: int, skip: frozenset[int]) -> list[int]:
        """The first `limit` line numbers whose name matches, not counting `skip`."""
        found: list[int] = []
        text, starts, position, lines = self.text, self.starts, 0, self.lines
        while len(found) < limit and lines:
            match = regex.search(text, position)
            if match is None:
                break
            line = int(np.searchsorted(starts, match.start(), side="right")) - 1
            if line not in skip:
                found.append(line)
            if line + 1 >= lines:
                break
            position = int(starts[line + 1])
        return found


@dataclass(frozen=True)
class NameCopy:
    """The copy: line k of each column is the k-th station in the database's ranking
    order (length of name, then id). Ids are kept as one NumPy array of bytes, with a
    sorted view for lookups: a Python string per station and a dict of them cost ~60 MB
    more at 400,000 stations."""

    ids: np.ndarray  # line -> id (bytes)
    sorted_ids: np.ndarray
    line_of_sorted: np.ndarray  # sorted position -> line
    zh: _Column
    en: _Column
    since: datetime  # every edit after this is read from the database instead

    @classmethod
    def read(cls, session: Session) -> NameCopy:
        since = utcnow() - OVERLAP
        query = (
            select(Station.id, Station.name, Station.name_en)
            .where(Station.active)
            .order_by(func.length(Station.name), Station.id)
        )
        id_chunks: list[np.ndarray] = []
        zh: list[list[str]] = []
        en: list[list[str]] = []
        for rows in raw_chunks(session, query):
            ids, names, names_en = zip(*rows, strict=True)
            id_chunks.append(np.array([i.encode() for i in ids]))
            zh.append([_one_line(n) for n in names])
            en.append([_one_line(n) for n in names_en])
        all_ids = np.concatenate(id_chunks) if id_chunks else np.array([], dtype="S1")
        order = np.argsort(all_ids, kind="stable")
        copy = cls(all_ids, all_ids[order], order, _Column(zh), _Column(en), since)
        del zh, en, id_chunks
        release_freed_memory()
        return copy

    def line_of(self, station_id: str) -> int | None:
        key = station_id.encode()
        k = int(np.searchsorted(self.sorted_ids, key))
        if k < len(self.sorted_ids) and self.sorted_ids[k] == key:
            return int(self.line_of_sorted[k])
        return None

    def id_at(self, line: int) -> str:
        return bytes(self.ids[line]).decode()


class StationNames:
    """Active stations whose names match LIKE patterns, as the database's LIKE finds
    them, from an in-memory copy kept true by the database's recent changes."""

    def __init__(self) -> None:
        self._copy: NameCopy | None = None
        self._lock = threading.Lock()

    def named_like(self, session: Session, patterns: Iterable[str], limit: int = 200) -> list[Any]:
        """Rows (id, name, name_en, street, lon, lat) of active stations whose lower-cased
        Chinese or English name matches any pattern, shortest names first, at most
        `limit`."""
        regexes = [like_regex(p) for p in dict.fromkeys(patterns)]
        if not regexes:
            return []
        copy = self._current(session)
        changed = _changed_since(session, copy.since)
        if len(changed) > REREAD_AFTER:
            copy = self._reread(session)
            changed = _changed_since(session, copy.since)
        stale = frozenset(
            line for line in (copy.line_of(r[0]) for r in changed) if line is not None
        )
        lines: set[int] = set()
        for regex in regexes:
            for column in (copy.zh, copy.en):
                lines.update(column.first(regex, limit, stale))
        ids = [copy.id_at(k) for k in sorted(lines)[:limit]]
        rows = list(session.execute(select(*_COLUMNS).where(Station.id.in_(ids)))) if ids else []
        rows += [
            tuple(r[:6])
            for r in changed
            if r.active
            and any(
                regex.search(_one_line(r.name)) or regex.search(_one_line(r.name_en))
                for regex in regexes
            )
        ]
        rows.sort(key=lambda r: (len(r[1]), r[0]))
        return rows[:limit]

    def _current(self, session: Session) -> NameCopy:
        copy = self._copy
        if copy is None:
            with self._lock:
                copy = self._copy
                if copy is None:
                    copy = self._copy = NameCopy.read(session)
        return copy

    def _reread(self, session: Session) -> NameCopy:
        with self._lock:
            copy = self._copy = NameCopy.read(session)
        return copy


def _changed_since(session: Session, since: datetime) -> list[Any]:
    """Stations (retired ones too) changed after `since`: an `updated_at` index range."""
    return list(
        session.execute(select(*_COLUMNS, Station.active).where(Station.updated_at > since))
    )


def _one_line(name: str | None) -> str:
    """A name lower-cased as one line of the copy (a line break would split it)."""
    return (name or "").lower().replace("\n", " ").replace("\r", " ")
