"""The synthetic multi-district data (data/make_multi_district.py): districts and
subdistricts are data, so a file with four districts, repeated subdistrict names and a
national registry of hundreds of cities loads and answers like the shipped one."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import opening_hours
import pytest
import shapely
from shapely.geometry import shape

from stationfinder.core.vocabulary import ACCESS_CODES, AMENITY_CODES, KIND_NAMES
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point
from stationfinder.registry.stations import read_geojson, validate_rows

DATA = Path(__file__).resolve().parent.parent / "data"
SCRIPT = DATA / "make_multi_district.py"
OUT = DATA / "multi_district"
FILES = ("areas.geojson", "stations.geojson")
QIANTANG = "330114"
SYNTHETIC = ("330191", "330192", "330193")
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
DISTRICT_CODE = re.compile(r"[1-9]\d{5}")
SUBDISTRICT_CODE = re.compile(r"[1-9]\d{8}")
REGISTRY_ID = re.compile(r"^[A-Z][A-Z0-9]{1,7}(-[A-Z0-9]{1,8}){1,3}$")  # registry/fields.py


def _generator() -> ModuleType:
    name = "make_multi_district"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _generator()


@pytest.fixture(scope="module")
def areas_doc() -> dict[str, Any]:
    return load(OUT / "areas.geojson")


@pytest.fixture(scope="module")
def stations_doc() -> dict[str, Any]:
    return load(OUT / "stations.geojson")


@pytest.fixture(scope="module")
def areas(areas_doc: dict[str, Any]) -> Areas:
    return Areas.from_geojson(areas_doc)


@pytest.fixture(scope="module")
def stations(stations_doc: dict[str, Any]) -> list[dict[str, Any]]:
    return stations_doc["features"]


@pytest.fixture(scope="module")
def synthetic(stations: list[dict[str, Any]], areas: Areas) -> list[dict[str, Any]]:
    return [
        f for f in stations if areas.subdistrict(f["properties"]["street"]).district != QIANTANG
    ]  # type: ignore[union-attr]


def keys(areas: Areas, district: str | None = None) -> tuple[str, ...]:
    """Subdistrict keys in division-code order, of one district (its code) or of all."""
    return tuple(s.key for s in areas.listed(district))


def lonlat(feature: dict[str, Any]) -> Point:
    lon, lat = feature["geometry"]["coordinates"]
    return Point(lon, lat)


# --- the generator ----------------------------------------------------------------------


def test_the_same_seed_gives_the_same_documents(gen: ModuleType) -> None:
    first, second = gen.documents(7), gen.documents(7)
    assert first == second
    assert [gen.render(d) for d in first] == [gen.render(d) for d in second]
    other = gen.documents(8)
    assert other[0] != first[0]  # the seed matters: other outlines...
    assert other[1]["features"][158:] != first[1]["features"][158:]  # ...and stations


def test_the_shipped_files_are_what_the_generator_makes(gen: ModuleType) -> None:
    areas_doc, stations_doc = gen.documents(gen.SEED)
    assert (OUT / "areas.geojson").read_text(encoding="utf-8") == gen.render(areas_doc)
    assert (OUT / "stations.geojson").read_text(encoding="utf-8") == gen.render(stations_doc)


def test_the_script_reproduces_the_files_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (OUT / name).read_bytes(), (
            f"{name} differs from a fresh run of make_multi_district.py; rerun the script"
        )


@pytest.mark.parametrize("name", FILES)
def test_files_are_small_with_one_feature_a_line(name: str) -> None:
    text = (OUT / name).read_text(encoding="utf-8")
    assert text.endswith("]\n}\n")
    document = json.loads(text)
    lines = text.splitlines()
    assert len(lines) == len(document["features"]) + 6  # braces, type, properties, [ ]
    assert sum((OUT / n).stat().st_size for n in FILES) < 1_000_000
    # Six decimals at most (about 0.1 m).
    assert not re.search(r"\d\.\d{7,}", text)


# --- the areas --------------------------------------------------------------------------


def test_four_districts_and_their_subdistricts_load(areas: Areas) -> None:
    assert [d.code for d in areas.districts()] == [QIANTANG, *SYNTHETIC]
    assert [d.name for d in areas.districts()] == ["钱塘区", "示例东区", "示例南区", "示例湾区"]
    assert all(d.city == "杭州市" and d.city_en == "Hangzhou" for d in areas.districts())
    assert len(areas.listed()) >= 25
    assert len(areas.listed(QIANTANG)) == 7
    for code in SYNTHETIC:
        members = areas.listed(code)
        assert 6 <= len(members) <= 9, code
        assert [s.code for s in members] == [f"{code}{n:03d}" for n in range(1, len(members) + 1)]
        assert len({s.name for s in members}) == len(members)  # unique within a district
    prefixes = [s.id_prefix for s in areas.listed()]
    assert len(set(prefixes)) == len(prefixes)
    assert all(REGISTRY_ID.match(f"{p}-001") for p in prefixes)


def test_repeated_names_get_keys_qualified_by_district(areas: Areas) -> None:
    names = Counter(s.name for s in areas.listed())
    repeated = {name for name, n in names.items() if n > 1}
    assert {"城南街道", "城北街道"} <= repeated
    for s in areas.listed():
        district = areas.district_of(s.key)
        assert district is not None and district.code == s.district
        if s.name in repeated:
            assert s.key == f"{district.name}{s.name}"
            assert s.key_en == f"{s.name_en}, {district.name_en}"
        else:
            assert s.key == s.name
    assert "示例东区城南街道" in keys(areas, "330191")
    assert "示例南区城南街道" in keys(areas, "330192")
    assert "城南街道" not in set(keys(areas))
    assert areas.resolve("城南街道") is None  # ambiguous: two districts have one
    assert areas.resolve("示例湾区城北街道") == "示例湾区城北街道"
    # Qiantang's names are not repeated: its keys stay bare, as the shipped stations say.
    assert keys(areas, QIANTANG) == tuple(s.name for s in areas.listed(QIANTANG))


def test_synthetic_outlines_are_valid_and_tile_their_rectangles(
    gen: ModuleType, areas_doc: dict[str, Any], areas: Areas
) -> None:
    for spec in gen.DISTRICTS:
        features = [
            f for f in areas_doc["features"] if f["properties"].get("district") == spec.division
        ]
        district = next(
            f for f in areas_doc["features"] if f["properties"]["division"] == spec.division
        )
        assert district["geometry"] is None  # the union of its subdistricts
        outlines = [shape(f["geometry"]) for f in features]
        assert all(o.geom_type == "Polygon" and o.is_valid for o in outlines)
        for a, b in itertools.combinations(outlines, 2):
            assert a.intersection(b).area < 1e-12
        frame = shapely.box(*spec.bounds)
        union = shapely.union_all(outlines)
        assert union.symmetric_difference(frame).area < 1e-9
        assert sum(o.area for o in outlines) == pytest.approx(frame.area, rel=1e-6)
        assert 120.5 <= spec.bounds[0] < spec.bounds[2] <= 121.0
        assert 30.0 <= spec.bounds[1] < spec.bounds[3] <= 30.4
    district_outlines = [areas.outline(code) for code in (QIANTANG, *SYNTHETIC)]
    for a, b in itertools.combinations(district_outlines, 2):
        assert a.disjoint(b)


def test_the_qiantang_part_is_the_shipped_sample(
    areas_doc: dict[str, Any], stations: list[dict[str, Any]]
) -> None:
    shipped_areas = load(DATA / "areas.geojson")["features"]
    shipped_stations = load(DATA / "stations.geojson")["features"]
    ours = [f for f in areas_doc["features"] if f["properties"]["division"].startswith(QIANTANG)]
    assert ours == shipped_areas
    assert stations[: len(shipped_stations)] == shipped_stations
    assert len(shipped_stations) == 158


# --- the stations -----------------------------------------------------------------------


def test_every_station_lies_in_the_subdistrict_its_street_names(
    areas: Areas, stations: list[dict[str, Any]]
) -> None:
    for feature in stations:
        assert areas.street_at(lonlat(feature)) == feature["properties"]["street"], feature["id"]


def test_ids_are_unique_and_start_with_their_subdistricts_prefix(
    areas: Areas, stations: list[dict[str, Any]], synthetic: list[dict[str, Any]]
) -> None:
    ids = [f["id"] for f in stations]
    assert len(set(ids)) == len(ids)
    serials: dict[str, list[int]] = defaultdict(list)
    for feature in stations:
        found = areas.subdistrict(feature["properties"]["street"])
        assert found is not None, feature["id"]
        stem, _, serial = feature["id"].rpartition("-")
        assert stem == found.id_prefix, feature["id"]
        assert re.fullmatch(r"\d{3}", serial) and REGISTRY_ID.match(feature["id"])
        serials[found.key].append(int(serial))
    for key, numbers in serials.items():
        assert numbers == list(range(1, len(numbers) + 1)), key
    for code in SYNTHETIC:
        for s in areas.listed(code):
            assert 8 <= len(serials[s.key]) <= 15, s.key
    assert len(synthetic) == sum(len(serials[s.key]) for c in SYNTHETIC for s in areas.listed(c))


def test_synthetic_stations_have_the_sample_shape(
    areas: Areas, stations: list[dict[str, Any]], synthetic: list[dict[str, Any]]
) -> None:
    names = [f["properties"]["name"] for f in stations]
    assert len(set(names)) == len(names)
    for feature in synthetic:
        p = feature["properties"]
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert list(p) == PROPERTY_KEYS, feature["id"]
        assert p["kind"] in KIND_NAMES
        assert p["amenities"] == sorted(set(p["amenities"]), key=AMENITY_CODES.index)
        assert "rest" in p["amenities"]
        assert ("open_24h" in p["amenities"]) == (p["opening_hours"] == "24/7")
        assert p["access"] is None or p["access"] in ACCESS_CODES
        found = areas.subdistrict(p["street"])
        district = areas.district_of(p["street"])
        assert found is not None and district is not None
        assert p["address"].startswith(f"{district.name}{found.name}")
        assert p["address"].endswith("号")
    hours = [f["properties"]["opening_hours"] for f in synthetic]
    for expression in {h for h in hours if h is not None}:
        opening_hours.OpeningHours(expression)  # raises on bad syntax
    assert 0.05 <= hours.count("24/7") / len(hours) <= 0.3
    assert 0 < hours.count(None) / len(hours) <= 0.15
    kinds = Counter(f["properties"]["kind"] for f in synthetic)
    assert kinds.most_common(1)[0][0] == "党群服务中心"


def test_the_registry_accepts_every_station(areas: Areas) -> None:
    rows = read_geojson((OUT / "stations.geojson").read_bytes())
    accepted, problems = validate_rows(rows, areas)
    assert problems == []
    assert len(accepted) == len(rows)
    assert {s.street for s in accepted} == set(keys(areas))


# --- national scale ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def national_small(gen: ModuleType) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    document, features = gen.national(11, cities=20, stations=5000)
    return document, list(features)


def test_national_small_case_loads_and_every_station_is_inside_its_area(
    gen: ModuleType, national_small: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    document, features = national_small
    areas = Areas.from_geojson(document)
    assert len(areas.districts()) == 20
    assert all(DISTRICT_CODE.fullmatch(d.code) for d in areas.districts())
    assert len({d.name for d in areas.districts()}) == 20
    assert all(SUBDISTRICT_CODE.fullmatch(s.code) for s in areas.listed())
    assert all(s.code.startswith(s.district) for s in areas.listed())
    # Few names, many cities: most keys are qualified by their district.
    assert sum(s.key != s.name for s in areas.listed()) > len(areas.listed()) / 2
    minx, miny, maxx, maxy = gen.CHINA_BOX
    assert minx <= areas.bounds[0] and areas.bounds[2] <= maxx
    assert miny <= areas.bounds[1] and areas.bounds[3] <= maxy

    assert len(features) == 5000
    ids = [f["id"] for f in features]
    assert len(set(ids)) == len(ids)
    for feature in features:
        street = feature["properties"]["street"]
        assert areas.street_at(lonlat(feature)) == street, feature["id"]
        found = areas.subdistrict(street)
        assert found is not None and feature["id"].startswith(f"{found.id_prefix}-")
        assert list(feature["properties"]) == PROPERTY_KEYS
    assert {f["properties"]["street"] for f in features} == set(keys(areas))
    accepted, problems = validate_rows(
        read_geojson(json.dumps({"type": "FeatureCollection", "features": features})), areas
    )
    assert problems == [] and len(accepted) == 5000


def test_national_is_deterministic(
    gen: ModuleType, national_small: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    document, features = gen.national(11, cities=20, stations=5000)
    assert (document, list(features)) == national_small
    other, _ = gen.national(12, cities=20, stations=5000)
    assert other != document


@pytest.mark.slow
def test_national_scale_is_quick_and_right(gen: ModuleType) -> None:
    started = time.perf_counter()
    document, features = gen.national(gen.SEED)  # 370 cities, 400,000 stations
    by_street: dict[str, list[tuple[float, float]]] = defaultdict(list)
    ids = set()
    for feature in features:
        by_street[feature["properties"]["street"]].append(feature["geometry"]["coordinates"])
        ids.add(feature["id"])
    elapsed = time.perf_counter() - started
    assert elapsed < 60, f"{elapsed:.0f} s"
    assert len(ids) == 400_000
    areas = Areas.from_geojson(document)
    assert len(areas.districts()) == 370
    assert set(by_street) == set(keys(areas))
    for key, points in by_street.items():  # vectorised: one call per subdistrict
        xy = np.asarray(points)
        assert shapely.contains_xy(areas.outline(key), xy[:, 0], xy[:, 1]).all(), key
