"""Fixtures for the courier pages: a station whose name and address are hostile HTML."""

from __future__ import annotations

import pytest
from flask import Flask

from stationfinder.db import session_scope
from stationfinder.models import Station
from stationfinder.registry import stations as registry

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_ADDRESS = "</script><script>alert(2)</script>`${alert(3)}`"
HOSTILE_ID = "QT-XS-999"


@pytest.fixture
def hostile_text() -> tuple[str, str]:
    """The hostile (name, address)."""
    return HOSTILE_NAME, HOSTILE_ADDRESS


@pytest.fixture
def hostile_station(app: Flask) -> str:
    """A station staff typed badly (or maliciously), next to Jinsha Lake."""
    with session_scope(app) as session:
        session.add(
            Station(
                id=HOSTILE_ID,
                name=HOSTILE_NAME,
                name_en=None,
                kind="其他",
                street="下沙街道",
                address=HOSTILE_ADDRESS,
                lon=120.3181,
                lat=30.3051,
                amenities=["rest", "drinking_water"],
                opening_hours=None,
                phone=None,
            )
        )
        registry.bump_version(session)
    return HOSTILE_ID
