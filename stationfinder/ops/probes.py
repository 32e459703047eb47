"""Operations: liveness and readiness probes, one JSON log line per request, and a bare
endpoint that benchmarks use as the ceiling of what the stack can serve.

- `GET /healthz`: the process answers. Nothing else is checked, so a load balancer does
  not restart workers because the database is down.
- `GET /readyz`: the database answers `SELECT 1` and this worker's station index is
  loaded (building it on the first call, which is how a new worker warms up before it
  is sent traffic). 503 with the API's error shape otherwise.
- Request log: `stationfinder.requests` writes one JSON object per request to stderr,
  where gunicorn (and `flask run`) put their own logs. The query string is left out on
  purpose: on the nearest endpoint it is a courier's position.
- `GET /bench/bare`: a constant small JSON body through the same app (request log,
  compression, error handlers), registered only when `BENCH_ENDPOINTS` is on.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from sqlalchemy import text

from stationfinder.db import get_db
from stationfinder.web.context import current_index
from stationfinder.web.errors import error_body

ops_bp = Blueprint("ops", __name__)
bench_bp = Blueprint("bench", __name__, url_prefix="/bench")

request_log = logging.getLogger("stationfinder.requests")
log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# A request id from a proxy is kept only if it is short and plain, so that it cannot
# forge log lines or bloat them.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# One opaque random name per process (keyed by pid, so a forked worker gets its own):
# X-Worker tells workers apart without telling the world their process ids.
_WORKER_NAMES: dict[int, str] = {}


def worker_name() -> str:
    """This process's X-Worker value: 12 hex characters, random, stable for its life."""
    pid = os.getpid()
    name = _WORKER_NAMES.get(pid)
    if name is None:
        name = _WORKER_NAMES.setdefault(pid, uuid.uuid4().hex[:12])
    return name


@ops_bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@ops_bp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    try:
        with get_db().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the same thing to a probe
        log.warning("not ready: database unreachable: %s", exc)
        return _not_ready("database_unavailable", "the database does not answer", "database")
    try:
        snapshot = current_index().current()
    except Exception:
        log.exception("not ready: the station index cannot be loaded")
        return _not_ready("index_unavailable", "the station index cannot be loaded", "index")
    return jsonify(
        status="ready",
        stations=len(snapshot.features),
        registry_version=snapshot.version,
        index=snapshot.source,
    )


def _not_ready(code: str, message: str, field: str) -> tuple[Response, int]:
    # Always JSON, whatever the Accept header: probes are machines.
    response = jsonify(error_body(code, message, field))
    response.headers["Retry-After"] = "1"
    return response, 503


_BARE_BODY = {"type": "FeatureCollection", "features": [], "bench": "bare"}


@bench_bp.get("/bare")
def bare() -> Response:
    return jsonify(_BARE_BODY)


# --- request log --------------------------------------------------------------------


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (gunicorn's, or pytest's capture)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def init_request_log(app: Flask) -> None:
    if not request_log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))  # the message is the JSON
        request_log.addHandler(handler)
    if request_log.level == logging.NOTSET:
        request_log.setLevel(logging.INFO)

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("request_started")
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id
        # Which worker answered: lets an operator (and tests/test_workers.py) see that
        # requests spread over the workers.
        response.headers["X-Worker"] = worker_name()
        if request_log.isEnabledFor(logging.INFO):
            duration = (time.perf_counter() - started) * 1000 if started is not None else None
            request_log.info(
                json.dumps(
                    {
                        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round(duration, 2) if duration is not None else None,
                        "remote_addr": request.remote_addr,
                        "request_id": request_id,
                        "pid": os.getpid(),
                    },
                    ensure_ascii=False,
                )
            )
        return response


def bench_endpoints_enabled(app: Flask) -> bool:
    """The `STATIONFINDER_BENCH_ENDPOINTS` setting."""
    return bool(app.config.get("BENCH_ENDPOINTS"))


def init_app(app: Flask) -> None:
    app.register_blueprint(ops_bp)
    if bench_endpoints_enabled(app):
        app.register_blueprint(bench_bp)
    init_request_log(app)
