"""The OpenAPI 3.1 document of /api/v1, generated from the contract (`contract.py`).

Paths come from the app's URL map, operations from `contract.OPERATIONS`, schemas and
parameters from the pydantic models' JSON Schema. Nothing here states a limit, an enum
or a field: change the model and the document follows. Tests validate the document
against the OpenAPI schema, every real answer against the document, and schemathesis
fuzzes the API from it.
"""

from __future__ import annotations

import copy
import re
import weakref
from functools import cache
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from stationfinder.registry.fields import station_input_schema, station_properties_schema
from stationfinder.web.api import bp
from stationfinder.web.api.contract import OPERATIONS, Operation
from stationfinder.web.api.params import QueryModel
from stationfinder.web.api.responses import (
    COMPONENTS,
    REF,
    STATION_INPUT_PROPERTIES,
    STATION_PROPERTIES,
    ref,
)

DESCRIPTION = (
    "Rest stations (小哥之家) for couriers in Hangzhou's Qiantang district. "
    "Geometry is WGS-84 (RFC 7946) everywhere; fields named *_gcj02 are GCJ-02; "
    "navigation links say their own system. Distances are geodesic metres."
)
SECURITY_SCHEMES = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token made by a staff member on /staff/tokens; it acts with its "
        "owner's role and subdistrict",
    }
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": 'The ETag from GET /api/v1/stations/{station_id}, e.g. "QT-BY-001-v3"',
}
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")

_documents: weakref.WeakKeyDictionary[Flask, dict[str, Any]] = weakref.WeakKeyDictionary()


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document for ``app``'s /api/ routes (built once per app, then kept)."""
    document = _documents.get(app)
    if document is None:
        document = _documents[app] = _build(app)
    return document


def _build(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    prefix = (bp.url_prefix or "/api").rstrip("/") + "/"
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = OPERATIONS.get((rule.endpoint, method))
            if operation is None:
                raise LookupError(f"{method} {rule.rule} ({rule.endpoint}) is not in the contract")
            path = _VARIABLE.sub(r"{\1}", rule.rule)
            paths.setdefault(path, {})[method.lower()] = _operation(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": "stationfinder API", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": _schemas(), "securitySchemes": SECURITY_SCHEMES},
    }


def _operation(operation: Operation) -> dict[str, Any]:
    parameters = [*_parameters(operation.path, "path")]
    if operation.if_match:
        parameters.append(IF_MATCH)
    parameters += _parameters(operation.query, "query")
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
    }
    if operation.token:
        document["security"] = [{"bearerToken": []}]
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(operation.body)}},
        }
    responses: dict[str, Any] = {}
    for status, answer in operation.answers.items():
        schema = {"schema": ref(answer.model)} if answer.model is not None else {}
        response: dict[str, Any] = {
            "description": answer.description,
            "content": {"application/json": schema},
        }
        if answer.headers:
            response["headers"] = {
                name: {"schema": {"type": "string"}, "description": text}
                for name, text in answer.headers.items()
            }
        responses[str(status)] = response
    document["responses"] = responses
    return document


@cache
def _parameters(model: type[QueryModel] | None, where: str) -> tuple[dict[str, Any], ...]:
    """A query (or path) model's fields as OpenAPI parameters, in declaration order."""
    if model is None:
        return ()
    schema = model.model_json_schema(ref_template=REF, union_format="primitive_type_array")
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = _without_null(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": where, "schema": prop}
        if description:
            parameter["description"] = description
        if name in required or where == "path":
            parameter["required"] = True
        if prop.get("type") == "array":
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return tuple(parameters)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: JSON's null has no spelling in a URL."""
    schema = copy.deepcopy(schema)
    if schema.get("default", ...) is None:
        del schema["default"]
    if isinstance(schema.get("type"), list):
        types = [t for t in schema["type"] if t != "null"]
        schema["type"] = types[0] if len(types) == 1 else types
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            del schema["anyOf"]
            schema = {**branches[0], **schema}
        else:
            schema["anyOf"] = branches
    return schema


@cache
def _schemas() -> dict[str, Any]:
    models: list[type[BaseModel]] = list(COMPONENTS)
    _, top = models_json_schema(
        [(m, "validation") for m in models],
        ref_template=REF,
        union_format="primitive_type_array",
    )
    schemas: dict[str, Any] = top["$defs"]
    for model in {op.query for op in OPERATIONS.values()} | {op.path for op in OPERATIONS.values()}:
        if model is not None:  # the enums the parameters name (CRS)
            found = model.model_json_schema(ref_template=REF, union_format="primitive_type_array")
            schemas.update(found.get("$defs", {}))
    # A station's fields are declared once, in registry/fields.py.
    schemas[STATION_PROPERTIES] = station_properties_schema()
    schemas[STATION_INPUT_PROPERTIES] = {
        **station_input_schema(),
        "description": "`street` may be left out: it follows from the point",
    }
    return schemas
