"""Offline that answers like online, as a courier's phone sees it.

After one visit with a network the phone holds the registry and the server's open/closed
spans (GET /api/v1/stations/hours); with no network the cards read 开放中/已关闭 and the
next change exactly as they did online, 「现在开放」 drops a closed station, and a page
never opened shows the offline page rather than the locator under its own URL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from stationfinder.core.clock import SHANGHAI
from stationfinder.db import get_db
from stationfinder.models import Station
from stationfinder.registry import stations as registry
from stationfinder.web.messages import script_text

pytestmark = pytest.mark.browser

COURIER = {"latitude": 30.3062, "longitude": 120.3227}
T = script_text("zh")


def _closed_now_opening_later() -> str:
    """Hours that are closed now and open in two hours, whatever the time of the run."""
    opens = (datetime.now(SHANGHAI) + timedelta(hours=2)).replace(second=0, microsecond=0)
    closes = opens + timedelta(hours=1)
    return f"Mo-Su {opens:%H:%M}-{closes:%H:%M}"


def _prepare(app: Any) -> tuple[str, str]:
    """The station nearest the courier closed now (it opens later), the next one 24/7."""
    nearest = app.test_client().get(
        "/api/v1/stations/nearest",
        query_string={"lat": COURIER["latitude"], "lon": COURIER["longitude"], "k": 2},
    )
    closed_id, open_id = (f["id"] for f in nearest.get_json()["features"])
    with get_db(app).sessions() as session, session.begin():
        session.get_one(Station, closed_id).opening_hours = _closed_now_opening_later()
        session.get_one(Station, open_id).opening_hours = "24/7"
        registry.bump_version(session)
    return closed_id, open_id


def _badges(page: Any) -> dict[str, str]:
    cards = page.get_by_test_id("station-card")
    expect(cards.first).to_be_visible()
    return {
        card.get_attribute("data-station-id"): card.get_by_test_id("hours-badge").inner_text()
        for card in cards.all()
    }


def _first_visit(page: Any, url: str, poll_until: Callable[..., None], lang: str = "zh") -> None:
    page.goto(url + ("/" if lang == "zh" else f"/?lang={lang}"))
    poll_until(
        page,
        """async () => !!navigator.serviceWorker.controller
             && !!(await caches.match('/'))
             && !!(await caches.match('/offline'))
             && !!(await caches.match('/api/v1/stations'))
             && !!(await caches.match('/api/v1/stations/hours'))""",
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_offline_cards_read_as_online_and_open_now_filters(
    open_context: Callable[..., Any],
    live_server: Any,
    poll_until: Callable[..., None],
    lang: str,
) -> None:
    words = script_text(lang)  # the page's words in its language
    closed_id, open_id = _prepare(live_server.app)
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    _first_visit(page, live_server.url, poll_until, lang)
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("offline-note")).to_be_hidden()
    online = _badges(page)
    assert online[closed_id].startswith(words["closed"] + " · ")  # "已关闭 · 16:05 开门"
    assert online[open_id] == words["open"]

    context.set_offline(True)
    page.reload()
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("offline-note")).to_be_visible()
    offline = _badges(page)
    assert offline == online  # every card, the same words, ids and order
    assert list(offline) == list(online)
    # Within the window the hours are worked out, not shown raw and unknown.
    expect(page.locator(".card-hours")).to_have_count(0)
    assert words["hours_unknown"] not in " ".join(
        v for k, v in offline.items() if k in (closed_id, open_id)
    )

    page.get_by_test_id("open-now").check()
    cards = page.get_by_test_id("station-card")
    expect(cards.first).to_have_attribute("data-station-id", open_id)
    expect(page.locator(f'[data-station-id="{closed_id}"]')).to_have_count(0)
    for badge in page.get_by_test_id("hours-badge").all():
        assert badge.inner_text().startswith(words["open"])
    expect(page.get_by_test_id("offline-note")).to_be_visible()

    # An amenity chip filters offline too: every card left has it, in service.
    page.get_by_test_id("open-now").uncheck()
    page.get_by_test_id("chip-drinking_water").check()
    expect(page.get_by_test_id("offline-note")).to_be_visible()
    cards = page.get_by_test_id("station-card")
    expect(cards.first).to_be_visible()
    for card in cards.all():
        water = card.locator('[data-amenity="drinking_water"]')
        expect(water).to_have_count(1)
        expect(water).not_to_have_attribute("data-paused", "1")


def test_offline_past_the_window_the_hours_are_unknown_and_shown_as_written(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    _first_visit(page, live_server.url, poll_until)
    context.set_offline(True)
    # Ten days on, beyond the spans the server sent: the phone does not pretend.
    page.clock.install(time=datetime.now(SHANGHAI) + timedelta(days=10))
    page.reload()
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("offline-note")).to_be_visible()
    first = page.get_by_test_id("station-card").first
    expect(first.get_by_test_id("hours-badge")).to_have_text(T["hours_unknown"])
    expect(first.locator(".card-hours")).to_contain_text(T["hours"])


def test_pages_never_opened_show_the_offline_page(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    context = open_context()
    page = context.new_page()
    _first_visit(page, live_server.url, poll_until)
    with get_db(live_server.app).sessions() as session:
        station_id = registry.active_stations(session)[-1].id
    context.set_offline(True)
    for path in (f"/stations/{station_id}", "/council"):
        page.goto(live_server.url + path)
        expect(page.get_by_test_id("offline-page")).to_be_visible()
        expect(page.get_by_test_id("locate")).to_have_count(0)
        assert page.url == live_server.url + path
    page.get_by_test_id("offline-locator").click()
    expect(page.get_by_test_id("locate")).to_be_visible()


def test_an_edit_the_spans_do_not_know_yet_reads_unknown_with_the_hours_as_written(
    open_context: Callable[..., Any], live_server: Any, poll_until: Callable[..., None]
) -> None:
    """The registry copy took an edit of a station's hours but fetching the spans failed:
    the card does not guess from old spans (they are keyed by the expression)."""
    app = live_server.app
    context = open_context(geolocation=COURIER, permissions=["geolocation"])
    page = context.new_page()
    _first_visit(page, live_server.url, poll_until)
    nearest = app.test_client().get(
        "/api/v1/stations/nearest",
        query_string={"lat": COURIER["latitude"], "lon": COURIER["longitude"], "k": 1},
    )
    station_id = nearest.get_json()["features"][0]["id"]
    edited = "Mo-Su 05:00-05:01"
    with get_db(app).sessions() as session, session.begin():
        row = session.get_one(Station, station_id)
        row.opening_hours = edited
        row.updated_at = datetime.now(UTC)
        registry.bump_version(session)
    app.view_functions["api.station_hours"] = lambda: ("", 503)
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({type: 'sync'})")
    poll_until(
        page,
        """async (edited) => {
             const r = await caches.match('/api/v1/stations');
             return !!r && (await r.text()).includes(edited);
           }""",
        edited,
    )
    context.set_offline(True)
    page.reload()
    page.get_by_test_id("locate").click()
    card = page.locator(f'[data-testid="station-card"][data-station-id="{station_id}"]')
    expect(card.get_by_test_id("hours-badge")).to_have_text(T["hours_unknown"])
    expect(card.locator(".card-hours")).to_contain_text(edited)
