"""The real app on a real port, driven by Debian's Chromium through Playwright.

Every context routes all requests: the app's own go through, map tiles are answered with
a blank PNG (the tests run offline), and anything else fails the test.
"""

from __future__ import annotations

import re
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


def blank_png(size: int = 256) -> bytes:
    """A fully transparent size x size PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x00\x00\x00\x00" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def poll_until() -> Callable[..., None]:
    return _poll_until


def _poll_until(page: Any, script: str, timeout_s: float = 20.0, every_ms: int = 100) -> None:
    """Evaluate an (async) predicate in the page until it is true or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s}s: {script}")
        page.wait_for_timeout(every_ms)


@dataclass
class LiveServer:
    url: str
    app: Flask


@dataclass
class Browsing:
    """Contexts opened by a test, and what they did that they should not have."""

    foreign: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    app = make_app(RATE_LIMITS=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _tile_host_pattern(tile_url: str) -> re.Pattern[str]:
    host = urlsplit(tile_url.replace("{s}", "subdomain")).hostname or ""
    return re.compile("^" + re.escape(host).replace("subdomain", "[a-z0-9]+") + "$")


@pytest.fixture
def open_context(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """new_context(**options) with the network guard; fails the test on a foreign
    request or an uncaught script error."""
    seen = Browsing()
    tile_host = _tile_host_pattern(live_server.app.config["TILE_URL"])
    png = blank_png()
    app_origin = live_server.url

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(app_origin + "/"):
            route.continue_()
        elif tile_host.match(urlsplit(url).hostname or ""):
            seen.tiles.append(url)
            route.fulfill(status=200, content_type="image/png", body=png)
        else:
            seen.foreign.append(url)
            route.abort()

    def factory(**options: Any) -> Any:
        options.setdefault("viewport", PHONE)
        options.setdefault("locale", "zh-CN")
        options.setdefault("timezone_id", "Asia/Shanghai")
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.route("**/*", guard)
        context.on(
            "page", lambda page: page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
        )
        seen.contexts.append(context)
        return context

    yield factory
    for context in seen.contexts:
        context.close()
    assert seen.foreign == [], f"requests to foreign hosts: {seen.foreign}"
    assert seen.page_errors == [], f"script errors: {seen.page_errors}"
