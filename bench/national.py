"""A national registry served end to end: 400,000 stations over ~370 cities with their areas.

    python bench/national.py                      # 370 cities, 400,000 stations (~3 min)
    python bench/national.py --cities 50 --stations 40000

Makes the registry with data/make_multi_district.py's seeded `national()` (every city a
district of 3-6 subdistricts, stations inside their subdistrict), stores its areas the
way `stationfinder load-areas` does and inserts the stations with SQLAlchemy into
PostgreSQL (`stationfinder_bench_national`, dropped first), then serves it with gunicorn
(the shipped gunicorn.conf.py, 2 workers) and prints:

- start-up: launch to each worker's first 200 on /readyz, and VmRSS per worker after
  some traffic;
- for each page and endpoint a courier or staff member uses: median and p95 wall time
  of 20 sequential requests on a warm server, and the answer's size, including the
  offline copy of one district (`/api/v1/stations?district=`) against the whole registry.

Traffic goes to 127.0.0.1 only. Compare figures within one run: the host is shared.
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
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import quote  # noqa: E402

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from stationfinder import db  # noqa: E402
from stationfinder.geo.areas import Areas  # noqa: E402
from stationfinder.models import AreaSet, Station  # noqa: E402
from stationfinder.registry import stations as registry  # noqa: E402

DATABASE = "stationfinder_bench_national"
SAMPLES = 20
# Above this many stations the whole-registry copy is not timed: at 400,000 it is some
# 275 MB of JSON a phone would never be sent (the copy is per district), and building it
# twenty times took longer than the rest of the run.
WHOLE_COPY_MAX = 50_000


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _row(feature: dict[str, Any], now: datetime) -> dict[str, Any]:
    p = feature["properties"]
    lon, lat = feature["geometry"]["coordinates"]
    return {
        "id": feature["id"],
        "name": p["name"],
        "name_en": p.get("name_en"),
        "kind": p["kind"],
        "street": p["street"],
        "address": p.get("address") or "",
        "lon": lon,
        "lat": lat,
        "amenities": p.get("amenities") or [],
        "opening_hours": p.get("opening_hours"),
        "phone": p.get("phone"),
        "access": p.get("access"),
        "access_note": p.get("access_note"),
        "seats": p.get("seats"),
        "step_free": p.get("step_free"),
        "active": True,
        "out_of_service": {},
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def seed(url: str, cities: int, stations: int) -> tuple[Areas, dict[str, float]]:
    """The registry made, its areas stored and its stations inserted; seconds per step."""
    maker = _module(REPO / "data" / "make_multi_district.py", "make_multi_district")
    times: dict[str, float] = {}
    start = time.perf_counter()
    document, features = maker.national(cities=cities, stations=stations)
    areas = Areas.from_geojson(document)
    times["generate areas"] = time.perf_counter() - start
    engine = db.make_engine(url)
    db.upgrade(engine)
    start = time.perf_counter()
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.add(AreaSet(id=1, document=areas.to_geojson(), source="national bench"))
        batch: list[dict[str, Any]] = []
        for feature in features:
            batch.append(_row(feature, now))
            if len(batch) == 5_000:
                session.execute(insert(Station), batch)
                batch = []
        if batch:
            session.execute(insert(Station), batch)
        registry.bump_version(session)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE stations"))
    engine.dispose()
    times["generate and insert stations"] = time.perf_counter() - start
    return areas, times


def stored_areas(url: str) -> Areas:
    """The areas a previous run stored (as `load-areas` does)."""
    engine = db.make_engine(url)
    with Session(engine) as session:
        document = session.get(AreaSet, 1)
        if document is None:
            sys.exit(f"{DATABASE} holds no areas: run without --reuse first")
        areas = Areas.from_geojson(document.document)
    engine.dispose()
    return areas


def timed(server: Any, path: str) -> tuple[float, float, int, int]:
    """(median ms, p95 ms, status, bytes) of SAMPLES sequential GETs after one warm-up."""
    server.get(path, timeout=120)
    samples, status, size = [], 0, 0
    for _ in range(SAMPLES):
        start = time.perf_counter()
        status, _, body = server.get(path, timeout=120)
        samples.append((time.perf_counter() - start) * 1000)
        size = len(body)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))], status, size


def edit_reaches_nearest(server: Any, url: str, lon: float, lat: float) -> tuple[float, float]:
    """Move the station farthest in the list onto the query point, as an edit does
    (`updated_at`, the registry version), and time until the nearest API answers with it
    first: (seconds until the first answer has it, until 20 answers in a row do, which
    spreads them over both workers). Then move it back, the same way."""
    engine = db.make_engine(url)
    path = f"/api/v1/stations/nearest?lat={lat}&lon={lon}&k=10"
    try:
        _, _, body = server.get(path)
        target = json.loads(body)["features"][-1]["id"]
        with Session(engine) as session, session.begin():
            station = session.get_one(Station, target)
            home = (station.lon, station.lat)
            station.lon, station.lat, station.updated_at = lon, lat, datetime.now(UTC)
            registry.bump_version(session)
        started = time.perf_counter()
        first = None
        streak = 0
        while streak < 20 and time.perf_counter() - started < 60:
            _, _, body = server.get(path)
            if json.loads(body)["features"][0]["id"] == target:
                first = first or time.perf_counter() - started
                streak += 1
            else:
                streak = 0
                time.sleep(0.02)
        every = time.perf_counter() - started
        with Session(engine) as session, session.begin():
            station = session.get_one(Station, target)
            station.lon, station.lat, station.updated_at = *home, datetime.now(UTC)
            registry.bump_version(session)
        return first or float("nan"), every
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=370)
    parser.add_argument("--stations", type=int, default=400_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="serve the registry a previous run left in the database instead of making it",
    )
    args = parser.parse_args()
    http_load = _module(BENCH / "http_load.py", "http_load")
    http_load.require_postgres()
    print("# machine:", ", ".join(f"{k} {v}" for k, v in http_load.machine().items()))
    if args.reuse:
        url = f"{http_load.PG_SERVER}/{DATABASE}"
        areas = stored_areas(url)
    else:
        url = http_load.recreate_database(DATABASE)
        areas, times = seed(url, args.cities, args.stations)
        for step, seconds in times.items():
            print(f"# {step}: {seconds:.1f} s", flush=True)
    districts = areas.districts()
    print(
        f"# {len(districts)} districts, {len(areas.listed())} subdistricts, "
        f"{args.stations:,} stations",
        flush=True,
    )

    big = max(districts, key=lambda d: len(areas.listed(d.code)))
    first = areas.listed(big.code)[0]
    centre = areas.outline(first.key).representative_point()
    lon, lat = round(centre.x, 5), round(centre.y, 5)
    with tempfile.TemporaryDirectory() as tmp:
        server = http_load.Server(url, 2, Path(tmp) / "gunicorn.log")
        try:
            ready = server.ready_times(2, server.started, timeout=300)
            for _ in range(20):
                server.get(f"/api/v1/stations/nearest?lat={lat}&lon={lon}&k=10&open_now=true")
            rss = [http_load.vm_rss_mb(pid) for pid in server.worker_pids()]
            print(
                f"\nStart-up: launch → first worker ready {min(ready.values()):.2f} s, "
                f"→ both {max(ready.values()):.2f} s; VmRSS per worker "
                + ", ".join(f"{mb:.0f}" for mb in rss)
                + " MB\n"
            )
            paths = [
                ("courier page", "/"),
                ("courier page, subdistrict chosen", f"/nearest?street={quote(first.key)}"),
                ("courier page, district chosen", f"/nearest?street={big.code}"),
                ("courier page, a point", f"/nearest?lat={lat}&lon={lon}"),
                ("station page", f"/stations/{first.id_prefix}-001"),
                ("map (no script list of the view)", "/map"),
                ("place search", f"/places?q={quote(first.name[:2])}"),
                ("place search, in English", "/places?q=service"),
                ("place search, nothing found", f"/places?q={quote('不存在的地方')}"),
                ("nearest API", f"/api/v1/stations/nearest?lat={lat}&lon={lon}&k=10"),
                ("areas API", "/api/v1/areas"),
                ("areas API, one district", f"/api/v1/areas?district={big.code}"),
                ("offline copy: one district", f"/api/v1/stations?district={big.code}"),
                *(
                    [("offline copy: whole registry", "/api/v1/stations")]
                    if args.stations <= WHOLE_COPY_MAX
                    else []
                ),
                ("opening-hours spans", "/api/v1/stations/hours"),
                ("council board", "/council"),
                ("council board, one district", f"/council?district={big.code}"),
                ("council, raise an issue", "/council/new"),
            ]
            print("| page or endpoint | status | median ms | p95 ms | KB | VmRSS after, MB |")
            print("|---|---|---|---|---|---|")
            for label, path in paths:
                median, p95, status, size = timed(server, path)
                rss = [http_load.vm_rss_mb(pid) for pid in server.worker_pids()]
                print(
                    f"| {label} | {status} | {median:.1f} | {p95:.1f} | {size / 1024:,.1f} "
                    f"| {', '.join(f'{mb:.0f}' for mb in rss)} |",
                    flush=True,
                )
            first, every = edit_reaches_nearest(server, url, lon, lat)
            print(
                f"\nAn edit (a station moved onto the query point) in the nearest API: first"
                f" answer with it after {first:.2f} s, 20 answers in a row after {every:.2f} s"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
