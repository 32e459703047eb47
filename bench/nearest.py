"""Benchmark StationIndex.nearest against a vectorised brute force, and check it is exact.

    python bench/nearest.py                 # 158, 10,000 and 400,000 stations
    python bench/nearest.py --sizes 158,10000

Registries are synthetic and seeded: 158 stations in Qiantang district's box, 10,000
around Hangzhou, 400,000 spread around ~100 Chinese cities (about the ~394,000 rest
stations that Chinese map apps list). Each station gets amenities at fixed rates (one,
legal_advice, at 2 %), a kind and a street. Queries are drawn like couriers: mostly near
the stations, with k=5, unfiltered and with one filter each (a common amenity, the 2 %
amenity, a kind). Exactness is checked against a brute force (one pyproj Geod.inv over
every station, then argpartition) on a sample of queries per filter; a mismatch is an
id list that differs other than by swapping stations less than 1 cm apart.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stationfinder.core.vocabulary import KIND_NAMES
from stationfinder.geo.index import IndexedStation, StationIndex
from stationfinder.geo.point import Point

SEED = 20240601
QUERIES = 10_000
CHECKED = 500  # queries per filter checked against the brute force
K = 5

# Share of stations offering each amenity. legal_advice is the rare one (2 %).
AMENITY_SHARE: dict[str, float] = {
    "rest": 0.95,
    "drinking_water": 0.85,
    "phone_charging": 0.80,
    "toilet": 0.70,
    "cooling": 0.60,
    "first_aid": 0.60,
    "warm_shelter": 0.55,
    "food_heating": 0.50,
    "hot_water": 0.50,
    "wifi": 0.40,
    "reading": 0.30,
    "ebike_parking": 0.30,
    "repair_tools": 0.20,
    "rain_gear_loan": 0.15,
    "battery_swap": 0.10,
    "open_24h": 0.10,
    "discount_meals": 0.08,
    "haircut": 0.05,
    "legal_advice": 0.02,
}
KIND_SHARE = (0.30, 0.20, 0.20, 0.15, 0.10, 0.05)  # in the order of KIND_NAMES
COMMON_AMENITY = "toilet"
RARE_AMENITY = "legal_advice"

# (lon, lat, weight) of cities where China's stations cluster; weight ~ their share.
CITIES: tuple[tuple[float, float, float], ...] = (
    (116.40, 39.90, 6), (121.47, 31.23, 6), (113.26, 23.13, 5), (114.06, 22.54, 5),
    (104.07, 30.67, 4), (106.55, 29.56, 4), (117.20, 39.13, 3), (114.31, 30.59, 3),
    (108.94, 34.34, 3), (120.16, 30.27, 3), (118.80, 32.06, 3), (113.62, 34.75, 3),
    (112.94, 28.23, 2), (123.43, 41.80, 2), (120.38, 36.07, 2), (121.61, 38.91, 2),
    (117.00, 36.65, 2), (126.64, 45.76, 2), (125.32, 43.82, 2), (102.71, 25.04, 2),
    (119.30, 26.08, 2), (118.09, 24.48, 2), (117.23, 31.82, 2), (115.86, 28.68, 2),
    (108.37, 22.82, 2), (106.63, 26.65, 2), (114.51, 38.04, 2), (112.55, 37.87, 2),
    (120.59, 31.30, 2), (121.55, 29.87, 2), (113.12, 23.02, 2), (113.75, 23.02, 2),
    (111.75, 40.84, 1), (103.83, 36.06, 1), (101.78, 36.62, 1), (106.23, 38.49, 1),
    (87.62, 43.83, 1), (91.13, 29.65, 1), (110.35, 20.02, 1), (109.51, 18.25, 1),
    (120.30, 31.57, 1), (119.97, 31.81, 1), (120.70, 28.00, 1), (120.58, 30.03, 1),
    (120.76, 30.75, 1), (120.09, 30.89, 1), (119.65, 29.08, 1), (121.42, 28.66, 1),
    (113.58, 22.27, 1), (113.39, 22.52, 1), (114.42, 23.11, 1), (116.68, 23.35, 1),
    (113.08, 22.58, 1), (110.36, 21.27, 1), (118.68, 24.87, 1), (117.65, 24.51, 1),
    (119.01, 25.45, 1), (121.45, 37.46, 1), (119.16, 36.71, 1), (118.36, 35.10, 1),
    (118.05, 36.81, 1), (116.59, 35.41, 1), (117.28, 34.20, 1), (120.89, 31.98, 1),
    (119.41, 32.39, 1), (120.16, 33.35, 1), (119.02, 33.61, 1), (119.22, 34.60, 1),
    (118.18, 39.63, 1), (115.46, 38.87, 1), (114.54, 36.63, 1), (112.45, 34.62, 1),
    (112.53, 33.00, 1), (114.31, 34.80, 1), (113.93, 35.30, 1), (111.29, 30.69, 1),
    (112.14, 32.04, 1), (112.57, 26.89, 1), (113.13, 27.83, 1), (113.13, 29.36, 1),
    (111.70, 29.03, 1), (114.93, 25.83, 1), (116.00, 29.71, 1), (118.38, 31.33, 1),
    (117.39, 32.92, 1), (117.05, 30.54, 1), (115.81, 32.89, 1), (104.68, 31.47, 1),
    (106.11, 30.84, 1), (104.64, 28.75, 1), (106.93, 27.73, 1), (109.42, 24.33, 1),
    (110.29, 25.27, 1), (109.84, 40.66, 1), (113.30, 40.08, 1), (122.99, 41.11, 1),
    (126.55, 43.84, 1), (125.10, 46.59, 1), (123.92, 47.35, 1), (107.24, 34.36, 1),
    (108.71, 34.33, 1), (75.99, 39.47, 1), (84.89, 45.58, 1), (100.23, 25.59, 1),
    (103.80, 25.49, 1), (121.13, 41.10, 1), (116.68, 39.54, 1), (116.84, 38.30, 1),
    (119.45, 32.20, 1), (119.92, 32.46, 1), (117.94, 28.45, 1), (119.92, 28.45, 1),
)  # fmt: skip
HANGZHOU = (  # urban districts of Hangzhou, for the 10,000-station registry
    (120.16, 30.27, 3), (120.21, 30.21, 2), (120.30, 30.42, 2), (120.50, 30.30, 2),
    (120.27, 30.18, 2), (120.00, 30.28, 1), (119.73, 30.23, 1), (120.10, 30.40, 1),
)  # fmt: skip


@dataclass(frozen=True)
class Registry:
    name: str
    stations: list[IndexedStation]
    lon: np.ndarray
    lat: np.ndarray
    queries: np.ndarray  # (QUERIES, 2) lon, lat


def _clustered(
    rng: np.random.Generator, n: int, centres: tuple[tuple[float, float, float], ...], sd: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = np.array([c[2] for c in centres], float)
    city = rng.choice(len(centres), size=n, p=weights / weights.sum())
    spread = sd * np.sqrt(weights[city] / weights.max())  # big cities sprawl further
    lon = np.array([c[0] for c in centres])[city] + rng.normal(size=n) * spread
    lat = np.array([c[1] for c in centres])[city] + rng.normal(size=n) * spread
    return lon, lat, city


def make_registry(size: int, seed: int = SEED) -> Registry:
    rng = np.random.default_rng(seed + size)
    if size <= 1_000:
        name = f"{size:,} in Qiantang district"
        lon = rng.uniform(120.25, 120.80, size)
        lat = rng.uniform(30.15, 30.45, size)
        city = rng.integers(0, 7, size)  # seven subdistricts
        q_lon = rng.uniform(120.25, 120.80, QUERIES)
        q_lat = rng.uniform(30.15, 30.45, QUERIES)
    else:
        centres = HANGZHOU if size <= 50_000 else CITIES
        name = f"{size:,} around {'Hangzhou' if centres is HANGZHOU else 'China'}"
        lon, lat, city = _clustered(rng, size, centres, 0.08 if centres is HANGZHOU else 0.25)
        q_lon, q_lat, _ = _clustered(rng, QUERIES, centres, 0.08 if centres is HANGZHOU else 0.25)
    kinds = rng.choice(len(KIND_NAMES), size=size, p=KIND_SHARE)
    streets = rng.integers(0, 20, size)
    codes = list(AMENITY_SHARE)
    has = rng.random((size, len(codes))) < np.array(list(AMENITY_SHARE.values()))
    sets: dict[bytes, frozenset[str]] = {}  # share equal sets, as a registry loader would
    stations = []
    for i in range(size):
        row = has[i]
        amenities = sets.setdefault(
            row.tobytes(), frozenset(c for c, h in zip(codes, row, strict=True) if h)
        )
        stations.append(
            IndexedStation(
                id=f"ST{i:06d}",
                lon=float(lon[i]),
                lat=float(lat[i]),
                kind=KIND_NAMES[kinds[i]],
                street=f"street-{city[i]}-{streets[i]}",
                amenities=amenities,
                opening_hours="Mo-Su 08:00-20:00",
            )
        )
    return Registry(name, stations, lon, lat, np.column_stack([q_lon, q_lat]))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def build(stations: list[IndexedStation]) -> tuple[StationIndex, float, int, int]:
    """The index, its build time, its RSS growth and its tracemalloc'd size."""
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    index = StationIndex(stations)
    seconds = time.perf_counter() - start
    rss = rss_bytes() - before
    del index
    gc.collect()
    tracemalloc.start()
    index = StationIndex(stations)
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return index, seconds, rss, traced


class BruteForce:
    """The reference: geodesic distance to every station at once, then argpartition."""

    def __init__(self, registry: Registry) -> None:
        self.geod = Geod(ellps="WGS84")
        self.lon = registry.lon
        self.lat = registry.lat
        self.n = len(registry.lon)

    def distances(self, lon: float, lat: float) -> np.ndarray:
        return self.geod.inv(np.full(self.n, lon), np.full(self.n, lat), self.lon, self.lat)[2]

    def top(self, dist: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
        if mask is not None:
            dist = np.where(mask, dist, np.inf)
        k = min(k, int(np.isfinite(dist).sum()))
        part = np.argpartition(dist, k - 1)[:k] if k < self.n else np.arange(self.n)
        return part[np.argsort(dist[part], kind="stable")]


def same_answer(got: list[Any], want: np.ndarray, dist: np.ndarray) -> bool:
    """Ids in order, allowing stations under 1 cm apart in distance to swap."""
    if len(got) != len(want):
        return False
    for hit, j in zip(got, want, strict=True):
        if abs(hit.distance_m - dist[j]) > 1e-3:
            return False
    got_ids = [int(h.id[2:]) for h in got]
    return got_ids == list(want) or all(
        abs(dist[a] - dist[b]) < 0.01 for a, b in zip(got_ids, want, strict=True)
    )


def percentile_us(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q)) * 1e6


def run(size: int) -> tuple[list[dict[str, Any]], list[tuple[str, float, float, bool]]]:
    registry = make_registry(size)
    index, build_s, rss, traced = build(registry.stations)
    brute = BruteForce(registry)
    stations = registry.stations
    common, rare, kind = COMMON_AMENITY, RARE_AMENITY, KIND_NAMES[1]
    filters: list[tuple[str, dict[str, Any], Callable[[IndexedStation], bool] | None]] = [
        ("none", {}, None),
        (common, {"amenities": [common]}, lambda s: common in s.amenities),
        (f"{rare} (2 %)", {"amenities": [rare]}, lambda s: rare in s.amenities),
        (f"kind {kind}", {"kind": kind}, lambda s: s.kind == kind),
    ]
    points = [Point(float(lon), float(lat)) for lon, lat in registry.queries]

    masks = [
        None if keep is None else np.fromiter(map(keep, stations), bool, len(stations))
        for _, _, keep in filters
    ]
    # Exactness: one brute-force pass per checked query serves every filter. The
    # unfiltered pass (distances + argpartition) is also what the speed-up is against.
    checked = points[:CHECKED]
    mismatches = [0] * len(filters)
    brute_s = 0.0
    for p in checked:
        t0 = time.perf_counter()
        dist = brute.distances(p.lon, p.lat)
        brute.top(dist, K, None)
        brute_s += time.perf_counter() - t0
        for f, ((_, kwargs, _), mask) in enumerate(zip(filters, masks, strict=True)):
            if not same_answer(index.nearest(p, K, **kwargs), brute.top(dist, K, mask), dist):
                mismatches[f] += 1
    brute_s /= len(checked)

    rows = []
    for (label, kwargs, _), bad in zip(filters, mismatches, strict=True):
        nearest = index.nearest
        times = []
        for p in points:
            t0 = time.perf_counter()
            nearest(p, K, **kwargs)
            times.append(time.perf_counter() - t0)
        rows.append(
            {
                "registry": registry.name,
                "filter": label,
                "p50": percentile_us(times, 50),
                "p99": percentile_us(times, 99),
                "mean": float(np.mean(times)) * 1e6,
                "speedup": brute_s / float(np.mean(times)),
                "brute_ms": brute_s * 1e3,
                "mismatches": f"{bad}/{len(checked)}",
                "build_s": build_s,
                "rss_mb": rss / 2**20,
                "traced_mb": traced / 2**20,
            }
        )
    return rows, far_queries(index, brute)


def far_queries(index: StationIndex, brute: BruteForce) -> list[tuple[str, float, float, bool]]:
    """Latency and exactness from far away (Sydney, the poles, the antimeridian)."""
    out = []
    for name, lon, lat in [
        ("Beijing", 116.40, 39.90),
        ("Sydney", 151.21, -33.87),
        ("North Pole", 0.0, 90.0),
        ("South Pole", 0.0, -90.0),
        ("antimeridian", 180.0, 0.0),
    ]:
        p = Point(lon, lat)
        start = time.perf_counter()
        got = index.nearest(p, K)
        us = (time.perf_counter() - start) * 1e6
        dist = brute.distances(lon, lat)
        exact = same_answer(got, brute.top(dist, K, None), dist)
        out.append((name, us, got[-1].distance_m / 1e3, exact))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="158,10000,400000", help="comma-separated sizes")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu = models[0] if models else platform.processor()
    print(f"# {os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}")
    print(f"# {QUERIES:,} queries per row, k={K}; {CHECKED} per row checked by brute force\n")
    header = (
        "| registry | filter | p50 µs | p99 µs | mean µs | brute force ms | speed-up "
        "| mismatches | build s | index RSS MB | tracemalloc MB |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    far: list[tuple[str, float, float, bool]] = []
    for size in sizes:
        rows, far = run(size)
        for r in rows:
            print(
                f"| {r['registry']} | {r['filter']} | {r['p50']:.1f} | {r['p99']:.1f} "
                f"| {r['mean']:.1f} | {r['brute_ms']:.2f} | {r['speedup']:,.0f}× "
                f"| {r['mismatches']} | {r['build_s']:.2f} | {r['rss_mb']:.0f} "
                f"| {r['traced_mb']:.0f} |",
                flush=True,
            )
    size = max(sizes)
    print(f"\nFar-away queries, {size:,} stations, unfiltered (one query each, cold):\n")
    print("| from | µs | 5th nearest km | exact |")
    print("|---|---|---|---|")
    for name, us, km, ok in far:
        print(f"| {name} | {us:,.0f} | {km:,.0f} | {'yes' if ok else 'NO'} |")
    print(f"\nPeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
