"""GeoReport v2 endpoints. Every answer, errors included, is in the spec's shape: errors
are `[{"code", "description"}]` with a 4xx status, also for unknown paths and methods
(the routes take every method and refuse the wrong ones themselves, because routing's
own 404/405 would take the service's house error shape)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Response, current_app, request, url_for
from sqlalchemy import select

from stationfinder.core.privacy import hash_device_key, is_device_key
from stationfinder.council import issues as council
from stationfinder.council import meetings as council_meetings
from stationfinder.council.issues import (
    CATEGORY_BY_CODE,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    CouncilError,
    Place,
)
from stationfinder.db import get_session
from stationfinder.geo.point import Point
from stationfinder.models import CouncilIssue, Station, utcnow
from stationfinder.web.context import current_areas
from stationfinder.web.limits import client_address, limiter
from stationfinder.web.open311 import bp, documents

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
FORMATS = ("json", "xml")
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
TITLE_CHARS = 30


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@bp.errorhandler(Open311Error)
def _error(exc: Open311Error) -> Response:
    fmt = request.view_args.get("fmt", "json") if request.view_args else "json"
    return _answer("errors", documents.error(exc.status, exc.description), fmt, exc.status)


def _answer(root: str, value: Any, fmt: str, status: int = 200) -> Response:
    if fmt == "xml":
        response = Response(documents.to_xml(root, value), mimetype="text/xml")
    else:
        response = current_app.json.response(value)
    response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"  # read by any client; no cookies
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _check(fmt: str, *methods: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(404, f"format {fmt[:10]!r} is not offered; use json or xml")
    if request.method not in methods:
        raise Open311Error(405, f"use {' or '.join(methods)}")


@bp.route("/discovery.<fmt>", methods=ALL_METHODS)
def discovery(fmt: str) -> Response:
    _check(fmt, "GET")
    base = url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0] + "/"
    document = {
        "changeset": "2026-11-24T00:00:00+08:00",
        "contact": "钱塘区总工会 小哥议事厅",
        "key_service": "Ask the district union for an API key when posting needs one.",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-24T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return _answer("discovery", document, fmt)


@bp.route("/services.<fmt>", methods=ALL_METHODS)
def services(fmt: str) -> Response:
    _check(fmt, "GET")
    return _answer("services", documents.services(), fmt)


@bp.route("/services/<code>.<fmt>", methods=ALL_METHODS)
def service_definition(code: str, fmt: str) -> Response:
    _check(fmt, "GET")
    if code not in CATEGORY_BY_CODE:
        raise Open311Error(404, f"no service {code[:40]!r}")
    return _answer("service_definition", documents.service_definition(code), fmt)


def _document(issue: CouncilIssue) -> dict[str, Any]:
    session = get_session()
    station = session.get(Station, issue.station_id) if issue.station_id else None
    address = issue.place_label or (station.name if station else None)
    media = issue.media_url
    if issue.photo_id:
        number = council.work_order_number(issue)
        media = url_for("council.issue_photo", number=number, _external=True)
    return documents.service_request(
        issue,
        events=council.story(session, issue),
        meetings=council_meetings.issue_meetings(session, issue.id),
        address=address,
        media_url=media,
    )


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time") from None
    from stationfinder.web.api.params import in_sane_range

    if not in_sane_range(moment):
        raise Open311Error(400, f"{name} must lie between 2000 and 2100")
    return moment if moment.tzinfo else moment.replace(tzinfo=council.SHANGHAI)


@bp.route("/requests.<fmt>", methods=ALL_METHODS)
@limiter.limit("10 per hour;50 per day", key_func=client_address, methods=["POST"])
def requests(fmt: str) -> Response:
    _check(fmt, "GET", "POST")
    if request.method == "POST":
        return _post(fmt)
    query = select(CouncilIssue).where(
        CouncilIssue.hidden.is_(False), CouncilIssue.status != council.MERGED
    )
    ids = [i for i in (request.args.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        found = []
        for number in ids[:MAX_REQUESTS]:
            try:
                found.append(council.find_issue(get_session(), number).id)
            except council.IssueNotFound:
                continue
        query = query.where(CouncilIssue.id.in_(found))
    codes = [c for c in (request.args.get("service_code") or "").split(",") if c]
    if codes:
        query = query.where(CouncilIssue.category.in_(codes))
    statuses = [s for s in (request.args.get("status") or "").split(",") if s]
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open or closed")
    if statuses == ["open"]:
        query = query.where(CouncilIssue.status.in_(OPEN_STATUSES))
    elif statuses == ["closed"]:
        query = query.where(CouncilIssue.status.in_(CLOSED_STATUSES))
    start, end = _moment("start_date"), _moment("end_date")
    if not ids and start is None and end is None:
        start = utcnow() - timedelta(days=DEFAULT_DAYS)  # the spec's default window
    if start is not None:
        query = query.where(CouncilIssue.created_at >= start)
    if end is not None:
        query = query.where(CouncilIssue.created_at <= end)
    query = query.order_by(CouncilIssue.created_at.desc()).limit(MAX_REQUESTS)
    issues = list(get_session().scalars(query))
    return _answer("service_requests", [_document(i) for i in issues], fmt)


@bp.route("/requests/<number>.<fmt>", methods=ALL_METHODS)
def single_request(number: str, fmt: str) -> Response:
    _check(fmt, "GET")
    try:
        issue = council.find_issue(get_session(), number)
    except council.IssueNotFound:
        raise Open311Error(404, f"no service request {number[:40]!r}") from None
    if issue.hidden or issue.merged_into_id is not None:
        raise Open311Error(404, f"service request {number} is not public")
    return _answer("service_requests", [_document(issue)], fmt)


def _float(name: str) -> float | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None


def _post_point() -> Point | None:
    lat, lon = _float("lat"), _float("long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, "give both lat and long")
    if lat is None or lon is None:
        return None
    try:
        return Point(lon, lat)
    except ValueError as exc:
        raise Open311Error(400, str(exc)) from None


def _check_key() -> None:
    expected = current_app.config.get("OPEN311_API_KEY")
    if not expected:
        return
    given = request.form.get("api_key") or request.args.get("api_key") or ""
    if not hmac.compare_digest(given.encode(), str(expected).encode()):
        raise Open311Error(403, "api_key is missing or wrong")


def _post(fmt: str) -> Response:
    _check_key()
    form = request.form
    code = form.get("service_code") or ""
    if code not in CATEGORY_BY_CODE:
        raise Open311Error(400, "service_code is missing or unknown; see services.json")
    point = _post_point()
    address = (form.get("address_string") or "").strip()
    if point is None and not address:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    description = form.get("description") or ""
    if not description.strip():
        raise Open311Error(400, "description is required")
    device = form.get("device_id") or ""
    # A client that sends a well-formed device_id can use it as the device key later.
    key = device if is_device_key(device) else None
    device_hash = hash_device_key(key, str(current_app.config["SECRET_KEY"])) if key else None
    session = get_session()
    try:
        title = council.clean_text(description, "description", limit=council.DESCRIPTION_MAX)
        with session.begin():
            issue = council.raise_issue(
                session,
                current_areas(),
                title=title[:TITLE_CHARS] or None,
                description=description,
                category=code,
                # Without a key, a hash no key leads to: nothing to find under "my issues".
                device_hash=device_hash or "open311:" + secrets.token_hex(27),
                place=Place(point=point, label=address[:100] or None),
                phone=form.get("phone"),
                media_url=(form.get("media_url") or "").strip() or None,
                source="open311",
            )
    except CouncilError as exc:
        raise Open311Error(400, f"{exc.field or 'request'}: {exc.message}") from None
    reply = {
        "service_request_id": council.work_order_number(issue),
        "service_notice": "已收到，工作人员会在48小时内回复。",
        "account_id": None,
    }
    return _answer("service_requests", [reply], fmt, 201)


@bp.route("/", defaults={"rest": ""}, methods=ALL_METHODS)
@bp.route("/<path:rest>", methods=ALL_METHODS)
def unknown(rest: str) -> Response:
    raise Open311Error(404, f"no endpoint {('/open311/v2/' + rest)[:80]!r}; see discovery.json")
