"""An offline gazetteer: find a place by name without any outside geocoding service.

Couriers without geolocation type a place ("金沙湖", "杭电") or pick a subdistrict. The
gazetteer holds the shipped landmarks (`data/gazetteer.json`) and the subdistricts (at
their outlines' centroids), and matches a query against Chinese and English names.
Stations are ranked with them: the app finds candidates by name in the database with
`like_pattern` and passes them to `search` (`Gazetteer.build` also takes stations
directly, for a registry held in memory). Flask-free.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from stationfinder.geo.point import Point

MAX_QUERY_LENGTH = 60

# Subdistricts first (a courier naming one means its centre), then the shipped places,
# then stations (which the courier can open directly anyway).
_KIND_RANK = {"street": 0, "landmark": 1, "metro": 1, "university": 1, "government": 1}
_STATION_RANK = 2
_SUFFIXES = ("街道", "站", "subdistrict", "station")


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    name_en: str | None
    kind: str  # "street", "station", or the gazetteer file's kind (landmark, metro, ...)
    street: str | None
    point: Point  # WGS-84
    station_id: str | None = None


def normalise(text: str) -> str:
    """Fold width, case and spacing so "ＪＩＮＳＨＡ  lake" finds "Jinsha Lake"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "·・-_'’,，()（）")


def _stem(key: str) -> str:
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


class Gazetteer:
    """Places searchable by name; `search` ranks exact, then prefix, then substring."""

    def __init__(self, places: Iterable[Place]) -> None:
        self._places = list(places)
        self._keys = [_keys(p) for p in self._places]

    def __len__(self) -> int:
        return len(self._places)

    @classmethod
    def build(
        cls,
        document: Mapping[str, Any],
        street_centres: Mapping[str, Point],
        stations: Iterable[Mapping[str, Any]],
        street_names_en: Mapping[str, str] | None = None,
    ) -> Gazetteer:
        """From the gazetteer document, subdistrict centres and GeoJSON station features."""
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
        return cls(places)

    def search(self, query: str, limit: int = 8, also: Iterable[Place] = ()) -> list[Place]:
        """Places matching ``query``, best first; ``also`` are more places to rank with
        these (stations found in the database by `like_pattern`)."""
        q = normalise(query[:MAX_QUERY_LENGTH])
        if not q:
            return []
        stem = _stem(q)
        scored: list[tuple[int, int, int, int, Place]] = []
        candidates = chain(
            zip(self._places, self._keys, strict=True), ((p, _keys(p)) for p in also)
        )
        for order, (place, keys) in enumerate(candidates):
            match = _match_rank(q, stem, keys)
            if match is None:
                continue
            kind_rank = _STATION_RANK if place.station_id else _KIND_RANK.get(place.kind, 1)
            scored.append((match, kind_rank, len(place.name), order, place))
        scored.sort(key=lambda row: row[:4])
        return [row[-1] for row in scored[:limit]]

    def best(self, query: str) -> Place | None:
        found = self.search(query, limit=1)
        return found[0] if found else None


def _keys(place: Place) -> tuple[str, ...]:
    return tuple(normalise(n) for n in (place.name, place.name_en) if n)


def like_pattern(query: str) -> str | None:
    """A SQL ``LIKE`` pattern (``ESCAPE '\\'``, on lower-cased names) that every name
    `search` could match for ``query`` satisfies: the characters of its stem in order,
    anything between them (the spaces and punctuation `normalise` drops). A superset:
    `search` ranks what the database returns. None for a query that matches nothing."""
    q = normalise(query[:MAX_QUERY_LENGTH])
    if not q:
        return None
    escaped = (c if c not in "%_\\" else "\\" + c for c in _stem(q))
    return "%" + "%".join(escaped) + "%"


def _match_rank(q: str, stem: str, keys: Sequence[str]) -> int | None:
    best: int | None = None
    for key in keys:
        if key == q or _stem(key) == stem:
            rank = 0
        elif key.startswith(q) or key.startswith(stem):
            rank = 1
        elif q in key or (len(stem) >= 2 and stem in key):
            rank = 2
        else:
            continue
        best = rank if best is None else min(best, rank)
    return best


def load_document(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("places"), list):
        raise ValueError(f"{path}: expected an object with a 'places' list")
    return document
