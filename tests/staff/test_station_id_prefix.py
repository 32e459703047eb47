"""A station's id may not claim another subdistrict: QT-XS-… is Xiasha's, whoever types it."""

from __future__ import annotations

import re

from flask import Flask
from staff_login import csrf_from, staff_client

from stationfinder.db import session_scope
from stationfinder.models import Station

IN_BAIYANG = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [120.34, 30.315]},
    "properties": {
        "name": "白杨前缀驿站",
        "kind": "工会驿站",
        "amenities": ["rest"],
        "opening_hours": "Mo-Su 08:00-20:00",
    },
    "reason": "id prefix check",
}


def _token(app: Flask, username: str, role: str, street: str | None) -> str:
    client = staff_client(app, username, role, street)
    page = client.get("/staff/tokens").get_data(as_text=True)
    made = client.post("/staff/tokens", data={"name": "t", "csrf_token": csrf_from(page)})
    match = re.search(r'data-testid="new-token">([^<]+)<', made.get_data(as_text=True))
    assert match, made.get_data(as_text=True)[:500]
    return match.group(1)


def test_an_id_claiming_another_subdistrict_is_refused_for_staff_and_admin(app: Flask) -> None:
    client = app.test_client()
    for who, role, street in (
        ("baiyang", "street_staff", "白杨街道"),
        ("admin", "union_admin", None),
    ):
        token = _token(app, who, role, street)
        answer = client.post(
            "/api/v1/stations",
            json={**IN_BAIYANG, "id": f"QT-XS-9{len(who)}0"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 400, answer.get_data(as_text=True)
        error = answer.get_json()["error"]
        assert error["field"] == "id" and "QT-BY-" in error["message"]
        with session_scope(app) as session:
            assert session.get(Station, f"QT-XS-9{len(who)}0") is None  # nothing written

    own = client.post(
        "/api/v1/stations",
        json={**IN_BAIYANG, "id": "QT-BY-950"},
        headers={"Authorization": f"Bearer {_token(app, 'baiyang2', 'street_staff', '白杨街道')}"},
    )
    assert own.status_code == 201, own.get_data(as_text=True)
