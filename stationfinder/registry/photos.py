"""Uploaded photos: checked, decoded safely, resized and stripped of every metadata block.

Nothing an uploader sends is kept as sent. The bytes are sniffed (the file name and the
declared type are not trusted), the pixel count is checked from the header before any
decoding (a 100-kilobyte PNG can claim 50,000 × 50,000 pixels), and the pixels are
copied into a new image that has no EXIF (GPS position, camera serial), XMP, ICC or
comment blocks, then encoded again: JPEG, or WebP where the image has transparency.
No Flask here; staff pages and couriers' reports both call `store_photo`.
"""

from __future__ import annotations

import io
import uuid
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from stationfinder.core.errors import DomainError
from stationfinder.core.text import N_
from stationfinder.models import Photo

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 50-megapixel phone photo is bigger; 40 MP covers most
MAX_SIDE = 1280
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
JPEG_QUALITY = 82


class PhotoError(DomainError):
    """An upload that is not a usable photo; the message says why, for the uploader."""

    code = "invalid_photo"


def configure_pillow() -> None:
    """Pillow's own decompression-bomb limit, lowered to ours (once, at app start)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def clean_image(data: bytes) -> tuple[bytes, str, int, int]:
    """(encoded bytes, MIME type, width, height) of a cleaned copy of an uploaded image."""
    if not data:
        raise PhotoError(N_("the file is empty"), "photo")
    if len(data) > MAX_BYTES:
        raise PhotoError(
            N_("the photo is larger than %(mb)s MB"),
            "photo",
            params={"mb": MAX_BYTES // (1024 * 1024)},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise PhotoError(
                        N_("the image has more than %(pixels)s pixels"),
                        "photo",
                        params={"pixels": f"{MAX_PIXELS:,}"},
                    )
                image.seek(0)  # an animation's first frame
                image.load()
                upright = ImageOps.exif_transpose(image)  # phones store rotation in EXIF
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(
            N_("the image has more than %(pixels)s pixels"),
            "photo",
            params={"pixels": f"{MAX_PIXELS:,}"},
        ) from None
    except UnidentifiedImageError:
        raise PhotoError(N_("the file is not a JPEG, PNG or WebP image"), "photo") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise PhotoError(N_("the image is damaged or cut short"), "photo") from None

    transparent = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    mode = "RGBA" if transparent else "RGB"
    converted = upright.convert(mode)
    converted.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Only the pixels travel to the new image: no info dict, no EXIF, no profile.
    clean = Image.frombytes(mode, converted.size, converted.tobytes())
    out = io.BytesIO()
    if transparent:
        clean.save(out, format="WEBP", quality=JPEG_QUALITY, method=4)
        mime = "image/webp"
    else:
        clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        mime = "image/jpeg"
    return out.getvalue(), mime, clean.width, clean.height


def store_photo(session: Session, data: bytes) -> Photo:
    """Clean an upload and add it to the session (the caller commits)."""
    content, mime, width, height = clean_image(data)
    photo = Photo(id=uuid.uuid4().hex, content=content, mime=mime, width=width, height=height)
    session.add(photo)
    session.flush()
    return photo


def get_photo(session: Session, photo_id: str) -> Photo | None:
    if len(photo_id) > 32:
        return None
    return session.get(Photo, photo_id)
