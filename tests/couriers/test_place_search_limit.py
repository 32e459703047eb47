"""Place searches are limited per client address, /places and the no-script locator's
?place= together: a long query that matches nothing costs a worker up to ~190 ms, so
an unlimited client could keep one busy. A courier typing never comes near the limit."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from stationfinder.web.couriers.routes import PLACES_LIMIT

PER_MINUTE = int(PLACES_LIMIT.split()[0])


def test_a_courier_typing_is_never_limited(app: Flask) -> None:
    client = app.test_client()
    typed = "金沙湖地铁站"
    for end in range(1, len(typed) + 1):  # one search per pause while typing
        assert client.get(f"/places?q={typed[:end]}").status_code == 200
    assert client.get(f"/nearest?place={typed}").status_code == 200


def test_past_the_limit_both_searches_say_so_and_keep_what_was_typed(app: Flask) -> None:
    client = app.test_client()
    for i in range(PER_MINUTE - 1):
        assert client.get(f"/places?q=qqq{i}").status_code == 200
    assert client.get("/nearest?place=白杨街道").status_code == 200  # the same budget
    refused = client.get("/places?q=金沙湖")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    page = client.get("/nearest?place=金沙湖", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 429
    html = page.get_data(as_text=True)
    assert "这里的搜索太频繁了，请等一分钟再试。" in html
    assert 'value="金沙湖"' in html  # what the courier typed is still in the box
    english = client.get("/nearest?place=金沙湖&lang=en").get_data(as_text=True)
    assert "Too many searches from here" in english
    # Another address has its own budget; a fresh cookie does not reset this one.
    other = app.test_client().get("/places?q=金沙湖", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
    fresh = app.test_client().get("/places?q=金沙湖")
    assert fresh.status_code == 429


def test_an_unreachable_counter_store_leaves_searches_working(
    make_app: Callable[..., Flask],
) -> None:
    """With Redis down the count cannot be kept: a courier's search still answers (the
    limit lapses for that while), rather than an error page."""
    app = make_app(REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens on port 9
    client = app.test_client()
    found = client.get("/places?q=金沙湖")
    assert found.status_code == 200 and found.get_json()["places"]
    assert client.get("/nearest?place=金沙湖").status_code == 200
