"""The pins a page's map draws: carried in the page (a station page) or fetched by its
script from the URL the page names (/map), as the browser would."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient

INLINE = re.compile(r"draw\((\[.*?\])\);\n", re.S)
FETCHED = re.compile(r'fetch\(("[^"]*")')


def pins_url(html: str) -> str | None:
    found = FETCHED.search(html)
    return json.loads(found.group(1)) if found else None


def map_pins(client: FlaskClient, html: str) -> list[dict[str, Any]]:
    url = pins_url(html)
    if url is not None:
        response = client.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        return response.get_json()["pins"]
    found = INLINE.search(html)
    assert found, "no station pins on the page"
    return json.loads(found.group(1))
