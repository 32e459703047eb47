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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from polling import poll_until as polling_poll_until
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
    return polling_poll_until


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


class InFlight:
    """WSGI middleware that knows which requests the app is still answering.

    The dev server answers each request on a daemon thread, and `server_close` joins only
    non-daemon ones; so a request the browser left behind (a prefetch, a service worker's
    fetch, a page closed mid-load) can still hold a database connection after the test.
    Disposing the engine then leaves that connection outside any pool, and the garbage
    collector closes it later, in some other test ("connection ... was deleted while still
    open"). The fixture waits for these requests before the engine is disposed.

    A request counts until its body has been sent or closed: by then the app's teardown
    has closed its session. (The server may still wait on the socket after that, to
    drain what the client sent; that holds nothing of the app's.)
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._changed = threading.Condition()
        self._running: dict[int, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        key = id(environ)
        with self._changed:
            self._running[key] = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._finished(key)
            raise
        return _Answer(body, lambda: self._finished(key))

    def _finished(self, key: int) -> None:
        with self._changed:
            self._running.pop(key, None)
            self._changed.notify_all()

    def wait(self, timeout_s: float) -> list[str]:
        """Wait until no request is running; those still running after the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._running and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return sorted(self._running.values())


class _Answer:
    """A response body that reports when it has been sent in full or closed."""

    def __init__(self, body: Iterable[bytes], finished: Callable[[], None]) -> None:
        self._body = body
        self._finished = finished

    def __iter__(self) -> Iterator[bytes]:
        yield from self._body
        self._finished()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finished()


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    app = make_app(RATE_LIMITS=False)
    in_flight = InFlight(app)
    server = make_server("127.0.0.1", 0, in_flight, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        # Before make_app's teardown disposes the engine: see InFlight.
        running = in_flight.wait(timeout_s=30)
        assert running == [], f"requests still running after the test: {running}"


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
