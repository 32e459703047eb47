"""Fixtures for the council's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_login import staff_client


@pytest.fixture
def council_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(RATE_LIMITS=False)


@pytest.fixture
def courier(council_app: Flask) -> FlaskClient:
    return council_app.test_client()


@pytest.fixture
def secretary(council_app: Flask) -> FlaskClient:
    return staff_client(council_app, "mishu", "council_secretary")
