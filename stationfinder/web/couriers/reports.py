"""The couriers' "信息有误 / 设施坏了" form: /stations/<id>/report, no account needed.

A tiny blueprint of its own, so the courier pages link to it without owning it. The
form carries a CSRF token (Flask-WTF; the token lives in the session cookie, so a
cross-site page cannot post it), posts are rate limited per device (the server-minted
key in the `sf_device` cookie, web/device_keys.py: a client-made id is replaced) and per
address whatever keys it holds, and an optional photo goes through `photos.store_photo`
(type and size checked, re-encoded without EXIF, so no location leaves the courier's
phone with it).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from stationfinder.core.text import N_
from stationfinder.core.vocabulary import AMENITY_BY_CODE
from stationfinder.db import get_session
from stationfinder.registry import photos, reports
from stationfinder.web import device_keys
from stationfinder.web.assets import asset_url
from stationfinder.web.couriers.confirm import DEVICE_COOKIE, device_and_address, device_hash
from stationfinder.web.errors import public_message
from stationfinder.web.i18n import remember_choice, template_context
from stationfinder.web.limits import limiter

REPORT_LIMIT = "6 per hour;20 per day"
# Rotating keys from one address (dropping the cookie each time) only reaches this.
REPORT_ADDRESS_LIMIT = "60 per hour;200 per day"

report_bp = Blueprint("report", __name__)


# What the courier reads when the registry refuses a report, by the refused field (the
# domain's own message is English for logs and the API; pages never show it).
FIELD_ERRORS = {
    "category": N_("Choose what is wrong."),
    "amenity": N_("Choose which facility is broken."),
    "message": N_("Write at most %(n)s characters."),
    "photo": N_("This photo cannot be used: choose a JPEG, PNG or WebP photo of at most %(n)s MB."),
}


class ReportForm(FlaskForm):
    # Labels are in the template; the values are the report categories.
    category = RadioField(
        choices=list(reports.CATEGORIES),
        validators=[DataRequired(message=lazy_gettext(FIELD_ERRORS["category"]))],
    )
    amenity = SelectField(choices=[], validate_choice=False, validators=[Optional()])
    message = TextAreaField(
        validators=[
            Optional(),
            Length(
                max=reports.MAX_MESSAGE,
                message=lazy_gettext(FIELD_ERRORS["message"], n=reports.MAX_MESSAGE),
            ),
        ]
    )
    photo = FileField()


def _field_error(field: str) -> str:
    limits = {"message": reports.MAX_MESSAGE, "photo": photos.MAX_BYTES // (1024 * 1024)}
    return gettext(FIELD_ERRORS.get(field, FIELD_ERRORS["category"]), n=limits.get(field, 0))


@report_bp.context_processor
def _context() -> dict[str, object]:
    return {
        **template_context(),
        "asset_url": asset_url,
        "amenity_by_code": AMENITY_BY_CODE,
        "courier_chrome": True,
    }


@report_bp.after_request
def _after(response: Response) -> Response:
    response.vary.add("Cookie")
    response.headers.setdefault("Cache-Control", "no-store")
    return remember_choice(response)


def _device() -> tuple[str, bool]:
    """The device's minted key and whether it is new; a client-made id is not one."""
    key = device_keys.presented(request.cookies.get(DEVICE_COOKIE))
    if key is not None:
        return key, False
    return device_keys.mint(), True


@report_bp.route("/stations/<station_id>/report", methods=["GET", "POST"])
@limiter.limit(REPORT_LIMIT, key_func=device_and_address, methods=["POST"])
@limiter.limit(REPORT_ADDRESS_LIMIT, methods=["POST"])
def report(station_id: str) -> tuple[str, int] | Response:
    session = get_session()
    station = reports.reportable_station(session, station_id)
    if station is None:
        abort(404)
    session.commit()  # end the read; the write below has its own transaction
    form = ReportForm()
    form.amenity.choices = list(station.amenities or [])
    device, _new = _device()
    status = 200
    sent = False
    if form.validate_on_submit():
        try:
            with session.begin():
                photo_id = None
                upload = form.photo.data
                if upload and getattr(upload, "filename", ""):
                    data = upload.stream.read(photos.MAX_BYTES + 1)
                    photo_id = photos.store_photo(session, data).id
                reports.file_report(
                    session,
                    station.id,
                    form.category.data,
                    amenity=form.amenity.data or None,
                    message=form.message.data,
                    photo_id=photo_id,
                    device_hash=device_hash(device),
                )
        except photos.PhotoError as exc:  # say what is wrong with it (too big, not a photo)
            form.photo.errors = [*form.photo.errors, public_message(exc)]
        except reports.ReportError as exc:
            field = exc.field if exc.field in FIELD_ERRORS else "category"
            target = getattr(form, field)
            target.errors = [*target.errors, _field_error(field)]
        else:
            sent = True
    if form.errors:
        status = 400
    html = render_template(
        "report.html",
        station=station,
        form=form,
        sent=sent,
        photo_max_mb=photos.MAX_BYTES // (1024 * 1024),
    )
    response = current_app.make_response((html, status))
    return device_keys.keep(response, DEVICE_COOKIE, device)
