"""One boundary for hostile text: every request's form, query and JSON values are checked here.

A NUL byte or another C0 control character (tab, newline and carriage return are
allowed) never reaches a view, so it can never be stored (PostgreSQL refuses NUL with a
500, Open311 XML would not be well-formed). In the query string, a JSON body and the
API's and Open311's forms it is refused with a 400. In a form a person filled in on one
of our pages it is stripped instead, so the view sees the text without the invisible
characters and what the courier typed is kept (a refusal would throw it away).
JSON nested deeper than MAX_JSON_DEPTH is refused with a 400 too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from werkzeug.datastructures import ImmutableMultiDict

from stationfinder.core.text import N_
from stationfinder.web.errors import ApiError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_JSON_DEPTH = 32

CONTROL_MESSAGE = N_(
    "The input contains invisible control characters (such as NUL); remove them and send again."
)
DEPTH_MESSAGE = N_("The JSON is nested too deeply.")
JSON_MESSAGE = N_("The request body is not valid JSON.")
MACHINE_PREFIXES = ("/api/", "/open311/")  # clients that get a 400, not a cleaned form


def has_control(text: str) -> bool:
    return bool(_CONTROL.search(text))


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def _depth_ok(value: Any, depth: int = 0) -> bool:
    if depth > MAX_JSON_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_depth_ok(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    return True


def _strings(value: Any):
    if isinstance(value, str):
        yield None, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key, str(key)
            for _, text in _strings(item):
                yield key, text
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _raw_json_depth_ok(raw: bytes) -> bool:
    """Count bracket depth without recursion, outside strings."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def check_request() -> None:
    for key, text in request.args.items(multi=True):
        if has_control(key) or has_control(text):
            raise ApiError(CONTROL_MESSAGE, field=key, code="control_character")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype == "application/json" or request.is_json:
        raw = request.get_data(cache=True)
        if not raw:
            return
        if not _raw_json_depth_ok(raw):
            raise ApiError(DEPTH_MESSAGE, code="json_too_deep")
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(JSON_MESSAGE, code="invalid_json") from None
        if not _depth_ok(value):
            raise ApiError(DEPTH_MESSAGE, code="json_too_deep")
        for key, text in _strings(value):
            if has_control(text):
                raise ApiError(CONTROL_MESSAGE, field=key, code="control_character")
        return
    form = request.form
    dirty = [key for key, text in form.items(multi=True) if has_control(key) or has_control(text)]
    if not dirty:
        return
    if request.path.startswith(MACHINE_PREFIXES):
        raise ApiError(CONTROL_MESSAGE, field=dirty[0], code="control_character")
    request.form = ImmutableMultiDict(  # type: ignore[misc]
        [(strip_control(key), strip_control(text)) for key, text in form.items(multi=True)]
    )
    # Upload file names are checked by the views that take them (a form message that
    # keeps the page), never stored as given.


def init_app(app: Flask) -> None:
    app.before_request(check_request)
