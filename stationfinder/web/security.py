"""Response headers that limit what a page may load, run or be framed by.

Every response gets a Content-Security-Policy: scripts only from the app itself, plus
inline `<script>` and `<style>` elements that carry this request's nonce (folium's map
script, the JSON config blocks, the staff pages' style sheet). Templates write the nonce
as `nonce="{{ csp_nonce() }}"`. Images may also come from the configured tile server and
`data:` URLs (Leaflet's); nothing else leaves the app's origin.

No `'unsafe-inline'` for styles: folium's own inline `<style>` is dropped by
`maps.render`, Leaflet positions its panes through the CSSOM (which CSP allows), and the
templates use classes, not `style="..."` attributes.
"""

from __future__ import annotations

import logging
import re
import secrets
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.urls import iri_to_uri

from stationfinder.web.errors import InvalidParameter

NONCE_PLACEHOLDER = "{nonce}"
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours


MAX_NEXT = 2000  # longer is no page of ours


def same_site_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: where a form may send the
    browser back to (the 强光模式 toggle, staff sign-in's `next`).

    Refused: anything with a scheme or host (`https://evil`, `//evil`), a backslash
    (`/\\evil`, which browsers read as `//evil`), and any whitespace or control character
    (browsers drop tabs and newlines, so `/\\t/evil` would become `//evil` too).
    """
    if not target or len(target) > MAX_NEXT or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return iri_to_uri(target)


def tile_sources(tile_url: str, subdomains: str) -> list[str]:
    """The origins a Leaflet tile URL template can expand to (CSP source expressions).

    `{s}` takes each character of `subdomains`, as Leaflet does with a string; a host
    label holding any other placeholder becomes a `*.` wildcard. A relative template is
    served by the app itself and needs nothing beyond `'self'`.
    """
    if tile_url.startswith("/") and not tile_url.startswith("//"):
        return []
    parts = urlsplit(tile_url)
    scheme = parts.scheme or "https"
    netloc = parts.netloc
    hosts = [netloc.replace("{s}", s) for s in subdomains] if "{s}" in netloc else [netloc]
    sources = []
    for host in hosts:
        if "{" in host:
            # Keep only the labels after the last one holding a placeholder.
            tail = host[host.rindex("}") + 1 :]
            tail = tail[tail.index(".") + 1 :] if "." in tail else tail
            host = f"*.{tail}"
        source = f"{scheme}://{host}"
        if source not in sources:
            sources.append(source)
    return sources


def content_security_policy(tile_url: str, subdomains: str) -> str:
    """The policy, with `{nonce}` where each response's nonce goes."""
    tiles = " ".join(tile_sources(tile_url, subdomains))
    directives = [
        "default-src 'self'",
        "script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'nonce-{nonce}'",
        f"img-src 'self' data: {tiles}".rstrip(),
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def csp_nonce() -> str:
    """This request's nonce, made on first use (a template global)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


_NONCE_SOURCE = re.compile(r" 'nonce-\{nonce\}'")


# perf (issue 14): the nonce-less policy is the same string for every response of an
# app, so it is made once per policy, not by a regex per response.
@lru_cache(maxsize=8)
def _without_nonce(policy: str) -> str:
    return _NONCE_SOURCE.sub("", policy)


_FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)


def _set_headers(response: Response) -> Response:
    policy: str = current_app.extensions["stationfinder.csp"]
    nonce = g.get("csp_nonce")
    # A response that used no nonce (JSON, files, the service worker) gets none: no
    # inline code may run there at all.
    policy = policy.replace(NONCE_PLACEHOLDER, nonce) if nonce else _without_nonce(policy)
    headers = response.headers
    present = {key.lower() for key, _ in headers.items()}  # one pass, not one per setdefault
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", policy)
    for name, value in _FIXED_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if request.is_secure:
        # Only over HTTPS (RFC 6797 §7.2: a browser ignores it over plain HTTP, and a
        # development server on http://localhost must stay reachable). Behind a proxy,
        # X-Forwarded-Proto makes a request secure only with STATIONFINDER_TRUSTED_PROXIES.
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _refuse_nul() -> None:
    """A NUL character in the path or query is never meaningful, and PostgreSQL refuses
    it in text (a 500 otherwise): answer 400 before any view sees it."""
    if "\x00" in request.path or b"%00" in request.query_string.lower():
        raise InvalidParameter("the request contains a NUL character", field=None)


def init_csrf(app: Flask) -> None:
    """CSRF tokens on every form, minus the three faces no cookie can be forged for."""
    from flask_wtf.csrf import CSRFProtect

    from stationfinder.web.api import write
    from stationfinder.web.open311 import bp as open311_bp

    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    csrf = CSRFProtect(app)
    csrf.exempt(open311_bp)  # a cookie-less API: nothing for a forged request to ride on
    # The write API authenticates with a bearer token, never a cookie.
    for view in write.VIEWS:
        csrf.exempt(view)
    # A courier's anonymous "信息准确" tap: no account to ride on, refused unless Origin or
    # Referer is this site (web/couriers/confirm.py), which its tests pin without a token.
    csrf.exempt("stationfinder.web.couriers.confirm.confirm")


class DropQueryStrings(logging.Filter):
    """Keep couriers' positions out of the development server's access log.

    Werkzeug's dev server (`stationfinder run`) logs each request line with its query
    string, and the locator's queries carry the courier's lat/lon to seven decimals. The
    path, status and size stay; the query string becomes `?…`. (gunicorn's access log is
    off by default; stationfinder's own request log records the path only.)
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            line = record.args[0]
            if "?" in line:
                method_path, _, rest = line.partition("?")
                _, space, protocol = rest.rpartition(" ")
                record.args = (f"{method_path}?…{space}{protocol}", *record.args[1:])
        return True


def _quiet_dev_server_log() -> None:
    log = logging.getLogger("werkzeug")
    if not any(isinstance(f, DropQueryStrings) for f in log.filters):
        log.addFilter(DropQueryStrings())


def init_app(app: Flask) -> None:
    _quiet_dev_server_log()
    if "stationfinder.csp" in app.extensions:
        return
    app.extensions["stationfinder.csp"] = content_security_policy(
        app.config["TILE_URL"], app.config["TILE_SUBDOMAINS"]
    )
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(_refuse_nul)
    app.after_request(_set_headers)
