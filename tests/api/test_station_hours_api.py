"""GET /api/v1/stations/hours: the spans a phone keeps offline agree with the API.

For every sample station and random moments of the window (one holding National Day and
the make-up Saturday after it), the span the phone would pick says what the nearest
answer says for that station at that moment: open_now and next_change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stationfinder.core import hours
from stationfinder.core.clock import SHANGHAI
from stationfinder.web.api.contract import HOURS_DAYS

WINDOW_DAY = "2026-10-05T15:00:00+08:00"  # 10-05..10-07 holidays, Saturday 10-10 worked
WINDOW_START = datetime(2026, 10, 5, tzinfo=SHANGHAI)


def _span_at(spans: list[dict[str, Any]], at: datetime) -> list[Any]:
    for span in spans:
        start, end, state = span["start"], span["end"], span["open"]
        ends = None if end is None else datetime.fromisoformat(end)
        if datetime.fromisoformat(start) <= at and (ends is None or at < ends):
            return [start, end, state]
    raise AssertionError(f"no span holds {at}")


def test_the_window_starts_at_midnight_of_the_day_asked_and_covers_eight_days(
    client: FlaskClient,
) -> None:
    response = client.get("/api/v1/stations/hours", query_string={"at": WINDOW_DAY})
    assert response.status_code == 200
    body = response.get_json()
    assert body["window_start"] == "2026-10-05T00:00:00+08:00"
    assert body["window_end"] == (WINDOW_START + timedelta(days=HOURS_DAYS)).isoformat()
    listed = client.get("/api/v1/stations").get_json()
    stations = listed["features"]
    assert body["registry_version"] == listed["registry_version"]
    expressions = {f["properties"].get("opening_hours") for f in stations} - {None}
    assert set(body["schedules"]) == expressions
    # The weekday office: closed through the holiday to Thursday 10-08 08:30.
    office = body["schedules"]["Mo-Fr 08:30-11:30,13:30-17:30; PH off"]
    assert office[0] == {
        "start": "2026-10-05T00:00:00+08:00",
        "end": "2026-10-08T08:30:00+08:00",
        "open": False,
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offset_s=st.integers(min_value=0, max_value=HOURS_DAYS * 86400 - 1))
def test_each_station_reads_offline_as_the_nearest_answer_says(
    client: FlaskClient, offset_s: int
) -> None:
    at = WINDOW_START + timedelta(seconds=offset_s)
    schedules = client.get("/api/v1/stations/hours", query_string={"at": WINDOW_DAY}).get_json()[
        "schedules"
    ]
    nearest = client.get(
        "/api/v1/stations/nearest",
        query_string={"lat": 30.31, "lon": 120.35, "k": 50, "at": at.isoformat()},
    ).get_json()["features"]
    assert len(nearest) == 50
    # Every expression of the registry is among these stations, so each is checked.
    assert {f["properties"].get("opening_hours") for f in nearest} >= set(schedules)
    for feature in nearest:
        p = feature["properties"]
        expr = p.get("opening_hours")
        if expr is None:
            assert p["open_now"] is None
            continue
        _, end, state = _span_at(schedules[expr], at)
        assert state == p["open_now"], (feature["id"], expr, at)
        online = datetime.fromisoformat(p["next_change"]) if p["next_change"] else None
        assert (datetime.fromisoformat(end) if end else None) == online, (feature["id"], at)
        assert state == hours.is_open(expr, at)


def test_an_unchanged_answer_revalidates_with_a_304(client: FlaskClient) -> None:
    first = client.get("/api/v1/stations/hours", query_string={"at": WINDOW_DAY})
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get(
        "/api/v1/stations/hours",
        query_string={"at": WINDOW_DAY},
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304
    assert again.data == b""
    next_day = client.get(
        "/api/v1/stations/hours",
        query_string={"at": "2026-10-06T01:00:00+08:00"},
        headers={"If-None-Match": etag},
    )
    assert next_day.status_code == 200
    assert next_day.headers["ETag"] != etag


def test_an_edit_to_a_stations_hours_changes_the_answer(client: FlaskClient, app: Any) -> None:
    from stationfinder.db import session_scope
    from stationfinder.registry import stations as registry

    before = client.get("/api/v1/stations/hours", query_string={"at": WINDOW_DAY})
    with session_scope(app) as session:
        station = registry.active_stations(session)[0]
        station.opening_hours = "Mo-Su 06:00-23:00"
        registry.bump_version(session)
    after = client.get(
        "/api/v1/stations/hours",
        query_string={"at": WINDOW_DAY},
        headers={"If-None-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200
    assert "Mo-Su 06:00-23:00" in after.get_json()["schedules"]


def test_a_bad_moment_is_a_400_naming_the_parameter(client: FlaskClient) -> None:
    response = client.get("/api/v1/stations/hours", query_string={"at": "tomorrow"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "at"


def test_the_answer_is_what_the_openapi_document_says(client: FlaskClient) -> None:
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    operation = document["paths"]["/api/v1/stations/hours"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["at"]
    schema = {"$ref": "urn:openapi#/components/schemas/StationHours"}
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    validator = Draft202012Validator(
        schema,
        registry=Registry().with_resource("urn:openapi", resource),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    body = client.get("/api/v1/stations/hours").get_json()
    assert list(validator.iter_errors(body)) == []
    # The check can fail: a span with a state that is not true, false or null.
    expr = next(iter(body["schedules"]))
    body["schedules"][expr][0]["open"] = "open"
    assert list(validator.iter_errors(body)) != []
