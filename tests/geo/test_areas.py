"""Areas: loading outlines, refusing bad files with clear messages, point-in-subdistrict."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point as ShapelyPoint
from shipped_areas import STREET_NAMES

from stationfinder.geo.areas import Areas, AreasError
from stationfinder.geo.point import CRS, Point

AREAS_FILE = Path(__file__).resolve().parents[2] / "data" / "areas.geojson"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(AREAS_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def areas() -> Areas:
    return Areas.from_file(AREAS_FILE)


DISTRICT_CODE = "330114"


def named(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The feature with this name (the file lists the district, then its subdistricts)."""
    return next(f for f in document["features"] if f["properties"]["name"] == name)


def without(document: dict[str, Any], name: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["features"] = [f for f in changed["features"] if f["properties"]["name"] != name]
    return changed


# --- where a point lies --------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "street"),
    [
        (120.318, 30.305, "下沙街道"),  # Jinsha Lake
        (120.343, 30.321, "白杨街道"),  # Hangzhou Dianzi University
        (120.472, 30.292, "河庄街道"),  # the district government, 青六北路499号
        (120.510, 30.245, "义蓬街道"),
        (120.552, 30.296, "新湾街道"),
        (120.655, 30.310, "临江街道"),
        (120.640, 30.228, "前进街道"),
    ],
)
def test_street_at_known_places(areas: Areas, lon: float, lat: float, street: str) -> None:
    assert areas.street_at(Point(lon, lat)) == street
    assert areas.in_district(Point(lon, lat))


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (116.397, 39.909),  # Beijing, Tian'anmen
        (120.165, 30.250),  # West Lake, Hangzhou: same city, another district
        (120.415, 30.290),  # in the Qiantang river between Xiasha and Dajiangdong
        (120.421, 30.273),  # 杭州大会展中心 metro station, Xiaoshan district
    ],
)
def test_points_outside_the_district_have_no_street(areas: Areas, lon: float, lat: float) -> None:
    assert areas.street_at(Point(lon, lat)) is None
    assert not areas.in_district(Point(lon, lat))


def test_a_point_on_a_shared_edge_goes_to_the_first_subdistrict_in_vocabulary_order(
    areas: Areas,
) -> None:
    xiasha, baiyang = areas.outline("下沙街道"), areas.outline("白杨街道")
    shared = xiasha.intersection(baiyang)
    assert shared.length > 0.01  # they share a border, not just a corner
    # The border's own vertices: points exactly on both outlines (an interpolated point
    # would be a rounding error to one side).
    vertices = shapely.get_coordinates(shared)
    assert len(vertices) >= 3
    for lon, lat in vertices:
        assert xiasha.covers(ShapelyPoint(lon, lat)) and baiyang.covers(ShapelyPoint(lon, lat))
        assert areas.street_at(Point(lon, lat)) == "下沙街道"
        assert areas.street_at(Point(lon, lat)) == "下沙街道"  # and again: no state involved


def test_points_in_other_coordinate_systems_are_refused(areas: Areas) -> None:
    with pytest.raises(ValueError, match="WGS-84"):
        areas.street_at(Point(120.318, 30.305, CRS.GCJ02))


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(min_value=120.25, max_value=120.80),
    lat=st.floats(min_value=30.15, max_value=30.45),
)
def test_street_at_agrees_with_a_brute_force_search(lon: float, lat: float) -> None:
    areas = _shipped()
    expected = next(
        (name for name, shape in areas.subdistricts() if shape.covers(ShapelyPoint(lon, lat))),
        None,
    )
    assert areas.street_at(Point(lon, lat)) == expected


_CACHE: dict[str, Areas] = {}


def _shipped() -> Areas:
    # hypothesis refuses function-scoped fixtures; load once for all examples instead.
    if "areas" not in _CACHE:
        _CACHE["areas"] = Areas.from_file(AREAS_FILE)
    return _CACHE["areas"]


# --- the outlines themselves ------------------------------------------------------------


def test_subdistricts_come_in_vocabulary_order(areas: Areas) -> None:
    assert [name for name, _ in areas.subdistricts()] == list(STREET_NAMES)


def test_district_outline_is_the_union_of_the_subdistricts(areas: Areas) -> None:
    union = shapely.union_all([shape for _, shape in areas.subdistricts()])
    district = areas.outline(DISTRICT_CODE)
    assert district.symmetric_difference(union).area < 1e-12
    assert areas.bounds == district.bounds
    minlon, minlat, maxlon, maxlat = areas.bounds
    assert 120.25 <= minlon < maxlon <= 120.80
    assert 30.15 <= minlat < maxlat <= 30.45


def test_unknown_outline_names_raise_key_error(areas: Areas) -> None:
    with pytest.raises(KeyError, match="西湖区"):
        areas.outline("西湖区")


def test_to_geojson_round_trips_and_follows_rfc_7946(areas: Areas) -> None:
    exported = areas.to_geojson()
    json.dumps(exported)  # plain JSON, no tuples or shapely objects
    again = Areas.from_geojson(exported)
    for (name, shape), (name_again, shape_again) in zip(
        areas.subdistricts(), again.subdistricts(), strict=True
    ):
        assert name == name_again
        assert shape.equals(shape_again)
    names = [f["properties"]["name"] for f in exported["features"]]
    assert names == ["钱塘区", *STREET_NAMES]
    assert [f["properties"]["division"] for f in exported["features"]] == [
        DISTRICT_CODE,
        *(f"33011400{i}" for i in range(1, 8)),
    ]
    assert exported["properties"]["approximate"] is True
    for _, shape in again.subdistricts():
        for polygon in getattr(shape, "geoms", [shape]):
            assert polygon.exterior.is_ccw


def test_the_district_feature_in_a_file_is_not_trusted(document: dict[str, Any]) -> None:
    """A stale district outline must not decide what is inside: the union does."""
    changed = copy.deepcopy(document)
    named(changed, "钱塘区")["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
    }
    areas = Areas.from_geojson(changed)
    assert areas.street_at(Point(120.318, 30.305)) == "下沙街道"
    assert areas.outline(DISTRICT_CODE).bounds == areas.bounds


# --- refusing bad input -------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AreasError, match=r"nope\.geojson does not exist"):
        Areas.from_file(tmp_path / "nope.geojson")


def test_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "areas.geojson"
    path.write_text("<html>not found</html>", encoding="utf-8")
    with pytest.raises(AreasError, match=r"is not JSON \(line 1, column 1"):
        Areas.from_file(path)


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "areas.geojson"
    path.write_bytes('{"name": "下沙街道"}'.encode("gbk"))
    with pytest.raises(AreasError, match="not UTF-8"):
        Areas.from_file(path)


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(AreasError, match="cannot read outline file"):
        Areas.from_file(tmp_path)


def test_file_errors_name_the_file(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "official.geojson"
    path.write_text(json.dumps(without(document, "钱塘区")), encoding="utf-8")
    with pytest.raises(AreasError, match=r"official\.geojson: no district feature"):
        Areas.from_file(path)


def test_a_file_with_fewer_subdistricts_is_a_smaller_area(document: dict[str, Any]) -> None:
    """Areas are data: a file without 前进街道 simply does not serve it."""
    areas = Areas.from_geojson(without(document, "前进街道"))
    assert "前进街道" not in areas.subdistrict_keys()
    assert areas.street_at(Point(120.640, 30.228)) is None


def test_a_subdistrict_without_its_district_feature_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(AreasError, match=r"no district feature for division code\(s\) 330114"):
        Areas.from_geojson(without(document, "钱塘区"))


def test_a_division_code_must_be_the_statistics_bureaus(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    named(changed, "白杨街道")["properties"]["division"] = "BY"
    with pytest.raises(AreasError, match=r"白杨街道: properties\.division must be the 9-digit"):
        Areas.from_geojson(changed)
    named(changed, "白杨街道")["properties"]["division"] = "330115002"  # another district's
    with pytest.raises(AreasError, match="not the first six digits"):
        Areas.from_geojson(changed)


def test_twelve_digit_codes_are_read_as_nine(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    named(changed, "白杨街道")["properties"]["division"] = "330114002000"
    named(changed, "钱塘区")["properties"]["division"] = "330114000000"
    areas = Areas.from_geojson(changed)
    assert areas.subdistrict("330114002").key == "白杨街道"
    assert areas.district("330114000000").name == "钱塘区"


def test_duplicated_subdistrict(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["features"].append(copy.deepcopy(named(changed, "下沙街道")))
    with pytest.raises(AreasError, match=r"division code 330114001 \(下沙街道\) appears more"):
        Areas.from_geojson(changed)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a GeoJSON FeatureCollection"),
        ({"type": "Feature"}, "must be a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection"}, "no list of features"),
        ({"type": "FeatureCollection", "features": ["x"]}, "feature 1 is not a GeoJSON Feature"),
        (
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]},
            "feature 1 has no properties.name",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": "x", "level": "city"}}],
            },
            'properties.level must be "district" or "subdistrict"',
        ),
    ],
)
def test_documents_of_the_wrong_shape(data: Any, message: str) -> None:
    with pytest.raises(AreasError, match=message):
        Areas.from_geojson(data)


def test_invalid_polygon(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    bow_tie = [[120.30, 30.30], [120.31, 30.31], [120.31, 30.30], [120.30, 30.31], [120.30, 30.30]]
    named(changed, "白杨街道")["geometry"] = {"type": "Polygon", "coordinates": [bow_tie]}
    with pytest.raises(AreasError, match="白杨街道: the outline is not a valid polygon"):
        Areas.from_geojson(changed)


def test_unreadable_and_wrong_geometries(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    named(changed, "河庄街道")["geometry"] = {"type": "Polygon", "coordinates": [[[1, 2]]]}
    with pytest.raises(AreasError, match="河庄街道: the geometry cannot be read"):
        Areas.from_geojson(changed)
    named(changed, "河庄街道")["geometry"] = {"type": "Point", "coordinates": [120.4, 30.3]}
    with pytest.raises(AreasError, match="must be a Polygon or MultiPolygon, not Point"):
        Areas.from_geojson(changed)


def test_projected_coordinates_are_refused(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    ring = [[13_380_000, 3_530_000], [13_390_000, 3_530_000], [13_390_000, 3_540_000]]
    named(changed, "下沙街道")["geometry"] = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    with pytest.raises(AreasError, match="not longitude/latitude; convert the file to WGS-84"):
        Areas.from_geojson(changed)


def test_a_non_wgs84_crs_member_is_refused(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    with pytest.raises(AreasError, match=r"EPSG::3857.*convert them to WGS-84"):
        Areas.from_geojson(changed)
    changed["crs"]["properties"]["name"] = "urn:ogc:def:crs:OGC:1.3:CRS84"
    assert Areas.from_geojson(changed).street_at(Point(120.318, 30.305)) == "下沙街道"


def test_overlapping_subdistricts_are_refused(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    named(changed, "白杨街道")["geometry"] = named(changed, "下沙街道")["geometry"]
    with pytest.raises(AreasError, match="下沙街道 and 白杨街道 overlap"):
        Areas.from_geojson(changed)


def test_names_shared_by_two_districts_get_qualified_keys(document: dict[str, Any]) -> None:
    """A second district with its own 白杨街道: each key names one place, the stored
    Qiantang key changes to the qualified one, and the bare name no longer resolves."""
    changed = copy.deepcopy(document)
    moved = copy.deepcopy(named(changed, "白杨街道"))
    moved["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[121.0, 30.0], [121.1, 30.0], [121.1, 30.1], [121.0, 30.1], [121.0, 30.0]]
        ],
    }
    moved["properties"].update(division="330191001", district="330191", id_prefix="EX-BY")
    district = {
        "type": "Feature",
        "geometry": None,
        "properties": {"level": "district", "division": "330191", "name": "示例区",
                       "name_en": "Example District"},
    }  # fmt: skip
    changed["features"] += [district, moved]
    areas = Areas.from_geojson(changed)
    assert areas.street_at(Point(120.343, 30.321)) == "钱塘区白杨街道"
    assert areas.street_at(Point(121.05, 30.05)) == "示例区白杨街道"
    assert areas.resolve("白杨街道") is None  # ambiguous
    assert areas.resolve("330191001") == "示例区白杨街道"
    assert areas.label("示例区白杨街道", english=True) == "Baiyang Subdistrict, Example District"
    assert [d.code for d in areas.districts()] == ["330114", "330191"]
    assert areas.subdistrict_keys("330191") == ("示例区白杨街道",)
