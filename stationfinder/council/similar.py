"""Issues a courier may back instead of raising a new one: open issues of the same
category nearby, or with similar words in any category.

Similar words are measured by shared character bigrams, which suit Chinese (no spaces
between words; two characters such as 派件, 快递, 存放 carry most of a word's meaning)
and need no dictionary. No Flask here.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from stationfinder.council.issues import DESCRIPTION_MAX, OPEN_STATUSES, TITLE_MAX
from stationfinder.geo.point import Point
from stationfinder.models import CouncilIssue

# "Nearby" is a short ride: about a kilometre, the span of one station's streets. Issues
# farther away are offered only for their words, and show their true distance.
SIMILAR_RADIUS_M = 1000.0
SIMILAR_MIN_OVERLAP = 0.3
SIMILAR_LIMIT = 5


def bigrams(text: str) -> set[str]:
    """Character bigrams of the letters and digits in a text."""
    chars = [ch.lower() for ch in unicodedata.normalize("NFKC", text) if ch.isalnum()]
    return {a + b for a, b in itertools.pairwise(chars)}


def overlap(a: set[str], b: set[str]) -> float:
    """Share of the smaller text's bigrams found in the other (0..1)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def distance_m(a: Point, b: Point) -> float:
    """Haversine metres; within a district its error is far below what matters here."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a.lon, a.lat, b.lon, b.lat))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Similar:
    issue: CouncilIssue
    distance_m: float | None
    overlap: float


def similar_issues(
    session: Session,
    *,
    category: str | None,
    text: str,
    point: Point | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[Similar]:
    """Up to `limit` open, visible issues a courier may back instead of raising a new
    one: same category within SIMILAR_RADIUS_M, or similar words in any category."""
    words = bigrams(text[: TITLE_MAX + DESCRIPTION_MAX])
    candidates = session.scalars(
        select(CouncilIssue)
        .where(CouncilIssue.status.in_(OPEN_STATUSES), CouncilIssue.hidden.is_(False))
        .order_by(CouncilIssue.created_at.desc())
        .limit(1000)
    )
    found: list[tuple[float, Similar]] = []
    for issue in candidates:
        share = overlap(words, bigrams(issue.title + issue.description))
        away = None
        if point is not None and issue.lon is not None and issue.lat is not None:
            away = distance_m(point, Point(issue.lon, issue.lat))
        near = away is not None and away <= SIMILAR_RADIUS_M and issue.category == category
        if not near and share < SIMILAR_MIN_OVERLAP:
            continue
        score = share + (0.5 if near else 0) + (0.2 if issue.category == category else 0)
        found.append((score, Similar(issue, away, round(share, 2))))
    found.sort(key=lambda row: (-row[0], -row[1].issue.backing_count))
    return [row[1] for row in found[:limit]]
