"""An offline gazetteer: find a place by name without any outside geocoding service.

Couriers without geolocation type a place ("金沙湖", "杭电", "xiasha", "jsh", 「二号大街」)
or pick a subdistrict. The gazetteer holds the shipped landmarks (`data/gazetteer.json`,
with a short curated list of the names people really use for them) and the subdistricts
(at their outlines' centroids), and matches a query against their Chinese and English
names, their short forms and their pinyin (how the notations meet: `place_names`).
Stations are ranked with them: the app finds candidates by name in the database with
`like_patterns` and passes them to `search` (`Gazetteer.build` also takes stations
directly, for a registry held in memory). When nothing matches, `suggest` offers the
nearest names by edit distance. Flask-free.

Every key is computed once, when the gazetteer is built (the app holds one), so a query
costs string comparisons only (figures: `python bench/place_search.py`). The pinyin
keys are read from the document's stored ``readings`` (`readings_for`, written by
data/make_sample_data.py), so building the shipped gazetteer never loads pypinyin.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from stationfinder.geo.place_names import (
    MAX_QUERY_LENGTH,
    derived_short_forms,
    has_chinese,
    is_abbreviation,
    like_patterns,
    normalise,
    number_bounded,
    occurs,
    pinyin_forms,
    reading,
    stem,
    without_qualifier,
)
from stationfinder.geo.point import Point

__all__ = [
    "MAX_QUERY_LENGTH",
    "Gazetteer",
    "Place",
    "like_patterns",
    "load_document",
    "normalise",
    "readings_for",
]

# Subdistricts first (a courier naming one means its centre), then the shipped places,
# then stations (which the courier can open directly anyway).
_KIND_RANK = {"street": 0, "landmark": 1, "metro": 1, "university": 1, "government": 1}
_STATION_RANK = 2

# How a query matched, best first: the name as written, then the start of it, then a
# name people use for the place (curated or derived), then inside the name, then a
# Chinese abbreviation of it, then its pinyin, then its initials.
EXACT, PREFIX, ALIAS, ALIAS_PREFIX, INSIDE, SHORT_FORM = range(6)
PINYIN, PINYIN_PREFIX, PINYIN_SYLLABLE, INITIALS, INITIALS_PREFIX = range(6, 11)


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    name_en: str | None
    kind: str  # "street", "station", or the gazetteer file's kind (landmark, metro, ...)
    street: str | None
    point: Point  # WGS-84
    station_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Keys:
    """One place's normalised names and their stems, aliases, pinyin and initials."""

    names: tuple[str, ...]
    stems: tuple[str, ...]
    aliases: tuple[str, ...]
    full_forms: tuple[str, ...]  # the names and their derived forms, not curated aliases
    pinyin: tuple[tuple[str, tuple[int, ...]], ...]  # (full pinyin, syllable starts)
    initials: tuple[str, ...]


def pinyin_texts(name: str, aliases: Sequence[str] = ()) -> list[str]:
    """The Chinese texts a place's pinyin keys are read from: its name, the name without
    its generic tail, the names people use for it and its derived short forms."""
    named = stem(name)
    texts = [name, *((named,) if named != name else ()), *aliases, *derived_short_forms(name)]
    return [t for t in dict.fromkeys(texts) if has_chinese(t)]


def readings_for(names: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Every pinyin reading a gazetteer of these places (name → aliases) asks for, to
    store beside them (``readings`` in data/gazetteer.json) so that no worker loads
    pypinyin's dictionary (`place_names.reading`): the syllables joined by spaces
    ("下沙街道": "xia sha jie dao"; a syllable never holds one). Sorted: reproducible."""
    texts = {t for name, aliases in names.items() for t in pinyin_texts(name, aliases)}
    return {text: " ".join(reading(text)) for text in sorted(texts)}


def _keys(
    place: Place,
    aliases: Sequence[str] = (),
    readings: Mapping[str, str] | None = None,
    with_pinyin: bool = True,
) -> _Keys:
    names = tuple(dict.fromkeys(normalise(n) for n in (place.name, place.name_en) if n))
    names = tuple(n for n in names if n)
    stems = tuple(dict.fromkeys(stem(n) for n in names))
    derived_forms = derived_short_forms(place.name)
    derived = [normalise(form) for form in derived_forms]
    written = [*aliases, *derived_forms]
    alias_keys = tuple(k for k in dict.fromkeys(normalise(a) for a in written) if k)
    alias_keys = tuple(k for k in alias_keys if k not in names)
    # Abbreviations are read off full names only (浙大 is not short for 浙商大), and not
    # off a bracketed qualifier (the 大 of 浙江财经大学 is not in its distinctive part).
    qualified = normalise(place.name) if without_qualifier(place.name) != place.name else None
    full_forms = tuple(
        dict.fromkeys([*(n for n in names if n != qualified), *(k for k in derived if k)])
    )
    pinyin: dict[tuple[str, tuple[int, ...]], None] = {}
    initials: dict[str, None] = {}
    if with_pinyin:
        for text in pinyin_texts(place.name, aliases):
            stored = (readings or {}).get(text)
            forms = pinyin_forms(text, None if stored is None else stored.split())
            if forms is None:
                continue
            pinyin[(forms.full, forms.starts)] = None
            if forms.full_u != forms.full:
                pinyin[(forms.full_u, forms.starts)] = None
            initials[forms.initials] = None
    return _Keys(names, stems, alias_keys, full_forms, tuple(pinyin), tuple(initials))


_SEPARATOR = "\n"  # never in a key: `normalise` drops whitespace


def _all_keys(keys: _Keys) -> list[str]:
    return [
        *keys.names,
        *keys.stems,
        *keys.aliases,
        *(full for full, _ in keys.pinyin),
        *keys.initials,
    ]


def _match_rank(q: str, q_stem: str, keys: _Keys) -> int | None:
    """The best way (the constants above) ``q`` matches a place's keys, or None."""
    if q in keys.names or q_stem in keys.stems:
        return EXACT
    if any(k.startswith(q) and number_bounded(q, k, 0) for k in keys.names):
        return PREFIX
    if q in keys.aliases:
        return ALIAS
    if any(k.startswith(q) and number_bounded(q, k, 0) for k in keys.aliases):
        return ALIAS_PREFIX
    if any(occurs(q, k) or (len(q_stem) >= 2 and occurs(q_stem, k)) for k in keys.names):
        return INSIDE
    if any(is_abbreviation(q, k) for k in keys.full_forms):
        return SHORT_FORM
    if not q.isascii() or not q.isalnum():
        return None  # pinyin is letters (and a digit a name itself has)
    best: int | None = None
    for full, starts in keys.pinyin:
        if full == q:
            return PINYIN
        if full.startswith(q):
            best = PINYIN_PREFIX
        elif best is None and any(full.startswith(q, at) for at in starts[1:]):
            best = PINYIN_SYLLABLE
    if best is not None:
        return best
    if q in keys.initials:
        return INITIALS
    if len(q) >= 2 and any(k.startswith(q) for k in keys.initials):
        return INITIALS_PREFIX
    return None


class Gazetteer:
    """Places searchable by name; `search` ranks by how the query matched (`EXACT` ...
    `INITIALS_PREFIX`), then subdistricts before places before stations, then shorter
    names, then the name itself, so equal queries always answer in the same order."""

    def __init__(
        self,
        places: Iterable[Place],
        aliases: Mapping[str, Sequence[str]] | None = None,
        readings: Mapping[str, str] | None = None,
    ) -> None:
        """``readings``: stored pinyin syllables by text (`readings_for`); a text without
        one is read with pypinyin (`place_names.reading`), loading its dictionary."""
        self._places = list(places)
        aliases = aliases or {}
        self._keys = [_keys(p, aliases.get(p.name, ()), readings) for p in self._places]
        # Edit distance runs over one flat list (in C, through rapidfuzz): every name,
        # alias and pinyin, each pointing back at its place.
        self._fuzzy: list[str] = []
        self._fuzzy_owner: list[int] = []
        for index, keys in enumerate(self._keys):
            texts = chain(keys.names, keys.stems, keys.aliases, (f for f, _ in keys.pinyin))
            for text in dict.fromkeys(texts):
                self._fuzzy.append(text)
                self._fuzzy_owner.append(index)
        # Every match but an abbreviation needs the query's stem inside one of a place's
        # keys: one string holding every key, searched with str.find, names the few
        # places worth ranking (a query then costs little more at 10,000 places than at
        # 36). Abbreviations start with the name's first character: indexed by it.
        blobs = [_SEPARATOR.join(_all_keys(keys)) for keys in self._keys]
        self._haystack = _SEPARATOR.join(blobs)
        self._blob_starts: list[int] = []
        at = 0
        for blob in blobs:
            self._blob_starts.append(at)
            at += len(blob) + len(_SEPARATOR)
        self._by_first_char: dict[str, list[int]] = {}
        for index, keys in enumerate(self._keys):
            for first in dict.fromkeys(k[0] for k in keys.full_forms):
                self._by_first_char.setdefault(first, []).append(index)

    def _candidates(self, q: str, q_stem: str) -> list[int]:
        """The places (indices, in order) `_match_rank` could match ``q`` against."""
        found: set[int] = set(self._by_first_char.get(q[0], ()) if len(q) >= 2 else ())
        at = self._haystack.find(q_stem)
        while at >= 0:
            index = bisect_right(self._blob_starts, at) - 1
            found.add(index)
            # On to the next place's keys: one hit per place is enough.
            following = index + 1
            if following >= len(self._blob_starts):
                break
            at = self._haystack.find(q_stem, self._blob_starts[following])
        return sorted(found)

    def __len__(self) -> int:
        return len(self._places)

    @property
    def subdistricts(self) -> list[Place]:
        return [p for p in self._places if p.kind == "street"]

    @classmethod
    def build(
        cls,
        document: Mapping[str, Any],
        street_centres: Mapping[str, Point],
        stations: Iterable[Mapping[str, Any]],
        street_names_en: Mapping[str, str] | None = None,
    ) -> Gazetteer:
        """From the gazetteer document (its places and its ``aliases``: name → names
        people use), subdistrict centres and GeoJSON station features."""
        places: list[Place] = []
        for name, centre in street_centres.items():
            en = (street_names_en or {}).get(name)
            places.append(Place(name, en, "street", name, centre))
        for item in document.get("places", []):
            places.append(
                Place(
                    name=str(item["name"]),
                    name_en=item.get("name_en"),
                    kind=str(item.get("kind", "landmark")),
                    street=item.get("street"),
                    point=Point(float(item["lon"]), float(item["lat"])),
                )
            )
        for feature in stations:
            props = feature["properties"]
            lon, lat = feature["geometry"]["coordinates"]
            places.append(
                Place(
                    name=props["name"],
                    name_en=props.get("name_en"),
                    kind="station",
                    street=props.get("street"),
                    point=Point(lon, lat),
                    station_id=str(feature["id"]),
                )
            )
        return cls(places, document.get("aliases") or {}, document.get("readings") or {})

    def _rank_key(self, place: Place, match: int) -> tuple[int, int, int, str]:
        kind_rank = _STATION_RANK if place.station_id else _KIND_RANK.get(place.kind, 1)
        return (match, kind_rank, len(place.name), place.name)

    def search(self, query: str, limit: int = 8, also: Iterable[Place] = ()) -> list[Place]:
        """Places matching ``query``, best first; ``also`` are more places to rank with
        these (stations found in the database by `like_patterns`, which are matched by
        name only: the database pattern cannot find a station by its pinyin)."""
        q = normalise(query[:MAX_QUERY_LENGTH])
        if not q:
            return []
        q_stem = stem(q)
        scored: list[tuple[tuple[int, int, int, str], int, Place]] = []
        candidates = chain(
            ((self._places[i], self._keys[i]) for i in self._candidates(q, q_stem)),
            ((p, _keys(p, with_pinyin=False)) for p in also),
        )
        seen: set[str] = set()
        for order, (place, keys) in enumerate(candidates):
            if place.station_id is not None:
                if place.station_id in seen:
                    continue
                seen.add(place.station_id)
            match = _match_rank(q, q_stem, keys)
            if match is not None:
                scored.append((self._rank_key(place, match), order, place))
        scored.sort(key=lambda row: row[:2])
        return [row[-1] for row in scored[:limit]]

    def best(self, query: str) -> Place | None:
        found = self.search(query, limit=1)
        return found[0] if found else None

    def suggest(self, query: str, limit: int = 5) -> list[Place]:
        """For a query `search` finds nothing for: the places whose name, short form or
        pinyin is nearest by edit distance (a typo, a wrong character, a half-typed
        name: the start of a longer name counts too), within a distance that grows
        with the query (`_typo_allowance`). Nearest first."""
        q = normalise(query[:MAX_QUERY_LENGTH])
        cutoff = _typo_allowance(q)
        if not cutoff:
            return []
        distance: dict[int, int] = {}
        heads = [text[: len(q)] for text in self._fuzzy]
        for texts in (self._fuzzy, heads):
            hits = process.extract(
                q, texts, scorer=Levenshtein.distance, score_cutoff=cutoff, limit=None
            )
            for _, score, at in hits:
                owner = self._fuzzy_owner[at]
                distance[owner] = min(score, distance.get(owner, cutoff + 1))
        ranked = sorted(
            distance.items(), key=lambda kv: (kv[1], self._rank_key(self._places[kv[0]], 0))
        )
        return [self._places[index] for index, _ in ranked[:limit]]


def _typo_allowance(q: str) -> int:
    """How many edits a suggestion may be from ``q``. A Chinese character says far more
    than a letter: one wrong character in two (金纱 for 金沙) is still a fair guess, one
    wrong letter in three ("xsa") is anything at all."""
    if not q.isascii():
        return 0 if len(q) < 2 else 1 if len(q) <= 4 else 2
    return 0 if len(q) < 4 else 1 if len(q) == 4 else 2 if len(q) <= 8 else 3


def load_document(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("places"), list):
        raise ValueError(f"{path}: expected an object with a 'places' list")
    aliases = document.get("aliases", {})
    if not isinstance(aliases, dict) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names)
        for names in aliases.values()
    ):
        raise ValueError(f"{path}: 'aliases' must map a place's name to a list of names")
    readings = document.get("readings", {})
    if not isinstance(readings, dict) or not all(
        isinstance(syllables, str) and syllables.split() for syllables in readings.values()
    ):
        raise ValueError(f"{path}: 'readings' must map a text to its pinyin, e.g. 'xia sha'")
    return document
