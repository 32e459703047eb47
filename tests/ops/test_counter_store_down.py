"""Redis, where rate limits count, unreachable: every courier page still answers, a
limited form still counts (each process on its own until Redis is back), and nothing
answers 500. Before, the council's new-issue page answered 500 (minting a device key
asks the store)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from staff_login import csrf_from

from stationfinder.db import session_scope
from stationfinder.models import Station

DOWN = "redis://127.0.0.1:9/0"  # nothing listens on port 9


@pytest.fixture
def app_without_redis(make_app: Callable[..., Flask]) -> Flask:
    return make_app(REDIS_URL=DOWN)


@pytest.mark.parametrize(
    "path",
    ["/", "/council", "/council/new", "/map", "/nearest?place=金沙湖", "/places?q=金沙湖",
     "/api/v1/stations/nearest?lat=30.3&lon=120.3"],
)  # fmt: skip
def test_courier_pages_answer(app_without_redis: Flask, path: str) -> None:
    assert app_without_redis.test_client().get(path).status_code == 200


def test_a_limited_form_still_counts_per_process(app_without_redis: Flask) -> None:
    with session_scope(app_without_redis) as session:
        station = session.scalars(
            select(Station).where(Station.active).order_by(Station.id)
        ).first()
        assert station is not None
        station_id = station.id
    courier = app_without_redis.test_client()
    courier.set_cookie("sf_device", "redis-down-test-device-0001")
    codes = []
    for _ in range(7):
        page = courier.get(f"/stations/{station_id}/report")
        assert page.status_code == 200
        codes.append(
            courier.post(
                f"/stations/{station_id}/report",
                data={"csrf_token": csrf_from(page.text), "category": "closed_when_open"},
                content_type="multipart/form-data",
            ).status_code
        )
    assert codes[:6] == [200] * 6 and codes[6] == 429
