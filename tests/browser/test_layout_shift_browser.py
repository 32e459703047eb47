"""The locator does not move under a courier's thumb while it loads.

The locate button used to be sent hidden and revealed by app.js, which pushed the whole
form 72 px down after the first paint (Lighthouse: cumulative layout shift 0.067): a
courier reaching for the place field hit whatever slid under the finger. The button is
now in the first paint (hidden by a <noscript> style when there is no script to run it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/nearest?lat=30.3051&lon=120.3181"])
def test_the_locate_button_is_laid_out_before_app_js_runs(
    open_context: Callable[..., Any], live_server: Any, path: str
) -> None:
    """Where the button is before app.js arrives (held back here: an empty script) is
    where it stays after: nothing above the form moves once the page has painted."""
    context = open_context(has_touch=True, is_mobile=True)
    page = context.new_page()
    page.route(
        "**/assets/app.js*",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=""),
    )
    page.goto(f"{live_server.url}{path}")
    before_script = {
        "button": page.get_by_test_id("locate").bounding_box(),
        "form": page.get_by_test_id("finder").bounding_box(),
    }
    assert before_script["button"] is not None, "the locate button waits for app.js"

    page = context.new_page()
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    with_script = {
        "button": page.get_by_test_id("locate").bounding_box(),
        "form": page.get_by_test_id("finder").bounding_box(),
    }
    assert with_script == before_script
