"""A station's id may not claim another subdistrict: QT-XS-… is Xiasha's, whoever types it."""

from __future__ import annotations

from flask import Flask
from staff_login import api_token, staff_client

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
    return api_token(staff_client(app, username, role, street), "t")


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
