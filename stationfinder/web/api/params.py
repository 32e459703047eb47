"""Query parameters as typed models: a query string in, a validated model or one 400 out.

The API's parameters are declared once, as pydantic models in `contract.py`; this module
holds what those declarations are made of: `QueryModel` (a query string's values onto the
model's fields, and a pydantic `ValidationError` into the API's one error shape, naming
the field), and the value types a query string carries that JSON Schema has no type for
(an ISO 8601 moment, a bounding box). The limits live on the models' fields; the error
messages read them from there, so a limit is written once and the OpenAPI document,
validation and messages all follow it.

Pydantic's validation is compiled (pydantic-core) and costs no more than the hand-written
parsers it replaced: the nearest endpoint's parameters parse in ~7-8 µs either way
(timed in one process, 2026-12-02; a nearest request is ~500 µs). Flask-OpenAPI3 was
measured at ~1 ms per request for the same model (it rebuilds the model's JSON Schema
on every request) and spectree at ~13 µs for the query alone, with a 422 error shape of
its own to undo; neither is used.

The courier pages' plain GET forms read their few values with web/params.py.
"""

from __future__ import annotations

import math
import types
import typing
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

import annotated_types
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from werkzeug.datastructures import MultiDict

from stationfinder.core.clock import EARLIEST_YEAR, LATEST_YEAR, SHANGHAI, in_sane_range
from stationfinder.web.errors import InvalidParameter
from stationfinder.web.params import MAX_VALUE_LENGTH


def parse_moment(raw: object) -> datetime:
    """An ISO 8601 moment; one without an offset is Asia/Shanghai local time."""
    if isinstance(raw, datetime):
        return raw
    if not isinstance(raw, str):
        raise ValueError("must be an ISO 8601 moment such as 2026-11-24T12:00:00+08:00")
    if "T" in raw and raw.count(" ") == 1:
        # An unencoded "+08:00" in a query string arrives as " 08:00".
        raw = raw.replace(" ", "+")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 moment such as 2026-11-24T12:00:00+08:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    if not in_sane_range(value):
        raise ValueError(f"must lie between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def parse_bbox(raw: object) -> tuple[float, float, float, float]:
    """A box ``west,south,east,north`` in degrees (west > east: across the antimeridian)."""
    if isinstance(raw, tuple):
        return raw
    parts = raw.split(",") if isinstance(raw, str) else []
    if len(parts) != 4:
        raise ValueError("is four numbers: west,south,east,north")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise ValueError("is four numbers: west,south,east,north") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise ValueError("must be finite numbers")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise ValueError("longitudes are between -180 and 180")
    if not (-90 <= south <= north <= 90):
        raise ValueError("latitudes are -90 <= south <= north <= 90")
    return west, south, east, north


Moment = Annotated[
    datetime,
    PlainValidator(parse_moment),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": MAX_VALUE_LENGTH}),
]
"""An ISO 8601 moment in a query string (no offset: Asia/Shanghai), 2000 to 2100."""

Bbox = Annotated[
    tuple[float, float, float, float],
    PlainValidator(parse_bbox),
    WithJsonSchema({"type": "string", "maxLength": MAX_VALUE_LENGTH}),
]
"""``west,south,east,north`` in degrees, one comma-separated value as maps send it."""


class QueryModel(BaseModel):
    """Parameters of one operation, read from a query string (or a path) with `from_args`.

    A scalar field takes one value (a repeated one is refused: which of two would count
    is a guess); a list field takes repeats and comma-separated values alike
    (``amenity=toilet&amenity=shower`` or ``amenity=toilet,shower``). An empty value is
    no value. Unknown parameters are ignored, as before.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    _list_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._list_fields = frozenset(
            name for name, info in cls.model_fields.items() if _is_list(info.annotation)
        )

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> Self:
        """The model of ``args``, or `InvalidParameter` naming the first bad field."""
        data: dict[str, Any] = {}
        lists = cls._list_fields
        for name in cls.model_fields:
            values = args.getlist(name)
            if not values:
                continue
            if name in lists:
                parts = [p.strip() for value in values for p in value.split(",")]
                if any(len(p) > MAX_VALUE_LENGTH for p in parts):
                    raise InvalidParameter(f"{name} is too long", field=name)
                data[name] = [p for p in parts if p]
                continue
            if len(values) > 1:
                raise InvalidParameter(f"{name} may be given only once", field=name)
            value = values[0].strip()
            if len(value) > MAX_VALUE_LENGTH:
                raise InvalidParameter(f"{name} is too long", field=name)
            if value:
                data[name] = value
        return cls.validated(data)

    @classmethod
    def validated(cls, data: dict[str, Any]) -> Self:
        """The model of values already split out (a URL's path variables, say)."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise invalid_parameter(cls, exc.errors()[0]) from None


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return typing.get_origin(annotation) is list


def bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """The inclusive (minimum, maximum) declared on a field, None where there is none."""
    low = high = None
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge):
            low = constraint.ge
        elif isinstance(constraint, annotated_types.Le):
            high = constraint.le
    return low, high  # type: ignore[return-value]


def _number(value: float | None) -> str:
    """A limit as people write it: 20037509, not 2.00375e+07; 0.5, not 0.500000."""
    value = float(value or 0)
    return str(int(value)) if value.is_integer() else repr(value)


def invalid_parameter(model: type[BaseModel], error: ErrorDetails) -> InvalidParameter:
    """One pydantic error as the API's 400: a sentence naming the field and its limits."""
    name = str(error["loc"][0]) if error["loc"] else "query"
    kind, ctx, raw = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "missing":
        message = f"{name} is required"
    elif kind in ("greater_than_equal", "less_than_equal"):
        low, high = bounds(model.model_fields[name])
        if high is None:
            message = f"{name} must be at least {_number(low)}"
        elif low is None:
            message = f"{name} must be at most {_number(high)}"
        else:
            message = f"{name} must be between {_number(low)} and {_number(high)}"
    elif kind in ("int_parsing", "int_from_float", "int_type"):
        message = f"{name} must be a whole number, not {raw!r}"
    elif kind in ("float_parsing", "float_type"):
        message = f"{name} must be a number, not {raw!r}"
    elif kind == "finite_number":
        message = f"{name} must be a finite number"
    elif kind in ("literal_error", "enum"):
        message = f"unknown {name} {raw!r}; one of {ctx.get('expected', '')}"
    elif kind in ("bool_parsing", "bool_type"):
        message = f"{name} must be true or false"
    elif kind == "value_error":
        message = f"{name} {ctx['error']}"
    elif kind == "string_too_long":
        message = f"{name} is too long"
    else:
        message = f"{name}: {error['msg']}"
    return InvalidParameter(message, field=name)
