"""The OpenAPI document is valid, complete, and what the API actually answers."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openapi", resource)
    return Draft202012Validator(
        schema,
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _check(document: dict[str, Any], path: str, status: int, body: Any) -> None:
    operation = document["paths"][path]["get"]
    content = operation["responses"][str(status)]["content"]["application/json"]
    schema = _rebase(content["schema"])
    errors = list(_validator(document, schema).iter_errors(body))
    assert not errors, [e.message for e in errors[:5]]


def _rebase(schema: Any) -> Any:
    """Point local `#/components/...` references at the registered document."""
    if isinstance(schema, dict):
        return {
            k: ("urn:openapi" + v if k == "$ref" and v.startswith("#") else _rebase(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_api_route_is_in_the_document(app: Flask, document: dict[str, Any]) -> None:
    documented = set(document["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = rule.rule.replace("<", "{").replace(">", "}")
            assert path in documented, f"{rule.rule} is not in the OpenAPI document"


def test_responses_conform_to_the_document(client: FlaskClient, document: dict[str, Any]) -> None:
    stations = client.get("/api/v1/stations").get_json()
    _check(document, "/api/v1/stations", 200, stations)
    station_id = stations["features"][0]["id"]
    _check(
        document,
        "/api/v1/stations/{station_id}",
        200,
        client.get(f"/api/v1/stations/{station_id}").get_json(),
    )
    _check(
        document,
        "/api/v1/stations/{station_id}",
        404,
        client.get("/api/v1/stations/QT-NO-000").get_json(),
    )
    for query in (
        "lat=30.3&lon=120.4&k=7",
        "lat=30.3&lon=120.4&amenity=toilet&open_now=1",
        "lat=39.9&lon=116.4&crs=gcj02",
    ):
        _check(
            document,
            "/api/v1/stations/nearest",
            200,
            client.get(f"/api/v1/stations/nearest?{query}").get_json(),
        )
    _check(
        document,
        "/api/v1/stations/nearest",
        400,
        client.get("/api/v1/stations/nearest?lat=x").get_json(),
    )
    _check(document, "/api/v1/amenities", 200, client.get("/api/v1/amenities").get_json())


def test_schema_validation_can_fail(document: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        _check(document, "/api/v1/stations", 200, {"type": "FeatureCollection"})
