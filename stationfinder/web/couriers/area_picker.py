"""The courier pages' area picker: every loaded subdistrict while there are few enough
to list (a district, a city), else the districts and the chosen district's subdistricts.

A national registry loads ~1,700 subdistricts; listing them all made every courier page
half a megabyte (the options, their centres for the script, the "pick one instead"
links). Above ``PICKER_MAX`` the picker offers the districts, grouped by city; picking
one searches from the district and the page then offers that district's subdistricts.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from stationfinder.geo.areas import District
from stationfinder.geo.gazetteer import Place
from stationfinder.web.context import current_areas
from stationfinder.web.couriers.places import streets as street_places
from stationfinder.web.i18n import area_groups, lists_districts

_BY_CITY = "stationfinder.districts_by_city"
Choice = tuple[str, str]  # (the value a form sends, its label in the page's language)


@dataclass(frozen=True, slots=True)
class AreaPicker:
    groups: list[tuple[str | None, list[Choice]]]  # the select's optgroups, in order
    links: list[Choice]  # the same choices as a flat list, for lists of links
    by_district: bool  # the choices are districts (too many subdistricts to list)
    places: list[Place]  # the subdistricts the page's script can search from itself
    focus: District | None = None  # the district whose subdistricts are listed


def area_picker(chosen: str | None, english: bool) -> AreaPicker:
    """The picker for a page where ``chosen`` (a subdistrict key, a district code, or
    nothing) was picked or found."""
    areas = current_areas()
    if not lists_districts():
        # The links carry keys (unique), not the bare names grouped options show.
        links = [(s.key, s.label(english)) for s in areas.listed()]
        return AreaPicker(area_groups(), links, False, street_places())
    focus = areas.district(chosen) if chosen and chosen.isdigit() else None
    if focus is None and chosen:
        focus = areas.district_of(chosen)
    if focus is None:
        links = [(d.code, _district_label(d, english)) for d in areas.districts()]
        return AreaPicker(_districts_by_city(english), links, True, [])
    members = areas.listed(focus.code)
    links = [(s.key, s.short_label(english)) for s in members]
    keys = {s.key for s in members}
    places = [p for p in street_places() if p.name in keys]
    groups = [(focus.label(english), links), *_districts_by_city(english)]
    return AreaPicker(groups, links, True, places, focus)


def _districts_by_city(english: bool) -> list[tuple[str | None, list[Choice]]]:
    """The districts in division-code order, one group per city (its first four digits);
    made once per app and language (the loaded areas do not change while it runs)."""
    cache: dict[bool, list[tuple[str | None, list[Choice]]]] = current_app.extensions.setdefault(
        _BY_CITY, {}
    )
    found = cache.get(english)
    if found is None:
        groups: dict[str, tuple[str | None, list[Choice]]] = {}
        for d in current_areas().districts():
            group = groups.setdefault(d.code[:4], (_city(d, english) or d.code[:4], []))
            group[1].append((d.code, d.label(english)))
        found = cache[english] = list(groups.values())
    return found


def _district_label(d: District, english: bool) -> str:
    """A district named with its city, for a flat list (西湖区 alone could be anywhere)."""
    city = _city(d, english)
    name = d.label(english)
    if not city or name.startswith(city):
        return name
    return f"{name}, {city}" if english else f"{city}{name}"


def _city(d: District, english: bool) -> str | None:
    return (d.city_en or d.city) if english else d.city
