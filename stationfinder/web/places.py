"""The app's gazetteer, rebuilt when the registry changes (station names are places)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from ..gazetteer import Gazetteer, Place, load_document
from ..geo.areas import Areas
from ..geo.point import Point
from ..resources import data_file
from ..vocabulary import STREET_BY_NAME

EXTENSION = "stationfinder.gazetteer"
STREETS_EXTENSION = "stationfinder.streets"


@dataclass
class GazetteerHolder:
    version: int = -1
    gazetteer: Gazetteer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def street_centres(areas: Areas) -> dict[str, Point]:
    """A point inside each subdistrict: its centroid, or a point surely inside if the
    centroid of an odd shape falls outside it."""
    centres = {}
    for name, outline in areas.subdistricts():
        centre = outline.centroid
        if not outline.contains(centre):
            centre = outline.representative_point()
        centres[name] = Point(round(centre.x, 6), round(centre.y, 6))
    return centres


def streets() -> list[Place]:
    """The subdistricts as places (their centres), without building the gazetteer: the
    courier pages need only these, and the gazetteer holds every station by name."""
    app = current_app
    found: list[Place] | None = app.extensions.get(STREETS_EXTENSION)
    if found is None:
        found = app.extensions[STREETS_EXTENSION] = [
            Place(name, STREET_BY_NAME[name].en if name in STREET_BY_NAME else None,
                  "street", name, centre)
            for name, centre in street_centres(app.extensions["stationfinder.areas"]).items()
        ]  # fmt: skip
    return found


def gazetteer() -> Gazetteer:
    app = current_app
    holder: GazetteerHolder = app.extensions.setdefault(EXTENSION, GazetteerHolder())
    snapshot = app.extensions["stationfinder.index"].current()
    if holder.gazetteer is not None and holder.version == snapshot.version:
        return holder.gazetteer
    with holder.lock:
        if holder.gazetteer is None or holder.version != snapshot.version:
            holder.gazetteer = Gazetteer.build(
                load_document(data_file("gazetteer.json")),
                street_centres(app.extensions["stationfinder.areas"]),
                snapshot.features.values(),
                {name: street.en for name, street in STREET_BY_NAME.items()},
            )
            holder.version = snapshot.version
    return holder.gazetteer
