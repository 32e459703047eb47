"""Serialisation of stations to GeoJSON and the pieces the API adds to them.

Every number says its coordinate system: `geometry` is WGS-84 (RFC 7946),
`coordinates_gcj02` is GCJ-02 for Chinese map apps, navigation links carry the
system their app expects.
"""

from __future__ import annotations

import json
from datetime import datetime
from operator import attrgetter
from typing import Any

from stationfinder.geo.navigation import gcj02_lonlat, navigation_links
from stationfinder.models import Station
from stationfinder.registry.fields import PUBLIC

# Resolved once: the station list and every snapshot build each station's properties.
_PUBLIC_NAMES = tuple(f.geojson for f in PUBLIC)
# A derived field reads its source (open_24h: opening_hours) and converts it below.
_PUBLIC_VALUES = attrgetter(*(f.attribute for f in PUBLIC))
_PUBLIC_CONVERTED = tuple((f.geojson, f.to_json) for f in PUBLIC if f.to_json is not None)


def station_properties(station: Station) -> dict[str, Any]:
    """The public properties of a station, as registry.fields declares them (`public`).

    The phone among them is the station's own published line (the card's call button),
    never a person's number.
    """
    properties = dict(zip(_PUBLIC_NAMES, _PUBLIC_VALUES(station), strict=True))
    for name, to_json in _PUBLIC_CONVERTED:
        properties[name] = to_json(properties[name])
    return properties


def station_feature(station: Station) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": station.id,
        "geometry": {"type": "Point", "coordinates": [station.lon, station.lat]},
        "properties": station_properties(station),
    }


def encode(value: Any) -> str:
    """Compact JSON as the API writes it (UTF-8 text, not \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def located_feature_head(feature: dict[str, Any]) -> str:
    """A station's feature as JSON with its GCJ-02 position and navigation links, left
    open after the last property so that an answer's own properties can follow.

    Everything in it is the same on every answer until the registry changes, so a
    snapshot encodes it once per station (`located_feature`) instead of on each request.
    """
    lon, lat = feature["geometry"]["coordinates"]
    properties = feature["properties"]
    located = {
        **feature,
        "properties": {
            **properties,
            "coordinates_gcj02": gcj02_lonlat(lon, lat),
            "navigation": navigation_links(properties["name"], lon, lat),
        },
    }
    body = encode(located)
    assert body.endswith("}}"), "properties must be the feature's last member"
    return body[:-2]


def located_feature(
    head: str,
    *,
    distance_m: float,
    walk_min: int,
    ride_min: int,
    open_now: bool | None,
    next_change: datetime | None,
) -> str:
    """`located_feature_head` closed with one answer's distance, times and opening state.

    Written by hand (a float's repr is its JSON): json.dumps of this small dict per
    station was a tenth of a request.
    """
    state = "null" if open_now is None else "true" if open_now else "false"
    change = f'"{next_change.isoformat()}"' if next_change is not None else "null"
    return (
        f'{head},"distance_m":{round(distance_m, 1)!r},"walk_min":{int(walk_min)},'
        f'"ride_min":{int(ride_min)},"open_now":{state},"next_change":{change}}}}}'
    )


def feature_collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", **members, "features": features}


def with_gcj02(feature: dict[str, Any]) -> dict[str, Any]:
    """A station feature whose properties also say where it is in GCJ-02."""
    lon, lat = feature["geometry"]["coordinates"]
    return {
        **feature,
        "properties": {**feature["properties"], "coordinates_gcj02": gcj02_lonlat(lon, lat)},
    }


def cluster_feature(lon: float, lat: float, count: int) -> dict[str, Any]:
    """A map bubble: ``count`` stations around a WGS-84 point."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        "properties": {
            "cluster": True,
            "count": count,
            "coordinates_gcj02": gcj02_lonlat(lon, lat),
        },
    }
