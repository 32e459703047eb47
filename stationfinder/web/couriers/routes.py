"""Courier pages: the locator (/ and the no-script /nearest), station pages, the map,
and the offline place search (/places)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from stationfinder.core import hours
from stationfinder.core.clock import SHANGHAI, local_now
from stationfinder.core.text import natural_key
from stationfinder.core.vocabulary import (
    ACCESSES,
    AMENITIES,
    AMENITY_CODES,
    KIND_NAMES,
    KINDS,
)
from stationfinder.db import get_session
from stationfinder.geo import navigation, travel
from stationfinder.geo.gazetteer import Place
from stationfinder.geo.map_view import Box
from stationfinder.geo.point import Point
from stationfinder.registry import geojson as schemas
from stationfinder.registry import stations as registry
from stationfinder.registry.locator import nearest_stations
from stationfinder.web import maps, params
from stationfinder.web.api.routes import MAX_IN_VIEW
from stationfinder.web.assets import asset_url, vendor_assets
from stationfinder.web.context import (
    current_alerts,
    current_areas,
    current_geocoder,
    current_index,
)
from stationfinder.web.couriers import bp
from stationfinder.web.couriers.area_picker import AreaPicker, area_picker
from stationfinder.web.couriers.places import district_places, search_places, suggest_places
from stationfinder.web.couriers.places import streets as street_places
from stationfinder.web.couriers.present import (
    CHIP_AMENITIES,
    access_text,
    amenity_icons,
    amenity_items,
    card,
    copy_text,
    hours_badge,
    in_wechat,
    kind_label,
    nav_links,
)
from stationfinder.web.errors import InvalidParameter, error_body
from stationfinder.web.i18n import current_lang, messages, remember_choice, template_context
from stationfinder.web.limits import allow

NEAREST_K = 10


@bp.context_processor
def _context() -> dict[str, object]:
    return {
        **template_context(),
        "asset_url": asset_url,
        "courier_chrome": True,
        "in_wechat": _in_wechat(),
    }


def _in_wechat() -> bool:
    """Whether this request comes from WeChat's browser; the answer then varies by it."""
    g.varies_by_user_agent = True
    return in_wechat(request.user_agent.string)


@bp.after_request
def _after(response: Response) -> Response:
    response.vary.add("Cookie")
    if g.get("varies_by_user_agent"):
        response.vary.add("User-Agent")  # WeChat's pages say how to navigate from there
    return remember_choice(response)


def _tiles() -> maps.Tiles:
    return maps.Tiles.from_config(current_app.config)


def _now() -> datetime:
    return local_now()


def _filters(args: MultiDict[str, str]) -> tuple[list[str], bool]:
    amenities = params.choices(args, "amenity", AMENITY_CODES)
    open_now = params.boolean(args, "open_now")
    return amenities, open_now


def _page_config(lang: str, picker: AreaPicker) -> dict[str, Any]:
    """What the page's script needs: strings, labels, the API and the tiles' system, and
    the subdistricts it can search from itself (those the picker lists)."""
    config = current_app.config
    areas = current_areas()
    return {
        "lang": lang,
        "t": dict(messages()),
        "kinds": {k.name: k.en if lang == "en" else k.name for k in KINDS},
        "amenities": {
            a.code: {"icon": a.icon, "label": a.en if lang == "en" else a.zh} for a in AMENITIES
        },
        "access": {a.code: a.en if lang == "en" else a.zh for a in ACCESSES},
        "streets": {
            p.name: {
                "lon": p.point.lon,
                "lat": p.point.lat,
                "label": (p.name_en or p.name) if lang == "en" else p.name,
                "district": found.district if (found := areas.subdistrict(p.name)) else None,
            }
            for p in picker.places
        },
        # The offline copy is of the courier's district when several are loaded.
        "offlineByDistrict": len(areas.districts()) > 1,
        "tileCrs": config["TILE_CRS"],
        "k": NEAREST_K,
        "walkKmh": config["WALK_SPEED_KMH"],
        "rideKmh": config["RIDE_SPEED_KMH"],
        "routeFactor": travel.ROUTE_FACTOR,
        "wechat": {
            "note": gettext(
                "In WeChat the map apps may not open: the links below open the web map,"
                " or copy the address into a map app."
            ),
            "browser": gettext(
                "To navigate in a map app: tap ··· at the top right, choose to open in the"
                " browser, then tap a link."
            ),
            "label": gettext("Address to copy"),
            "copy": gettext("Copy address"),
            "copied": gettext("Copied. Paste it into a map app's search."),
            "select": gettext("Press and hold the address to copy it."),
        },
        "urls": {
            "nearest": url_for("api.nearest"),
            "stations": url_for("api.list_stations"),
            "areas": url_for("api.areas"),
            "places": url_for("web.places"),
            "station": url_for("web.station", station_id="_ID_"),
            "sw": url_for("assets.service_worker"),
        },
    }


def _street_labels(lang: str) -> dict[str, str]:
    """Every loaded subdistrict's key and label in `lang`, in the one division-code order."""
    return {s.key: s.label(lang == "en") for s in current_areas().listed()}


def _chips(lang: str, chosen: list[str]) -> list[dict[str, Any]]:
    items = amenity_items(CHIP_AMENITIES, lang)
    return [{"item": item, "checked": item.code in chosen} for item in items]


def _locator(
    *,
    cards: list[Any] | None = None,
    near: Place | None = None,
    problem: str | None = None,
    form: Mapping[str, Any] | None = None,
    suggestions: list[Place] | None = None,
    listed_first: str | None = None,
) -> tuple[str, int]:
    """The locator page; ``suggestions`` (a list, maybe empty) when a typed place was
    not found: the page offers them and the subdistricts as searches to run;
    ``listed_first`` says why the cards are not in distance order (a weather alert)."""
    lang = current_lang()
    form = form or {"place": "", "street": "", "amenities": [], "open_now": False}
    fmap = maps.courier_map(_tiles(), vendor_assets(), fit=_all_stations_box())
    # The picker lists the district of what was picked or found (at national scale).
    chosen = form["street"] or (current_areas().street_at(near.point) if near else None)
    picker = area_picker(chosen, lang == "en")
    return (
        render_template(
            "index.html",
            page="locator",
            map=maps.render(fmap, first=(asset_url("app.js"),)),
            config=_page_config(lang, picker),
            chips=_chips(lang, form["amenities"]),
            picker=picker,
            form=form,
            cards=cards,
            near=near,
            problem=problem,
            suggestions=suggestions,
            keep=_kept_filters(form, lang),
            listed_first=listed_first,
        ),
        200,
    )


def _all_stations_box() -> Box | None:
    """Where the registry's active stations are: the map opens on all of them."""
    index = current_index().current().index
    return maps.box_around(*index.coordinates_at(index.in_box(-180, -90, 180, 90)))


def _kept_filters(form: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The query a suggested search keeps from this one: the filters and the language."""
    kept: dict[str, Any] = {"amenity": list(form["amenities"])}
    if form["open_now"]:
        kept["open_now"] = "1"
    if lang != "zh":
        kept["lang"] = lang
    return kept


@bp.get("/")
def index() -> tuple[str, int]:
    return _locator()


@bp.get("/nearest")
def nearest_page() -> tuple[str, int]:
    """The locator without JavaScript: a place or subdistrict in, a list of cards out."""
    t = messages()
    args = request.args
    amenities, open_now = _filters(args)
    place_query = (args.get("place") or "").strip()[:60]
    street = args.get("street") or ""
    form = {"place": place_query, "street": street, "amenities": amenities, "open_now": open_now}
    lat = params.number(args, "lat", low=-90, high=90)
    lon = params.number(args, "lon", low=-180, high=180)
    near: Place | None = None
    if lat is not None and lon is not None:
        near = Place(gettext("You are here"), None, "point", None, Point(lon, lat))
    elif place_query:
        if not allow(PLACES_LIMIT, "places"):  # the same count as /places: one budget
            problem = gettext("Too many searches from here; wait a minute and try again.")
            html, _ = _locator(problem=problem, form=form)
            return html, 429
        found = search_places(place_query) or _geocoded(place_query)
        if not found:
            return _locator(
                problem=gettext(
                    "No place called “%(place)s”. Try one below or pick a subdistrict.",
                    place=place_query,
                ),
                form=form,
                suggestions=suggest_places(place_query),
            )
        near = found[0]
    elif street:
        near = next((p for p in street_places() if p.name == street), None) or (
            district_places().get(street)
        )
    if near is None:
        return _locator(problem=gettext("Type a place or pick a subdistrict."), form=form)
    config = current_app.config
    now = _now()
    # While a weather alert holds, the stations that help come first (as the API does).
    alert = current_alerts().current()
    first = alert.helps if alert is not None and not amenities else None
    features = nearest_stations(
        current_index().current(),
        near.point,
        k=NEAREST_K,
        amenities=amenities,
        open_now=open_now,
        at=now,
        walk_kmh=config["WALK_SPEED_KMH"],
        ride_kmh=config["RIDE_SPEED_KMH"],
        first=first,
    )
    lang = current_lang()
    cards = [card(f, now, lang, t) for f in features]
    # Said only when a card has it working: "listed first" over none would be false.
    helping = first is not None and any(_has_working(f, first) for f in features)
    listed_first = t[f"first_{first}"] if helping else None
    return _locator(cards=cards, near=near, form=form, listed_first=listed_first)


def _has_working(feature: Mapping[str, Any], amenity: str) -> bool:
    props = feature["properties"]
    return amenity in (props.get("amenities") or []) and amenity not in (
        props.get("out_of_service") or {}
    )


# Place searches per client address, /places and /nearest?place= together (one budget:
# either would do for an abuser). A courier typing a name sends one search per pause
# (250 ms), a few dozen a minute at most; a search costs up to ~190 ms of a worker for a
# long query that matches nothing, so without a limit one client could keep one busy.
PLACES_LIMIT = "120 per minute;2000 per hour"
# The outside geocoder answers only what the gazetteer lacks; each answer is a request
# against the operator's quota, so a client may cause only this many.
GEOCODER_LIMIT = "20 per minute;200 per day"


def _geocoded(query: str) -> list[Place]:
    """The optional outside geocoder's answer, when one is configured (and this client
    is within GEOCODER_LIMIT: past it, the gazetteer's suggestions answer alone)."""
    geocoder = current_geocoder()
    if geocoder is None or not allow(GEOCODER_LIMIT, "geocoder"):
        return []
    place = geocoder.locate(query)
    return [place] if place is not None else []


@bp.get("/places")
def places() -> Response | tuple[Response, int, dict[str, str]]:
    """Places matching `q` from the offline gazetteer, best first (JSON); when none,
    ``suggestions``: the nearest names by edit distance, to offer instead."""
    query = (request.args.get("q") or "").strip()[:60]
    if query and not allow(PLACES_LIMIT, "places"):
        message = gettext("Too many searches from here; wait a minute and try again.")
        body = jsonify(error_body("too_many_requests", message, "q"))
        return body, 429, {"Retry-After": "60"}
    found = (search_places(query) or _geocoded(query)) if query else []
    suggestions = suggest_places(query) if query and not found else []
    return jsonify(
        {
            "query": query,
            "places": [_place_json(p) for p in found],
            "suggestions": [_place_json(p) for p in suggestions],
        }
    )


def _place_json(p: Place) -> dict[str, Any]:
    return {
        "name": p.name,
        "name_en": p.name_en,
        "kind": p.kind,
        "street": p.street,
        "lon": p.point.lon,
        "lat": p.point.lat,
        "station_id": p.station_id,
    }


@bp.get("/stations/<station_id>")
def station(station_id: str) -> tuple[str, int]:
    if len(station_id) > 32:
        abort(404)
    row = registry.get_station(get_session(), station_id)
    t = messages()
    if row is None:
        abort(404, description=f"{gettext('Courier rest stations')}: {station_id}")
    if not row.active:
        abort(410, description=gettext("This station has closed"))
    lang = current_lang()
    now = _now()
    state = hours.state_at(row.opening_hours, now)
    badge = hours_badge(
        state.open, state.next_change.isoformat() if state.next_change else None, now, t
    )
    feature = schemas.station_feature(row)
    tiles = _tiles()
    pins = _pins([feature], tiles, lang)
    fmap = maps.stations_map(
        pins, tiles, vendor_assets(), clustered=False, centre=Point(row.lon, row.lat), zoom=16
    )
    week = hours.week_in_words(row.opening_hours, now.date(), lang) if row.opening_hours else []
    return (
        render_template(
            "station.html",
            page="station",
            station=row,
            name=(row.name_en or row.name) if lang == "en" else row.name,
            badge=badge,
            today=hours.today_in_words(row.opening_hours, now, lang),
            week=week,
            amenities=amenity_items(row.amenities or [], lang),
            navigation=nav_links(navigation.navigation_links(row.name, row.lon, row.lat), t),
            copy_text=copy_text(row.name, row.address),
            access=access_text(feature["properties"], lang, t),
            last_confirmed=_local(row.last_confirmed_at),
            map=maps.render(fmap, first=(asset_url("app.js"),)),
            config=_page_config(lang, area_picker(row.street, lang == "en")),
            confirmed=request.args.get("confirmed"),
            out_of_service=dict(row.out_of_service or {}),
        ),
        200,
    )


def _local(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@bp.get("/map")
def map_page() -> tuple[str, int]:
    """Every active station, clustered; filter by kind and amenity (a plain GET form)."""
    args = request.args
    kind = params.choice(args, "kind", KIND_NAMES)
    amenity = params.choice(args, "amenity", AMENITY_CODES)
    lang = current_lang()
    snapshot = current_index().current()
    # Every matching station, found by the index (as the in-view API finds them; an
    # amenity out of service does not count) without reading any of them.
    matching = snapshot.index.in_box(-180, -90, 180, 90, kind=kind, amenity=amenity)
    count = len(matching)
    tiles = _tiles()
    # The map opens on every matching station, at whatever zoom the screen allows.
    extent = maps.box_around(*snapshot.index.coordinates_at(matching))
    in_view_url = None
    picker = area_picker(None, lang == "en")
    listed: list[tuple[str, list[dict[str, str]]]] | None = None
    if count <= current_app.config["MAP_INLINE_MAX"]:
        # Few enough for one answer (the district's 158): clustered in the browser, the
        # pins fetched once the page has painted (`map_pins`).
        features = snapshot.features.many(sorted(snapshot.index.ids_at(matching)))
        pins = _pins(features, tiles, lang)
        fit = maps.pins_box(pins)  # where the pins are drawn, to the metre
        pins_url = url_for(
            "web.map_pins", kind=kind, amenity=amenity, lang=lang if lang != "zh" else None
        )
        fmap = maps.stations_map(
            [], tiles, vendor_assets(), clustered=True, fit=fit, pins_url=pins_url
        )
        listed = _stations_by_street(features, lang)
    else:
        # Too many for one page: the script asks for what is in view as the map moves.
        fit = maps.on_tiles(tiles, extent) if extent is not None else None
        fmap = maps.stations_map([], tiles, vendor_assets(), clustered=False, fit=fit)
        limit = min(current_app.config["MAP_INLINE_MAX"], MAX_IN_VIEW)
        in_view_url = url_for("api.stations_in_view", kind=kind, amenity=amenity, limit=limit)
    return (
        render_template(
            "map.html",
            page="map",
            map=maps.render(fmap, first=(asset_url("app.js"),)),
            config=_page_config(lang, picker),
            in_view_url=in_view_url,
            count=count,
            kinds=[(k.name, k.en if lang == "en" else k.name) for k in KINDS],
            amenities=amenity_items(AMENITY_CODES, lang),
            kind=kind,
            amenity=amenity,
            listed=listed,
            picker=picker,
        ),
        200,
    )


@bp.get("/map/pins.json")
def map_pins() -> Response:
    """/map's pins (on the tiles' system, labelled in the page's language) for the
    map's script: every active station matching the page's filters, while they are no
    more than ``MAP_INLINE_MAX``; beyond, 400 (the map then asks the in-view API)."""
    args = request.args
    kind = params.choice(args, "kind", KIND_NAMES)
    amenity = params.choice(args, "amenity", AMENITY_CODES)
    snapshot = current_index().current()
    matching = snapshot.index.in_box(-180, -90, 180, 90, kind=kind, amenity=amenity)
    limit = current_app.config["MAP_INLINE_MAX"]
    if len(matching) > limit:
        raise InvalidParameter(
            f"{len(matching)} stations match, more than {limit}: ask /api/v1/stations/in_view",
            field="amenity" if amenity else "kind",
        )
    features = snapshot.features.many(sorted(snapshot.index.ids_at(matching)))
    response = jsonify(pins=[p.as_json() for p in _pins(features, _tiles(), current_lang())])
    # As fresh as the page: the registry changes under staff's hands.
    response.cache_control.no_cache = True
    return response


def _pins(
    features: Sequence[Mapping[str, Any]], tiles: maps.Tiles, lang: str
) -> list[maps.StationPin]:
    pins = maps.station_pins(
        features,
        tiles,
        url_for_station=lambda sid: url_for("web.station", station_id=sid),
        icons_for=amenity_icons,
    )
    if lang != "en":
        return pins
    return [
        dataclasses.replace(
            pin, name=str(props.get("name_en") or pin.name), kind=kind_label(pin.kind, lang)
        )
        for pin, props in zip(pins, (f["properties"] for f in features), strict=True)
    ]


def _stations_by_street(
    features: Sequence[Mapping[str, Any]], lang: str
) -> list[tuple[str, list[dict[str, str]]]]:
    """The map's stations as text, for a phone without JavaScript: by subdistrict in the
    one order subdistricts are listed everywhere, names in natural order (1号 before 14号)."""
    labels = _street_labels(lang)
    groups: dict[str, list[dict[str, str]]] = {}
    for feature in features:
        props = feature["properties"]
        name = (props.get("name_en") or props["name"]) if lang == "en" else props["name"]
        groups.setdefault(props.get("street") or "", []).append(
            {
                "name": name,
                "address": props.get("address") or "",
                "url": url_for("web.station", station_id=feature["id"]),
            }
        )
    areas = current_areas()
    ordered = sorted(groups, key=lambda s: (areas.rank(s), s))
    return [
        (
            labels.get(street, street) or gettext("Other"),
            sorted(groups[street], key=lambda s: natural_key(s["name"])),
        )
        for street in ordered
    ]
