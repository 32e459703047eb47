"""Station editing pages: the list, create, edit (with the map and the photo), retire,
reinstate, and amenities out of service; the public photo route.

Views parse the form, call `editing` inside one transaction, and render. A stale
version answers 409 with both values side by side; nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.core import hours
from stationfinder.db import get_session
from stationfinder.geo import crs
from stationfinder.geo.point import CRS, Point
from stationfinder.models import Station
from stationfinder.registry import editing, fields, photos
from stationfinder.registry.fields import FieldType
from stationfinder.web import maps
from stationfinder.web.assets import vendor_assets
from stationfinder.web.auth import StaffUser, current_staff, staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.i18n import current_lang, refusal_words
from stationfinder.web.staff import bp
from stationfinder.web.staff.forms import (
    ListFilterForm,
    OutOfServiceForm,
    ReasonForm,
    RetireForm,
    StationForm,
)

EDITORS = editing.STATION_EDITORS
SHANGHAI_TZ = hours.TZ
photos_bp = Blueprint("photos", __name__)


class NeedsConfirmation(Exception):
    """Roll the save back: the editor has not yet seen the nearby/same-name warnings."""

    def __init__(self, warnings: list[editing.NearbyWarning]) -> None:
        super().__init__("warnings")
        self.warnings = warnings


def _staff() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # staff_required ran first
    return staff


def _areas() -> Any:
    return current_areas()


def _raise_public(exc: editing.EditError) -> None:
    """A refusal that is about the page, not a field (no right to it, no such station):
    the app's one error handler answers it; any other is shown on the form."""
    if isinstance(exc, editing.NotAllowed | editing.StationNotFound):
        raise exc


def _version(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


# --- list ---------------------------------------------------------------------------


@bp.get("/stations")
@staff_required()
def station_list() -> str:
    staff = _staff()
    args = request.args.copy()
    if "street" not in args and staff.role == editing.STREET_STAFF and staff.street:
        args["street"] = staff.street
    if "district" not in args and staff.role == editing.DISTRICT_ADMIN and staff.district:
        args["district"] = staff.district
    form = ListFilterForm(formdata=args)
    form.validate()
    query = select(Station)
    q = (form.q.data or "").strip()
    if q:
        needle = q.lower()
        query = query.where(
            or_(
                func.lower(Station.id).contains(needle, autoescape=True),
                func.lower(Station.name).contains(needle, autoescape=True),
                func.lower(Station.address).contains(needle, autoescape=True),
            )
        )
    if form.street.data:
        query = query.where(Station.street == form.street.data)
    if form.district.data:
        query = query.where(Station.street.in_(_areas().subdistrict_keys(form.district.data)))
    if form.kind.data:
        query = query.where(Station.kind == form.kind.data)
    if form.state.data == "active":
        query = query.where(Station.active)
    elif form.state.data == "retired":
        query = query.where(Station.active.is_(False))
    rows = get_session().scalars(query.order_by(Station.id).limit(500)).all()
    return render_template("staff/stations.html", form=form, stations=rows, staff=staff)


# --- create and edit ----------------------------------------------------------------


@bp.app_template_global()
def station_field_label(name: str) -> str:
    """A station field's declared label in the page's language (history, conflicts and
    import problems name fields by their code); other names are shown as they are."""
    label = fields.LABELS.get(name)
    return gettext(label) if label is not None else name


# The form's station fields, as declared editable (lon and lat among them).
_EDITABLE = tuple(f for f in fields.STATION_FIELDS if f.editable)


def _form_values(form: StationForm) -> dict[str, Any]:
    """What the form says, in WGS-84; InvalidStation when the point is not a point.

    A blank box is None where the declaration lets the field be empty (nullable), or
    where it is a choice left unmade (the subdistrict then follows the point); "" else.
    A count or a yes/no keeps 0 and False; blank is None (unknown).
    """
    try:
        typed = Point(float(form.lon.data), float(form.lat.data), CRS(form.crs.data))
    except (TypeError, ValueError) as exc:
        raise editing.InvalidStation(str(exc), field="lon") from None
    point = crs.to_wgs84(typed)
    values: dict[str, Any] = {}
    for spec in _EDITABLE:
        data = getattr(form, spec.name).data
        if spec.type is FieldType.NUMBER:
            values[spec.name] = getattr(point, spec.name)
        elif spec.type is FieldType.CODES:
            values[spec.name] = list(data or [])
        elif spec.type in (FieldType.INTEGER, FieldType.BOOLEAN):
            values[spec.name] = data  # 0 seats and "no" are answers, not blanks
        else:
            values[spec.name] = data or (None if spec.nullable or spec.choices else "")
    return values


def _fill(form: StationForm, station: Station) -> None:
    form.version.data = str(station.version)
    form.station_id.data = station.id
    form.crs.data = "wgs84"
    for spec in _EDITABLE:
        value = getattr(station, spec.name)
        if spec.type is FieldType.NUMBER:
            value = Decimal(str(value))
        elif spec.type is FieldType.CODES:
            value = list(value or [])
        elif value is None:
            value = ""
        getattr(form, spec.name).data = value


def _map_config(station: Station | None) -> dict[str, Any]:
    tiles = maps.Tiles.from_config(current_app.config)
    centre = Point(station.lon, station.lat) if station else maps.DISTRICT_CENTRE
    shown = tiles.place(centre)
    return {
        **tiles.script_config(),
        "centre": [round(shown.lat, 7), round(shown.lon, 7)],
        "zoom": 17 if station else maps.DISTRICT_ZOOM,
        "marker": station is not None,
    }


def _week(expr: str | None) -> list[tuple[Any, str]]:
    if not expr or hours.validate(expr) is not None:
        return []
    return hours.week_in_words(expr, datetime.now(SHANGHAI_TZ).date(), current_lang())


def _render_edit(
    station: Station | None,
    form: StationForm,
    *,
    status: int = 200,
    warnings: list[editing.NearbyWarning] | None = None,
    conflicts: list[editing.FieldConflict] | None = None,
    retire_form: RetireForm | None = None,
    reinstate_form: ReasonForm | None = None,
    oos_form: OutOfServiceForm | None = None,
) -> tuple[str, int]:
    version = str(station.version) if station else ""
    if retire_form is None:
        retire_form = RetireForm(formdata=None, version=version)
    if reinstate_form is None:
        reinstate_form = ReasonForm(formdata=None, version=version)
    if oos_form is None:
        oos_form = OutOfServiceForm(formdata=None, version=version)
    assets = vendor_assets()
    page = render_template(
        "staff/station_edit.html",
        station=station,
        form=form,
        week=_week(form.opening_hours.data),
        warnings=warnings or [],
        conflicts=conflicts,
        retire_form=retire_form,
        reinstate_form=reinstate_form,
        oos_form=oos_form,
        map_config=_map_config(station),
        leaflet_js=assets.leaflet_js,
        leaflet_css=assets.leaflet_css,
        staff=_staff(),
    )
    return page, status


def _field_error(form: StationForm, exc: editing.EditError) -> None:
    target = {"geometry": "lon", "id": "station_id", "version": None}.get(
        exc.field or "", exc.field
    )
    bound = getattr(form, target, None) if target else None
    words = refusal_words(exc.template, exc.params, exc.message)
    if exc.field == "opening_hours" and form.opening_hours.data:
        # The registry says what is wrong in its default language; say it in the page's.
        words = hours.validate(form.opening_hours.data, current_lang()) or words
    if bound is not None and hasattr(bound, "errors"):
        bound.errors = [*bound.errors, words]
    else:
        form.form_errors.append(words)


def _save(
    db: Session, form: StationForm, station: Station | None
) -> tuple[Station, list[editing.NearbyWarning]]:
    """Write the form inside the caller's transaction; raise to roll back."""
    staff = _staff()
    values = _form_values(form)
    before = editing.station_values(station) if station else None
    upload = form.photo.data
    if upload is not None and getattr(upload, "filename", ""):
        try:
            values["photo_id"] = photos.store_photo(db, upload.read()).id
        except photos.PhotoError as exc:
            raise editing.InvalidStation(exc.template, field="photo", params=exc.params) from None
    reason = form.reason.data or ""
    if station is None:
        values["id"] = (form.station_id.data or "").strip().upper() or None
        saved = editing.create_station(db, values, _areas(), staff, reason)
    else:
        saved = editing.update_station(
            db,
            station.id,
            values,
            _areas(),
            staff,
            expected_version=_version(form.version.data),
            reason=reason,
        )
    moved_or_renamed = before is None or any(
        before[k] != getattr(saved, k) for k in ("name", "lon", "lat")
    )
    warnings = (
        editing.nearby_warnings(db, saved.lon, saved.lat, saved.name, exclude=saved.id)
        if moved_or_renamed
        else []
    )
    if warnings and form.confirmed.data != "1":
        raise NeedsConfirmation(warnings)
    return saved, warnings


def _submit(station: Station | None) -> tuple[str, int] | BaseResponse:
    station_id = station.id if station is not None else None  # usable after a rollback
    form = StationForm()
    if not form.validate_on_submit():
        return _render_edit(station, form, status=400)
    if request.form.get("action") == "preview":
        return _render_edit(station, form)
    db = get_session()
    try:
        with db.begin():
            saved, _warnings = _save(db, form, station)
    except NeedsConfirmation as need:
        form.confirmed.data = "1"
        return _render_edit(station, form, status=200, warnings=need.warnings)
    except editing.VersionConflict as exc:
        assert station_id is not None
        return _conflict(db, station_id, exc, form)
    except editing.EditError as exc:
        _raise_public(exc)
        _field_error(form, exc)
        return _render_edit(station, form, status=400)
    flash("station_saved")
    return redirect(url_for("staff.edit_station", station_id=saved.id))


def _conflict(
    db: Session, station_id: str, exc: editing.VersionConflict, form: StationForm
) -> tuple[str, int]:
    """Show theirs against yours; the form keeps yours, now based on their version, so
    saving again is a deliberate choice to overwrite."""
    with db.begin():
        current = db.get(Station, station_id, populate_existing=True)
        assert current is not None
        try:
            yours = _form_values(form)
        except editing.EditError:
            yours = {}
        found = editing.conflicts(db, current, exc.expected, yours)
    form.version.data = str(current.version)
    form.confirmed.data = ""
    return _render_edit(current, form, status=409, conflicts=found)


@bp.route("/stations/new", methods=["GET", "POST"])
@staff_required(*EDITORS)
def new_station() -> tuple[str, int] | BaseResponse:
    if request.method == "POST":
        return _submit(None)
    form = StationForm(formdata=None)
    staff = _staff()
    if staff.street:
        form.street.data = staff.street
    return _render_edit(None, form)


def _station_for(station_id: str) -> Station:
    try:
        return editing.get_for_edit(get_session(), station_id, _staff())
    except editing.EditError as exc:
        _raise_public(exc)
        raise


@bp.route("/stations/<station_id>/edit", methods=["GET", "POST"])
@staff_required(*EDITORS)
def edit_station(station_id: str) -> tuple[str, int] | BaseResponse:
    station = _station_for(station_id)
    get_session().commit()  # end the read (objects stay loaded); the save begins its own
    if request.method == "POST":
        return _submit(station)
    form = StationForm(formdata=None)
    _fill(form, station)
    return _render_edit(station, form)


def _station_step(
    station_id: str,
    form: Any,
    field: Any,
    form_name: str,
    done: str,
    write: Callable[[Session], object],
) -> tuple[str, int] | BaseResponse:
    """One change to a station from a small form on its edit page (retire, reinstate,
    an amenity out of service): written in one transaction, or the edit page again with
    the refusal on the form's `field` (409 for a newer version saved meanwhile)."""
    db = get_session()
    db.commit()
    if not form.validate_on_submit():
        return _edit_page_after(station_id, 400, **{form_name: form})
    try:
        with db.begin():
            write(db)
    except editing.EditError as exc:
        _raise_public(exc)
        field.errors = [*field.errors, refusal_words(exc.template, exc.params, exc.message)]
        status = 409 if isinstance(exc, editing.VersionConflict) else 400
        return _edit_page_after(station_id, status, **{form_name: form})
    flash(done)
    return redirect(url_for("staff.edit_station", station_id=station_id))


@bp.post("/stations/<station_id>/retire")
@staff_required(*EDITORS)
def retire_station(station_id: str) -> tuple[str, int] | BaseResponse:
    station_id = _station_for(station_id).id
    form = RetireForm()
    return _station_step(
        station_id,
        form,
        form.reason,
        "retire_form",
        "station_retired",
        lambda db: editing.retire_station(
            db,
            station_id,
            _staff(),
            reason=form.reason.data,
            expected_version=_version(form.version.data),
        ),
    )


@bp.post("/stations/<station_id>/reinstate")
@staff_required(*EDITORS)
def reinstate_station(station_id: str) -> tuple[str, int] | BaseResponse:
    _station_for(station_id)
    form = ReasonForm()
    return _station_step(
        station_id,
        form,
        form.reason,
        "reinstate_form",
        "station_reinstated",
        lambda db: editing.reinstate_station(
            db,
            station_id,
            _areas(),
            _staff(),
            reason=form.reason.data or "",
            expected_version=_version(form.version.data),
        ),
    )


@bp.post("/stations/<station_id>/out-of-service")
@staff_required(*EDITORS)
def out_of_service(station_id: str) -> tuple[str, int] | BaseResponse:
    _station_for(station_id)
    form = OutOfServiceForm()
    return _station_step(
        station_id,
        form,
        form.note,
        "oos_form",
        "out_of_service_saved",
        lambda db: editing.set_out_of_service(
            db,
            station_id,
            form.amenity.data,
            (form.note.data or "").strip() or None,
            _staff(),
            expected_version=_version(form.version.data),
        ),
    )


def _edit_page_after(station_id: str, status: int, **forms: Any) -> tuple[str, int]:
    station = get_session().get(Station, station_id, populate_existing=True)
    if station is None:
        abort(404)
    form = StationForm(formdata=None)
    _fill(form, station)
    return _render_edit(station, form, status=status, **forms)


# --- photos -------------------------------------------------------------------------


@photos_bp.get("/photos/<photo_id>")
def photo(photo_id: str) -> Response:
    """A cleaned photo; its id never changes its bytes, so it may be cached for a year."""
    found = photos.get_photo(get_session(), photo_id)
    if found is None:
        abort(404)
    response = Response(found.content, mimetype=found.mime)
    response.set_etag(found.id)
    response.cache_control.public = True
    response.cache_control.max_age = 365 * 24 * 3600
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response.make_conditional(request)
