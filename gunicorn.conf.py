"""gunicorn settings for stationfinder.

    gunicorn -c gunicorn.conf.py 'stationfinder:create_app()'

Environment: STATIONFINDER_BIND (or PORT, as platforms set it) for the address,
WEB_CONCURRENCY for the number of workers; every STATIONFINDER_* setting of the app
itself is read by each worker (see README, "Configuration").
"""

from __future__ import annotations

import os
import sys
import time

# PORT is how container platforms say where to listen, on every interface.
_port = os.environ.get("PORT", "").strip()
bind = [os.environ.get("STATIONFINDER_BIND") or (f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000")]


def _workers() -> int:
    given = os.environ.get("WEB_CONCURRENCY", "").strip()
    if given:
        return max(1, int(given))
    # gunicorn's rule of thumb, 2 x cores + 1, capped: every worker holds its own station
    # index (about 80 MB at 400,000 stations) and its own database pool, and a request
    # is CPU-bound Python, so more workers than that only add memory and connections.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(2 * (cores or 1) + 1, 9)


workers = _workers()
# Threads, for keep-alive: a sync worker closes every connection after one response and
# is held by a slow client for the whole of its request; a gthread worker keeps idle
# connections in a poller (see `keepalive`) and serves whichever is ready. Requests are
# CPU-bound Python, so more threads than this only queue on the GIL. On loopback the two
# serve the same (bench/http_load.py, 2 workers, wrk -c64, 10,000 stations, back to back
# on a busy machine, requests/s and p99): sync nearest 1,718 / 65.5 ms, bare 3,819 /
# 39.7 ms; gthread x4 nearest 1,662 / 62.2 ms, bare 3,572 / 37.4 ms. Phones on slow
# links are what the threads are for.
worker_class = "gthread"
threads = 4
# gunicorn 24+ opens a runtime control socket at one fixed path per user; a second
# master on the host (a test run, a second site) would take it over. Nothing here uses it.
control_socket_disable = True  # requests are short and CPU-bound; nothing awaits I/O for long

# Not preloaded: each worker imports and builds the app after the fork, so each has its
# own SQLAlchemy engine and index. An engine made before fork() would hand the same
# pooled sockets (PostgreSQL connections, SQLite file handles) to every child, and two
# processes talking over one socket corrupt each other's protocol state; SQLAlchemy
# documents that engines must not cross a fork. Starting each worker fresh costs its
# import time, paid once, and it keeps a restart (max_requests below) equally clean.
preload_app = False


def _import_app_code() -> None:
    """The app's modules (only modules: no app, engine or socket) are imported here in the
    master, so a worker forked from it skips ~1 s of imports, at start and when one is
    replaced. Upgrading the code therefore needs a restart of the master, not a HUP."""
    import stationfinder

    stationfinder.import_modules()


_import_app_code()


def _preload_index() -> None:
    """With `STATIONFINDER_DATABASE_URL` set (the shared PostgreSQL of a deployment), the
    master builds the station index once and every worker starts with it, rather than all
    of them reading the whole registry at the same moment (see `live_index.preload`).
    Without it (the embedded SQLite default, 158 stations) there is nothing to save."""
    from stationfinder import config, db
    from stationfinder.ops import startup
    from stationfinder.registry import live_index

    try:
        url = config.load_settings()["DATABASE_URL"]  # as each worker will read it
    except config.ConfigError:
        return  # each worker reports it
    if not url:
        return
    started = time.perf_counter()
    try:
        count = live_index.preload(url, db.make_engine)
    except Exception as exc:  # each worker then builds its own, and reports what is wrong
        print(f"stationfinder: index not preloaded: {exc}", file=sys.stderr, flush=True)
        return
    took = time.perf_counter() - started
    print(f"stationfinder: index of {count} stations preloaded in {took:.1f} s", flush=True)
    try:
        startup.preload_areas(url, db.make_engine)
    except Exception as exc:  # each worker then reads its own, and reports what is wrong
        print(f"stationfinder: outlines not preloaded: {exc}", file=sys.stderr, flush=True)


_preload_index()

# A worker that has not answered in this long is killed and replaced. The slowest thing
# a worker does is build its index at start (~2 s at 400,000 stations).
timeout = 30
graceful_timeout = 20  # let requests in flight finish on SIGTERM / SIGHUP
keepalive = 5  # seconds an idle kept-alive connection stays open (phones, or a proxy)

# Recycle workers now and then, so that slow growth in memory cannot accumulate; the
# jitter keeps them from all restarting (and rebuilding their index) at the same moment.
max_requests = 20_000
max_requests_jitter = 2_000

# The app writes one JSON line per request itself (logger `stationfinder.requests`), so
# gunicorn's own access log stays off; its error log (start, stop, worker deaths) goes to
# stderr next to the app's lines.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
