"""Finding a place by name for the courier pages: the gazetteer, and stations by name."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app
from shapely.geometry.base import BaseGeometry

from stationfinder.core.resources import data_file
from stationfinder.db import get_session
from stationfinder.geo.areas import Areas
from stationfinder.geo.gazetteer import Gazetteer, Place, like_patterns, load_document
from stationfinder.geo.point import Point
from stationfinder.registry.live_index import release_freed_memory
from stationfinder.registry.name_search import StationNames
from stationfinder.web.context import current_areas

EXTENSION = "stationfinder.gazetteer"
STREETS_EXTENSION = "stationfinder.streets"
DISTRICTS_EXTENSION = "stationfinder.district_places"
NAMES_EXTENSION = "stationfinder.station_names"
_names_lock = threading.Lock()


@dataclass
class GazetteerHolder:
    gazetteer: Gazetteer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _centre(outline: BaseGeometry) -> Point:
    """A point inside an outline: its centroid, or a point surely inside if the centroid
    of an odd shape falls outside it."""
    centre = outline.centroid
    if not outline.contains(centre):
        centre = outline.representative_point()
    return Point(round(centre.x, 6), round(centre.y, 6))


def street_centres(areas: Areas) -> dict[str, Point]:
    """A point inside each subdistrict."""
    return {name: _centre(outline) for name, outline in areas.subdistricts()}


def district_places() -> dict[str, Place]:
    """The districts as places (a point inside each), by 6-digit division code: where a
    courier who picked a whole district is searched from."""
    app = current_app
    found: dict[str, Place] | None = app.extensions.get(DISTRICTS_EXTENSION)
    if found is None:
        areas = current_areas(app)
        found = app.extensions[DISTRICTS_EXTENSION] = {
            d.code: Place(d.name, d.name_en, "district", None, _centre(areas.outline(d.code)))
            for d in areas.districts()
        }
    return found


def streets() -> list[Place]:
    """The subdistricts as places (their centres), without building the gazetteer: the
    courier pages need only these, and the gazetteer holds every station by name."""
    app = current_app
    found: list[Place] | None = app.extensions.get(STREETS_EXTENSION)
    if found is None:
        areas = current_areas(app)
        found = app.extensions[STREETS_EXTENSION] = [
            Place(key, areas.label(key, english=True), "street", key, centre)
            for key, centre in street_centres(areas).items()
        ]
    return found


def gazetteer() -> Gazetteer:
    """The shipped landmarks and the subdistricts; made once per app, with every pinyin
    and short-form key computed then. Stations are not in it: `search_places` finds them
    by name in the database, so the gazetteer costs the same at 158 stations as at
    400,000 and never goes stale after an edit."""
    app = current_app
    holder: GazetteerHolder = app.extensions.setdefault(EXTENSION, GazetteerHolder())
    if holder.gazetteer is None:
        with holder.lock:
            if holder.gazetteer is None:
                areas = current_areas(app)
                holder.gazetteer = Gazetteer.build(
                    load_document(data_file("gazetteer.json")),
                    street_centres(areas),
                    (),
                    {s.key: s.label(english=True) for s in areas.listed()},
                )
                # The build's short-lived keys left ~45 MB of free heap in a national
                # worker (1,667 subdistricts); glibc keeps it unless asked.
                release_freed_memory()
    return holder.gazetteer


def station_names() -> StationNames:
    """The app's in-memory copy of station names (read on its first search)."""
    app = current_app
    names: StationNames | None = app.extensions.get(NAMES_EXTENSION)
    if names is None:
        with _names_lock:
            names = app.extensions.setdefault(NAMES_EXTENSION, StationNames())
    return names


def search_places(query: str, limit: int = 8) -> list[Place]:
    """Subdistricts, landmarks and stations matching ``query``, best first."""
    rows = station_names().named_like(get_session(), like_patterns(query))
    stations = [
        Place(name, name_en, "station", street, Point(lon, lat), station_id=station_id)
        for station_id, name, name_en, street, lon, lat in rows
    ]
    return gazetteer().search(query, limit, also=stations)


def suggest_places(query: str, limit: int = 5) -> list[Place]:
    """For a query nothing matched: the gazetteer's nearest names by edit distance (the
    pages list them, and the subdistricts, as searches to run instead)."""
    return gazetteer().suggest(query, limit)
