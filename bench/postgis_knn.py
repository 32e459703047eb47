"""Our in-process StationIndex against PostGIS's KNN (`<->` on geography with a GiST index).

    python bench/postgis_knn.py              # 400,000 stations, 10,000 queries (~2 min)
    python bench/postgis_knn.py --size 10000

Installs postgresql-15-postgis-3 with apt-get when the extension is missing, loads the
400,000 synthetic stations of bench/nearest.py into `stationfinder_postgis` (dropped
first) as `s(id, geog geography(Point,4326))` with a GiST index, and runs the same
10,000 queries (k=5) both ways: `StationIndex.nearest` in this process, and a prepared
`SELECT id FROM s ORDER BY geog <-> $point LIMIT 5` over the local socket (psycopg, one
connection, server-side prepared). The queries are timed one at a time, end to end as a
caller sees them.

PostGIS orders geography KNN by distance on a sphere, our index by the geodesic on the
WGS-84 ellipsoid; the two can disagree where two stations are at nearly the same
distance. Every query whose ids differ is re-checked: the ellipsoidal distances of both
answers (`ST_Distance(a, b, use_spheroid => true)`) decide which is right; a mismatch is
counted only where PostGIS's answer is really nearer or ours is not the nearest set.
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
import io  # noqa: E402
import time  # noqa: E402
from types import ModuleType  # noqa: E402

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

from stationfinder.geo.index import StationIndex  # noqa: E402
from stationfinder.geo.point import Point  # noqa: E402

K = 5
DSN = "host=127.0.0.1 port=5432 user=postgres"
DATABASE = "stationfinder_postgis"
TIE_M = 0.01  # answers whose distances differ by less than 1 cm are the same answer


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def ensure_postgis(harness: ModuleType) -> None:
    with psycopg.connect(f"{DSN} dbname=postgres", autocommit=True) as conn:
        available = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
    if not available or not available[0]:
        harness.ensure_apt("/usr/share/postgresql/15/extension/postgis.control",
                           "postgresql-15-postgis-3")  # fmt: skip


def load(registry: object) -> float:
    """(Re)create the database and COPY the stations in; seconds taken."""
    start = time.perf_counter()
    with psycopg.connect(f"{DSN} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(f"{DSN} dbname={DATABASE}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute("CREATE TABLE s (id text PRIMARY KEY, lon float8, lat float8)")
        buffer = io.StringIO()
        for station in registry.stations:  # type: ignore[attr-defined]
            buffer.write(f"{station.id}\t{station.lon!r}\t{station.lat!r}\n")
        with conn.cursor().copy("COPY s (id, lon, lat) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        conn.execute(
            "ALTER TABLE s ADD COLUMN geog geography(Point, 4326)"
            " GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED"
        )
        conn.execute("CREATE INDEX s_geog ON s USING gist (geog)")
        conn.execute("VACUUM ANALYZE s")
    return time.perf_counter() - start


def spheroid_distances(conn: psycopg.Connection, lon: float, lat: float, ids: list[str]) -> dict:
    rows = conn.execute(
        "SELECT id, ST_Distance(geog, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, true)"
        " FROM s WHERE id = ANY(%s)",
        (lon, lat, ids),
    ).fetchall()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=400_000)
    parser.add_argument("--queries", type=int, default=10_000)
    args = parser.parse_args()

    harness = _load("http_load")
    nearest_bench = _load("nearest")
    harness.require_postgres()
    ensure_postgis(harness)
    info = harness.machine()
    print(f"# {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, "
          f"PostgreSQL {info['postgresql']}, {info['date']}", flush=True)  # fmt: skip

    registry = nearest_bench.make_registry(args.size)
    print(f"# loading {registry.name} into {DATABASE}", flush=True)
    load_s = load(registry)
    build_start = time.perf_counter()
    index = StationIndex(registry.stations)
    build_s = time.perf_counter() - build_start
    queries = [(float(lon), float(lat)) for lon, lat in registry.queries[: args.queries]]

    ours_s: list[float] = []
    ours_ids: list[list[str]] = []
    ours_dist: list[list[float]] = []
    for lon, lat in queries:
        t0 = time.perf_counter()
        hits = index.nearest(Point(lon, lat), K)
        ours_s.append(time.perf_counter() - t0)
        ours_ids.append([h.id for h in hits])
        ours_dist.append([h.distance_m for h in hits])

    pg_s: list[float] = []
    pg_ids: list[list[str]] = []
    sql = (
        "SELECT id FROM s ORDER BY geog <-> "
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT 5"
    )
    with psycopg.connect(f"{DSN} dbname={DATABASE}", autocommit=True) as conn:
        for lon, lat in queries[:200]:  # warm the cache and the prepared statement
            conn.execute(sql, (lon, lat), prepare=True).fetchall()
        for lon, lat in queries:
            t0 = time.perf_counter()
            rows = conn.execute(sql, (lon, lat), prepare=True).fetchall()
            pg_s.append(time.perf_counter() - t0)
            pg_ids.append([r[0] for r in rows])

        differ = ties = order_only = ours_right = theirs_right = 0
        worst_m = 0.0
        off_1mm = 0  # our geodesic vs PostGIS's spheroid distance, checked where they differ
        for (lon, lat), ours, theirs, dist in zip(
            queries, ours_ids, pg_ids, ours_dist, strict=True
        ):
            if ours == theirs:
                continue
            differ += 1
            exact = spheroid_distances(conn, lon, lat, sorted(set(ours) | set(theirs)))
            ours_d = [exact[i] for i in ours]
            off_1mm += any(abs(a - b) > 1e-3 for a, b in zip(ours_d, dist, strict=True))
            theirs_d = [exact[i] for i in theirs]  # in PostGIS's order
            if all(abs(a - b) < TIE_M for a, b in zip(ours_d, theirs_d, strict=True)):
                ties += 1  # stations at the same distance (within 1 cm), listed swapped
            elif set(ours) == set(theirs):
                order_only += 1  # the same five, PostGIS's order is the sphere's
                worst_m = max(worst_m, max(a - b for a, b in zip(theirs_d, ours_d, strict=True)))
            elif sum(ours_d) < sum(theirs_d):
                ours_right += 1  # PostGIS picked a station farther on the ellipsoid
                worst_m = max(worst_m, max(theirs_d) - max(ours_d))
            else:
                theirs_right += 1  # would be an error in our index

    p = np.percentile
    ours_us = np.array(ours_s) * 1e6
    pg_us = np.array(pg_s) * 1e6
    print(f"\n{registry.name}, {len(queries):,} queries, k={K}; loaded in {load_s:.1f} s, "
          f"index built in {build_s:.2f} s\n")  # fmt: skip
    print("| method | p50 µs | p99 µs | mean µs |")
    print("|---|---|---|---|")
    print(f"| StationIndex (in process, ellipsoid) | {p(ours_us, 50):.1f} | {p(ours_us, 99):.1f} "
          f"| {ours_us.mean():.1f} |")  # fmt: skip
    print(f"| PostGIS `<->` geography, GiST, prepared | {p(pg_us, 50):.1f} | {p(pg_us, 99):.1f} "
          f"| {pg_us.mean():.1f} |")  # fmt: skip
    print(f"\nPostGIS / ours: p50 {p(pg_us, 50) / p(ours_us, 50):.1f}×, "
          f"p99 {p(pg_us, 99) / p(ours_us, 99):.1f}× (target ≥ 20× at both)")  # fmt: skip
    print(
        f"answers: {len(queries) - differ:,} identical; {differ} differ: {ties} by stations "
        f"tied within {TIE_M * 100:.0f} cm, {order_only} the same stations in the sphere's "
        f"order, {ours_right} where PostGIS has a station that is farther on the ellipsoid, "
        f"{theirs_right} where PostGIS's answer is nearer (an error of ours); the largest "
        f"sphere-vs-ellipsoid difference {worst_m:.2f} m; our distances more than 1 mm off "
        f"PostGIS's spheroid distance: {off_1mm}"
    )


if __name__ == "__main__":
    main()
