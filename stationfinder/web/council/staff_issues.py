"""Staff triage of council issues (/staff/council): the inbox with overdue flags, one
issue's page with its actions, and the union's statistics with CSV. council_secretary
and union_admin only."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from stationfinder.accounts.roles import COUNCIL_SECRETARY, UNION_ADMIN
from stationfinder.council import issues as council
from stationfinder.council import meetings as council_meetings
from stationfinder.council import stats as council_stats
from stationfinder.council import triage as council_triage
from stationfinder.council.issues import CouncilError
from stationfinder.db import get_session
from stationfinder.web.auth import current_staff, staff_required
from stationfinder.web.context import current_areas
from stationfinder.web.council import bp
from stationfinder.web.council.charts import bar_chart
from stationfinder.web.council.common import public_error
from stationfinder.web.errors import public_message
from stationfinder.web.i18n import current_lang, district_label, vocabulary_label

COUNCIL_STAFF = (COUNCIL_SECRETARY, UNION_ADMIN)
INBOX_VIEWS = ("new", "open", "overdue", "review")


def actor() -> str:
    staff = current_staff()
    assert staff is not None
    return staff.username


def deadlines() -> council_triage.Deadlines:
    return council_triage.Deadlines.from_config(current_app.config)


@bp.get("/staff/council")
@staff_required(*COUNCIL_STAFF)
def inbox() -> str:
    view = request.args.get("view", "new")
    if view not in INBOX_VIEWS:
        abort(404)
    session = get_session()
    rows = council_triage.inbox(session, deadlines(), view=view)
    counts = {v: len(council_triage.inbox(session, deadlines(), view=v)) for v in INBOX_VIEWS}
    return render_template(
        "council/staff_inbox.html", rows=rows, view=view, views=INBOX_VIEWS, counts=counts
    )


def _issue(issue_id: int) -> council.CouncilIssue:
    try:
        return council.get_issue(get_session(), issue_id)
    except council.IssueNotFound:
        abort(404)


@bp.get("/staff/council/issues/<int:issue_id>")
@staff_required(*COUNCIL_STAFF)
def staff_issue(issue_id: int, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    session = get_session()
    issue = _issue(issue_id)
    query = request.args.get("q", "")
    html = render_template(
        "council/staff_issue.html",
        issue=issue,
        events=council.story(session, issue, public_only=False),
        meetings=council_meetings.issue_meetings(session, issue.id),
        transitions=council_triage.TRANSITIONS.get(issue.status, ()),
        responsible=council_triage.RESPONSIBLE,
        overdue=council_triage.overdue(issue, deadlines()),
        candidates=[c for c in council_triage.search_issues(session, query) if c.id != issue.id],
        query=query,
        upcoming=[
            m for m in council_meetings.meetings(session, 20) if not council_meetings.is_held(m)
        ],
        problem=problem,
        participation=council_triage.participation(session, issue),
    )
    return html, status


_STEPS = {
    "status": lambda s, i, f: council_triage.change_status(
        s, i, f.get("to", ""), actor(), reason=f.get("reason")
    ),
    "reply": lambda s, i, f: council_triage.reply(
        s, i, actor(), f.get("text", ""), public=f.get("public", "1") == "1"
    ),
    "assign": lambda s, i, f: council_triage.assign(s, i, actor(), f.get("responsible", "")),
    "merge": lambda s, i, f: council_triage.merge(s, i, _target(s, f.get("target", "")), actor()),
    "hide": lambda s, i, f: council_triage.hide(s, i, actor(), f.get("reason", "")),
    "restore": lambda s, i, f: council_triage.restore(s, i, actor()),
    "confirm_backings": lambda s, i, f: council_triage.confirm_pending(
        s, i, actor(), f.get("network", "")
    ),
    "discard_backings": lambda s, i, f: council_triage.discard_pending(
        s, i, actor(), f.get("network", "")
    ),
}


def _target(session: Session, text: str) -> int:
    text = text.strip()
    if text.isdigit() and len(text) < 10:
        return int(text)
    try:
        return council.find_issue(session, text).id
    except council.IssueNotFound:
        raise CouncilError("no issue with that work-order number", field="target") from None


@bp.post("/staff/council/issues/<int:issue_id>/<step>")
@staff_required(*COUNCIL_STAFF)
def staff_issue_step(issue_id: int, step: str) -> BaseResponse | tuple[str, int]:
    if step not in _STEPS:
        abort(404)
    session = get_session()
    _issue(issue_id)
    session.commit()
    try:
        with session.begin():
            _STEPS[step](session, issue_id, request.form)
    except council.IssueNotFound as exc:
        raise public_error(exc) from None
    except CouncilError as exc:
        return staff_issue(issue_id, problem=public_message(exc), status=400)
    return redirect(url_for("council.staff_issue", issue_id=issue_id, done=step))


@bp.post("/staff/council/issues/<int:issue_id>/phone")
@staff_required(*COUNCIL_STAFF)
def reveal_phone(issue_id: int) -> str:
    """The full call-back number, shown on purpose and written into the staff log."""
    session = get_session()
    issue = _issue(issue_id)
    if not issue.phone:
        abort(404)
    session.commit()
    with session.begin():
        council.add_event(session, issue, "phone_shown", actor(), public=False)
    return render_template("council/staff_phone.html", issue=issue)


@bp.get("/staff/council/stats")
@staff_required(*COUNCIL_STAFF)
def stats_page() -> str:
    stats = council_stats.council_statistics(get_session(), current_areas())
    english = current_lang() == "en"
    labels = {c.code: c.en if english else c.zh for c in council.CATEGORIES}
    return render_template(
        "council/staff_stats.html",
        stats=stats,
        charts={
            "category": bar_chart([(labels[c], n) for c, n in stats.by_category]),
            "street": bar_chart(
                [
                    (vocabulary_label("street", s) if s else gettext("no place given"), n)
                    for s, n in stats.by_street
                ]
            ),
            "district": bar_chart([(district_label(code), n) for code, n in stats.by_district]),
            "month": bar_chart(stats.by_month),
        },
    )


@bp.get("/staff/council/stats.csv")
@staff_required(*COUNCIL_STAFF)
def stats_csv() -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(council_stats.CSV_HEADER)
    for row in council_stats.csv_rows(get_session()):
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="council-issues.csv"'
    return response
