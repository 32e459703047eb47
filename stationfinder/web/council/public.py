"""The couriers' side of 小哥议事厅: the board, raising an issue, an issue's story,
"我也遇到", flags, "my issues", and the public meeting record and calendar file.

No account: the device's private key (kept in localStorage by council.js, or in a
cookie without script) is what "my issues" goes by; only its hash is stored.
"""

from __future__ import annotations

import math
from itertools import groupby
from typing import Any

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.core.text import natural_key
from stationfinder.council import issues as council
from stationfinder.council import meetings as council_meetings
from stationfinder.council import similar as council_similar
from stationfinder.council.issues import CouncilError, Place
from stationfinder.db import get_session
from stationfinder.geo.point import Point
from stationfinder.models import Station
from stationfinder.registry import photos
from stationfinder.web.context import current_areas, current_index
from stationfinder.web.council import bp, pending_photo
from stationfinder.web.council.calendar import meeting_ics
from stationfinder.web.council.common import (
    courier_error,
    device_hash,
    device_key,
    error_message,
    key_established,
    network_hash,
    rate_limit_key,
)
from stationfinder.web.council.messages import RATE_LIMITED, RATE_LIMITED_FORM
from stationfinder.web.council.place_map import leaflet_urls, map_config
from stationfinder.web.errors import error_body
from stationfinder.web.i18n import district_groups
from stationfinder.web.limits import limiter
from stationfinder.web.public_urls import external_url

# Per device (the council key's hash, plus the address: see common.rate_limit_key) ...
RAISE_LIMIT = "5 per hour;20 per day"
BACK_LIMIT = "60 per hour"
FLAG_LIMIT = "20 per hour"
# ... and per address whatever keys it sends, so that minting keys buys nothing. Many
# couriers may share one address (a station's Wi-Fi, a carrier's NAT), hence the room.
RAISE_ADDRESS_LIMIT = "60 per day"
BACK_ADDRESS_LIMIT = "600 per hour"
FLAG_ADDRESS_LIMIT = "200 per hour"


# Up to this many active stations the form offers them all in a select; a city's or a
# province's registry would make the page megabytes, so there the courier types the
# station's id (on its poster) or drops a pin instead.
STATION_CHOICES_MAX = 600


def _stations() -> list[tuple[str, list[Station]]] | None:
    """Active stations grouped by subdistrict in the one division-code order (Jinja's
    groupby would sort the groups by their Chinese names), each group by name, numbers
    read as numbers; None when there are more than STATION_CHOICES_MAX."""
    areas = current_areas()
    # Counted by the index in memory: a count over the table took ~50 ms at 400,000.
    if len(current_index().current().index) > STATION_CHOICES_MAX:
        return None
    stations = get_session().scalars(select(Station).where(Station.active))
    ordered = sorted(stations, key=lambda s: (areas.rank(s.street), natural_key(s.name)))
    return [(street, list(group)) for street, group in groupby(ordered, key=lambda s: s.street)]


def _shown_point(form: Any) -> Point | None:
    """The point a re-shown form carries, to put the pin back where it was; None when
    there is none or it is not a number."""
    try:
        return _point(form)
    except CouncilError:
        return None


def _point(form: Any) -> Point | None:
    lon, lat = (form.get("lon") or "").strip(), (form.get("lat") or "").strip()
    if not lon and not lat:
        return None
    try:
        point = Point(float(lon), float(lat))
    except ValueError:
        raise CouncilError("the position is not valid", field="place") from None
    if not (math.isfinite(point.lon) and math.isfinite(point.lat)):
        raise CouncilError("the position is not valid", field="place")
    return point


def _areas() -> Any:
    return current_areas()


@bp.get("/council")
def board() -> str:
    args = request.args
    category = args.get("category") if args.get("category") in council.CATEGORY_BY_CODE else None
    areas = current_areas()
    found = areas.subdistrict(args.get("street"))
    street = found.key if found else None
    district = areas.district(args.get("district") or None)
    streets = areas.subdistrict_keys(district.code) if district else None
    # Every subdistrict, or at national scale those of the district chosen (or of the
    # subdistrict chosen): 1,667 options made the board 129 KB.
    focus = district or areas.district_of(street)
    street_groups = district_groups(focus.code if focus else None)
    status = args.get("status") if args.get("status") in council.STATUSES else None
    session = get_session()
    issues = council.board(
        session, category=category, street=street, streets=streets, status=status
    )
    key = device_key()
    backed = council.backed_by(session, [i.id for i in issues], device_hash(key)) if key else set()
    return render_template(
        "council/board.html",
        issues=issues,
        backed=backed,
        districts=areas.districts(),
        street_groups=street_groups,
        chosen={
            "category": category,
            "street": street,
            "district": district.code if district else None,
            "status": status,
        },
    )


def _raised(response: BaseResponse) -> bool:
    """Only an issue actually raised counts against the phone's limit: a courier who
    mistypes, or is shown similar issues first, has not used one up. The address-wide
    ceiling counts every post."""
    return response.status_code in (302, 303)


@bp.route("/council/new", methods=["GET", "POST"])
@limiter.limit(RAISE_LIMIT, key_func=rate_limit_key, methods=["POST"], deduct_when=_raised)
@limiter.limit(RAISE_ADDRESS_LIMIT, methods=["POST"])
def new_issue() -> str | BaseResponse | tuple[str, int]:
    form = request.form
    errors: dict[str, str] = {}
    similar: list[council_similar.Similar] = []
    kept: str | None = None  # the token of a photo kept from the similar-issues step
    if request.method == "POST":
        session = get_session()
        key = device_key(create=True)
        assert key is not None
        upload = request.files.get("photo")
        kept_id = pending_photo.photo_from(session, form.get(pending_photo.FIELD), key)
        kept = pending_photo.token_for(kept_id, key) if kept_id else None
        try:
            if upload and upload.filename:
                # Kept at once, in its own transaction: whatever makes the form come
                # back (similar issues, a mistyped phone), the browser cannot refill
                # the file input. A new choice replaces the kept photo.
                session.commit()
                with session.begin():
                    kept_id = pending_photo.store_upload(session, upload)
                kept = pending_photo.token_for(kept_id, key)
            point = _point(form)
            place = Place(
                point=point,
                station_id=(form.get("station_id") or "").strip().upper() or None,
                label=form.get("place_label"),
            )
            if form.get("confirmed") != "1":
                located, _street = council.locate(session, _areas(), place)
                similar = council_similar.similar_issues(
                    session,
                    category=form.get("category"),
                    text=f"{form.get('title', '')[:200]} {form.get('description', '')[:4000]}",
                    point=located,
                )
            if not similar:
                session.commit()  # end the reads; the write has its own transaction
                with session.begin():
                    issue = council.raise_issue(
                        session,
                        _areas(),
                        title=form.get("title"),
                        description=form.get("description"),
                        category=form.get("category"),
                        device_hash=device_hash(key),
                        place=place,
                        phone=form.get("phone"),
                        photo_id=kept_id,
                    )
                return redirect(
                    url_for("council.issue_page", number=council.work_order_number(issue), raised=1)
                )
        except CouncilError as exc:
            errors[exc.field or "form"] = error_message(exc.field, exc.code)
        except photos.PhotoError:
            errors["photo"] = error_message("photo", None)
    return _new_issue_page(errors, similar, kept), 400 if errors else 200


def _new_issue_page(
    errors: dict[str, str], similar: list[council_similar.Similar], kept_photo: str | None = None
) -> str:
    """The form, with what the courier typed, the pin where they put it, and the photo
    they attached (kept server-side: a file input cannot be refilled)."""
    return render_template(
        "council/new.html",
        form=request.form,
        errors=errors,
        similar=similar,
        kept_photo=kept_photo,
        stations=_stations(),
        photo_max_mb=photos.MAX_BYTES // (1024 * 1024),
        limits={"title": council.TITLE_MAX, "description": council.DESCRIPTION_MAX},
        place_map=map_config(_shown_point(request.form)),
        leaflet=leaflet_urls(),
    )


@bp.errorhandler(RateLimitExceeded)
def _too_many(exc: RateLimitExceeded) -> Response | tuple[str, int]:
    """Over a limit: the raise form comes back with what was typed and the reason; other
    steps answer the one error shape (JSON) or the error page, in the courier's words."""
    if request.accept_mimetypes.best == "application/json":
        response = current_app.json.response(error_body("rate_limited", gettext(RATE_LIMITED)))
        response.status_code = 429
        return response
    if request.endpoint == "council.new_issue":
        return _new_issue_page({"form": gettext(RATE_LIMITED_FORM)}, []), 429
    return render_template("error.html", status=429, message=gettext(RATE_LIMITED)), 429


def _issue_or_404(number: str) -> council.CouncilIssue:
    try:
        return council.find_issue(get_session(), number)
    except council.IssueNotFound:
        abort(404)


@bp.get("/council/issues/<number>")
def issue_page(number: str) -> str | BaseResponse:
    session = get_session()
    issue = _issue_or_404(number)
    if issue.merged_into_id is not None:
        target = council.survivor(session, issue)
        return redirect(
            url_for("council.issue_page", number=council.work_order_number(target), merged=number)
        )
    key = device_key()
    hashed = device_hash(key) if key else None
    shown = issue.lon is not None and issue.lat is not None and not issue.hidden
    return render_template(
        "council/issue.html",
        place_map=map_config(Point(issue.lon, issue.lat)) if shown else None,
        leaflet=leaflet_urls() if shown else None,
        issue=issue,
        events=council.story(session, issue),
        meetings=council_meetings.issue_meetings(session, issue.id),
        mine=hashed is not None and hashed == issue.device_hash,
        backed=bool(hashed and council.backed_by(session, [issue.id], hashed)),
        flash=request.args,
    )


@bp.get("/council/issues/<number>/photo")
def issue_photo(number: str) -> Response:
    issue = _issue_or_404(number)
    photo = photos.get_photo(get_session(), issue.photo_id) if issue.photo_id else None
    if photo is None or issue.hidden:
        abort(404)
    response = Response(photo.content, mimetype=photo.mime)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def _courier_step(number: str, step: str) -> BaseResponse:
    session = get_session()
    issue = _issue_or_404(number)
    key = device_key(create=True)
    assert key is not None
    session.commit()
    try:
        with session.begin():
            if step == "back":
                issue, new = council.back_issue(
                    session,
                    issue,
                    device_hash(key),
                    network_hash=network_hash(),
                    established=key_established(key),
                )
                outcome = "backed" if new else "already"
            elif step == "flag":
                council.flag_issue(
                    session,
                    issue,
                    device_hash(key),
                    request.form.get("reason"),
                    network_hash=network_hash(),
                    established=key_established(key),
                )
                outcome = "flagged"
            elif step == "add":
                council.add_to_issue(session, issue, device_hash(key), request.form.get("text", ""))
                outcome = "added"
            else:
                council.rate_outcome(
                    session,
                    issue,
                    device_hash(key),
                    request.form.get("rating", ""),
                    request.form.get("comment"),
                )
                outcome = "rated"
    except CouncilError as exc:
        raise courier_error(exc) from None
    except IntegrityError:  # the same device tapped twice at once: the first one counted
        session.rollback()
        issue = council.survivor(session, council.find_issue(session, number))
        outcome = "already"
    if request.accept_mimetypes.best == "application/json":
        return current_app.json.response({"status": outcome, "backing": issue.backing_count})
    target = issue if step == "back" else council.find_issue(session, number)
    return redirect(
        url_for("council.issue_page", number=council.work_order_number(target), done=outcome)
    )


@bp.post("/council/issues/<number>/back")
@limiter.limit(BACK_LIMIT, key_func=rate_limit_key)
@limiter.limit(BACK_ADDRESS_LIMIT)
def back(number: str) -> BaseResponse:
    return _courier_step(number, "back")


@bp.post("/council/issues/<number>/flag")
@limiter.limit(FLAG_LIMIT, key_func=rate_limit_key)
@limiter.limit(FLAG_ADDRESS_LIMIT)
def flag(number: str) -> BaseResponse:
    return _courier_step(number, "flag")


@bp.post("/council/issues/<number>/add")
@limiter.limit(RAISE_LIMIT, key_func=rate_limit_key)
@limiter.limit(RAISE_ADDRESS_LIMIT)
def add(number: str) -> BaseResponse:
    return _courier_step(number, "add")


@bp.post("/council/issues/<number>/rate")
@limiter.limit(FLAG_LIMIT, key_func=rate_limit_key)
@limiter.limit(FLAG_ADDRESS_LIMIT)
def rate(number: str) -> BaseResponse:
    return _courier_step(number, "rate")


@bp.route("/council/mine", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def mine() -> str:
    """My issues: GET reads the cookie; council.js posts the localStorage key when the
    cookie is gone. A well-formed key nobody used reads an empty list."""
    session = get_session()
    key = device_key()
    raised: list[council.CouncilIssue] = []
    backed: list[council.CouncilIssue] = []
    decisions: dict[int, list[council_meetings.IssueDecision]] = {}
    if key:
        raised, backed = council.my_issues(session, device_hash(key))
        for issue in raised + backed:
            decisions[issue.id] = council_meetings.issue_meetings(session, issue.id)
    return render_template(
        "council/mine.html",
        have_key=key is not None,
        raised=raised,
        backed=backed,
        decisions=decisions,
    )


@bp.get("/council/meetings/<int:meeting_id>")
def meeting_page(meeting_id: int) -> str:
    try:
        record = council_meetings.meeting_record(get_session(), meeting_id)
    except council_meetings.MeetingNotFound:
        abort(404)
    return render_template("council/meeting_record.html", record=record, staff_view=False)


@bp.get("/council/meetings/<int:meeting_id>.ics")
def meeting_calendar(meeting_id: int) -> Response:
    try:
        meeting = council_meetings.get_meeting(get_session(), meeting_id)
    except council_meetings.MeetingNotFound:
        abort(404)
    body = meeting_ics(
        # The configured public address, not the caller's Host header.
        meeting,
        external_url("council.meeting_page", meeting_id=meeting.id),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="council-meeting-{meeting.id}.ics"'
    )
    return response
