"""The shipped sample data: outlines, stations and gazetteer, and the script that made them."""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import opening_hours
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import shape

from stationfinder.core.vocabulary import ACCESS_CODES, AMENITY_CODES, KIND_NAMES
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point

DATA = Path(__file__).resolve().parents[2] / "data"
SCRIPT = DATA / "make_sample_data.py"
GENERATED = ("areas.geojson", "stations.geojson", "gazetteer.json")
BOX = (120.25, 30.15, 120.80, 30.45)  # lon/lat box around the district
DISTRICT_NAME = "钱塘区"
# Qiantang's subdistricts: name, English, id stem, division code (the statistics bureau's).
QIANTANG = (
    ("下沙街道", "Xiasha Subdistrict", "QT-XS", "330114001"),
    ("白杨街道", "Baiyang Subdistrict", "QT-BY", "330114002"),
    ("河庄街道", "Hezhuang Subdistrict", "QT-HZ", "330114003"),
    ("义蓬街道", "Yipeng Subdistrict", "QT-YP", "330114004"),
    ("新湾街道", "Xinwan Subdistrict", "QT-XW", "330114005"),
    ("临江街道", "Linjiang Subdistrict", "QT-LJ", "330114006"),
    ("前进街道", "Qianjin Subdistrict", "QT-QJ", "330114007"),
)
STREET_NAMES = tuple(name for name, *_ in QIANTANG)
PREFIX = {name: prefix for name, _, prefix, _ in QIANTANG}
PROPERTY_KEYS = [
    "name",
    "name_en",
    "kind",
    "street",
    "address",
    "amenities",
    "opening_hours",
    "phone",
    "access",
    "access_note",
    "seats",
    "step_free",
]
ID_PATTERN = re.compile(r"^QT-([A-Z]{2})-(\d{3})$")
PHONE_PATTERN = re.compile(r"^0571-8\d{7}$")
METRES_PER_DEG_LON_HERE = 96_000  # at 30° N; the smaller of the two degree lengths


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def areas() -> Areas:
    return Areas.from_file(DATA / "areas.geojson")


@pytest.fixture(scope="module")
def outlines() -> dict[str, Any]:
    return load("areas.geojson")


@pytest.fixture(scope="module")
def stations() -> dict[str, Any]:
    return load("stations.geojson")


@pytest.fixture(scope="module")
def features(stations: dict[str, Any]) -> list[dict[str, Any]]:
    return stations["features"]


def in_box(lon: float, lat: float) -> bool:
    return BOX[0] <= lon <= BOX[2] and BOX[1] <= lat <= BOX[3]


def decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


def haversine_m(a: list[float], b: list[float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


# --- the generator ------------------------------------------------------------------


def test_the_script_reproduces_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    for run in ("first", "second"):
        out = tmp_path / run
        subprocess.run(
            [sys.executable, str(SCRIPT), "--out", str(out)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for name in GENERATED:
            assert (out / name).read_bytes() == (DATA / name).read_bytes(), (
                f"{name} differs from a fresh run of make_sample_data.py; rerun the script"
            )


@pytest.mark.parametrize("name", GENERATED)
def test_files_are_indented_utf8_json_ending_in_a_newline(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"


# --- areas.geojson ------------------------------------------------------------------


def test_areas_file_says_it_is_approximate(outlines: dict[str, Any]) -> None:
    assert outlines["type"] == "FeatureCollection"
    top = outlines["properties"]
    assert top["approximate"] is True
    assert "stationfinder load-areas FILE" in top["notice"]
    assert top["source"] == "data/make_sample_data.py"


def test_area_features_match_the_vocabulary(outlines: dict[str, Any]) -> None:
    subdistricts = [f for f in outlines["features"] if f["properties"]["level"] == "subdistrict"]
    districts = [f for f in outlines["features"] if f["properties"]["level"] == "district"]
    assert len(outlines["features"]) == 8
    assert [f["properties"]["name"] for f in subdistricts] == list(STREET_NAMES)
    for feature, (name, en, prefix, division) in zip(subdistricts, QIANTANG, strict=True):
        assert feature["properties"] == {
            "level": "subdistrict",
            "division": division,
            "name": name,
            "name_en": en,
            "district": "330114",
            "id_prefix": prefix,
        }
    assert [f["properties"] for f in districts] == [
        {
            "level": "district",
            "division": "330114",
            "name": DISTRICT_NAME,
            "name_en": "Qiantang District",
            "city": "杭州市",
            "city_en": "Hangzhou",
        }
    ]


def test_area_geometries_are_valid_rfc7946_polygons(outlines: dict[str, Any]) -> None:
    for feature in outlines["features"]:
        geometry = shape(feature["geometry"])
        name = feature["properties"]["name"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert geometry.is_valid, name
        for polygon in getattr(geometry, "geoms", [geometry]):
            assert polygon.exterior.is_ccw, f"{name}: exterior ring must be counter-clockwise"
            assert all(not ring.is_ccw for ring in polygon.interiors), name
            for lon, lat in polygon.exterior.coords:
                assert in_box(lon, lat), (name, lon, lat)
                assert decimals(lon) <= 6 and decimals(lat) <= 6, (name, lon, lat)


def test_subdistricts_do_not_overlap_and_make_up_the_district(outlines: dict[str, Any]) -> None:
    shapes = {f["properties"]["name"]: shape(f["geometry"]) for f in outlines["features"]}
    district = shapes.pop(DISTRICT_NAME)
    for (a, first), (b, second) in itertools.combinations(shapes.items(), 2):
        assert first.intersection(second).area < 1e-12, f"{a} overlaps {b}"
    union = shapely.union_all(list(shapes.values()))
    assert district.symmetric_difference(union).area < 1e-12


def test_area_sizes_are_plausible(outlines: dict[str, Any]) -> None:
    geod = Geod(ellps="WGS84")
    km2 = {
        f["properties"]["name"]: abs(geod.geometry_area_perimeter(shape(f["geometry"]))[0]) / 1e6
        for f in outlines["features"]
    }
    assert 531 * 0.75 <= km2[DISTRICT_NAME] <= 531 * 1.25
    assert sum(km2[name] for name in STREET_NAMES) == pytest.approx(km2[DISTRICT_NAME], rel=1e-6)
    for name in STREET_NAMES:
        assert 20 <= km2[name] <= 200, (name, km2[name])


# --- stations.geojson ---------------------------------------------------------------


def test_stations_file_is_marked_as_sample_data(stations: dict[str, Any]) -> None:
    assert stations["type"] == "FeatureCollection"
    top = stations["properties"]
    assert top["sample_data"] is True
    assert top["notice"].startswith("Illustrative sample data")
    assert top["notice_zh"].startswith("示例数据")
    assert top["source"] == "data/make_sample_data.py"
    assert isinstance(top["seed"], int)


def test_there_are_158_stations_in_every_subdistrict(features: list[dict[str, Any]]) -> None:
    assert len(features) == 158
    per_street = Counter(f["properties"]["street"] for f in features)
    assert set(per_street) == set(STREET_NAMES)
    busiest = [name for name, _ in per_street.most_common(2)]
    assert sorted(busiest) == sorted(["下沙街道", "白杨街道"])  # the dense north bank


def test_station_features_have_the_documented_shape(features: list[dict[str, Any]]) -> None:
    for feature in features:
        assert list(feature) == ["type", "id", "geometry", "properties"]
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        coordinates = feature["geometry"]["coordinates"]
        assert len(coordinates) == 2
        lon, lat = coordinates
        assert in_box(lon, lat), f"{feature['id']}: [{lon}, {lat}] is not [lon, lat] here"
        assert decimals(lon) <= 6 and decimals(lat) <= 6
        assert list(feature["properties"]) == PROPERTY_KEYS


def test_ids_are_unique_and_numbered_per_subdistrict(features: list[dict[str, Any]]) -> None:
    ids = [f["id"] for f in features]
    assert len(set(ids)) == len(ids)
    serials: dict[str, list[int]] = {}
    for feature in features:
        match = ID_PATTERN.match(feature["id"])
        assert match, feature["id"]
        code, serial = match.group(1), int(match.group(2))
        assert f"QT-{code}" == PREFIX[feature["properties"]["street"]], feature["id"]
        serials.setdefault(code, []).append(serial)
    for code, numbers in serials.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), code


def test_every_station_lies_well_inside_its_own_subdistrict(
    features: list[dict[str, Any]], areas: Areas
) -> None:
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        street = feature["properties"]["street"]
        assert areas.in_district(Point(lon, lat)), feature["id"]
        assert areas.street_at(Point(lon, lat)) == street, feature["id"]
        edge = areas.outline(street).boundary.distance(ShapelyPoint(lon, lat))
        assert edge * METRES_PER_DEG_LON_HERE >= 30, f"{feature['id']} is on the edge"


def test_no_two_stations_are_closer_than_80_m(features: list[dict[str, Any]]) -> None:
    for a, b in itertools.combinations(features, 2):
        metres = haversine_m(a["geometry"]["coordinates"], b["geometry"]["coordinates"])
        assert metres >= 80, (a["id"], b["id"], round(metres))


def test_names_and_addresses(features: list[dict[str, Any]]) -> None:
    names = [f["properties"]["name"] for f in features]
    assert len(set(names)) == len(names)
    english = 0
    for feature in features:
        properties = feature["properties"]
        assert properties["name"].strip() == properties["name"] != ""
        if properties["name_en"] is not None:
            assert isinstance(properties["name_en"], str) and properties["name_en"].isascii()
            english += 1
        assert properties["address"].startswith(f"钱塘区{properties['street']}")
        assert properties["address"].endswith("号")
    assert 0.3 <= english / len(features) <= 0.7


def test_kinds_come_from_the_vocabulary_in_the_usual_mix(features: list[dict[str, Any]]) -> None:
    kinds = Counter(f["properties"]["kind"] for f in features)
    assert set(kinds) <= set(KIND_NAMES)
    share = {kind: count / len(features) for kind, count in kinds.items()}
    assert 0.40 <= share["党群服务中心"] <= 0.50
    assert 0.20 <= share["城管驿站"] <= 0.30
    assert 0.10 <= share["爱心驿家"] <= 0.20
    assert 0.05 <= share["工会驿站"] <= 0.15


def test_amenities_are_vocabulary_codes_in_vocabulary_order(
    features: list[dict[str, Any]],
) -> None:
    for feature in features:
        codes = feature["properties"]["amenities"]
        assert set(codes) <= set(AMENITY_CODES), feature["id"]
        assert codes == sorted(set(codes), key=AMENITY_CODES.index), feature["id"]
    count = Counter(code for f in features for code in f["properties"]["amenities"])
    for basic in ("rest", "drinking_water", "phone_charging"):
        assert count[basic] >= 0.9 * len(features), basic
    for rare in ("haircut", "legal_advice", "battery_swap"):
        assert 0 < count[rare] <= 0.2 * len(features), rare


def test_open_24h_exactly_when_the_hours_say_24_7(features: list[dict[str, Any]]) -> None:
    for feature in features:
        properties = feature["properties"]
        always = properties["opening_hours"] == "24/7"
        assert ("open_24h" in properties["amenities"]) == always, feature["id"]


def test_ways_in_are_vocabulary_codes_and_plausible_for_the_kind(
    features: list[dict[str, Any]],
) -> None:
    by_kind: dict[str, Counter[str | None]] = {}
    for feature in features:
        p = feature["properties"]
        assert p["access"] is None or p["access"] in ACCESS_CODES, feature["id"]
        if p["access"] is None:
            assert p["access_note"] is None, feature["id"]
        if p["access"] == "call_ahead":
            assert p["phone"] is not None, feature["id"]  # a number to call
        assert p["seats"] is None or 0 <= p["seats"] <= 200
        assert p["step_free"] in (True, False, None)
        by_kind.setdefault(p["kind"], Counter())[p["access"]] += 1
    # Shops are walked into; civic centres mostly; workplaces mostly sit behind a door.
    assert set(by_kind["爱心驿家"]) <= {"walk_in", None}
    centres = by_kind["党群服务中心"]
    assert centres["walk_in"] > 0.75 * centres.total()
    workplaces = by_kind["工会驿站"]
    assert workplaces["door_entry"] + workplaces["scan_code"] > workplaces["walk_in"]
    unknown = sum(c[None] for c in by_kind.values())
    assert 0 < unknown < 0.15 * len(features)


def test_opening_hours_parse_and_mix(features: list[dict[str, Any]]) -> None:
    hours = [f["properties"]["opening_hours"] for f in features]
    for expression in {h for h in hours if h is not None}:
        opening_hours.OpeningHours(expression)  # raises on bad syntax
    assert 0.10 <= hours.count("24/7") / len(hours) <= 0.20
    assert 0 < hours.count(None) / len(hours) <= 0.10


def test_phones_are_hangzhou_landlines_or_null(features: list[dict[str, Any]]) -> None:
    phones = [f["properties"]["phone"] for f in features]
    known = [p for p in phones if p is not None]
    assert all(PHONE_PATTERN.match(p) for p in known), known
    assert len(set(known)) == len(known)
    assert 0.1 <= phones.count(None) / len(phones) <= 0.3


# --- gazetteer.json -----------------------------------------------------------------


def test_gazetteer_places_lie_in_the_subdistrict_they_name(areas: Areas) -> None:
    gazetteer = load("gazetteer.json")
    assert "approximate" in gazetteer["notice"]
    places = gazetteer["places"]
    assert 20 <= len(places) <= 40
    assert len({p["name"] for p in places}) == len(places)
    for place in places:
        assert list(place) == ["name", "name_en", "kind", "street", "lon", "lat"]
        assert place["kind"] in ("landmark", "metro", "university", "government")
        assert areas.street_at(Point(place["lon"], place["lat"])) == place["street"], place
    kinds = Counter(p["kind"] for p in places)
    assert min(kinds.values()) >= 1 and len(kinds) == 4


def test_gazetteer_knows_the_well_known_places() -> None:
    places = {p["name"]: p for p in load("gazetteer.json")["places"]}
    lake = places["金沙湖"]
    assert haversine_m([lake["lon"], lake["lat"]], [120.318, 30.305]) < 500
    assert places["钱塘区人民政府"]["street"] == "河庄街道"
    assert places["下沙街道办事处"]["street"] == "下沙街道"
    assert places["杭州电子科技大学"]["street"] == "白杨街道"
