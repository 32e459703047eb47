"""Absolute links the service hands out (Open311 discovery, photo links, calendar files).

An absolute URL built from the request's `Host` header says whatever the caller put
there: a stranger can make the discovery document or a meeting's .ics file point at
their own site. With `STATIONFINDER_PUBLIC_BASE_URL` set, every absolute link starts
with that address instead; unset (a developer's machine), the request's host is used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """url_for(endpoint, _external=True), on the configured public base when there is one."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(str(base))
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)
