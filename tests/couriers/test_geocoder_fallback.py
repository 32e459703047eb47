"""The optional outside geocoder: used only for places the offline gazetteer lacks,
its answer converted to WGS-84, and its failure never an error page."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask

from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point

# Jinsha Lake as Baidu would answer it (BD-09).
LAKE = Point(120.318, 30.305)
LAKE_BD09 = crs.from_wgs84(LAKE, CRS.BD09)


class _FakeNominatim(BaseHTTPRequestHandler):
    """Speaks Nominatim's /search JSON, as geopy's Nominatim geocoder expects."""

    queries: list[str] = []

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query).get("q", [""])[0]
        type(self).queries.append(query)
        if "broken" in query:
            self.send_response(500)
            self.end_headers()
            return
        found = (
            []
            if "nowhere" in query
            else [{"lat": str(LAKE_BD09.lat), "lon": str(LAKE_BD09.lon), "display_name": query}]
        )
        body = json.dumps(found).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def geocoder_host() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _FakeNominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeNominatim.queries = []
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def geocoding_app(make_app: Callable[..., Flask], geocoder_host: str) -> Flask:
    return make_app(
        GEOCODER="nominatim",
        GEOCODER_OPTIONS={"domain": geocoder_host, "scheme": "http", "user_agent": "sf-test"},
        GEOCODER_CRS="bd09",
    )


def test_unknown_place_is_geocoded_and_converted_to_wgs84(geocoding_app: Flask) -> None:
    body = geocoding_app.test_client().get("/places?q=某某快递网点").get_json()
    assert len(body["places"]) == 1
    place = body["places"][0]
    assert place["kind"] == "geocoder"
    assert place["lon"] == pytest.approx(LAKE.lon, abs=1e-6)
    assert place["lat"] == pytest.approx(LAKE.lat, abs=1e-6)
    assert _FakeNominatim.queries == ["杭州市钱塘区 某某快递网点"]


def test_known_places_never_reach_the_geocoder(geocoding_app: Flask) -> None:
    body = geocoding_app.test_client().get("/places?q=金沙湖").get_json()
    assert body["places"] and body["places"][0]["kind"] != "geocoder"
    assert _FakeNominatim.queries == []


def test_no_script_list_uses_the_geocoded_place(geocoding_app: Flask) -> None:
    response = geocoding_app.test_client().get("/nearest?place=某某快递网点")
    assert response.status_code == 200
    assert response.data.count(b'data-testid="station-card"') >= 1


@pytest.mark.parametrize("query", ["nowhere-at-all", "broken-service"])
def test_no_answer_or_a_failing_service_is_just_not_found(geocoding_app: Flask, query: str) -> None:
    client = geocoding_app.test_client()
    assert client.get(f"/places?q={query}").get_json()["places"] == []
    assert client.get(f"/nearest?place={query}").status_code in (200, 400)


def test_without_the_setting_nothing_is_asked(
    make_app: Callable[..., Flask], geocoder_host: str
) -> None:
    body = make_app().test_client().get("/places?q=某某快递网点").get_json()
    assert body["places"] == []
    assert _FakeNominatim.queries == []


def test_a_client_may_cause_only_so_many_outside_lookups(geocoding_app: Flask) -> None:
    """Each geocoder answer is a request against the operator's quota: one client gets
    GEOCODER_LIMIT of them (new queries each time, as an abuser would send), then the
    gazetteer answers alone; another address still has its own."""
    from stationfinder.web.couriers.routes import GEOCODER_LIMIT

    per_minute = int(GEOCODER_LIMIT.split()[0])
    client = geocoding_app.test_client()
    answers = [
        client.get(f"/places?q=某某快递网点{i}").get_json()["places"] for i in range(per_minute + 5)
    ]
    assert all(a and a[0]["kind"] == "geocoder" for a in answers[:per_minute])
    assert answers[per_minute:] == [[]] * 5
    assert len(_FakeNominatim.queries) == per_minute
    # The no-script page shares the count: it says "not found", and asks nobody.
    page = client.get("/nearest?place=某某快递网点x")
    assert page.status_code == 200 and len(_FakeNominatim.queries) == per_minute
    other = geocoding_app.test_client().get(
        "/places?q=某某快递网点y", environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other.get_json()["places"][0]["kind"] == "geocoder"
