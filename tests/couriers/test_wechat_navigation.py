"""Navigation inside WeChat's browser: WeChat lets no page open another app (neither by
its scheme nor by a universal link), so the pages say so, keep the https links (the web
maps open inside WeChat) and offer the station's name and address to copy."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from stationfinder.db import session_scope
from stationfinder.models import Station

WECHAT_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI "
    "Language/zh_CN"
)
WECHAT_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110005 MMWEBSDK/20230805 "
    "MMWEBID/2585 MicroMessenger/8.0.42.2460(0x28002A3D) WeChat/arm64 Weixin NetType/4G "
    "Language/zh_CN ABI/arm64"
)
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
NOTE_EN = "In WeChat the map apps may not open"


def _station(app: Flask) -> Station:
    with session_scope(app) as session:
        return session.scalars(
            select(Station).where(Station.active, Station.address.is_not(None)).order_by(Station.id)
        ).first()


def _nav_links(page: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'<a href="([^"]+)" data-app="', page)]


def test_the_station_page_in_wechat_offers_the_address_to_copy(
    app: Flask, client: FlaskClient
) -> None:
    station = _station(app)
    page = client.get(f"/stations/{station.id}?lang=en", headers={"User-Agent": WECHAT_IOS}).text
    assert NOTE_EN in page
    assert "open in the browser" in page  # where the map apps do open
    assert 'data-testid="copy-address"' in page
    field = re.search(r'<input class="copy-text"[^>]*value="([^"]*)"', page)
    assert field is not None and "readonly" in field.group(0)
    assert html.unescape(field.group(1)) == f"{station.name} {station.address}"
    links = _nav_links(page)
    assert len(links) == 4
    assert all(u.startswith("https://") for u in links)


def test_the_no_script_list_in_wechat_offers_each_stations_address(client: FlaskClient) -> None:
    response = client.get("/nearest?place=金沙湖", headers={"User-Agent": WECHAT_ANDROID})
    assert response.status_code == 200
    cards = response.text.count('data-testid="station-card"')
    assert cards > 0
    assert response.text.count('data-testid="wechat-nav"') == cards
    assert response.text.count('data-testid="copy-text"') == cards
    ids = re.findall(r'<input class="copy-text" id="([^"]+)"', response.text)
    assert len(set(ids)) == cards  # each label points at its own field
    assert all(u.startswith("https://") for u in _nav_links(response.text))
    assert "User-Agent" in response.headers["Vary"]


def test_other_browsers_get_the_links_alone(app: Flask, client: FlaskClient) -> None:
    station = _station(app)
    for path in (f"/stations/{station.id}", "/nearest?place=金沙湖"):
        page = client.get(path, headers={"User-Agent": SAFARI}).text
        assert 'data-testid="wechat-nav"' not in page
        assert 'data-testid="copy-address"' not in page
        assert len(_nav_links(page)) >= 4


def test_a_station_name_is_text_in_the_copy_field_not_markup(
    app: Flask, client: FlaskClient
) -> None:
    station = _station(app)
    with session_scope(app) as session:
        row = session.get_one(Station, station.id)
        row.address = '"><script>alert(1)</script>'
    page = client.get(f"/stations/{station.id}", headers={"User-Agent": WECHAT_IOS}).text
    assert "<script>alert(1)</script>" not in page
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page
