"""The stationfinder command: load, export, bad files, staff accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from stationfinder.core.resources import data_file


def _export(runner: FlaskCliRunner, path: Path) -> bytes:
    result = runner.invoke(args=["export-stations", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def _shipped() -> dict[str, Any]:
    return json.loads(data_file("stations.geojson").read_text(encoding="utf-8"))


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_export_load_export_is_byte_identical(runner: FlaskCliRunner, tmp_path: Path) -> None:
    first = _export(runner, tmp_path / "a.geojson")
    result = runner.invoke(args=["load-stations", str(tmp_path / "a.geojson")])
    assert result.exit_code == 0, result.output
    assert "0 added, 0 changed, 158 unchanged" in result.output
    assert _export(runner, tmp_path / "b.geojson") == first
    assert len(json.loads(first)["features"]) == 158


def test_export_is_valid_rfc7946(runner: FlaskCliRunner, tmp_path: Path) -> None:
    document = json.loads(_export(runner, tmp_path / "a.geojson"))
    assert document["type"] == "FeatureCollection"
    for feature in document["features"]:
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert "crs" not in feature  # RFC 7946 dropped named CRS members


def _bad_variants() -> dict[str, Any]:
    base = _shipped()
    variants: dict[str, Any] = {}

    def variant(name: str, change: Any) -> None:
        document = json.loads(json.dumps(base))
        change(document["features"])
        variants[name] = document

    variant("latitude 95", lambda fs: fs[3]["geometry"].update(coordinates=[120.3, 95]))
    variant("unknown amenity", lambda fs: fs[5]["properties"].update(amenities=["sauna"]))
    variant(
        "outside the district",
        lambda fs: fs[7]["geometry"].update(coordinates=[116.397, 39.909]),
    )
    variant("duplicate id", lambda fs: fs[9].update(id=fs[8]["id"]))
    variant(
        "broken opening hours",
        lambda fs: fs[11]["properties"].update(opening_hours="Mo-Fr 25:00-99:00"),
    )

    def wrong_street(fs: list[dict[str, Any]]) -> None:
        feature = fs[13]
        other = next(f for f in fs if f["properties"]["street"] != feature["properties"]["street"])
        feature["properties"]["street"] = other["properties"]["street"]

    variant("street does not hold the point", wrong_street)
    return variants


@pytest.mark.parametrize("case", list(_bad_variants()))
def test_a_bad_feature_changes_nothing_and_is_named(
    runner: FlaskCliRunner, tmp_path: Path, case: str
) -> None:
    before = _export(runner, tmp_path / "before.geojson")
    document = _bad_variants()[case]
    # Also change a good feature, which must not be written either.
    document["features"][0]["properties"]["name"] = "改过的名字"
    bad = _write(tmp_path / "bad.geojson", document)
    result = runner.invoke(args=["load-stations", str(bad)])
    assert result.exit_code != 0
    assert "nothing was loaded" in result.output
    assert "feature " in result.output  # names the bad feature
    assert _export(runner, tmp_path / "after.geojson") == before


def test_not_json_at_all_changes_nothing(runner: FlaskCliRunner, tmp_path: Path) -> None:
    before = _export(runner, tmp_path / "before.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(b"\x89PNG this is not json")
    result = runner.invoke(args=["load-stations", str(bad)])
    assert result.exit_code != 0
    assert "not a JSON file" in result.output
    assert _export(runner, tmp_path / "after.geojson") == before


def test_report_lists_every_bad_feature_with_its_reason(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    document = _shipped()
    document["features"][2]["geometry"]["coordinates"] = [120.3, 95]
    document["features"][4]["properties"]["amenities"] = ["sauna"]
    result = runner.invoke(args=["load-stations", str(_write(tmp_path / "x.geojson", document))])
    assert "2 bad feature(s)" in result.output
    assert "95 is outside -90..90" in result.output
    assert "unknown amenity code 'sauna'" in result.output


def test_load_adds_and_changes_and_records_history(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path, client: Any
) -> None:
    document = _shipped()
    document["features"][0]["properties"]["address"] = "新地址 1 号"
    new = json.loads(json.dumps(document["features"][1]))
    new["id"] = "QT-BY-999"
    new["properties"]["name"] = "新开的小哥之家"
    new["geometry"]["coordinates"][0] += 0.0009
    document["features"].append(new)
    result = runner.invoke(
        args=["load-stations", str(_write(tmp_path / "x.geojson", document)), "--reason", "测试"]
    )
    assert result.exit_code == 0, result.output
    assert "1 added, 1 changed, 157 unchanged" in result.output
    assert client.get("/api/v1/stations/QT-BY-999").status_code == 200
    changed_id = document["features"][0]["id"]
    body = client.get(f"/api/v1/stations/{changed_id}").get_json()
    assert body["properties"]["address"] == "新地址 1 号"
    assert len(client.get("/api/v1/stations").get_json()["features"]) == 159


def test_csv_with_chinese_headers_and_bom_loads(
    runner: FlaskCliRunner, client: Any, tmp_path: Path
) -> None:
    station = _shipped()["features"][0]
    props = station["properties"]
    lon, lat = station["geometry"]["coordinates"]
    header = "编号,名称,英文名称,类型,街道,地址,经度,纬度,设施,开放时间,电话\n"
    row = (
        f"{station['id']},{props['name']}（CSV）,,{props['kind']},{props['street']},"
        f"{props['address']},{lon},{lat},drinking_water;rest,Mo-Su 08:00-20:00,\n"
    )
    path = tmp_path / "stations.csv"
    path.write_bytes((header + row).encode("utf-8-sig"))
    result = runner.invoke(args=["load-stations", str(path)])
    assert result.exit_code == 0, result.output
    body = client.get(f"/api/v1/stations/{station['id']}").get_json()
    assert body["properties"]["name"].endswith("（CSV）")
    assert body["properties"]["amenities"] == ["rest", "drinking_water"]


def test_gbk_csv_is_refused_with_a_clear_message(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "stations.csv"
    path.write_bytes("编号,名称\nQT-BY-001,白杨\n".encode("gbk"))
    result = runner.invoke(args=["load-stations", str(path)])
    assert result.exit_code != 0
    assert "not UTF-8" in result.output


def test_retire_missing_retires_and_export_keeps_them(
    runner: FlaskCliRunner, client: Any, tmp_path: Path
) -> None:
    document = _shipped()
    gone = document["features"].pop()
    result = runner.invoke(
        args=["load-stations", str(_write(tmp_path / "x.geojson", document)), "--retire-missing"]
    )
    assert result.exit_code == 0, result.output
    assert "1 retired" in result.output
    assert len(client.get("/api/v1/stations").get_json()["features"]) == 157
    exported = json.loads(_export(runner, tmp_path / "e.geojson"))
    retired = next(f for f in exported["features"] if f["id"] == gone["id"])
    assert retired["properties"]["active"] is False


def test_create_staff_makes_an_account_once(runner: FlaskCliRunner) -> None:
    args = ["create-staff", "admin", "--role", "union_admin", "--password", "a-long-password"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "created union_admin admin" in first.output
    again = runner.invoke(args=args)
    assert again.exit_code != 0
    assert "already an account" in again.output


def test_create_staff_rejects_short_passwords_and_street_staff_without_street(
    runner: FlaskCliRunner,
) -> None:
    short = runner.invoke(args=["create-staff", "a", "--password", "short"])
    assert "at least 10" in short.output
    street = runner.invoke(
        args=["create-staff", "b", "--role", "street_staff", "--password", "a-long-password"]
    )
    assert "needs --street" in street.output


def test_db_upgrade_reports_the_revision(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert "database at revision" in result.output


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_spreadsheet_export_load_round_trip_changes_nothing(
    runner: FlaskCliRunner, tmp_path: Path, suffix: str
) -> None:
    before = _export(runner, tmp_path / "before.geojson")
    sheet = tmp_path / f"stations.{suffix}"
    result = runner.invoke(args=["export-stations", "-o", str(sheet)])
    assert result.exit_code == 0, result.output
    if suffix == "csv":
        assert sheet.read_bytes().startswith("\ufeff编号".encode())  # BOM: Excel opens it
    result = runner.invoke(args=["load-stations", str(sheet)])
    assert result.exit_code == 0, result.output
    assert "0 added, 0 changed, 158 unchanged" in result.output
    assert _export(runner, tmp_path / "after.geojson") == before


def test_xlsx_with_a_formula_is_refused_by_the_cli(runner: FlaskCliRunner, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    sheet = tmp_path / "stations.xlsx"
    runner.invoke(args=["export-stations", "-o", str(sheet)])
    workbook = load_workbook(sheet)
    workbook.active["B2"] = '=CONCAT("a","b")'
    workbook.save(sheet)
    result = runner.invoke(args=["load-stations", str(sheet)])
    assert result.exit_code != 0
    assert "B2" in result.output and "nothing was loaded" in result.output
