"""The app serving four districts and 31 subdistricts from data alone (the synthetic
set in data/multi_district/): every face answers with what is loaded, names that two
districts share stay two places, and a district admin keeps to their district."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from multi_district import AREAS_FILE, EAST, SOUTH, STATIONS_FILE, app_settings, database_url
from sqlalchemy import select
from staff_login import csrf_from, staff_client

from stationfinder.council import issues as council
from stationfinder.council import stats as council_stats
from stationfinder.council.issues import Place
from stationfinder.db import session_scope
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.models import Station
from stationfinder.web.context import current_areas

__all__ = ["app_settings", "database_url"]  # the fixtures this module's tests run on

AREAS = Areas.from_file(AREAS_FILE)
STATIONS = json.loads(STATIONS_FILE.read_text(encoding="utf-8"))["features"]
EAST_SOUTH = "示例东区城南街道"  # 城南街道 of 示例东区; 示例南区 has one too
SOUTH_SOUTH = "示例南区城南街道"


def _in(street: str) -> list[dict[str, Any]]:
    return [f for f in STATIONS if f["properties"]["street"] == street]


def _ids_of(district: str) -> set[str]:
    return {
        f["id"] for f in STATIONS if AREAS.district_of(f["properties"]["street"]).code == district
    }


class _Options(HTMLParser):
    """The <optgroup>s and <option>s of the select named `name`."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name, self.inside, self.group = name, False, None
        self.groups: list[tuple[str | None, list[tuple[str, str]]]] = []
        self._value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "select":
            self.inside = a.get("name") == self.name
        elif self.inside and tag == "optgroup":
            self.groups.append((a.get("label"), []))
        elif self.inside and tag == "option":
            if self.group is None and (not self.groups or self.groups[-1][0] is not None):
                self.groups.append((None, []))  # options outside any optgroup
            self._value = a.get("value") or ""
        if self.inside and tag == "optgroup":
            self.group = a.get("label")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.inside = False
        elif tag == "optgroup":
            self.group = None

    def handle_data(self, data: str) -> None:
        if self.inside and self._value is not None:
            self.groups[-1][1].append((self._value, data.strip()))
            self._value = None


def _options(html: str, name: str) -> list[tuple[str | None, list[tuple[str, str]]]]:
    parser = _Options(name)
    parser.feed(html)
    return parser.groups


# --- what is loaded ---------------------------------------------------------------------


def test_the_app_serves_every_loaded_district(client: FlaskClient) -> None:
    body = client.get("/api/v1/areas").get_json()
    districts = body["districts"]
    assert [d["division"] for d in districts] == ["330114", "330191", "330192", "330193"]
    assert sum(len(d["subdistricts"]) for d in districts) == 31
    assert sum(d["stations"] for d in districts) == len(STATIONS)
    east = districts[1]
    assert east["name"] == "示例东区" and east["en"] == "Example East District"
    keys = [s["name"] for s in east["subdistricts"]]
    assert EAST_SOUTH in keys and "城南街道" not in keys
    south = next(s for s in east["subdistricts"] if s["name"] == EAST_SOUTH)
    assert south["short_name"] == "城南街道" and south["district"] == EAST
    assert south["stations"] == len(_in(EAST_SOUTH)) > 0
    west, south_lat, east_lon, north = south["bbox"]
    assert west < east_lon and south_lat < north
    streets = client.get("/api/v1/amenities").get_json()["streets"]
    assert [s["name"] for s in streets] == list(AREAS.subdistrict_keys())


def test_api_filters_take_loaded_districts_and_subdistricts(client: FlaskClient) -> None:
    east = client.get("/api/v1/stations", query_string={"district": EAST}).get_json()
    expected = {
        f["id"] for f in STATIONS if AREAS.district_of(f["properties"]["street"]).code == EAST
    }
    assert {f["id"] for f in east["features"]} == expected
    one = client.get("/api/v1/stations", query_string={"street": SOUTH_SOUTH}).get_json()
    assert {f["id"] for f in one["features"]} == {f["id"] for f in _in(SOUTH_SOUTH)}
    both = client.get("/api/v1/stations", query_string={"district": EAST, "street": SOUTH_SOUTH})
    assert both.get_json()["features"] == []  # that subdistrict is not in that district
    for args in ({"district": "330199"}, {"street": "城南街道"}, {"district": "东区"}):
        refused = client.get("/api/v1/stations", query_string=args)
        assert refused.status_code == 400, args
        assert refused.get_json()["error"]["field"] in args

    station = _in(EAST_SOUTH)[0]
    lon, lat = station["geometry"]["coordinates"]
    code = AREAS.subdistrict(EAST_SOUTH).code
    for street in (EAST_SOUTH, code):
        near = client.get(
            "/api/v1/stations/nearest", query_string={"lon": lon, "lat": lat, "street": street}
        ).get_json()
        assert near["features"][0]["id"] == station["id"]
        assert {f["properties"]["street"] for f in near["features"]} == {EAST_SOUTH}
        assert near["query"]["street"] == EAST_SOUTH


def test_station_ids_come_from_the_loaded_stems(client: FlaskClient) -> None:
    for f in STATIONS:
        stem = AREAS.subdistrict(f["properties"]["street"]).id_prefix
        assert re.fullmatch(re.escape(stem) + r"-\d{3}", f["id"]), f["id"]
    page = client.get(f"/stations/{_in(EAST_SOUTH)[0]['id']}")
    assert page.status_code == 200
    assert "示例东区城南街道" in page.get_data(as_text=True)


# --- the courier's pages ----------------------------------------------------------------


def test_the_subdistrict_picker_is_grouped_by_district(client: FlaskClient) -> None:
    groups = _options(client.get("/").get_data(as_text=True), "street")
    named = [g for g in groups if g[0]]
    assert [g[0] for g in named] == ["钱塘区", "示例东区", "示例南区", "示例湾区"]
    east = dict(named[1][1])
    assert east[EAST_SOUTH] == "城南街道"  # the bare name under its district's heading
    assert dict(named[2][1])[SOUTH_SOUTH] == "城南街道"
    assert [v for _, items in named for v, _ in items] == list(AREAS.subdistrict_keys())
    english = _options(client.get("/?lang=en").get_data(as_text=True), "street")
    assert [g[0] for g in english if g[0]][1] == "Example East District"


def test_a_courier_finds_the_stations_of_a_subdistrict_whose_name_two_districts_share(
    client: FlaskClient,
) -> None:
    for street, other in ((EAST_SOUTH, SOUTH_SOUTH), (SOUTH_SOUTH, EAST_SOUTH)):
        page = client.get("/nearest", query_string={"street": street}).get_data(as_text=True)
        shown = set(re.findall(r'class="card-name"[^>]*>([^<]+)<', page))
        ours = {f["properties"]["name"] for f in _in(street)}
        theirs = {f["properties"]["name"] for f in _in(other)}
        assert len(shown & ours) >= 3, street  # the cards are around this 城南街道 ...
        assert not shown & (theirs - ours), street  # ... not the other district's


def test_the_map_without_javascript_lists_every_district(client: FlaskClient) -> None:
    page = client.get("/map").get_data(as_text=True)
    for key in (EAST_SOUTH, SOUTH_SOUTH, "下沙街道", "明珠街道"):
        assert key in page, key


# --- the council ------------------------------------------------------------------------


def test_the_council_board_and_statistics_go_by_district(app: Flask, client: FlaskClient) -> None:
    lon, lat = _in(EAST_SOUTH)[0]["geometry"]["coordinates"]
    with session_scope(app) as session:
        issue = council.raise_issue(
            session,
            current_areas(app),
            title="城南驿站晚上关门太早",
            description="晚上九点以后没有地方休息。",
            category="rest_facilities",
            device_hash="a" * 64,
            place=Place(point=Point(lon, lat)),
        )
        assert issue.street == EAST_SOUTH
    board = client.get("/council", query_string={"district": EAST}).get_data(as_text=True)
    assert "城南驿站晚上关门太早" in board
    other = client.get("/council", query_string={"district": SOUTH}).get_data(as_text=True)
    assert "城南驿站晚上关门太早" not in other
    same_name = client.get("/council", query_string={"street": SOUTH_SOUTH}).get_data(as_text=True)
    assert "城南驿站晚上关门太早" not in same_name
    assert [label for _, label in _options(board, "district")[0][1]][1:] == [
        "钱塘区", "示例东区", "示例南区", "示例湾区"
    ]  # fmt: skip
    with session_scope(app) as session:
        stats = council_stats.council_statistics(session, current_areas(app))
    assert dict(stats.by_district)[EAST] == 1
    assert dict(stats.by_street)[EAST_SOUTH] == 1


# --- staff ------------------------------------------------------------------------------


def test_a_district_admin_keeps_to_their_district(app: Flask) -> None:
    admin = staff_client(app, "east-admin", "district_admin", district=EAST)
    listed = admin.get("/staff/stations?state=active").get_data(as_text=True)
    ids = set(re.findall(r"/staff/stations/([A-Z0-9-]+)/edit", listed))
    east = _ids_of(EAST)
    assert ids == east

    own = _in(EAST_SOUTH)[0]["id"]
    assert admin.get(f"/staff/stations/{own}/edit").status_code == 200
    assert admin.get("/staff/stations/QT-BY-001/edit").status_code == 403
    assert admin.get(f"/staff/stations/{_in(SOUTH_SOUTH)[0]['id']}/edit").status_code == 403

    # A new station at a point in the district gets its subdistrict and its id stem.
    lon, lat = _in(EAST_SOUTH)[1]["geometry"]["coordinates"]
    page = admin.get("/staff/stations/new").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "name": "城南新驿站",
        "kind": "工会驿站",
        "street": "",
        "crs": "wgs84",
        "lon": str(lon + 0.0004),
        "lat": str(lat),
        "amenities": ["rest"],
        "opening_hours": "Mo-Su 08:00-20:00",
        "action": "save",
        "confirmed": "1",
    }
    created = admin.post("/staff/stations/new", data=form)
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    new_id = created.headers["Location"].split("/")[3]
    stem = AREAS.subdistrict(EAST_SOUTH).id_prefix
    assert re.fullmatch(re.escape(stem) + r"-\d{3}", new_id)
    with session_scope(app) as session:
        assert session.scalar(select(Station.street).where(Station.id == new_id)) == EAST_SOUTH

    # Outside the district: refused, and nothing written.
    qiantang = {**form, "name": "越界驿站", "lon": "120.3400", "lat": "30.3150"}
    refused = admin.post("/staff/stations/new", data=qiantang)
    assert refused.status_code == 403
    with session_scope(app) as session:
        assert session.scalar(select(Station).where(Station.name == "越界驿站")) is None

    export = admin.get("/staff/export.geojson")
    assert export.status_code == 200
    exported = {f["id"] for f in json.loads(export.get_data(as_text=True))["features"]}
    assert exported == east | {new_id}
    coverage = admin.get("/staff/coverage").get_data(as_text=True)
    assert "示例东区" in coverage and "下沙街道" not in coverage


def test_the_union_admin_makes_a_district_admin_through_the_form(app: Flask) -> None:
    union = staff_client(app, "union", "union_admin")
    page = union.get("/staff/accounts").get_data(as_text=True)
    districts = _options(page, "district")
    assert [v for v, _ in districts[0][1]] == ["", "330114", EAST, SOUTH, "330193"]
    data = {
        "csrf_token": csrf_from(page),
        "username": "south-admin",
        "display_name": "南区管理员",
        "role": "district_admin",
        "street": "",
        "district": SOUTH,
        "password": "a long enough password",
    }
    made = union.post("/staff/accounts", data=data)
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    without = union.post("/staff/accounts", data={**data, "username": "nobody", "district": ""})
    assert without.status_code == 400
    assert "区级管理员需要选择所属区县" in without.get_data(as_text=True)


def test_load_areas_renames_a_subdistrict_whose_name_becomes_shared(
    make_app: Any, tmp_path: Path
) -> None:
    """An app on the shipped Qiantang areas loads a file where another district also has
    a 白杨街道: stations, and everything else that names it, follow the new key."""
    shipped = Path(__file__).resolve().parent.parent / "data" / "areas.geojson"
    app = make_app(AREAS_FILE=str(shipped), SEED_FILE=None)
    document = json.loads(shipped.read_text(encoding="utf-8"))
    baiyang = next(f for f in document["features"] if f["properties"]["name"] == "白杨街道")
    twin = json.loads(json.dumps(baiyang))
    twin["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[121.0, 30.0], [121.1, 30.0], [121.1, 30.1], [121.0, 30.1], [121.0, 30.0]]
        ],
    }
    twin["properties"].update(division="330191001", district="330191", id_prefix="EX-BY")
    document["features"] += [
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"level": "district", "division": "330191", "name": "示例区",
                           "name_en": "Example District"},
        },
        twin,
    ]  # fmt: skip
    path = tmp_path / "city.geojson"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["load-areas", str(path)])
    assert result.exit_code == 0, result.output
    assert "renamed 白杨街道 -> 钱塘区白杨街道" in result.output
    with session_scope(app) as session:
        streets = set(session.scalars(select(Station.street)))
    assert "白杨街道" not in streets and "钱塘区白杨街道" in streets
    again = make_app(AREAS_FILE=str(shipped), SEED_FILE=None)  # a restarted worker
    assert current_areas(again).street_at(Point(120.343, 30.321)) == "钱塘区白杨街道"
    client = again.test_client()
    assert client.get("/api/v1/stations/QT-BY-001").get_json()["properties"]["street"] == (
        "钱塘区白杨街道"
    )
