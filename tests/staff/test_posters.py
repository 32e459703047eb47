"""Station posters: staff print A5 posters with a QR code to the station's page."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from staff_login import staff_client

from stationfinder.db import session_scope
from stationfinder.models import Station

PUBLIC = "https://xiaoge.example.cn"


def _ids_in(street: str, app: Flask) -> set[str]:
    with session_scope(app) as session:
        query = select(Station.id).where(Station.active, Station.street == street)
        return set(session.scalars(query))


def test_one_station_poster_points_at_the_public_address(make_app: Callable[..., Flask]) -> None:
    app = make_app(PUBLIC_BASE_URL=PUBLIC)
    client = staff_client(app, "baiyang", "street_staff", "白杨街道")
    station_id = sorted(_ids_in("白杨街道", app))[0]
    page = client.get(f"/staff/posters?station={station_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('data-testid="poster"') == 1
    url = re.search(r'data-testid="poster-url">([^<]+)<', html)
    assert url and url.group(1) == f"{PUBLIC}/stations/{station_id}"
    assert "<svg" in html and 'class="qr"' in html
    assert 'data-testid="base-url-warning"' not in html
    assert "扫码确认信息或报告问题" in html or "Scan to confirm" in html


def test_a_whole_subdistrict_prints_one_poster_per_active_station(app: Flask) -> None:
    client = staff_client(app, "admin", "union_admin", None)
    page = client.get("/staff/posters", query_string={"street": "下沙街道"}).get_data(as_text=True)
    printed = set(re.findall(r'data-testid="poster" data-station="([^"]+)"', page))
    assert printed == _ids_in("下沙街道", app) and len(printed) > 5
    # Without a configured public address the page says so before anyone prints.
    assert 'data-testid="base-url-warning"' in page


def test_street_staff_print_only_their_own_subdistrict(app: Flask) -> None:
    client = staff_client(app, "baiyang", "street_staff", "白杨街道")
    other = sorted(_ids_in("下沙街道", app))[0]
    assert client.get(f"/staff/posters?station={other}").status_code == 403
    assert client.get("/staff/posters?street=下沙街道").status_code == 403
    assert client.get("/staff/posters?station=QT-NO-999").status_code == 404
    assert client.get("/staff/posters").status_code == 400
    assert app.test_client().get("/staff/posters?street=白杨街道").status_code in (302, 401)
