"""Waiting for a condition in the page, by polling with `page.evaluate`.

Playwright's `wait_for_function` polls by evaluating a string in the page, which the
app's Content-Security-Policy refuses ('unsafe-eval'): an intermittent EvalError under
load. `page.evaluate` of a function expression goes through the debugger, not `eval`.
"""

from __future__ import annotations

import time
from typing import Any


def poll_until(
    page: Any, script: str, arg: Any = None, timeout_s: float = 20.0, every_ms: int = 100
) -> None:
    """Evaluate an (async) predicate in the page until it is true or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s}s: {script}")
        page.wait_for_timeout(every_ms)
