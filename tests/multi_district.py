"""Fixtures for an app serving the synthetic multi-district data set
(data/multi_district/: Qiantang and three fictional districts, 31 subdistricts, names
that two districts share). Import them (database_url, app_settings) into a test module
to have its `app` (and the browser tests' `live_server`) serve that data instead of the
shipped sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "multi_district"
AREAS_FILE = DATA / "areas.geojson"
STATIONS_FILE = DATA / "stations.geojson"
EAST = "330191"  # 示例东区
SOUTH = "330192"  # 示例南区


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """An empty database, so the app seeds it from the multi-district stations."""
    return empty_database_url


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """The multi-district outlines and stations instead of the shipped sample."""
    return {"AREAS_FILE": str(AREAS_FILE), "SEED_FILE": str(STATIONS_FILE)}
