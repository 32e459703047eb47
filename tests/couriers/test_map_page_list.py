"""/map without JavaScript: the stations as a list by subdistrict (or, for a registry too
large to list, the subdistricts to search), and a map that opens on all of them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from map_pins import map_pins
from shipped_areas import STREET_NAMES


def _noscript(page: str) -> str:
    match = re.search(r'<noscript><section class="map-list".*?</section></noscript>', page, re.S)
    assert match, "no station list for phones without JavaScript"
    return match.group(0)


def test_the_map_page_lists_each_station_by_subdistrict(client: FlaskClient) -> None:
    page = client.get("/map").text
    listing = _noscript(page)
    count = int(re.search(r'data-testid="count">\D*(\d+)', page).group(1))
    assert listing.count("<li>") == count
    headings = re.findall(r"<h2>([^<]+)</h2>", listing)
    assert headings == [s for s in STREET_NAMES if s in headings] and len(headings) > 1
    assert all(h in STREET_NAMES for h in headings)


def test_the_english_list_names_subdistricts_in_english(client: FlaskClient) -> None:
    listing = _noscript(client.get("/map?lang=en").text)
    assert "Xiasha" in listing and "下沙街道" not in re.findall(r"<h2>([^<]+)</h2>", listing)


def test_the_map_opens_fitted_to_the_matching_stations(client: FlaskClient) -> None:
    page = client.get("/map?amenity=haircut").text
    fit = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", page, re.S)
    assert fit, "the map is not fitted to its stations"
    (south, west), (north, east) = json.loads(fit.group(1))
    pins = [(p["lat"], p["lon"]) for p in map_pins(client, page)]
    assert pins
    for lat, lon in pins:
        assert south - 1e-6 <= lat <= north + 1e-6 and west - 1e-6 <= lon <= east + 1e-6
    assert (
        abs(min(p[0] for p in pins) - south) < 1e-5 and abs(max(p[1] for p in pins) - east) < 1e-5
    )


def test_too_many_to_list_offers_the_subdistricts(make_app: Callable[..., Flask]) -> None:
    client = make_app(MAP_INLINE_MAX=5).test_client()
    listing = _noscript(client.get("/map?amenity=toilet").text)
    links = re.findall(r'<a href="(/nearest\?[^"]+)">', listing)
    assert len(links) == len(STREET_NAMES)
    assert all("amenity=toilet" in link for link in links)
