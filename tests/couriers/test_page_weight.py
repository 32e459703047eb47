"""The locator stays light on a courier's data plan: before tiles, at most 150 KB
compressed in at most 20 requests."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

BUDGET_BYTES = 150 * 1024
BUDGET_REQUESTS = 20


def test_locator_page_weight_before_tiles(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    urls = ["/"]
    urls += re.findall(r'<script[^>]+src="([^"]+)"', html)
    urls += re.findall(r'<link[^>]+href="([^"]+)"', html)
    # Leaflet and its style sheet, which the map's script loads after the first paint.
    vendored = re.findall(r'"(/static/vendor/[^"]+)"', html)
    assert any(u.endswith("leaflet.js") for u in vendored), "the map's loader names Leaflet"
    urls += vendored
    urls.append("/sw.js")
    total = 0
    for url in urls:
        with client.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.status_code == 200, url
            body = response.get_data()
            if len(body) > 1024:
                assert response.headers.get("Content-Encoding") == "gzip", url
            total += len(body)
    assert len(urls) <= BUDGET_REQUESTS
    assert total <= BUDGET_BYTES, f"{total} bytes compressed"
