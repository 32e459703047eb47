"""The service worker's offline parts as the server serves them: what it caches, and
the offline page it shows for a page it has no copy of."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_service_worker_keeps_the_hours_spans_and_the_offline_page(
    client: FlaskClient,
) -> None:
    body = client.get("/sw.js").get_data(as_text=True)
    assert 'var HOURS = "/api/v1/stations/hours";' in body
    assert 'var OFFLINE = "/offline";' in body
    assert "cache.addAll(SHELL.concat([OFFLINE]))" in body
    # The locator is the fallback for its own address only.
    assert "cache.match(OFFLINE)" in body


def test_the_offline_page_says_there_is_no_network_and_links_the_locator(
    client: FlaskClient,
) -> None:
    response = client.get("/offline")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["X-Robots-Tag"] == "noindex"
    page = response.get_data(as_text=True)
    assert 'data-testid="offline-page"' in page
    assert 'href="/" data-testid="offline-locator"' in page
    assert 'lang="zh-CN"' in page
    english = client.get("/offline?lang=en").get_data(as_text=True)
    assert "No network" in english
    assert 'lang="en"' in english


def test_the_offline_page_revalidates_with_a_304(client: FlaskClient) -> None:
    etag = client.get("/offline").headers["ETag"]
    assert client.get("/offline", headers={"If-None-Match": etag}).status_code == 304
    english = client.get("/offline?lang=en", headers={"If-None-Match": etag})
    assert english.status_code == 200
