"""Each of a station's limits is one number: registry/fields.py's.

The model's columns, the staff form's validators, the JSON Schema the API documents and
what validate_station refuses all say the same, for every field; and the headers the
spreadsheets accepted before the declaration still name the same columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from stationfinder.geo.areas import Areas
from stationfinder.models import Station
from stationfinder.registry import editing, fields, geojson, spreadsheets, stations
from stationfinder.registry.fields import STATION_FIELDS, FieldType
from stationfinder.registry.stations import FieldError, validate_station
from stationfinder.web.api import write
from stationfinder.web.context import current_areas
from stationfinder.web.staff import forms

ROOT = Path(__file__).resolve().parents[2]
LIMITED = [f for f in STATION_FIELDS if f.max_length is not None]
# What validate_station checks (photo ids are made by the registry, never typed).
TEXT_LIMITED = [f for f in LIMITED if f.type is FieldType.TEXT and f.imported]
# A station inside 下沙街道 that validate_station accepts; each test changes one value.
VALID: dict[str, Any] = {
    "id": "QT-XS-900",
    "name": "金沙湖驿站",
    "kind": "工会驿站",
    "lon": 120.3181,
    "lat": 30.3051,
}


@pytest.fixture(scope="module")
def areas() -> Areas:
    return Areas.from_file(ROOT / "data" / "areas.geojson")


def _validators(form: type, name: str) -> list[Any]:
    unbound = getattr(form, name)
    return list(unbound.kwargs.get("validators") or [])


def _length(form: type, name: str) -> int | None:
    found = [v.max for v in _validators(form, name) if isinstance(v, Length)]
    assert len(found) <= 1, f"{name} has {len(found)} Length validators"
    return found[0] if found else None


def _value_of_length(spec: fields.StationField, length: int) -> str:
    """A value of `spec` that only its length can make wrong."""
    if spec.name == "id":
        # 8 + 9 + 9 characters of segments, the last one filling up to `length`
        assert 28 <= length <= 35
        return "QTABCDEF-12345678-12345678-" + "9" * (length - 27)
    if spec.name == "phone":
        return "0" * length
    return "驿" * length


@pytest.mark.parametrize("spec", LIMITED, ids=lambda f: f.name)
def test_the_model_column_holds_the_declared_length(spec: fields.StationField) -> None:
    column = Station.__table__.columns[spec.name]
    declared = spec.max_length
    if spec.type is FieldType.NOTES:  # a JSON column: the limit is each note's
        assert declared == editing.MAX_NOTE
    else:
        assert column.type.length == declared, f"{spec.name}: column {column.type}"


@pytest.mark.parametrize("spec", LIMITED, ids=lambda f: f.name)
def test_the_json_schema_states_the_declared_length(spec: fields.StationField) -> None:
    schema = spec.json_schema()
    stated = (
        schema["additionalProperties"]["maxLength"]
        if spec.type is FieldType.NOTES
        else schema["maxLength"]
    )
    assert stated == spec.max_length
    documents = [fields.station_properties_schema(), fields.station_input_schema()]
    for document in documents:
        if spec.geojson in document["properties"]:
            assert document["properties"][spec.geojson] == schema


@pytest.mark.parametrize("spec", TEXT_LIMITED, ids=lambda f: f.name)
def test_validation_refuses_one_character_more(spec: fields.StationField, areas: Areas) -> None:
    too_long = _value_of_length(spec, spec.max_length + 1)  # type: ignore[operator]
    with pytest.raises(FieldError) as refused:
        validate_station({**VALID, spec.name: too_long}, areas)
    assert (refused.value.field, refused.value.code) == (spec.name, "too_long")
    assert refused.value.params == {"max_length": spec.max_length}
    assert refused.value.message == f"is longer than {spec.max_length} characters"


@pytest.mark.parametrize("name", ["id", "name", "name_en", "address", "phone", "retired_reason"])
def test_validation_accepts_the_declared_length(name: str, areas: Areas) -> None:
    spec = fields.field(name)
    value = _value_of_length(spec, spec.max_length)  # type: ignore[arg-type]
    station = validate_station({**VALID, name: value}, areas)
    assert getattr(station, name) == value


def test_the_id_pattern_alone_would_let_a_longer_id_reach_the_column(areas: Areas) -> None:
    """The pattern admits 35 characters; PostgreSQL's VARCHAR(32) would refuse it with
    an error instead of a message."""
    long_id = _value_of_length(fields.field("id"), 35)
    assert stations.ID_PATTERN.match(long_id)
    with pytest.raises(FieldError) as refused:
        validate_station({**VALID, "id": long_id}, areas)
    assert refused.value.code == "too_long"


def test_the_phone_pattern_carries_the_same_limit() -> None:
    limit = fields.field("phone").max_length
    assert limit == 30
    assert stations.PHONE_PATTERN.match("1" * limit)
    assert not stations.PHONE_PATTERN.match("1" * (limit + 1))  # type: ignore[operator]


@pytest.mark.parametrize("spec", [f for f in STATION_FIELDS if f.choices], ids=lambda f: f.name)
def test_every_allowed_code_fits_the_declared_length(spec: fields.StationField) -> None:
    if spec.max_length is not None:
        assert max(len(c) for c in spec.choices or ()) <= spec.max_length


@pytest.mark.parametrize("spec", [fields.field("lon"), fields.field("lat")], ids=lambda f: f.name)
def test_coordinate_ranges_are_the_declared_ones(spec: fields.StationField, areas: Areas) -> None:
    schema = spec.json_schema()
    assert (schema["minimum"], schema["maximum"]) == (spec.minimum, spec.maximum)
    for outside in (spec.minimum - 0.001, spec.maximum + 0.001):  # type: ignore[operator]
        with pytest.raises(FieldError) as refused:
            validate_station({**VALID, spec.name: outside}, areas)
        assert (refused.value.field, refused.value.code) == (spec.name, "out_of_range")


def test_the_staff_form_has_the_declared_limits() -> None:
    form = forms.StationForm
    names = {"id": "station_id"}
    for spec in STATION_FIELDS:
        if not (spec.editable or spec.name == "id"):
            continue
        name = names.get(spec.name, spec.name)
        assert hasattr(form, name), f"the staff form lacks {spec.name}"
        if spec.type is FieldType.TEXT and spec.choices is None:
            assert _length(form, name) == spec.max_length, spec.name
        kinds = {type(v) for v in _validators(form, name)}
        if spec.choices is not None or spec.type is FieldType.CODES:
            continue  # a select: its choices are the declared codes
        if spec.required and spec.name != "id":  # a blank id is made by the registry
            assert kinds & {DataRequired, InputRequired}, spec.name
        else:
            assert Optional in kinds, spec.name
    retired = fields.field("retired_reason").max_length
    assert _length(forms.RetireForm, "reason") == retired
    assert _length(forms.OutOfServiceForm, "note") == fields.field("out_of_service").max_length


def test_the_staff_form_offers_the_declared_codes(app: Any) -> None:
    for name in ("kind", "amenities"):
        choices = forms.StationForm.__dict__[name].kwargs["choices"]
        assert [c.value for c in choices] == list(fields.field(name).choices or ())
    # Subdistricts are data: the form offers what is loaded, read when a form is made.
    streets = forms.StationForm.__dict__["street"].kwargs["choices"]
    with app.test_request_context("/"):
        assert [c.value for c in streets()] == ["", *current_areas(app).subdistrict_keys()]


def test_the_api_edits_the_declared_fields_and_answers_the_public_ones() -> None:
    assert write.EDITABLE == fields.EDITABLE
    assert "lon" not in write.EDITABLE and "active" not in write.EDITABLE
    schema = fields.station_input_schema()
    assert set(schema["properties"]) == set(write.EDITABLE)
    assert schema["required"] == ["name", "kind"]
    public = fields.station_properties_schema()
    assert list(public["properties"]) == [f.geojson for f in fields.PUBLIC]
    for private in ("retired_reason", "photo_id", "id"):
        assert private not in public["properties"]


def test_geojson_properties_are_the_public_fields(app: Any) -> None:
    with app.app_context():
        from stationfinder.db import get_session

        station = get_session().get(Station, "QT-XS-001")
        assert station is not None
        properties = geojson.station_properties(station)
    assert list(properties) == [f.geojson for f in fields.PUBLIC]
    assert properties["amenities"] == list(station.amenities)
    assert properties["updated_at"] == station.updated_at.isoformat()
    assert "retired_reason" not in properties and "photo_id" not in properties


def test_spreadsheets_still_accept_the_headers_they_accepted() -> None:
    before = {
        "编号": "id",
        "名称": "name",
        "英文名称": "name_en",
        "类型": "kind",
        "街道": "street",
        "地址": "address",
        "经度": "lon",
        "纬度": "lat",
        "设施": "amenities",
        "开放时间": "opening_hours",
        "电话": "phone",
        "在用": "active",
        "停用原因": "retired_reason",
    }
    # How a courier gets in (migration 0010), placed before the retirement columns.
    added = {
        "进入方式": "access",
        "进入说明": "access_note",
        "座位数": "seats",
        "无台阶": "step_free",
    }
    now = {**before, **added}
    expected = {**now, **{key: key for key in now.values()}}
    assert expected == stations.CSV_HEADERS
    assert ("id", *stations.FIELDS) == spreadsheets.COLUMNS
    chinese = [spreadsheets.CHINESE_HEADERS[c] for c in spreadsheets.COLUMNS]
    assert chinese == [*list(before)[:11], *added, "在用", "停用原因"]


def test_station_data_holds_the_imported_fields() -> None:
    assert tuple(stations.StationData.__dataclass_fields__) == fields.COLUMNS
    assert fields.LOADED == stations.FIELDS


def test_geojson_property_names_are_the_field_names_for_imports() -> None:
    """read_geojson takes properties by the field's name; the export writes the
    declared property name: the two must be one."""
    for spec in STATION_FIELDS:
        if spec.imported and spec.geojson is not None:
            assert spec.geojson == spec.name


def test_every_label_has_its_chinese() -> None:
    translations = ROOT / "stationfinder" / "translations"
    chinese: dict[str, str] = {}
    for path in [
        *translations.glob("zh*/LC_MESSAGES/messages.po"),
        *translations.glob("pending/*.po"),
    ]:
        with path.open("rb") as stream:
            for message in read_po(stream):
                if message.id and message.string:
                    chinese.setdefault(str(message.id), str(message.string))
    missing = [f.label for f in STATION_FIELDS if f.label not in chinese]
    assert not missing
    assert chinese["Phone"] == "电话"
    assert all(re.search(r"[\u4e00-\u9fff]", chinese[f.label]) for f in STATION_FIELDS)


def test_the_openapi_document_states_the_declared_schemas(app: Any) -> None:
    from stationfinder.web.api.contract import StationPath
    from stationfinder.web.api.openapi import openapi_document

    schemas = openapi_document(app)["components"]["schemas"]
    assert schemas["StationProperties"] == fields.station_properties_schema()
    documented = schemas["StationInputProperties"]
    assert documented["properties"] == fields.station_input_schema()["properties"]
    path_id = StationPath.model_json_schema()["properties"]["station_id"]
    assert path_id["maxLength"] == fields.field("id").max_length


@pytest.mark.parametrize(("lang", "phone"), [("zh", "电话"), ("en", "Phone")])
def test_staff_pages_name_a_field_by_its_declared_label(app: Any, lang: str, phone: str) -> None:
    from flask import render_template_string

    page = '{% import "staff/_labels.html" as labels %}{{ labels.field(key) }}'
    with app.test_request_context(f"/staff/stations?lang={lang}"):
        assert render_template_string(page, key="phone").strip() == phone
        assert render_template_string(page, key="geometry").strip() == "geometry"


# --- how a courier gets in (access, access_note, seats, step_free; open_24h derived) ----


@pytest.mark.parametrize("code", fields.field("access").choices or (), ids=str)
def test_each_way_in_is_accepted_by_its_code_and_its_labels(code: str, areas: Areas) -> None:
    from stationfinder.core.vocabulary import ACCESS_BY_CODE

    entry = ACCESS_BY_CODE[code]
    phone = {"phone": "0571-86910000"}  # phoning ahead needs one
    for written in (code, entry.zh, entry.en, code.upper()):
        station = validate_station({**VALID, **phone, "access": written}, areas)
        assert station.access == code, written


def test_an_unknown_way_in_is_refused_by_name(areas: Areas) -> None:
    with pytest.raises(FieldError) as refused:
        validate_station({**VALID, "access": "knock"}, areas)
    assert (refused.value.field, refused.value.code) == ("access", "unknown_access")
    assert "walk_in" in refused.value.message


def test_phoning_ahead_without_a_phone_is_refused(areas: Areas) -> None:
    with pytest.raises(FieldError) as refused:
        validate_station({**VALID, "access": "call_ahead"}, areas)
    assert (refused.value.field, refused.value.code) == ("access", "call_ahead_without_phone")


def test_the_access_note_accepts_its_declared_length(areas: Areas) -> None:
    limit = fields.field("access_note").max_length
    assert limit == 60
    station = validate_station({**VALID, "access_note": "驿" * limit}, areas)
    assert station.access_note == "驿" * limit


def test_seats_are_a_whole_number_within_the_declared_range(areas: Areas) -> None:
    spec = fields.field("seats")
    assert (spec.minimum, spec.maximum) == (0, 200)
    schema = spec.json_schema()
    assert (schema["minimum"], schema["maximum"]) == (0, 200)
    assert schema["type"] == ["integer", "null"]
    for given, kept in ((0, 0), (200, 200), ("12", 12), (12.0, 12), (None, None), ("", None)):
        assert validate_station({**VALID, "seats": given}, areas).seats == kept, given
    for outside in (-1, 201, "201"):
        with pytest.raises(FieldError) as refused:
            validate_station({**VALID, "seats": outside}, areas)
        assert (refused.value.field, refused.value.code) == ("seats", "out_of_range")
    for wrong in (1.5, "a few", True, "1e3", [3]):
        with pytest.raises(FieldError) as refused:
            validate_station({**VALID, "seats": wrong}, areas)
        assert (refused.value.field, refused.value.code) == ("seats", "not_a_whole_number")


def test_the_staff_form_holds_seats_to_the_declared_range() -> None:
    from wtforms.validators import NumberRange

    ranges = [v for v in _validators(forms.StationForm, "seats") if isinstance(v, NumberRange)]
    assert [(v.min, v.max) for v in ranges] == [(0, 200)]


def test_step_free_is_yes_no_or_unknown(areas: Areas) -> None:
    for given in (True, False, None):
        assert validate_station({**VALID, "step_free": given}, areas).step_free is given
    for wrong in ("yes", 1, "是"):  # spreadsheets turn their words into booleans first
        with pytest.raises(FieldError) as refused:
            validate_station({**VALID, "step_free": wrong}, areas)
        assert (refused.value.field, refused.value.code) == ("step_free", "not_boolean")
    assert fields.field("step_free").json_schema()["type"] == ["boolean", "null"]


def test_open_24h_is_derived_from_the_hours_never_set() -> None:
    spec = fields.field("open_24h")
    assert spec.source == "opening_hours" and not spec.imported and not spec.editable
    assert "open_24h" not in Station.__table__.columns  # nothing stored to disagree
    assert "open_24h" not in fields.station_input_schema()["properties"]
    assert spec.json_schema()["readOnly"] is True
    expected = {
        "24/7": True,
        "Mo-Su 00:00-24:00": True,
        "24/7; PH off": False,  # closed on holidays is not 24-hour
        "24/7 unknown": False,
        "Mo-Su 08:00-20:00": False,
        None: False,
    }
    for hours, always in expected.items():
        assert fields.json_value(spec, hours) is always, hours


def test_the_access_columns_hold_the_declared_types() -> None:
    columns = Station.__table__.columns
    assert columns["access"].type.length == fields.field("access").max_length
    assert columns["access_note"].type.length == fields.field("access_note").max_length
    assert columns["seats"].type.python_type is int
    assert columns["step_free"].type.python_type is bool
    assert all(columns[n].nullable for n in ("access", "access_note", "seats", "step_free"))
