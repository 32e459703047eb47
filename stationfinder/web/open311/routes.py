"""GeoReport v2 endpoints. Every answer, errors included, is in the spec's shape: errors
are `[{"code", "description"}]` (or `<errors><error>` in XML) with their HTTP status.

Each route declares only the methods it serves, so routing's own answers stay truthful:
`HEAD` works wherever `GET` does, `OPTIONS` lists exactly what the route takes (Allow),
and any other method is routing's 405. Routing's 404/405 (and 400s from the text
boundary, 429s from the rate limiter, 5xx) reach the app-wide handlers in web/errors.py,
which answer in this spec's shape for any path under /open311/.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Response, current_app, request
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
from stationfinder.web.public_urls import external_url

MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
TITLE_CHARS = 30
ADDRESS_ID_MAX = 32  # station ids are short (QT-BY-001); longer is no station
# Raising over Open311 is limited per address like the courier's form (which allows
# 60 a day per address whatever keys it sends): a script gains nothing by using this door.
POST_LIMIT = "10 per hour;50 per day"


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@bp.errorhandler(Open311Error)
def _error(exc: Open311Error) -> Response:
    return documents.error_response(exc.status, exc.description, _fmt())


@bp.after_request
def _cors(response: Response) -> Response:
    # Every answer of this cookie-less API may be read by any page (OPTIONS included).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _fmt() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in documents.FORMATS else documents.format_of(request.path)


def _check(fmt: str) -> None:
    if fmt not in documents.FORMATS:
        raise Open311Error(404, f"format {fmt[:10]!r} is not offered; use json or xml")


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    _check(fmt)
    base = external_url("open311.services", fmt="json").rsplit("/", 1)[0] + "/"
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
    return documents.answer("discovery", document, fmt)


@bp.get("/services.<fmt>")
def services(fmt: str) -> Response:
    _check(fmt)
    return documents.answer("services", documents.services(), fmt)


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> Response:
    _check(fmt)
    if code not in CATEGORY_BY_CODE:
        raise Open311Error(404, f"no service {code[:40]!r}")
    return documents.answer("service_definition", documents.service_definition(code), fmt)


def _document(issue: CouncilIssue) -> dict[str, Any]:
    session = get_session()
    station = session.get(Station, issue.station_id) if issue.station_id else None
    address = issue.place_label or (station.name if station else None)
    media = issue.media_url
    if issue.photo_id:
        number = council.work_order_number(issue)
        media = external_url("council.issue_photo", number=number)
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
    from stationfinder.core.clock import in_sane_range

    if not in_sane_range(moment):
        raise Open311Error(400, f"{name} must lie between 2000 and 2100")
    return moment if moment.tzinfo else moment.replace(tzinfo=council.SHANGHAI)


def _public(query: Any) -> Any:
    return query.where(CouncilIssue.hidden.is_(False), CouncilIssue.status != council.MERGED)


def _by_numbers(raw: str) -> list[CouncilIssue]:
    """The public requests among these work-order numbers, in the order given. The spec:
    a service_request_id list "overrides all other arguments", so no filter applies."""
    session = get_session()
    wanted: dict[int, None] = {}
    for number in raw.split(",")[:MAX_REQUESTS]:
        try:
            wanted[council.find_issue(session, number).id] = None
        except council.IssueNotFound:
            continue
    if not wanted:
        return []
    found = {
        i.id: i
        for i in session.scalars(_public(select(CouncilIssue)).where(CouncilIssue.id.in_(wanted)))
    }
    return [found[i] for i in wanted if i in found]


def _filtered() -> list[CouncilIssue]:
    query = _public(select(CouncilIssue))
    codes = [c for c in (request.args.get("service_code") or "").split(",") if c]
    if codes:
        query = query.where(CouncilIssue.category.in_(codes))
    statuses = [s for s in (request.args.get("status") or "").split(",") if s]
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open or closed")
    if set(statuses) == {"open"}:
        query = query.where(CouncilIssue.status.in_(OPEN_STATUSES))
    elif set(statuses) == {"closed"}:
        query = query.where(CouncilIssue.status.in_(CLOSED_STATUSES))
    start, end = _moment("start_date"), _moment("end_date")
    if start is None and end is None:
        start = utcnow() - timedelta(days=DEFAULT_DAYS)  # the spec's default window
    if start is not None:
        query = query.where(CouncilIssue.created_at >= start)
    if end is not None:
        query = query.where(CouncilIssue.created_at <= end)
    query = query.order_by(CouncilIssue.created_at.desc()).limit(MAX_REQUESTS)
    return list(get_session().scalars(query))


@bp.route("/requests.<fmt>", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT, key_func=client_address, methods=["POST"])
def requests(fmt: str) -> Response:
    _check(fmt)
    if request.method == "POST":
        return _post(fmt)
    numbers = (request.args.get("service_request_id") or "").strip()
    issues = _by_numbers(numbers) if numbers else _filtered()
    return documents.answer("service_requests", [_document(i) for i in issues], fmt)


@bp.get("/requests/<number>.<fmt>")
def single_request(number: str, fmt: str) -> Response:
    _check(fmt)
    try:
        issue = council.find_issue(get_session(), number)
    except council.IssueNotFound:
        raise Open311Error(404, f"no service request {number[:40]!r}") from None
    if issue.hidden or issue.merged_into_id is not None:
        raise Open311Error(404, f"service request {number} is not public")
    return documents.answer("service_requests", [_document(issue)], fmt)


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
        raise Open311Error(400, f"lat/long: {exc}") from None


def _check_key() -> None:
    expected = current_app.config.get("OPEN311_API_KEY")
    if not expected:
        return
    given = request.form.get("api_key") or request.args.get("api_key") or ""
    if not hmac.compare_digest(given.encode(), str(expected).encode()):
        raise Open311Error(403, "api_key is missing or wrong")


def _post_place() -> Place:
    """lat/long, address_string or address_id (a station's id), as the spec allows."""
    form = request.form
    point = _post_point()
    address = (form.get("address_string") or "").strip()
    station_id = (form.get("address_id") or "").strip() or None
    if point is None and not address and station_id is None:
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id"
        )
    if station_id is not None and len(station_id) > ADDRESS_ID_MAX:
        raise Open311Error(400, "address_id: no such station")
    return Place(point=point, station_id=station_id, label=address[:100] or None)


def _post(fmt: str) -> Response:
    """Raise an issue. Its weight is a courier's browser's: one issue backed once by its
    raiser (GeoReport has no backing or flagging; those go through the council's pages
    and their participation rules), and the same per-address ceiling on raising."""
    _check_key()
    form = request.form
    code = form.get("service_code") or ""
    if code not in CATEGORY_BY_CODE:
        raise Open311Error(400, "service_code is missing or unknown; see services.json")
    place = _post_place()
    description = form.get("description") or ""
    device = form.get("device_id") or ""
    # A client that sends a well-formed device_id can use it as the device key later.
    key = device if is_device_key(device) else None
    device_hash = hash_device_key(key, str(current_app.config["SECRET_KEY"])) if key else None
    session = get_session()
    try:
        text = council.clean_text(description, "description", limit=council.OPEN311_DESCRIPTION_MAX)
        # GeoReport has no title: the description's start, or the service's name.
        title = text[:TITLE_CHARS].strip() or CATEGORY_BY_CODE[code].zh
        with session.begin():
            issue = council.raise_issue(
                session,
                current_areas(),
                title=title,
                description=description,
                category=code,
                # Without a key, a hash no key leads to: nothing to find under "my issues".
                device_hash=device_hash or "open311:" + secrets.token_hex(27),
                place=place,
                phone=form.get("phone"),
                media_url=(form.get("media_url") or "").strip() or None,
                source="open311",
                description_max=council.OPEN311_DESCRIPTION_MAX,
                description_required=False,
            )
    except CouncilError as exc:
        field = "address_id" if exc.field == "station_id" else exc.field or "request"
        raise Open311Error(400, f"{field}: {exc.message}") from None
    reply = {
        "service_request_id": council.work_order_number(issue),
        "service_notice": "已收到，工作人员会在48小时内回复。",
        "account_id": None,
    }
    return documents.answer("service_requests", [reply], fmt, 201)
