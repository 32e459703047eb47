"""Schemathesis, driven by the app's own /api/v1/openapi.json, against the app in-process.

Every operation, the write endpoints included (with a real union_admin token), gets
generated requests, valid and invalid: no answer may be a 5xx, every answer must conform
to the document (status, content type, headers, body), and every 4xx must carry the one
JSON error body. The write endpoints are also fuzzed against a real station with its
current ETag, so the bodies reach the validation code instead of stopping at 404/412.

Budget: FUZZ_EXAMPLES per operation and mode (CI: derandomized, see conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from stationfinder.db import session_scope
from stationfinder.models import ApiToken, StaffAccount

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

FUZZ_EXAMPLES = int(os.environ.get("STATIONFINDER_FUZZ_EXAMPLES", "100"))
TOKEN = "sf_fuzz_" + "0" * 40
REAL_STATION = "QT-BY-001"


def json_error_body(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx is the service's one error shape."""
    if 400 <= response.status_code < 500:
        types = [v for k, vs in response.headers.items() if k.lower() == "content-type" for v in vs]
        assert types and types[0].startswith("application/json"), f"{response.status_code}: {types}"
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"error"}, body
        error = body["error"]
        assert set(error) == {"code", "message", "field"}, error
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]
        assert error["field"] is None or isinstance(error["field"], str)


URI = re.compile(r"[a-z][a-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def _is_uri(value: str) -> bool:
    """Only the characters RFC 3986 allows in a URI, with a scheme."""
    return (
        re.fullmatch(r"[a-z][a-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*", value) is not None
    )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    json_error_body,
]


@pytest.fixture
def fuzzed(make_app: Callable[..., Flask]) -> tuple[Flask, Any]:
    app = make_app(RATE_LIMITS=False)
    with session_scope(app) as session:
        admin = StaffAccount(
            username="fuzz-admin",
            display_name="fuzz-admin",
            password_hash="!",  # cannot log in; acts only through the token
            role="union_admin",
            street=None,
        )
        session.add(admin)
        session.flush()
        session.add(
            ApiToken(
                staff_id=admin.id,
                name="schemathesis",
                token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(),
            )
        )
    return app, schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _operations(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7, [o.label for o in operations]
    return operations


def _run(operation: Any, mode: GenerationMode, prepare: Callable[[Any], None]) -> int:
    seen: list[int] = []

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        prepare(case)
        # identity: the in-process transport hands back Flask-Compress's bytes as they are
        headers = {"Authorization": f"Bearer {TOKEN}", "Accept-Encoding": "identity"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        seen.append(response.status_code)

    run()
    return len(seen)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_survives_generated_requests(
    fuzzed: tuple[Flask, Any], mode: GenerationMode
) -> None:
    _app, schema = fuzzed
    ran = []
    for operation in _operations(schema):
        try:
            _run(operation, mode, lambda case: None)
            ran.append(operation.label)
        except Unsatisfiable:
            # No invalid request exists: no input, or only an unconstrained string.
            assert mode is GenerationMode.NEGATIVE, operation.label
    for label in ("GET /api/v1/stations/nearest", "POST /api/v1/stations"):
        assert label in ran


def test_write_bodies_against_a_real_station(fuzzed: tuple[Flask, Any]) -> None:
    """PATCH and DELETE with the station's current ETag: the body decides the answer."""
    app, schema = fuzzed
    client = app.test_client()

    def real_station(case: Any) -> None:
        case.path_parameters = {"station_id": REAL_STATION}
        etag = client.get(f"/api/v1/stations/{REAL_STATION}").headers["ETag"]
        case.headers = {**(case.headers or {}), "If-Match": etag}

    writes = [o for o in _operations(schema) if o.method.upper() in {"PATCH", "DELETE"}]
    assert len(writes) == 2
    for operation in writes:
        _run(operation, GenerationMode.POSITIVE, real_station)


def test_navigation_links_are_uris(client: Any) -> None:
    feature = client.get("/api/v1/stations/nearest?lat=30.31&lon=120.34&k=1").get_json()
    for link in feature["features"][0]["properties"]["navigation"].values():
        assert _is_uri(link["url"]), link["url"]


def test_a_query_point_next_to_the_pole_is_a_400(client: Any) -> None:
    response = client.get("/api/v1/stations/nearest?lat=-90&lon=0&crs=bd09")
    assert response.status_code == 400
