"""A photo attached to the raise form, kept for the courier's next tap.

The similar-issues step (or a refused field) shows the form again, and a browser cannot
refill a file input, so the photo would be lost without a word. Instead it is cleaned
and stored as soon as it is posted, and the form carries a signed token for it (never
the bare photo id: a forged id could otherwise attach someone else's photo to a public
issue). The token is bound to the phone's key and lasts a day. A photo that is never
sent stays unreferenced: no page serves a photo except through the issue it belongs to.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from stationfinder.registry import photos
from stationfinder.web.council.common import device_hash

FIELD = "pending_photo"
MAX_AGE_S = 24 * 3600
_SALT = "council-pending-photo"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def token_for(photo_id: str, key: str) -> str:
    return _serializer().dumps({"photo": photo_id, "device": device_hash(key)})


def photo_from(session: Session, token: str | None, key: str) -> str | None:
    """The kept photo's id, when the token is ours, this phone's, fresh, and its photo
    still exists; otherwise None (the courier may attach one again)."""
    if not token or len(token) > 512:
        return None
    try:
        payload = _serializer().loads(token, max_age=MAX_AGE_S)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(payload, dict) or payload.get("device") != device_hash(key):
        return None
    photo_id = payload.get("photo")
    if not isinstance(photo_id, str) or photos.get_photo(session, photo_id) is None:
        return None
    return photo_id


def store_upload(session: Session, upload: FileStorage) -> str:
    """Clean and add the upload (the caller commits); PhotoError when it is no image."""
    return photos.store_photo(session, upload.stream.read(photos.MAX_BYTES + 1)).id
