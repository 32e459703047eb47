"""Reading and writing the registry as the spreadsheets staff keep it in."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from openpyxl import Workbook, load_workbook

from stationfinder.core.text import translations
from stationfinder.db import session_scope
from stationfinder.geo.areas import Areas
from stationfinder.registry import spreadsheets
from stationfinder.registry import stations as registry
from stationfinder.registry.spreadsheets import SpreadsheetError
from stationfinder.web.context import current_areas

HEADER_ZH = "编号,名称,类型,街道,地址,经度,纬度,设施,开放时间,电话\r\n"
ROW = (
    "QT-XS-900,金沙湖驿站,工会驿站,下沙街道,金沙湖路1号,120.3181,30.3051,"
    "rest;toilet,Mo-Su 08:00-20:00,0571-8888 1234\r\n"
)


@pytest.fixture
def areas(app: Flask) -> Areas:
    return current_areas(app)


def _xlsx(rows: list[list[object]], merge: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_with_bom_and_chinese_headers_reads_as_rows(areas: Areas) -> None:
    rows = spreadsheets.read_csv(("\ufeff" + HEADER_ZH + ROW).encode("utf-8"))
    assert rows[0]["id"] == "QT-XS-900"
    assert rows[0]["_line"] == 2
    stations, problems = registry.validate_rows(rows, areas)
    assert problems == []
    assert stations[0].amenities == ("rest", "toilet")


def test_csv_in_gbk_is_refused_with_how_to_save_as_utf8() -> None:
    data = (HEADER_ZH + ROW).encode("gbk")
    with pytest.raises(SpreadsheetError) as caught:
        spreadsheets.read_csv(data)
    message = str(caught.value)
    assert "GBK" in message
    assert "CSV UTF-8" in message and "Save As" in message
    # A Chinese page names the menus of a Chinese Excel.
    chinese = translations("zh").gettext(caught.value.template)
    assert "GBK" in chinese and "另存为" in chinese and "CSV UTF-8" in chinese


def test_unknown_column_is_named() -> None:
    with pytest.raises(SpreadsheetError, match="'备注'"):
        spreadsheets.read_csv("编号,名称,备注\r\nQT-XS-900,a,b\r\n".encode())


def test_xlsx_reads_numbers_typed_in_text_columns_as_text(areas: Areas) -> None:
    data = _xlsx(
        [
            ["编号", "名称", "类型", "街道", "经度", "纬度", "电话", "在用"],
            [],
            [
                "QT-XS-900",
                "金沙湖驿站",
                "工会驿站",
                "下沙街道",
                120.3181,
                30.3051,
                13800000000,
                "是",
            ],
        ]
    )
    rows = spreadsheets.read_xlsx(data)
    assert rows == [
        {
            "_line": 3,
            "id": "QT-XS-900",
            "name": "金沙湖驿站",
            "kind": "工会驿站",
            "street": "下沙街道",
            "lon": 120.3181,
            "lat": 30.3051,
            "phone": "13800000000",
            "active": True,
        }
    ]
    assert registry.validate_rows(rows, areas)[1] == []


def test_xlsx_with_a_formula_is_refused_naming_the_cell() -> None:
    data = _xlsx([["编号", "名称", "经度"], ["QT-XS-900", "a", "=120+0.3"]])
    with pytest.raises(SpreadsheetError, match=r"cell C2 holds a formula"):
        spreadsheets.read_xlsx(data)


def test_xlsx_with_merged_cells_is_refused_naming_the_range() -> None:
    data = _xlsx(
        [["编号", "名称", "街道"], ["QT-XS-900", "a", "下沙街道"], ["QT-XS-901", "b", None]],
        merge="C2:C3",
    )
    with pytest.raises(SpreadsheetError, match=r"merged cells \(C2:C3\)"):
        spreadsheets.read_xlsx(data)


def test_a_zip_that_expands_enormously_is_refused_before_parsing() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert len(out.getvalue()) < 200_000
    with pytest.raises(SpreadsheetError, match="far larger"):
        spreadsheets.read_xlsx(out.getvalue())


def test_not_a_workbook_and_old_xls_are_refused() -> None:
    with pytest.raises(SpreadsheetError, match=r"not an Excel workbook"):
        spreadsheets.read_xlsx(b"PK not really")
    with pytest.raises(SpreadsheetError, match=r"\.xls files"):
        spreadsheets.read_rows(b"", "名录.xls")


def test_export_then_import_changes_nothing(app: Flask, areas: Areas) -> None:
    with session_scope(app) as session:
        stations = registry.all_stations(session)
        for english in (False, True):
            for data, name in (
                (spreadsheets.export_csv(stations, english=english), "x.csv"),
                (spreadsheets.export_xlsx(stations, english=english), "x.xlsx"),
            ):
                rows = spreadsheets.read_rows(data, name)
                report, _ = registry.plan_load(session, rows, areas, retire_missing=True)
                assert report.problems == []
                assert (report.added, report.changed, report.retired) == ([], {}, [])
                assert report.unchanged == len(stations)


def test_csv_export_has_bom_and_chinese_headers_by_default(app: Flask) -> None:
    with session_scope(app) as session:
        data = spreadsheets.export_csv(registry.all_stations(session))
    assert data.startswith("\ufeff编号,名称,".encode())
    english = spreadsheets.export_csv([], english=True)
    assert english.startswith("\ufeffid,name,name_en,".encode())


def test_text_that_excel_would_run_stays_text_and_round_trips(app: Flask, areas: Areas) -> None:
    with session_scope(app) as session:
        station = registry.get_station(session, "QT-XS-001")
        assert station is not None
        station.name = '=HYPERLINK("http://evil.example","点我")'
        station.phone = "+86 571 8888 1234"
        csv_bytes = spreadsheets.export_csv([station])
        xlsx_bytes = spreadsheets.export_xlsx([station])
        assert "'=HYPERLINK" in csv_bytes.decode("utf-8-sig")
        sheet = load_workbook(io.BytesIO(xlsx_bytes)).worksheets[0]
        assert sheet["B2"].data_type == "s"
        for data, name in ((csv_bytes, "a.csv"), (xlsx_bytes, "a.xlsx")):
            (row,) = spreadsheets.read_rows(data, name)
            assert row["name"] == station.name
            assert row["phone"] == station.phone
        session.rollback()


def test_line_of_names_the_spreadsheet_row(areas: Areas) -> None:
    data = (HEADER_ZH + ROW + "\r\n" + ROW.replace("120.3181", "121.9")).encode()
    rows = spreadsheets.read_csv(data)
    _, problems = registry.validate_rows(rows, areas)
    assert [spreadsheets.line_of(p, rows) for p in problems] == [4]
