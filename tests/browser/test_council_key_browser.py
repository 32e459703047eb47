"""With its script, the council page keeps the server's minted key, never one of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stationfinder.core.privacy import device_key_minted_at

pytestmark = pytest.mark.browser


def test_the_script_keeps_the_minted_key(
    open_context: Callable[..., Any], live_server: Any
) -> None:
    context = open_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/council/new")
    page.wait_for_load_state("networkidle")
    field = page.locator("input[name=device_key]").first.input_value()
    stored = page.evaluate("() => localStorage.getItem('sf-council-key')")
    secret = str(live_server.app.config["SECRET_KEY"])
    assert device_key_minted_at(field, secret) is not None
    assert stored == field
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("sf_council_key") == field
    # A later visit (cookie kept) shows the same key: the phone stays one voice.
    page.goto(f"{live_server.url}/council/new")
    assert page.locator("input[name=device_key]").first.input_value() == field
