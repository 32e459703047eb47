"""Typed accessors for the services the app factory makes once per app.

`create_app` installs them with `install`; views, the CLI and tests reach them through
`current_index()`, `current_areas()` and `current_geocoder()` instead of looking up
`app.extensions` by string, so a type checker and a reader both know what comes back.
Each takes an optional app for code that runs outside a request (tests, the CLI).
"""

from __future__ import annotations

from flask import Flask, current_app

from stationfinder.alerts.weather import AlertWatch
from stationfinder.geo.areas import Areas
from stationfinder.geo.geocoding import PlaceGeocoder
from stationfinder.registry.changes import registry_changed
from stationfinder.registry.live_index import LiveIndex

_AREAS = "stationfinder.areas"
_INDEX = "stationfinder.index"
_GEOCODER = "stationfinder.geocoder"
_ALERTS = "stationfinder.alerts"


def install(app: Flask, *, areas: Areas, index: LiveIndex, geocoder: PlaceGeocoder) -> None:
    """Keep the app's services, and have the index follow the registry-changed signal."""
    from stationfinder.db import get_db

    sessions = get_db(app).sessions
    app.extensions[_AREAS] = areas
    app.extensions[_INDEX] = index
    app.extensions[_GEOCODER] = geocoder
    app.extensions[_ALERTS] = AlertWatch(sessions, ttl_s=app.config["ALERT_CHECK_SECONDS"])
    registry_changed.connect(index.on_registry_changed, sender=sessions)


def current_areas(app: Flask | None = None) -> Areas:
    """The loaded districts and subdistricts and the point-in-area lookup."""
    areas: Areas = (app or current_app).extensions[_AREAS]
    return areas


def current_index(app: Flask | None = None) -> LiveIndex:
    """This worker's live station index (it follows the registry version)."""
    index: LiveIndex = (app or current_app).extensions[_INDEX]
    return index


def replace_index(app: Flask, index: object) -> None:
    """Swap the index (tests that stand in a failing one)."""
    app.extensions[_INDEX] = index


def current_geocoder(app: Flask | None = None) -> PlaceGeocoder | None:
    """The outside place-name geocoder; None unless STATIONFINDER_GEOCODER is set."""
    geocoder: PlaceGeocoder | None = (app or current_app).extensions[_GEOCODER]
    return geocoder


def current_alerts(app: Flask | None = None) -> AlertWatch:
    """The weather alert that holds now (read at most every ALERT_CHECK_SECONDS)."""
    watch: AlertWatch = (app or current_app).extensions[_ALERTS]
    return watch
