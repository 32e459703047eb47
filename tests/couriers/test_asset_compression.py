"""The app's own files and the vendored Leaflet come compressed at each encoding's best
(once per file, not per response), in the encoding the phone takes, each encoding its
own representation for caches and conditional requests."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from flask.testing import FlaskClient

CHROME = "gzip, deflate, br, zstd"


def _scripts_and_styles(client: FlaskClient) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'<script[^>]+src="([^"]+)"', html)
    urls += re.findall(r'<link[^>]+rel="(?:stylesheet|preload)"[^>]+href="([^"]+)"', html)
    urls += re.findall(r'"(/static/vendor/[^"]+\.js)"', html)
    assert any(u.endswith(".js") for u in urls) and any(".css" in u for u in urls), urls
    return urls


def test_files_come_in_brotli_at_its_best_where_the_phone_takes_it(
    client: FlaskClient,
) -> None:
    for url in _scripts_and_styles(client):
        raw = client.get(url, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in raw.headers, url
        plain = raw.get_data()
        response = client.get(url, headers={"Accept-Encoding": CHROME})
        assert response.headers["Content-Encoding"] == "br", url
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
        assert brotli.decompress(body) == plain
        # The highest level, not Flask-Compress's per-response 4.
        assert len(body) <= len(brotli.compress(plain, quality=9)), url


@pytest.mark.parametrize(("accept", "encoding"), [("gzip", "gzip"), ("zstd, gzip", "zstd")])
def test_a_phone_without_brotli_gets_what_it_takes(
    client: FlaskClient, accept: str, encoding: str
) -> None:
    url = next(u for u in _scripts_and_styles(client) if "app.js" in u)
    response = client.get(url, headers={"Accept-Encoding": accept})
    assert response.headers["Content-Encoding"] == encoding
    if encoding == "gzip":
        plain = client.get(url, headers={"Accept-Encoding": "identity"}).get_data()
        assert gzip.decompress(response.get_data()) == plain


def test_each_encoding_is_its_own_representation(client: FlaskClient) -> None:
    url = next(u for u in _scripts_and_styles(client) if "app.css" in u)
    br = client.get(url, headers={"Accept-Encoding": "br"})
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert br.headers["ETag"] != gz.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": br.headers["ETag"]})
    assert again.status_code == 304
    # A cache holding the gzip copy does not answer a brotli request with it.
    other = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": gz.headers["ETag"]})
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "br"


@pytest.mark.parametrize("path", ["/", "/stations/QT-XS-001", "/council"])
def test_a_page_asks_for_one_script_of_the_apps_own(client: FlaskClient, path: str) -> None:
    """Each request is a round trip on a weak signal: the coordinate conversion and the
    强光模式 toggle come inside the page's one script, not as scripts of their own."""
    html = client.get(path).get_data(as_text=True)
    # A script tag, or (on pages with a map) a preload the map's script runs once painted.
    own = re.findall(r'<script[^>]+src="(/assets/[^"]+)"', html)
    own += re.findall(r'<link rel="preload" as="script" href="(/assets/[^"]+)"', html)
    if path == "/council":
        own = [u for u in own if "coords.js" not in u]  # the council's maps bring their own
    assert len(own) == 1, own
    script = client.get(own[0], headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
    assert "data-contrast-form" in script  # the toggle
    if path != "/council":
        assert script.index("window.sfCoords") < script.index("var wgs2gcj")
