"""What staff typed never runs as markup; pages load nothing from foreign CDNs; the
service worker and vendored files are served with the right headers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from map_pins import map_pins, pins_url
from markupsafe import escape

from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point

FOREIGN_CDNS = (
    "jsdelivr",
    "unpkg",
    "cdnjs",
    "bootstrapcdn",
    "code.jquery.com",
    "fonts.googleapis",
    "fonts.gstatic",
    "cloudflare",
)
PAGES = ("/", "/?lang=en", "/map", "/nearest?place=金沙湖", "/stations/QT-XS-001", "/nope")


@pytest.mark.parametrize("path", PAGES)
def test_no_page_references_a_foreign_cdn(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    for host in FOREIGN_CDNS:
        assert host not in html, f"{path} references {host}"
    assert "jquery" not in html.lower()
    assert "bootstrap" not in html.lower()
    assert "font-awesome" not in html.lower() and "fontawesome" not in html.lower()


@pytest.mark.parametrize("path", ["/", "/map", "/stations/QT-XS-001"])
def test_every_script_and_style_sheet_is_served_by_the_app(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    urls = re.findall(r'<script[^>]+src="([^"]+)"', html)
    urls += re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert urls
    for url in urls:
        assert url.startswith("/"), url
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_hostile_name_is_escaped_on_the_station_page(
    client: FlaskClient, hostile_station: str, hostile_text: tuple[str, str]
) -> None:
    hostile_name, hostile_address = hostile_text
    html = client.get(f"/stations/{hostile_station}").get_data(as_text=True)
    assert hostile_name not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert(2)" not in html
    # In the map's data the name is JSON with < and > escaped, shown with textContent.
    pins = map_pins(client, html)
    assert pins[0]["name"] == hostile_name
    assert pins[0]["address"] == hostile_address


def test_hostile_name_is_escaped_in_the_no_script_list(
    client: FlaskClient, hostile_station: str, hostile_text: tuple[str, str]
) -> None:
    hostile_name, _hostile_address = hostile_text
    html = client.get("/nearest", query_string={"place": "金沙湖"}).get_data(as_text=True)
    assert f'data-station-id="{hostile_station}"' in html
    assert hostile_name not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # Navigation links carry the name URL-encoded.
    assert "onerror=alert" not in re.sub(r"&lt;img src=x onerror=alert\(1\)&gt;", "", html)


def test_hostile_name_is_escaped_in_the_map_popups(
    client: FlaskClient, hostile_station: str, hostile_text: tuple[str, str]
) -> None:
    hostile_name, _hostile_address = hostile_text
    html = client.get("/map").get_data(as_text=True)
    assert hostile_name not in html
    assert "</script><script>" not in html
    # Staff text is in the page only HTML-escaped, in the list of stations for phones
    # without JavaScript; the map's pins come as JSON, shown with DOM text nodes.
    listing = re.search(r'<noscript><section class="map-list".*?</noscript>', html, re.S)
    assert listing is not None and escape(hostile_name) in listing.group(0)
    assert "alert(" not in html.replace(listing.group(0), "")
    pins = {p["id"]: p for p in map_pins(client, html)}
    assert pins[hostile_station]["name"] == hostile_name
    assert "bindPopup(function" in html  # popups are built from DOM text nodes
    assert "innerHTML" not in html
    # The pins' answer is JSON that no browser renders or sniffs as a page.
    answer = client.get(pins_url(html), headers={"Accept": "application/json"})
    assert answer.mimetype == "application/json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_hostile_name_is_escaped_in_the_gazetteer(
    client: FlaskClient, hostile_station: str, hostile_text: tuple[str, str]
) -> None:
    hostile_name, _hostile_address = hostile_text
    response = client.get("/places", query_string={"q": "<img"})
    assert response.mimetype == "application/json"
    assert response.get_json()["places"][0]["name"] == hostile_name


def test_service_worker_is_served_from_the_root_scope(client: FlaskClient) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", body).group(1))
    assert shell[0] == "/"
    for url in shell:
        with client.get(url) as fetched:
            assert fetched.status_code == 200, url
    assert "/api/v1/stations" in body and "changed_since" in body


def test_vendored_leaflet_is_cached_for_a_year(client: FlaskClient) -> None:
    with client.get("/static/vendor/leaflet/1.9.3/leaflet.js") as response:
        assert response.status_code == 200
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert response.cache_control.immutable
    assert client.get("/static/vendor/leaflet/0.0.1/leaflet.js").status_code == 404
    assert client.get("/static/vendor/jquery/3.7.1/jquery.js").status_code == 404
    assert client.get("/static/vendor/leaflet/1.9.3/../../../../etc/passwd").status_code == 404
    with client.get("/static/vendor/leaflet.markercluster/1.4.1/MarkerCluster.css") as css:
        assert css.status_code == 200


def test_markers_are_drawn_in_gcj02_on_amap_tiles(client: FlaskClient) -> None:
    feature = client.get("/api/v1/stations/QT-XS-001").get_json()
    pin = map_pins(client, client.get("/stations/QT-XS-001").get_data(as_text=True))[0]
    lon, lat = feature["geometry"]["coordinates"]
    expected = crs.from_wgs84(Point(lon, lat), CRS.GCJ02)
    assert (pin["lon"], pin["lat"]) == pytest.approx((expected.lon, expected.lat), abs=1e-6)
    assert abs(pin["lon"] - lon) > 1e-3  # a few hundred metres off WGS-84 in Hangzhou


def test_markers_stay_in_wgs84_on_wgs84_tiles(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        TILE_CRS="wgs84",
        TILE_URL="https://{s}.tile.example.org/{z}/{x}/{y}.png",
        TILE_SUBDOMAINS="abc",
        TILE_ATTRIBUTION="© OpenStreetMap",
    )
    client = app.test_client()
    feature = client.get("/api/v1/stations/QT-XS-001").get_json()
    html = client.get("/stations/QT-XS-001").get_data(as_text=True)
    pin = map_pins(client, html)[0]
    lon, lat = feature["geometry"]["coordinates"]
    assert (pin["lon"], pin["lat"]) == pytest.approx((lon, lat), abs=1e-6)
    assert "tile.example.org" in html and '"subdomains": "abc"' in html
    assert "OpenStreetMap" in html
    config = json.loads(
        re.search(r'id="sf-config">(.*?)</script>', client.get("/").get_data(as_text=True)).group(1)
    )
    assert config["tileCrs"] == "wgs84"
