"""Station photos: a courier sees a small clean picture; what the phone hid in the file
(GPS position, camera) is gone; what is not an image, or too big, is refused.

Hostile files (scripts named .jpg, SVG, polyglots, decompression bombs, path tricks in
the file name) are tried through every upload form in tests/security/test_uploads.py."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from images import png_claiming
from PIL import ExifTags, Image
from sqlalchemy import func, select
from staff_login import PASSWORD, csrf_from
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from stationfinder.db import session_scope
from stationfinder.models import Photo, StaffAccount, Station
from stationfinder.registry import photos

OWN = "QT-BY-001"


def phone_photo(width: int = 3000, height: int = 2000) -> bytes:
    """A JPEG as a phone writes it: camera make, GPS position, a rotation tag."""
    image = Image.new("RGB", (width, height), (200, 60, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 6  # stored sideways, shown upright
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 19.0, 42.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 20.0, 36.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def test_a_phone_photo_is_resized_turned_upright_and_stripped() -> None:
    original = phone_photo()
    with Image.open(io.BytesIO(original)) as source:
        assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the position is in there
    content, mime, width, height = photos.clean_image(original)
    assert mime == "image/jpeg"
    assert (width, height) == (853, 1280)  # upright (portrait) and at most 1280 px
    with Image.open(io.BytesIO(content)) as cleaned:
        assert cleaned.size == (853, 1280)
        assert dict(cleaned.getexif()) == {}
        assert not cleaned.info.get("exif") and not cleaned.info.get("icc_profile")
    assert b"Exif" not in content and b"PhoneMaker" not in content


def test_transparency_is_kept_as_webp() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(out, "PNG")
    content, mime, width, height = photos.clean_image(out.getvalue())
    assert (mime, width, height) == ("image/webp", 300, 200)
    assert content[8:12] == b"WEBP"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"GIF89a not really", "not a JPEG, PNG or WebP"),
        (phone_photo(400, 300)[:600], "damaged"),
        (png_claiming(7_000, 7_000), "pixels"),  # below Pillow's own limit, above ours
    ],
)
def test_what_is_not_a_usable_image_is_refused(data: bytes, words: str) -> None:
    photos.configure_pillow()
    with pytest.raises(photos.PhotoError, match=words):
        photos.clean_image(data)


def test_a_file_over_8_mb_is_refused() -> None:
    with pytest.raises(photos.PhotoError, match="larger than 8 MB"):
        photos.clean_image(b"\xff\xd8" + b"\x00" * photos.MAX_BYTES)


# --- on the edit page ---------------------------------------------------------------------


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    with session_scope(app) as session:
        session.add(
            StaffAccount(
                username="baiyang",
                password_hash=PasswordHasher().hash(PASSWORD),
                role="street_staff",
                street="白杨街道",
            )
        )
    client = app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    client.post(
        "/staff/login", data={"username": "baiyang", "password": PASSWORD, "csrf_token": token}
    )
    return client


def _edit_data(client: FlaskClient, app: Flask, photo: tuple[io.BytesIO, str]) -> dict:
    page = client.get(f"/staff/stations/{OWN}/edit").get_data(as_text=True)
    with session_scope(app) as session:
        s = session.get(Station, OWN)
        return {
            "csrf_token": csrf_from(page),
            "version": str(s.version),
            "name": s.name,
            "kind": s.kind,
            "street": s.street,
            "address": s.address,
            "crs": "wgs84",
            "lon": str(s.lon),
            "lat": str(s.lat),
            "amenities": list(s.amenities),
            "opening_hours": s.opening_hours or "",
            "phone": s.phone or "",
            "photo": photo,
            "action": "save",
        }


def _flat(data: dict) -> Iterator[tuple[str, object]]:
    for key, value in data.items():
        if isinstance(value, tuple):
            yield key, FileStorage(value[0], filename=value[1])
        elif isinstance(value, list):
            yield from ((key, v) for v in value)
        else:
            yield key, value


def _photo_count(app: Flask) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(Photo)) or 0


def test_a_photo_uploaded_with_an_edit_is_served_clean_and_cacheable(
    app: Flask, staff: FlaskClient
) -> None:
    data = _edit_data(staff, app, (io.BytesIO(phone_photo()), "front.jpg"))
    saved = staff.post(f"/staff/stations/{OWN}/edit", data=data, content_type="multipart/form-data")
    assert saved.status_code == 302
    with session_scope(app) as session:
        photo_id = session.get(Station, OWN).photo_id
    assert photo_id
    served = app.test_client().get(f"/photos/{photo_id}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"]
    assert "public" in served.headers["Cache-Control"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"Exif" not in served.data
    again = app.test_client().get(
        f"/photos/{photo_id}", headers={"If-None-Match": served.headers["ETag"]}
    )
    assert again.status_code == 304
    assert app.test_client().get("/photos/nothing-here").status_code == 404
    history = staff.get(f"/staff/stations/{OWN}/history").get_data(as_text=True)
    assert photo_id in history


def test_a_50_mb_upload_is_413_and_changes_nothing(app: Flask, staff: FlaskClient) -> None:
    data = _edit_data(staff, app, (io.BytesIO(b"\x00" * (50 * 1024 * 1024)), "huge.jpg"))
    # Encoded here, in memory: the test client would spool it to a file it never closes.
    boundary, body = encode_multipart(MultiDict(list(_flat(data))))
    response = staff.post(
        f"/staff/stations/{OWN}/edit",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert _photo_count(app) == 0
    with session_scope(app) as session:
        assert session.get(Station, OWN).version == 1
