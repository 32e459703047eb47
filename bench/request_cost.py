"""What one nearest request costs against the bare endpoint, in process, and where it goes.

    python bench/request_cost.py                  # CPU per request and the view's parts (~1 min)
    python bench/request_cost.py --instructions   # also instructions (valgrind, ~10 min)

bench/http_load.py measures the two endpoints over HTTP, where this machine's noise
(two shared cores, wrk and PostgreSQL beside gunicorn) moves the ratio by tens of
points between rounds. This script takes HTTP away: the WSGI app is called directly
with wrk's mix of requests (bench/http_load.py's points, k and filters) on the same
10,000 synthetic stations in PostgreSQL (`stationfinder_bench_cost`, dropped first).

1. CPU time per request (`time.process_time`), nearest and bare alternated in five
   rounds of 2,000 requests each, after a warm-up in which every station's JSON is made.
2. The nearest view's parts, each timed alone over the same requests: the query's
   validation, the alert, the search, the features' JSON, the answer's compression.
3. With ``--instructions``: instructions per request under valgrind's callgrind, which
   counts the same for the same work whatever else the machine does, for both endpoints
   and for the C functions that hold most of them (zstd, the KD-tree, regular
   expressions, attribute lookups through `__getattr__`: Werkzeug's context proxies).
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

DATABASE = "stationfinder_bench_cost"
REQUESTS = 2_000
ROUNDS = 5
# C functions whose inclusive instruction counts say where a request's work lies (each
# pattern matches one line of callgrind_annotate's, the KD-tree's two: they are summed).
C_PARTS = {
    "zstd (the answer's compression)": r"ZSTD_compressStream2 ",
    "KD-tree ball and k-nearest calls": r"__pyx_pw_\w*cKDTree_\d+query(_ball_point)?\(",
    "geodesic solver (pyproj)": r"geod_inverse ",
    "regular expressions (header checks, the text boundary)": r"sre\.c\.h:_sre_SRE_Pattern_search ",
    "attribute lookups through __getattr__ (context proxies)": r"slot_tp_getattr_hook ",
}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module


def environ(path: str) -> dict[str, Any]:
    """A phone browser's GET of ``path``, as gunicorn hands it to the app."""
    route, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }  # fmt: skip


def caller(app: Any) -> Callable[[str], bytes]:
    statuses: list[str] = []

    def call(path: str) -> bytes:
        statuses.clear()
        body = app.wsgi_app(
            environ(path), lambda status, headers, exc=None: statuses.append(status)
        )
        data = b"".join(body)
        getattr(body, "close", lambda: None)()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{path}: {statuses[0]}")
        return data

    return call


def request_mix(harness: ModuleType, count: int, seed: int = 1) -> list[str]:
    """wrk's mix (bench/http_load.py's Lua script): a point where the stations are, k 5
    or 10, one of the filter tails."""
    queries = harness.synthetic_registry(10_000).queries
    tails = harness.filter_mix()
    rng = random.Random(seed)
    paths = []
    for _ in range(count):
        lon, lat = queries[rng.randrange(len(queries))]
        k = rng.choice((5, 5, 5, 10))
        paths.append(
            f"/api/v1/stations/nearest?lat={lat:.6f}&lon={lon:.6f}&k={k}{rng.choice(tails)}"
        )
    return paths


def cpu_per_request(call: Callable[[str], bytes], paths: Sequence[str]) -> float:
    start = time.process_time()
    for path in paths:
        call(path)
    return (time.process_time() - start) / len(paths) * 1e6


def make_app(url: str) -> Any:
    from stationfinder import create_app

    # The request log stays on (both endpoints write it), into a discarded stream.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    return create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "BENCH_ENDPOINTS": True, "RATE_LIMITS": False}
    )


def parts(app: Any, paths: Sequence[str]) -> list[tuple[str, float]]:
    """The nearest view's steps, each timed alone (µs per request, the best of 5)."""
    from werkzeug.datastructures import MultiDict

    from stationfinder.core.clock import local_now
    from stationfinder.geo import crs
    from stationfinder.geo.point import Point
    from stationfinder.registry import locator
    from stationfinder.web.api import compression, routes
    from stationfinder.web.api.contract import NearestQuery
    from stationfinder.web.context import current_alerts, current_index

    def best(fn: Callable[[int], object], n: int) -> float:
        for i in range(min(n, 200)):
            fn(i)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for i in range(n):
                fn(i)
            times.append((time.perf_counter() - start) / n * 1e6)
        return min(times)

    args = [MultiDict(parse_qsl(p.partition("?")[2])) for p in paths]
    n = len(args)
    out: list[tuple[str, float]] = []
    headers = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    with app.test_request_context("/api/v1/stations/nearest", headers=headers):
        snapshot = current_index().current()
        queries = [NearestQuery.from_args(a) for a in args]
        points = [crs.to_wgs84(Point(q.lon, q.lat, q.crs)) for q in queries]
        streets = [routes._street(q.street) for q in queries]
        now = local_now()

        def search(i: int) -> object:
            q = queries[i]
            return locator._search(
                snapshot, points[i], k=q.k, radius_m=q.radius_m, amenities=q.amenity,
                kind=q.kind, street=streets[i], open_now=q.open_now, at=now,
            )  # fmt: skip

        def features(i: int) -> str:
            q = queries[i]
            return locator.nearest_stations_json(
                snapshot, points[i], k=q.k, radius_m=q.radius_m, amenities=q.amenity,
                kind=q.kind, street=streets[i], open_now=q.open_now, at=now,
                walk_kmh=4.5, ride_kmh=15.0,
            )  # fmt: skip

        bodies = [features(i) for i in range(n)]
        out.append(
            ("validating the query (pydantic)", best(lambda i: NearestQuery.from_args(args[i]), n))
        )
        out.append(
            (
                "the point to WGS-84",
                best(
                    lambda i: crs.to_wgs84(Point(queries[i].lon, queries[i].lat, queries[i].crs)), n
                ),
            )
        )
        out.append(("the weather alert", best(lambda i: current_alerts().current(), n)))
        out.append(("the index search", best(search, n)))
        out.append(("search + the features' JSON", best(features, n)))

        def respond(i: int) -> object:
            return compression.json_response(bodies[i], "application/json")

        out.append(("the response, zstd-compressed", best(respond, n)))
    return out


def instructions(url: str, which: str, work: Path) -> dict[str, float]:
    """Instructions per request under callgrind, counted over REQUESTS // 2 requests
    after as many unmeasured ones (the counters are zeroed and dumped around them)."""
    out = work / f"callgrind.{which}.%p"
    child = subprocess.run(
        [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, __file__, "--child", which, "--url", url,
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    dumps = sorted(work.glob(f"callgrind.{which}.*.1"))
    if not dumps:
        raise RuntimeError(f"callgrind wrote no dump:\n{child.stderr[-2000:]}")
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(dumps[-1])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    per = REQUESTS // 2
    total = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", annotated)
    assert total is not None, annotated[:2000]
    result = {"total": int(total.group(1).replace(",", "")) / per}
    for label, pattern in C_PARTS.items():
        counts = [
            int(m.group(1).replace(",", ""))
            for line in annotated.splitlines()
            if re.search(pattern, line) and (m := re.match(r"\s*([\d,]+) \(", line))
        ]
        result[label] = sum(counts) / per
    return result


def child(which: str, url: str) -> None:
    """Run under valgrind: warm up, then zero the counters, serve, dump."""
    harness = _load("http_load")
    app = make_app(url)
    call = caller(app)
    paths = request_mix(harness, REQUESTS // 2) if which == "nearest" else ["/bench/bare"]
    paths = paths * (REQUESTS // 2 // len(paths))
    for path in paths:
        call(path)
    pid = os.getpid()
    subprocess.run(["callgrind_control", "--zero", str(pid)], capture_output=True, check=True)
    for path in paths:
        call(path)
    subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    parser.add_argument("--child", choices=("nearest", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url)
        return

    harness = _load("http_load")
    harness.require_postgres()
    info = harness.machine()
    print(f"# {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, {info['date']}")
    url = harness.recreate_database(DATABASE)
    harness.seed(url, harness.synthetic_registry(10_000).rows)
    app = make_app(url)
    call = caller(app)
    paths = request_mix(harness, REQUESTS)
    bare = ["/bench/bare"] * REQUESTS
    for _ in range(3):  # every station's JSON made, the caches full
        cpu_per_request(call, paths)
    cpu_per_request(call, bare)
    nearest_us, bare_us = [], []
    for _ in range(ROUNDS):
        nearest_us.append(cpu_per_request(call, paths))
        bare_us.append(cpu_per_request(call, bare))
    ratios = [b / n for n, b in zip(nearest_us, bare_us, strict=True)]
    print(f"\nCPU per request, in process, {ROUNDS} alternating rounds of {REQUESTS:,}:\n")
    print("| endpoint | µs per request, each round | median |")
    print("|---|---|---|")
    for label, values in (("nearest (wrk's mix)", nearest_us), ("bare", bare_us)):
        row = ", ".join(f"{v:.0f}" for v in values)
        print(f"| {label} | {row} | {statistics.median(values):.0f} |")
    print(f"\nbare / nearest: {', '.join(f'{r:.0%}' for r in ratios)}; "
          f"median {statistics.median(ratios):.0%}")  # fmt: skip

    print("\nThe nearest view's steps, each alone (µs per request, best of 5):\n")
    print("| step | µs |")
    print("|---|---|")
    for label, value in parts(app, paths):
        print(f"| {label} | {value:.1f} |")

    if args.instructions:
        if shutil.which("valgrind") is None:
            harness.ensure_apt("valgrind", "valgrind")
        with tempfile.TemporaryDirectory(prefix="sf-cost-") as tmp:
            counted = {w: instructions(url, w, Path(tmp)) for w in ("nearest", "bare")}
        near, flat = counted["nearest"], counted["bare"]
        print(f"\nInstructions per request (callgrind, {REQUESTS // 2:,} requests each):\n")
        print("| | nearest | bare | nearest − bare |")
        print("|---|---|---|---|")
        for label in ("total", *C_PARTS):
            print(f"| {label} | {near[label]:,.0f} | {flat[label]:,.0f} "
                  f"| {near[label] - flat[label]:,.0f} |")  # fmt: skip
        print(f"\nbare / nearest in instructions: {flat['total'] / near['total']:.0%}")


if __name__ == "__main__":
    main()
