"""Importing and exporting the registry from the staff pages.

`/staff/import`: upload a GeoJSON, CSV or XLSX file → a preview (added, changed field by
field, retired, rejected rows with reasons) → confirm, which applies all of it or
nothing as one batch in the history.

Between preview and confirm the parsed rows travel in the confirm form itself, signed
with the app's secret key (itsdangerous, compressed) and bound to the staff member, the
registry version previewed, and an expiry. The server keeps nothing per upload (no
table to sweep, nothing lost when another worker answers), staff need not pick the file
again, and a tampered, expired, someone else's or stale preview is refused. When the
registry changed since the preview, the same rows are planned again and a fresh preview
is shown instead of applying what nobody has seen.

A street_staff member's file speaks for their own subdistrict: rows about other
subdistricts are rejected with a reason, and "retire missing" retires missing stations
of their subdistrict only (the rest of the district is taken as it stands).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, current_app, render_template, request
from flask_babel import gettext, lazy_gettext, lazy_pgettext, pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from stationfinder.core.clock import local_now
from stationfinder.core.text import N_
from stationfinder.db import get_session
from stationfinder.geo.areas import Areas
from stationfinder.models import Station
from stationfinder.registry import spreadsheets
from stationfinder.registry import stations as registry
from stationfinder.registry.editing import Editor, NotAllowed
from stationfinder.registry.stations import LoadReport, Problem, RegistryError
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.errors import has_translation, public_message
from stationfinder.web.i18n import current_lang, refusal_words
from stationfinder.web.staff import bp, no_store

IMPORT_MAX_BYTES = 10 * 1024 * 1024  # a registry of thousands of stations is far smaller
PREVIEW_MAX_AGE = 3600  # seconds a preview may be confirmed in
_SALT = "stationfinder.import-preview"


# --- planning within a staff member's scope (no Flask) -------------------------------


@dataclass(frozen=True)
class Rejection:
    line: int | None  # the spreadsheet row (header = 1), when the file is a spreadsheet
    where: str
    field: str | None
    message: str


@dataclass
class ImportPlan:
    report: LoadReport
    rejected: list[Rejection]
    names: dict[str, str] = field(default_factory=dict)  # id -> name, for the preview

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def rejected_rows(self) -> int:
        """Rows refused (a row may have several problems, each listed)."""
        return len({r.where for r in self.rejected})

    @property
    def has_changes(self) -> bool:
        return bool(self.report.added or self.report.changed or self.report.retired)


def _check_importer(editor: Editor) -> None:
    if not editor.edits_stations:
        raise NotAllowed("only street staff and the union's admins import stations")


def _scope(
    session: Session,
    rows: list[dict[str, Any]],
    areas: Areas,
    editor: Editor,
    *,
    retire_missing: bool,
) -> tuple[list[dict[str, Any]], list[Problem], int]:
    """(rows to load, rows refused as outside the editor's subdistrict or district, rows
    added)."""
    scope = editor.limit()
    if scope is None:
        return rows, [], 0
    mine = editor.scope or ""  # their subdistrict, or their district's name
    existing = {s.id: s for s in registry.all_stations(session)}
    problems = []
    for number, row in enumerate(rows, start=1):
        label = f"feature {number}" + (f" ({row['id']})" if isinstance(row.get("id"), str) else "")
        current = existing.get(row.get("id")) if isinstance(row.get("id"), str) else None
        if current is not None and current.street not in scope:
            problems.append(
                Problem(
                    label,
                    "id",
                    f"station {current.id} belongs to {current.street}, outside {mine}",
                    "other_subdistrict",
                    N_("station %(id)s belongs to %(street)s, outside %(mine)s"),
                    {"id": current.id, "street": current.street, "mine": mine},
                )
            )
            continue
        valid, _ = registry.validate_rows([row], areas)
        if valid and valid[0].street not in scope:
            problems.append(
                Problem(
                    label,
                    "street",
                    f"the station lies in {valid[0].street}; you import stations of {mine} only",
                    "other_subdistrict",
                    N_("the station lies in %(street)s; you import stations of %(mine)s only"),
                    {"street": valid[0].street, "mine": mine},
                )
            )
    if not retire_missing:
        return rows, problems, 0
    # Stations outside the editor's area stand as they are, so only theirs can be missing.
    named = {row.get("id") for row in rows}
    others = [
        _row_of(s)
        for s in existing.values()
        if s.active and s.street not in scope and s.id not in named
    ]
    return [*rows, *others], problems, len(others)


def _row_of(station: Station) -> dict[str, Any]:
    return {"id": station.id, **{key: getattr(station, key) for key in registry.FIELDS}}


def _finish(
    session: Session,
    rows: list[dict[str, Any]],
    report: LoadReport,
    scope_problems: list[Problem],
    padding: int,
) -> ImportPlan:
    report.unchanged -= padding
    report.problems = sorted([*report.problems, *scope_problems], key=lambda p: _number(p.where))
    rejected = [
        Rejection(spreadsheets.line_of(p, rows), _where(p.where), p.field, _problem_words(p))
        for p in report.problems
    ]
    names = {s.id: s.name for s in registry.all_stations(session)}
    for row in rows:
        if isinstance(row.get("id"), str) and isinstance(row.get("name"), str):
            names.setdefault(row["id"], row["name"])
    return ImportPlan(report, rejected, names)


# Words for an import problem the catalogue has no msgid for (e.g. a file-level error).
UNREADABLE = N_(
    "This file cannot be read: upload an Excel workbook (.xlsx), a UTF-8 CSV or a GeoJSON file."
)
_WHERE = re.compile(r"^feature (\d+)(?: \((.+)\))?$")


def _problem_words(problem: Problem) -> str:
    """An import problem in the page's language, from its msgid and values."""
    return refusal_words(problem.template or problem.message, problem.params, problem.message)


def _where(where: str) -> str:
    """The registry's "feature 12 (QT-BY-001)" / "file" in the page's language."""
    match = _WHERE.match(where)
    if match is None:
        return gettext("the file") if where == "file" else where
    words = gettext("feature %(n)s", n=match.group(1))
    return f"{words} ({match.group(2)})" if match.group(2) else words


def _number(where: str) -> int:
    parts = where.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def plan_import(
    session: Session,
    rows: list[dict[str, Any]],
    areas: Areas,
    editor: Editor,
    *,
    retire_missing: bool,
) -> ImportPlan:
    """What importing these rows would change; nothing is written."""
    _check_importer(editor)
    loaded, scope_problems, padding = _scope(
        session, rows, areas, editor, retire_missing=retire_missing
    )
    report, _ = registry.plan_load(session, loaded, areas, retire_missing=retire_missing)
    return _finish(session, rows, report, scope_problems, padding)


def apply_import(
    session: Session,
    rows: list[dict[str, Any]],
    areas: Areas,
    editor: Editor,
    *,
    retire_missing: bool,
    reason: str,
) -> ImportPlan:
    """Write every row as one batch, or nothing when any row is refused (caller commits)."""
    _check_importer(editor)
    loaded, scope_problems, padding = _scope(
        session, rows, areas, editor, retire_missing=retire_missing
    )
    if scope_problems:
        report, _ = registry.plan_load(session, loaded, areas, retire_missing=retire_missing)
    else:
        report = registry.apply_load(
            session,
            loaded,
            areas,
            actor=editor.username,
            reason=reason,
            retire_missing=retire_missing,
        )
    return _finish(session, rows, report, scope_problems, padding)


# --- the preview token -----------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def _token(
    rows: list[dict[str, Any]], editor_id: int, version: int, options: dict[str, Any]
) -> str:
    return _serializer().dumps({"rows": rows, "staff": editor_id, "version": version, **options})


class PreviewExpired(Exception):
    pass


def _untoken(token: str, editor_id: int) -> dict[str, Any]:
    try:
        data = _serializer().loads(token, max_age=PREVIEW_MAX_AGE)
    except SignatureExpired:
        raise PreviewExpired(
            gettext("The preview is more than an hour old; upload the file again.")
        ) from None
    except BadSignature:
        raise PreviewExpired(
            gettext("The preview cannot be read; upload the file again.")
        ) from None
    if not isinstance(data, dict) or data.get("staff") != editor_id:
        raise PreviewExpired(
            gettext("This preview was made by someone else; upload the file again.")
        )
    return data


# --- forms and views ---------------------------------------------------------------------


class ImportForm(FlaskForm):
    file = FileField(
        lazy_gettext("File (.xlsx, .csv UTF-8, .geojson)"),
        validators=[FileRequired(message=lazy_gettext("Choose a file to upload."))],
    )
    retire_missing = BooleanField(lazy_gettext("Retire stations missing from the file"))
    reason = StringField(
        lazy_pgettext("import", "Reason"), validators=[Optional(), Length(max=500)]
    )


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


def _editor() -> Any:
    staff = current_staff()
    assert staff is not None
    return staff


def _areas() -> Areas:
    return current_areas()


def _upload(form: ImportForm) -> tuple[bytes, str]:
    storage = form.file.data
    data = storage.stream.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        raise RequestEntityTooLarge(
            f"the file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB"
        )
    return data, _label(storage.filename or "")


def _label(filename: str) -> str:
    """The uploaded file's name as the preview and the history show it: its last part,
    without control characters (a NUL is a 500 in PostgreSQL text). Nothing is stored
    under it; it is only a label."""
    last = re.split(r"[/\\]", filename)[-1]
    return re.sub(r"[\x00-\x1f\x7f]", "", last)


def _preview(
    plan: ImportPlan,
    token: str | None,
    filename: str,
    options: dict[str, Any],
    status: int,
    *,
    stale: bool = False,
) -> tuple[str, int]:
    return (
        render_template(
            "staff/imports_preview.html",
            plan=plan,
            report=plan.report,
            confirm_form=ConfirmImportForm(formdata=None, token=token),
            filename=filename,
            options=options,
            stale=stale,
        ),
        status,
    )


def _column_names() -> str:
    """The columns an import reads, by the headers of the page's language."""
    english = current_lang() == "en"
    names = (f"<code>{escape(name)}</code>" for name in spreadsheets._header(english))
    return Markup(pgettext("list", ", ").join(names))


@bp.route("/import", methods=["GET", "POST"])
@staff_required()
def import_upload() -> tuple[str, int]:
    editor = _editor()
    if not editor.edits_stations:
        abort(403, description=gettext("Only street staff and the union's admins import stations."))
    form = ImportForm()
    problem = None
    if form.validate_on_submit():
        data, filename = _upload(form)
        try:
            rows = spreadsheets.read_rows(data, filename)
        except RegistryError as exc:
            problem = public_message(exc) if has_translation(exc.template) else gettext(UNREADABLE)
        else:
            if not rows:
                problem = gettext("The file holds no stations.")
        if problem is None:
            session = get_session()
            with session.begin():
                plan = plan_import(
                    session, rows, _areas(), editor, retire_missing=form.retire_missing.data
                )
                version = registry.registry_version(session)
            options = {
                "retire_missing": bool(form.retire_missing.data),
                "reason": (form.reason.data or "").strip() or f"import {filename}"[:500],
                "filename": filename[:200],
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            token = _token(rows, editor.id, version, options) if plan.ok else None
            return _preview(plan, token, filename, options, 200 if plan.ok else 422)
    status = 400 if (problem or form.errors) else 200
    return render_template(
        "staff/imports.html", form=form, problem=problem, column_names=_column_names()
    ), status


@bp.post("/import/confirm")
@staff_required()
def import_confirm() -> tuple[str, int]:
    editor = _editor()
    if not editor.edits_stations:
        abort(403, description=gettext("Only street staff and the union's admins import stations."))
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("The preview is missing; upload the file again."))
    try:
        data = _untoken(form.token.data, editor.id)
    except PreviewExpired as exc:
        return render_template(
            "staff/imports.html", form=ImportForm(), problem=str(exc), column_names=_column_names()
        ), 400
    rows = data["rows"]
    options = {k: data.get(k) for k in ("retire_missing", "reason", "filename", "sha256")}
    session = get_session()
    with session.begin():
        if registry.registry_version(session) != data["version"]:
            # Someone changed the registry since this preview: show what would happen now.
            plan = plan_import(
                session, rows, _areas(), editor, retire_missing=bool(options["retire_missing"])
            )
            version = registry.registry_version(session)
            stale = True
        else:
            plan = apply_import(
                session,
                rows,
                _areas(),
                editor,
                retire_missing=bool(options["retire_missing"]),
                reason=str(options["reason"]),
            )
            stale = False  # a refused import wrote nothing: apply_load checks first
    if stale:
        token = _token(rows, editor.id, version, options) if plan.ok else None
        return _preview(plan, token, str(options["filename"]), options, 409, stale=True)
    return (
        render_template("staff/imports_done.html", plan=plan, report=plan.report, options=options),
        200 if plan.ok else 422,
    )


@bp.after_request
def _no_store(response: Response) -> Response:
    if request.endpoint and request.endpoint.startswith("staff.import"):
        return no_store(response)
    return response


# --- exports --------------------------------------------------------------------------

EXPORT_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.get("/export.<fmt>")
@staff_required()
def export(fmt: str) -> Response:
    """The registry, retired stations included; street_staff get their own subdistrict."""
    if fmt not in EXPORT_TYPES:
        abort(404)
    editor = _editor()
    session = get_session()
    stations = registry.all_stations(session)
    scope = editor.limit()
    if scope is not None:
        stations = [s for s in stations if s.street in scope]
    street = _areas().subdistrict(request.args.get("street"))
    if street is not None:
        stations = [s for s in stations if s.street == street.key]
    english = request.args.get("headers") == "en"
    if fmt == "geojson":
        body: bytes = registry.export_geojson(stations).encode("utf-8")
    elif fmt == "csv":
        body = spreadsheets.export_csv(stations, english=english)
    else:
        body = spreadsheets.export_xlsx(stations, english=english)
    day = local_now().strftime("%Y%m%d")
    response = Response(body, mimetype=EXPORT_TYPES[fmt].split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = EXPORT_TYPES["csv"]
    response.headers["Content-Disposition"] = f'attachment; filename="stations-{day}.{fmt}"'
    return no_store(response)
