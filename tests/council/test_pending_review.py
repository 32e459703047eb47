"""The secretary sees held-back backings (待核实) by network and counts or drops them."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from staff_login import csrf_from

from stationfinder.council import issues as council
from stationfinder.council import triage
from stationfinder.db import session_scope
from stationfinder.web.context import current_areas

ROOM = "network-of-the-meeting-room"
SCRIPT = "network-of-a-script"


def _issue_with_bursts(app: Flask) -> int:
    with session_scope(app) as session:
        issue = council.raise_issue(
            session,
            current_areas(app),
            title="站点饮水机坏了一周",
            description="白杨街道 2 号大街站点的饮水机坏了一周没人修。",
            category="rest_facilities",
            device_hash="raiser",
        )
        for network, n in ((ROOM, 7), (SCRIPT, 9)):
            for i in range(n):
                council.back_issue(
                    session, issue, f"{network}-{i}", network_hash=network, established=False
                )
        session.flush()
        return issue.id


def test_bursts_are_held_and_shown_by_network(council_app: Flask, secretary: FlaskClient) -> None:
    issue_id = _issue_with_bursts(council_app)
    with session_scope(council_app) as session:
        seen = triage.participation(session, council.get_issue(session, issue_id))
    # The raiser, then 3 young keys per network count; the rest wait.
    assert seen.counted == 1 + 3 + 3
    assert [(g.network, g.count) for g in seen.pending] == [(SCRIPT, 6), (ROOM, 4)]
    page = secretary.get(f"/staff/council/issues/{issue_id}").get_data(as_text=True)
    assert page.count('data-testid="pending-group"') == 2
    assert re.findall(r'data-testid="pending-count">(\d+)<', page) == ["6", "4"]
    assert ROOM not in page.replace(f'value="{ROOM}"', "")  # the hash is shortened on screen


def test_counting_one_burst_and_dropping_the_other(
    council_app: Flask, secretary: FlaskClient, courier: FlaskClient
) -> None:
    issue_id = _issue_with_bursts(council_app)
    page = secretary.get(f"/staff/council/issues/{issue_id}").get_data(as_text=True)
    token = csrf_from(page)
    url = f"/staff/council/issues/{issue_id}"
    confirmed = secretary.post(
        f"{url}/confirm_backings", data={"csrf_token": token, "network": ROOM}
    )
    assert confirmed.status_code == 302
    dropped = secretary.post(
        f"{url}/discard_backings", data={"csrf_token": token, "network": SCRIPT}
    )
    assert dropped.status_code == 302
    with session_scope(council_app) as session:
        issue = council.get_issue(session, issue_id)
        seen = triage.participation(session, issue)
        number = council.work_order_number(issue)
        story = [e.kind for e in council.story(session, issue, public_only=False)]
    assert seen.counted == 1 + 3 + 3 + 4 and seen.pending == []
    assert "backings_confirmed" in story and "backings_discarded" in story
    public = courier.get(f"/council/issues/{number}").get_data(as_text=True)
    assert "11" in public
    again = secretary.post(f"{url}/discard_backings", data={"csrf_token": token, "network": SCRIPT})
    assert again.status_code == 400  # nothing left from that network: a form message


def test_a_merge_does_not_count_held_back_backings(council_app: Flask) -> None:
    issue_id = _issue_with_bursts(council_app)
    with session_scope(council_app) as session:
        other = council.raise_issue(
            session,
            current_areas(council_app),
            title="饮水机还是坏的",
            description="同一个站点，饮水机一直没修好。",
            category="rest_facilities",
            device_hash="another-raiser",
        )
        session.flush()
        survivor = triage.merge(session, issue_id, other.id, "mishu")
        assert survivor.backing_count == 1 + 3 + 3 + 1
