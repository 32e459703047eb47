"""GeoReport v2 documents: services, requests and errors, as JSON-ready values and XML.

Nothing personal leaves here: no phone number, no device, and titles and descriptions
were masked when they were stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from flask import Response, current_app, request

from stationfinder.council.issues import (
    CATEGORIES,
    CATEGORY_BY_CODE,
    OPEN_STATUSES,
    SHANGHAI,
    work_order_number,
)
from stationfinder.council.meetings import IssueDecision
from stationfinder.models import CouncilIssue, IssueEvent

RESPONSIBLE_ZH = {
    "union": "区总工会",
    "street_office": "街道办事处",
    "delivery_firm": "快递企业",
    "city_management": "城管部门",
}
# What XML 1.0 cannot carry at all, escaped or not: C0 controls other than tab, line feed
# and carriage return, lone surrogates, U+FFFE and U+FFFF. Text is stored cleaned, but
# older rows and any future field must not be able to make a document unparseable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
FORMATS = ("json", "xml")
# Each list element's tag in the XML form, by the root's tag.
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error"}


def w3c(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset, as the spec asks: 2026-11-24T14:05:00+08:00."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds") if moment else None


def services() -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.code,
            "service_name": c.zh,
            "description": f"{c.zh} ({c.en})",
            "metadata": False,
            "type": "realtime",
            "keywords": c.en.lower(),
            "group": "小哥议事厅",
        }
        for c in CATEGORIES
    ]


def service_definition(code: str) -> dict[str, Any]:
    return {"service_code": code, "attributes": []}


def public_description(issue: CouncilIssue) -> str | None:
    """GeoReport's one text field, without the title said twice.

    A request posted over Open311 has a title cut from its own description (or the
    service's name when it had none), so its description alone is the text. A courier's
    form has a title and a description; the title leads unless the description already
    starts with it.
    """
    description = (issue.description or "").strip()
    if issue.source == "open311":
        return description or None
    title = (issue.title or "").strip()
    if not description:
        return title or None
    if not title or description.startswith(title):
        return description
    return f"{title}\n{description}"


def service_request(
    issue: CouncilIssue,
    *,
    events: Sequence[IssueEvent],
    meetings: Sequence[IssueDecision],
    address: str | None,
    media_url: str | None,
) -> dict[str, Any]:
    replies = [e.body for e in events if e.public and e.kind == "reply" and e.body]
    notes = issue.public_reason if issue.status not in OPEN_STATUSES else None
    decisions = [m.decision.text for m in meetings if m.decision is not None]
    category = CATEGORY_BY_CODE.get(issue.category)
    return {
        "service_request_id": work_order_number(issue),
        "status": "open" if issue.status in OPEN_STATUSES else "closed",
        "status_notes": notes or (replies[-1] if replies else None),
        "service_name": category.zh if category else issue.category,
        "service_code": issue.category,
        "description": public_description(issue),
        "agency_responsible": RESPONSIBLE_ZH.get(issue.responsible or ""),
        "service_notice": decisions[-1] if decisions else None,
        "requested_datetime": w3c(issue.created_at),
        "updated_datetime": w3c(issue.updated_at),
        "expected_datetime": None,
        "address": address,
        "address_id": issue.station_id,
        "zipcode": None,
        "lat": issue.lat,
        "long": issue.lon,
        "media_url": media_url,
    }


def error(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def answer(root: str, value: Any, fmt: str, status: int = 200) -> Response:
    """A GeoReport answer in the format the path asked for (JSON unless it said xml)."""
    if fmt == "xml":
        response = Response(to_xml(root, value), mimetype="text/xml")
    else:
        response = current_app.json.response(value)
    response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"  # read by any client; no cookies
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_response(status: int, description: str, fmt: str) -> Response:
    """The spec's error document, `[{"code", "description"}]` or
    `<errors><error><code/><description/></error></errors>`, with that status."""
    return answer("errors", error(status, description), fmt, status)


def error_for_request(status: int, description: str) -> Response:
    """The spec's error document in the format the request's path names."""
    return error_response(status, description, format_of(request.path))


def format_of(path: str) -> str:
    """The format a GeoReport path names by its extension: xml or (by default) json."""
    return "xml" if path.lower().endswith(".xml") else "json"


def to_xml(root: str, value: Any) -> bytes:
    """The XML form: <root><item>...</item></root> for lists, fields as elements."""
    element = ElementTree.Element(root)
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list):
        for item in items:
            _fill(ElementTree.SubElement(element, ITEM_TAGS.get(root, "item")), item)
    else:
        _fill(element, value)
    body: bytes = ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            child = ElementTree.SubElement(element, key)
            if isinstance(inner, list):
                for each in inner:
                    _fill(ElementTree.SubElement(child, key.rstrip("s") or "item"), each)
            else:
                _fill(child, inner)
    elif value is not None:
        text = str(value).lower() if isinstance(value, bool) else str(value)
        element.text = _NOT_XML.sub("", text)
