"""The courier page on a slow phone: bytes, requests, and time to the first station card.

    python bench/page.py                 # 3 cold visits, the median is printed

Serves the app with gunicorn (2 workers) on the 158 sample stations in PostgreSQL
(`stationfinder_bench_158`, made and seeded if missing), and opens `/` in Debian's
Chromium through Playwright, emulating a slow 4G phone over CDP: 1.6 Mbit/s down,
750 kbit/s up, 150 ms round trip (`Network.emulateNetworkConditions`) and a 4x slower
CPU (`Emulation.setCPUThrottlingRate`). Geolocation is granted at a point in Xiasha.
Map tiles are answered with a blank PNG and not counted.

Figures, each for a first visit with an empty cache:

- bytes transferred (compressed bodies plus headers) and requests, for the page to load
  and then up to the first station card; the service worker's own fetches (the offline
  copy of the registry) are counted separately, as they also come out of the data plan;
- the time from the geolocation answer (the success callback the page gave
  `getCurrentPosition`) to the first `[data-testid=station-card]` in the document,
  measured inside the page with `performance.now()`.

Targets: ≤ 150 KB and ≤ 20 requests before tiles; ≤ 1.5 s to the first card.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# Import the checkout's stationfinder, not bench/'s neighbours by accident.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import struct  # noqa: E402
import tempfile  # noqa: E402
import zlib  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from stationfinder.config import SETTINGS_BY_NAME  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
POINT = {"latitude": 30.3051, "longitude": 120.3181}  # Xiasha, by Jinsha Lake
NETWORK = {
    "offline": False,
    "latency": 150,  # ms, round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes/s
    "uploadThroughput": 750_000 / 8,
}
CPU_SLOWDOWN = 4
DATABASE = "stationfinder_bench_158"
# The default tile server (Amap), {s} being one of its subdomains.
_TILE_URL = SETTINGS_BY_NAME["TILE_URL"].default
TILE_HOST = re.compile(
    "^"
    + re.escape(urlsplit(_TILE_URL.replace("{s}", "subdomain")).hostname or "").replace(
        "subdomain", "[a-z0-9]+"
    )
    + "$"
)

# Records when the page's geolocation callback runs and when the first card appears.
TIMING_SCRIPT = """
(() => {
  window.__sf = {geo: null, card: null};
  const geo = navigator.geolocation;
  for (const name of ["getCurrentPosition", "watchPosition"]) {
    const original = geo[name].bind(geo);
    geo[name] = (success, ...rest) => original((position) => {
      if (window.__sf.geo === null) window.__sf.geo = performance.now();
      return success(position);
    }, ...rest);
  }
  new MutationObserver((_, observer) => {
    if (document.querySelector("[data-testid=station-card]")) {
      window.__sf.card = performance.now();
      observer.disconnect();
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def blank_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x00\x00\x00\x00" * 256 for _ in range(256))
    header = struct.pack(">IIBBBBB", 256, 256, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


@dataclass
class Visit:
    page_bytes: int = 0
    page_requests: int = 0
    worker_bytes: int = 0  # the service worker's fetches
    worker_requests: int = 0
    tiles: int = 0
    foreign: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    geo_to_card_ms: float = float("nan")
    load_ms: float = float("nan")


def visit(browser: Any, base: str) -> Visit:
    seen = Visit()
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation=POINT,
        permissions=["geolocation"],
    )
    png = blank_png()
    origin_host = urlsplit(base).netloc

    def route(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == origin_host or url.startswith("data:"):
            route.fallback()
        elif TILE_HOST.match(urlsplit(url).hostname or ""):
            seen.tiles += 1
            route.fulfill(status=200, content_type="image/png", body=png)
        else:
            seen.foreign.append(url)
            route.abort()

    def finished(request: Any) -> None:
        if urlsplit(request.url).netloc != origin_host:
            return
        sizes = request.sizes()
        transferred = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if request.service_worker is not None:
            seen.worker_requests += 1
            seen.worker_bytes += transferred
        else:
            seen.page_requests += 1
            seen.page_bytes += transferred
            seen.urls.append(request.url.removeprefix(base))

    context.route("**/*", route)
    context.on("requestfinished", finished)
    context.add_init_script(TIMING_SCRIPT)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.set_default_timeout(60_000)

    page.goto(base + "/", wait_until="load")
    seen.load_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    page.locator("[data-testid=locate]").click()
    page.locator("[data-testid=station-card]").first.wait_for()
    page.wait_for_function("window.__sf.card !== null && window.__sf.geo !== null")
    timing = page.evaluate("window.__sf")
    seen.geo_to_card_ms = timing["card"] - timing["geo"]
    page.wait_for_timeout(3000)  # let the service worker finish its first copy
    context.close()
    return seen


def ensure_database(harness: ModuleType, work: Path) -> str:
    url = f"{harness.PG_SERVER}/{DATABASE}"
    engine = create_engine(f"{harness.PG_SERVER}/postgres")
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": DATABASE})
    engine.dispose()
    if not exists:
        harness.recreate_database(DATABASE)  # the app migrates and seeds it at start
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=3)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    harness = _load("http_load")
    harness.require_postgres()
    info = harness.machine()
    print(f"# {info['nproc']} CPUs, {info['cpu']}, Chromium at {CHROMIUM}, {info['date']}")
    with tempfile.TemporaryDirectory(prefix="sf-page-") as tmp:
        work = Path(tmp)
        server = harness.Server(ensure_database(harness, work), 2, work / "gunicorn.log")
        try:
            server.ready_times(2, server.started)
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                visits = [visit(browser, server.base) for _ in range(args.visits)]
                browser.close()
        finally:
            server.stop()

    def median(values: list[float]) -> float:
        return statistics.median(values)

    last = visits[-1]
    print(f"\nSlow 4G phone (1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT, CPU ÷{CPU_SLOWDOWN}), "
          f"first visit, median of {len(visits)}\n")  # fmt: skip
    print("| figure | value | target |")
    print("|---|---|---|")
    page_kb = median([v.page_bytes for v in visits]) / 1024
    print(f"| page: KB transferred to the first card (no tiles) | {page_kb:.1f} | ≤ 150 |")
    print(f"| page: requests to the first card (no tiles) | {last.page_requests} | ≤ 20 |")
    geo = median([v.geo_to_card_ms for v in visits])
    print(f"| geolocation answer → first station card, ms | {geo:.0f} | ≤ 1,500 |")
    print(f"| page load event, ms | {median([v.load_ms for v in visits]):.0f} | |")
    worker_kb = median([v.worker_bytes for v in visits]) / 1024
    print(f"| service worker, in the background: KB / requests | {worker_kb:.1f} / "
          f"{last.worker_requests} | |")  # fmt: skip
    print(f"| tiles answered locally (not counted) | {last.tiles} | |")
    print("\nPage requests:", ", ".join(last.urls))
    if any(v.foreign for v in visits):
        print("Requests to other hosts (aborted):", sorted({u for v in visits for u in v.foreign}))


if __name__ == "__main__":
    main()
