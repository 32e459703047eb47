"""Bar charts drawn on the server as inline SVG: no chart library, nothing to download,
and they print. The template draws what `bar_chart` measures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROW = 26  # px per bar
LABEL_WIDTH = 130
BAR_WIDTH = 300
VALUE_WIDTH = 50


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    row: int = ROW


def bar_chart(pairs: Sequence[tuple[str, int]]) -> Chart:
    """Horizontal bars, longest = BAR_WIDTH; a zero stays visible as a hairline."""
    top = max((value for _label, value in pairs), default=0) or 1
    bars = [
        Bar(label, value, i * ROW, max(1, round(BAR_WIDTH * value / top)))
        for i, (label, value) in enumerate(pairs)
    ]
    return Chart(bars, LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, max(ROW, len(bars) * ROW))
