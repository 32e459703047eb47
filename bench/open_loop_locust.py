"""Locust user for bench/http_load.py's open-loop phase (run by it, not by hand).

Each of the users asks the nearest endpoint at a constant rate (`constant_throughput`),
so the offered load is users × rate whatever the server's latency, unlike wrk's closed
loop where a slow answer delays the next request. The requests are wrk's mix: a point
where the stations are, k 5 or 10, one of the filter mixes. Every answer's latency
(first byte to last, as locust's FastHttpUser times it) goes to OPEN_LOOP_OUT as JSON
when the run stops, with the ones from the first OPEN_LOOP_SKIP_S seconds (users
starting) left out.
"""

from __future__ import annotations

import json
import os
import random
import time

from geventhttpclient.useragent import CompatResponse
from locust import FastHttpUser, constant_throughput, events, task

with open(os.environ["OPEN_LOOP_MIX"]) as _mix:
    _MIX = json.load(_mix)
POINTS: list[list[float]] = _MIX["points"]  # [[lon, lat], ...]
FILTERS: list[str] = _MIX["filters"]  # query-string tails, as in wrk's Lua script
RATE_PER_USER = float(os.environ["OPEN_LOOP_RATE_PER_USER"])
SKIP_S = float(os.environ.get("OPEN_LOOP_SKIP_S", "2"))
OUT = os.environ["OPEN_LOOP_OUT"]
ENCODING = os.environ.get("OPEN_LOOP_ENCODING", "gzip, deflate, br, zstd")


def _zstd_as_bytes(content: object) -> object:
    """geventhttpclient decodes gzip, deflate and br but refuses zstd, which the server
    sends a browser's Accept-Encoding: read a zstd body as it came (nothing here looks
    inside it), instead of failing every request."""

    def read(self: CompatResponse) -> bytes:
        if self.headers.get("content-encoding", "").lower() == "zstd":
            body = self._response.read()
            self.release()
            return body
        return content(self)  # type: ignore[operator]

    return read


CompatResponse._content = _zstd_as_bytes(CompatResponse._content)  # type: ignore[method-assign]

_started = time.monotonic()
_latencies_ms: list[float] = []
_failures = 0
_first = _last = None


@events.request.add_listener
def _record(response_time: float, exception: BaseException | None, **_: object) -> None:
    global _failures, _first, _last
    now = time.monotonic()
    if now - _started < SKIP_S:
        return
    if _first is None:
        _first = now
    _last = now
    if exception is not None:
        _failures += 1
    else:
        _latencies_ms.append(response_time)


@events.quitting.add_listener
def _write(**_: object) -> None:
    with open(OUT, "w") as f:
        span = (_last - _first) if _first is not None and _last is not None else 0.0
        json.dump({"latencies_ms": _latencies_ms, "failures": _failures, "span_s": span}, f)


class Courier(FastHttpUser):
    wait_time = constant_throughput(RATE_PER_USER)

    @task
    def nearest(self) -> None:
        lon, lat = random.choice(POINTS)
        k = random.choice((5, 5, 5, 10))
        path = f"/api/v1/stations/nearest?lat={lat:.6f}&lon={lon:.6f}&k={k}{random.choice(FILTERS)}"
        self.client.get(
            path,
            name="nearest",
            headers={"Accept-Encoding": ENCODING, "Accept": "application/json"},
        )
