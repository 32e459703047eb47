"""The registry as the spreadsheets staff keep it in: CSV (UTF-8) and XLSX, read and written.

Reading gives rows for `registry.validate_rows` / `plan_load` / `apply_load`, each with
`_line`, the spreadsheet row it came from (the header is row 1), so a rejection can name
the row staff see in Excel. Headers may be Chinese or English, as `registry.fields`
declares each column's.

What is refused, and why:

- CSV that is not UTF-8. Excel's plain "CSV (逗号分隔)" on a Chinese Windows writes GBK;
  guessing encodings silently corrupts names, so the message says how to save as UTF-8.
- Formulas in XLSX. A cached result may be stale or missing (files written by scripts
  carry none), so a formula's value cannot be trusted; the message names the cell.
- Merged cells in XLSX. Only the top-left cell of a merged range holds a value, so rows
  below it would silently lose theirs; the message names the range.

XLSX is read with openpyxl in read-only mode (it streams rows instead of building the
whole sheet in memory). Read-only worksheets do not expose merged ranges, so those are
read from the sheet's XML directly. Before openpyxl sees the file, its zip directory is
checked so that a small upload cannot expand into gigabytes.

Written files open in Excel as they are: CSV carries a BOM, and text that Excel would
run as a formula (`=`, `+`, `-`, `@` first) is written as text (XLSX) or behind an
apostrophe (CSV), which reading removes again. No Flask here. openpyxl is imported
where a workbook is read or written: at the top it cost ~0.3 s of every worker's start.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from xml.etree import ElementTree

from stationfinder.core.text import N_
from stationfinder.models import Station
from stationfinder.registry import fields
from stationfinder.registry.fields import FieldType
from stationfinder.registry.stations import (
    COORDINATE_DECIMALS,
    CSV_HEADERS,
    Problem,
    RegistryError,
    read_geojson,
)

# Columns in the order staff see them: the id, then the fields the registry loads.
COLUMNS: tuple[str, ...] = fields.COLUMNS
_SPECS = tuple(fields.field(name) for name in COLUMNS)
CHINESE_HEADERS: dict[str, str] = {f.name: f.header_zh or f.name for f in _SPECS}
# Columns whose cells are text even when Excel kept digits as a number (a phone, an id).
TEXT_COLUMNS = frozenset(f.name for f in _SPECS if f.type in (FieldType.TEXT, FieldType.CODES))
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FALSE_WORDS = frozenset({"false", "0", "no", "否", "停用"})
TRUE_WORDS = frozenset({"true", "1", "yes", "是"})
# Yes/no columns that may also be unknown (blank): a word that is neither yes nor no
# is left for validation to refuse rather than read as yes.
_FLAGS = tuple(f.name for f in _SPECS if f.type is FieldType.BOOLEAN and f.nullable)

# A registry of a few thousand stations is well under a megabyte of sheet XML; far more
# than that means a zip bomb or not a station list.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


class SpreadsheetError(RegistryError):
    """The file cannot be read as a station list; the message says what to do."""


FORMATS = ("geojson", "csv", "xlsx")


def format_of(filename: str) -> str:
    """The import format a file name says, or SpreadsheetError."""
    lowered = filename.lower().strip()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith(".xlsx"):
        return "xlsx"
    if lowered.endswith((".geojson", ".json")):
        return "geojson"
    if lowered.endswith(".xls"):
        raise SpreadsheetError(
            N_(
                "old Excel .xls files cannot be read; save it as an Excel workbook (.xlsx) "
                "or as CSV UTF-8"
            )
        )
    raise SpreadsheetError(N_("choose a .xlsx, .csv or .geojson file"))


def read_rows(data: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows from an uploaded file of any import format, chosen by its name."""
    kind = format_of(filename)
    if kind == "csv":
        return read_csv(data)
    if kind == "xlsx":
        return read_xlsx(data)
    return read_geojson(data)


# --- reading CSV ------------------------------------------------------------------


def read_csv(data: bytes) -> list[dict[str, Any]]:
    """Rows from a UTF-8 CSV (a BOM is fine); GBK and other encodings are refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _not_utf8(data) from None
    records = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(records, None)
        if header is None:
            raise SpreadsheetError(N_("the CSV is empty; the first row must hold the column names"))
        keys = _header_keys(header, [f"column {n}" for n in range(1, len(header) + 1)])
        rows = []
        for record in records:
            if not any(cell.strip() for cell in record):
                continue  # a blank line, as Excel leaves at the end
            cells: list[Any] = list(record)
            rows.append(_row(keys, cells, records.line_num))
    except csv.Error as exc:
        raise SpreadsheetError(
            N_("the CSV cannot be read (line %(line)s: %(error)s)"),
            params={"line": records.line_num, "error": str(exc)},
        ) from None
    return rows


def _not_utf8(data: bytes) -> SpreadsheetError:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return SpreadsheetError(
            N_(
                "the CSV is in an unknown encoding, not UTF-8. In Excel choose File → Save As "
                'and the type "CSV UTF-8 (Comma delimited) (*.csv)"; in WPS choose the UTF-8 '
                "encoding when saving; or upload the .xlsx workbook itself"
            ),
            code="not_utf8",
        )
    return SpreadsheetError(
        N_(
            'the CSV is in GBK (Excel\'s plain "CSV (Comma delimited)"), not UTF-8. In Excel '
            'choose File → Save As and the type "CSV UTF-8 (Comma delimited) (*.csv)"; in WPS '
            "choose the UTF-8 encoding when saving; or upload the .xlsx workbook itself"
        ),
        code="not_utf8",
    )


# --- reading XLSX -----------------------------------------------------------------


def read_xlsx(data: bytes) -> list[dict[str, Any]]:
    """Rows from the first worksheet of an Excel workbook; formulas and merged cells refused."""
    from openpyxl import load_workbook

    archive = _open_zip(data)
    sheet_path = _first_sheet_path(archive)
    merged = _merged_ranges(archive, sheet_path)
    if merged:
        shown = ", ".join(merged[:5]) + (" …" if len(merged) > 5 else "")
        raise SpreadsheetError(
            N_(
                "the sheet has merged cells (%(cells)s); unmerge them (Home → Merge & Center → "
                "Unmerge Cells) and fill in every row's own values"
            ),
            params={"cells": shown},
        )
    try:
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # untrusted input: openpyxl raises many kinds
        raise SpreadsheetError(
            N_("the workbook cannot be read (%(error)s)"), params={"error": type(exc).__name__}
        ) from None
    try:
        if not formulas.worksheets:
            raise SpreadsheetError(N_("the workbook has no worksheet"))
        _refuse_formulas(formulas.worksheets[0].iter_rows())
        return _sheet_rows(values.worksheets[0].iter_rows(values_only=True))
    finally:
        formulas.close()
        values.close()


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SpreadsheetError(
            N_("not an Excel workbook (.xlsx); save the file as .xlsx")
        ) from None
    entries = archive.infolist()
    # zipfile stops each entry at its declared size, so the declared sizes bound the work.
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(
            N_("the workbook is far larger than a station list; nothing was read")
        )
    return archive


def _read_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(archive.read(name))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile):
        raise SpreadsheetError(
            N_("not an Excel workbook (.xlsx); save the file as .xlsx")
        ) from None


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    """The zip path of the workbook's first worksheet, through the workbook's relations."""
    workbook = _read_xml(archive, "xl/workbook.xml")
    sheet = workbook.find(f"{{{_MAIN_NS}}}sheets/{{{_MAIN_NS}}}sheet")
    if sheet is None:
        raise SpreadsheetError(N_("the workbook has no worksheet"))
    rel_id = sheet.get(f"{{{_REL_NS}}}id")
    relations = _read_xml(archive, "xl/_rels/workbook.xml.rels")
    for relation in relations.iter(f"{{{_PKG_REL_NS}}}Relationship"):
        if relation.get("Id") == rel_id:
            target = relation.get("Target") or ""
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise SpreadsheetError(N_("not an Excel workbook (.xlsx); save the file as .xlsx"))


def _merged_ranges(archive: zipfile.ZipFile, sheet_path: str) -> list[str]:
    if sheet_path not in archive.namelist():
        raise SpreadsheetError(N_("not an Excel workbook (.xlsx); save the file as .xlsx"))
    found = []
    with archive.open(sheet_path) as stream:
        try:
            for _event, element in ElementTree.iterparse(stream):
                if element.tag == f"{{{_MAIN_NS}}}mergeCell":
                    found.append(element.get("ref") or "?")
                element.clear()  # stream: keep memory flat on a long sheet
        except ElementTree.ParseError:
            raise SpreadsheetError(
                N_("the worksheet cannot be read; save the file again")
            ) from None
    return found


def _refuse_formulas(rows: Iterable[Sequence[Any]]) -> None:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    for row in rows:
        for cell in row:
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or isinstance(
                value, ArrayFormula | DataTableFormula
            ):
                raise SpreadsheetError(
                    N_(
                        "cell %(cell)s holds a formula; replace formulas with their values "
                        "(Copy → Paste Special → Values) and upload again"
                    ),
                    params={"cell": cell.coordinate},
                )


def _sheet_rows(records: Iterator[Sequence[Any]]) -> list[dict[str, Any]]:
    from openpyxl.utils import get_column_letter

    header = next(records, None)
    if header is None or not any(_present(v) for v in header):
        raise SpreadsheetError(N_("the sheet is empty; row 1 must hold the column names"))
    names = [str(v).strip() if _present(v) else "" for v in header]
    keys = _header_keys(names, [f"column {get_column_letter(n)}" for n in range(1, len(names) + 1)])
    rows = []
    for line, record in enumerate(records, start=2):
        if not any(_present(v) for v in record):
            continue
        rows.append(_row(keys, [_cell_text(keys, i, v) for i, v in enumerate(record)], line))
    return rows


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _cell_text(keys: Sequence[str | None], index: int, value: Any) -> Any:
    """Excel keeps a phone number or an id typed as digits as a number; text columns want text."""
    key = keys[index] if index < len(keys) else None
    if value is None or isinstance(value, str):
        return value
    if key not in TEXT_COLUMNS:
        # Numbers and booleans as Excel keeps them; a date in a number column is text,
        # which validation then names (rows also travel as JSON between preview and apply).
        return value if isinstance(value, bool | int | float) else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- shared row building ----------------------------------------------------------


def _header_keys(header: Sequence[str], labels: Sequence[str]) -> list[str | None]:
    """Registry field names for each column; None for an empty trailing column."""
    keys: list[str | None] = []
    unknown = []
    for name, label in zip(header, labels, strict=True):
        name = name.strip().lstrip("\ufeff")
        if not name:
            keys.append(None)
            continue
        key = CSV_HEADERS.get(name) or CSV_HEADERS.get(name.lower())
        if key is None:
            unknown.append(f"{name!r} ({label})")
        keys.append(key)
    if unknown:
        raise SpreadsheetError(
            N_("unknown column(s) %(unknown)s; use the headers of an export (%(zh)s or %(en)s)"),
            params={
                "unknown": ", ".join(unknown),
                "zh": ", ".join(CHINESE_HEADERS[c] for c in COLUMNS),
                "en": ", ".join(COLUMNS),
            },
        )
    doubled = sorted({k for k in keys if k is not None and keys.count(k) > 1})
    if doubled:
        raise SpreadsheetError(
            N_("column(s) given twice: %(columns)s"), params={"columns": ", ".join(doubled)}
        )
    if "id" not in keys:
        raise SpreadsheetError(N_("the id column (编号) is missing"))
    return keys


def _row(keys: Sequence[str | None], cells: Sequence[Any], line: int) -> dict[str, Any]:
    row: dict[str, Any] = {"_line": line}
    for index, value in enumerate(cells):
        key = keys[index] if index < len(keys) else None
        if key is None:
            if _present(value):
                row["_geometry_error"] = "the row has a value in a column without a header"
            continue
        if isinstance(value, str):
            value = _unescape(value.strip())
            if value == "":
                value = None
        row[key] = value
    if isinstance(row.get("active"), str):
        row["active"] = row["active"].lower() not in FALSE_WORDS
    elif isinstance(row.get("active"), int | float) and not isinstance(row.get("active"), bool):
        row["active"] = bool(row["active"])
    elif row.get("active") is None:
        row.pop("active", None)
    for name in _FLAGS:
        value = row.get(name)
        if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
            row[name] = value.lower() in TRUE_WORDS
        elif isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
            row[name] = bool(value)
    return row


def _unescape(value: str) -> str:
    """Undo the apostrophe exports put before text Excel would run as a formula."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


_FEATURE_NUMBER = re.compile(r"^feature (\d+)")


def line_of(problem: Problem, rows: Sequence[Mapping[str, Any]]) -> int | None:
    """The spreadsheet row a validation problem is about, when the rows came from one."""
    match = _FEATURE_NUMBER.match(problem.where)
    if match is None:
        return None
    number = int(match.group(1))
    if not 1 <= number <= len(rows):
        return None
    line = rows[number - 1].get("_line")
    return line if isinstance(line, int) else None


# --- writing ----------------------------------------------------------------------


def _header(english: bool) -> list[str]:
    return list(COLUMNS) if english else [CHINESE_HEADERS[c] for c in COLUMNS]


def _values(station: Station, english: bool) -> list[Any]:
    yes, no = ("true", "false") if english else ("是", "否")
    values: list[Any] = []
    for spec in _SPECS:
        value = getattr(station, spec.name)
        if spec.type is FieldType.NUMBER:
            value = round(value, COORDINATE_DECIMALS)
        elif spec.type is FieldType.CODES:
            value = ";".join(value or [])  # what reading splits again
        elif spec.type is FieldType.BOOLEAN and value is not None:
            value = yes if value else no  # unknown (None) stays a blank cell
        values.append(value)
    return values


def export_csv(stations: Iterable[Station], *, english: bool = False) -> bytes:
    """The registry as CSV with a BOM, so Excel opens it as UTF-8. Chinese headers unless asked."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_header(english))
    for station in sorted(stations, key=lambda s: s.id):
        writer.writerow(
            [
                "" if v is None else _escape(v) if isinstance(v, str) else repr(v)
                for v in _values(station, english)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _escape(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def export_xlsx(stations: Iterable[Station], *, english: bool = False) -> bytes:
    """The registry as an Excel workbook with one sheet; every text cell stays text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "stations" if english else "小哥之家"
    sheet.append(_header(english))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for station in sorted(stations, key=lambda s: s.id):
        sheet.append(_values(station, english))
        for cell in sheet[sheet.max_row]:
            # openpyxl would store "=..." as a formula; staff text is never one.
            if isinstance(cell.value, str):
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    widths = {"id": 12, "name": 28, "address": 36, "amenities": 40, "opening_hours": 28}
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(column, 14)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
