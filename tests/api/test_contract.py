"""The API contract is declared once: the limits and enums the served OpenAPI document
states are exactly where the API starts refusing, and every route is in the document.

Each test reads the number from /api/v1/openapi.json, never from the code, and probes
the API on both sides of it: a limit changed in `web/api/contract.py` moves the
document, the refusal and its message together, and a second hand-written copy of any
of them anywhere would make one of these fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from stationfinder.web.api.openapi import openapi_document

NEAREST = "/api/v1/stations/nearest"
IN_VIEW = "/api/v1/stations/in_view"
HANGZHOU = {"lat": "30.3", "lon": "120.35"}
DISTRICT = {"bbox": "120.20,30.15,120.80,30.45"}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def _schema(document: dict[str, Any], path: str, name: str, method: str = "get") -> Any:
    """The schema of one parameter, with a reference to a component followed."""
    parameters = document["paths"][path][method]["parameters"]
    (parameter,) = [p for p in parameters if p["name"] == name]
    schema = parameter["schema"]
    if "$ref" in schema:
        component = schema["$ref"].removeprefix("#/components/schemas/")
        schema = {**document["components"]["schemas"][component], **schema}
    return schema


def _written(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _refused(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["field"] == field, error
    return error


BOUNDED = [
    (NEAREST, HANGZHOU, "k"),
    (NEAREST, HANGZHOU, "radius_m"),
    (NEAREST, HANGZHOU, "lat"),
    (NEAREST, HANGZHOU, "lon"),
    (IN_VIEW, DISTRICT, "limit"),
]


@pytest.mark.parametrize(("path", "base", "name"), BOUNDED)
def test_refusals_start_exactly_beyond_the_documented_bounds(
    client: FlaskClient, document: dict[str, Any], path: str, base: dict[str, str], name: str
) -> None:
    schema = _schema(document, path, name)
    low, high = schema["minimum"], schema["maximum"]
    step = 1 if schema["type"] == "integer" else 0.5
    for inside in (low, high):
        response = client.get(path, query_string={**base, name: _written(inside)})
        assert response.status_code == 200, (name, inside, response.get_json())
    for outside in (low - step, high + step):
        response = client.get(path, query_string={**base, name: _written(outside)})
        error = _refused(response, name)
        # The message states the documented bounds, read from the same declaration.
        assert f"between {_written(low)} and {_written(high)}" in error["message"], error


def test_the_documented_defaults_are_the_ones_applied(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    k = _schema(document, NEAREST, "k")["default"]
    assert len(client.get(NEAREST, query_string=HANGZHOU).get_json()["features"]) == k
    limit = _schema(document, IN_VIEW, "limit")["default"]
    wide = {"bbox": "100,-90,-100,90"}  # the whole registry: more stations than `limit`?
    body = client.get(IN_VIEW, query_string=wide).get_json()
    assert body["clustered"] is (body["total"] > limit)


def test_the_map_page_asks_for_at_most_the_documented_in_view_limit(
    document: dict[str, Any],
) -> None:
    from stationfinder.web.api.routes import MAX_IN_VIEW

    assert _schema(document, IN_VIEW, "limit")["maximum"] == MAX_IN_VIEW


@pytest.mark.parametrize("path", [NEAREST, IN_VIEW])
def test_every_documented_crs_is_accepted_and_nothing_else(
    client: FlaskClient, document: dict[str, Any], path: str
) -> None:
    base = HANGZHOU if path == NEAREST else DISTRICT
    systems = _schema(document, path, "crs")["enum"]
    assert systems, "the crs parameter names its systems"
    for system in systems:
        response = client.get(path, query_string={**base, "crs": system})
        assert response.status_code == 200, (system, response.get_json())
    for other in ("epsg3857", "WGS84", "wgs-84", "utm"):
        error = _refused(client.get(path, query_string={**base, "crs": other}), "crs")
        for system in systems:  # the refusal names what is accepted
            assert repr(system) in error["message"]


def test_the_crs_enum_is_one_component_for_reads_and_writes(document: dict[str, Any]) -> None:
    refs = {
        _schema(document, path, "crs", method)["$ref"]
        for path, method in [
            (NEAREST, "get"),
            (IN_VIEW, "get"),
            ("/api/v1/stations", "post"),
            ("/api/v1/stations/{station_id}", "patch"),
        ]
    }
    assert len(refs) == 1
    answers = document["components"]["schemas"]["NearestQueryEcho"]["properties"]["crs"]
    assert answers["$ref"] in refs


def test_every_loaded_subdistrict_is_accepted_by_key_and_code_and_another_refused(
    client: FlaskClient,
) -> None:
    """Subdistricts are data: the API takes what GET /api/v1/areas lists, and no other."""
    areas = client.get("/api/v1/areas").get_json()
    loaded = [s for d in areas["districts"] for s in d["subdistricts"]]
    assert len(loaded) == 7
    for s in loaded:
        for value in (s["name"], s["division"]):
            response = client.get(NEAREST, query_string={**HANGZHOU, "street": value})
            assert response.status_code == 200, value
            streets = {f["properties"]["street"] for f in response.get_json()["features"]}
            assert streets <= {s["name"]}, value
    _refused(client.get(NEAREST, query_string={**HANGZHOU, "street": "九堡街道"}), "street")
    _refused(client.get(NEAREST, query_string={**HANGZHOU, "street": "330114999"}), "street")


@pytest.mark.parametrize(("name", "many"), [("kind", False), ("amenity", True)])
def test_every_documented_code_is_accepted_and_an_unknown_one_refused(
    client: FlaskClient, document: dict[str, Any], name: str, many: bool
) -> None:
    schema = _schema(document, NEAREST, name)
    codes = schema["items"]["enum"] if many else schema["enum"]
    for code in codes:
        response = client.get(NEAREST, query_string={**HANGZHOU, name: code})
        assert response.status_code == 200, (name, code)
    _refused(client.get(NEAREST, query_string={**HANGZHOU, name: "sauna"}), name)


def test_a_value_is_refused_exactly_beyond_its_documented_length(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    longest = _schema(document, IN_VIEW, "bbox")["maxLength"]
    box = "120.20,30.15,120.80,30.45"
    padded = box.replace("120.20", "120.2" + "0" * (longest - len(box) + 1), 1)
    assert len(padded) == longest
    assert client.get(IN_VIEW, query_string={"bbox": padded}).status_code == 200
    error = _refused(client.get(IN_VIEW, query_string={"bbox": padded + "0"}), "bbox")
    assert "too long" in error["message"]


def test_a_station_id_is_refused_exactly_beyond_its_documented_length(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    longest = _schema(document, "/api/v1/stations/{station_id}", "station_id")["maxLength"]
    assert client.get("/api/v1/stations/" + "Q" * longest).status_code == 404
    _refused(client.get("/api/v1/stations/" + "Q" * (longest + 1)), "station_id")


def test_a_repeated_single_value_is_refused_and_a_list_takes_repeats_or_commas(
    client: FlaskClient,
) -> None:
    error = _refused(client.get(f"{NEAREST}?lat=30.3&lon=120.35&k=5&k=6"), "k")
    assert "only once" in error["message"]
    repeated = client.get(f"{NEAREST}?lat=30.3&lon=120.35&amenity=toilet&amenity=drinking_water")
    commas = client.get(f"{NEAREST}?lat=30.3&lon=120.35&amenity=toilet,drinking_water")
    assert repeated.status_code == commas.status_code == 200
    assert repeated.get_json()["features"] == commas.get_json()["features"]
    assert commas.get_json()["query"]["amenity"] == ["toilet", "drinking_water"]


def test_every_route_and_method_is_documented_and_nothing_more(
    app: Flask, document: dict[str, Any]
) -> None:
    routed = {
        (rule.rule.replace("<", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }
    assert routed == documented
    assert not any(path.startswith("/open311") for path, _ in documented)  # its own spec


def test_a_route_missing_from_the_contract_stops_the_document(make_app: Any) -> None:
    app = make_app()
    app.add_url_rule("/api/v1/undeclared", "undeclared", lambda: "not in the contract")
    with pytest.raises(LookupError, match="undeclared"):
        openapi_document(app)
