"""Station and street names sort as people read them."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from shipped_areas import STREET_NAMES

from stationfinder.core.text import natural_key


def test_numbers_in_names_are_read_as_numbers() -> None:
    names = ["14号大街驿站", "2号大街驿站", "1号大街驿站", "白杨驿站", "1号大街爱心驿家"]
    assert sorted(names, key=natural_key) == [
        "1号大街爱心驿家",
        "1号大街驿站",
        "2号大街驿站",
        "14号大街驿站",
        "白杨驿站",
    ]


def test_the_council_form_lists_stations_by_subdistrict_then_natural_name(
    client: FlaskClient,
) -> None:
    page = client.get("/council/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="station_id".*?</select>', page, re.S)
    assert select, "the form offers a station list"
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select.group(0), re.S)
    labels = [label for label, _ in groups]
    assert labels == [s for s in STREET_NAMES if s in labels] and len(labels) >= 5
    seen_numbered = 0
    for _, body in groups:
        names = re.findall(r"<option[^>]*>([^<]+)<", body)
        assert names == sorted(names, key=natural_key)
        seen_numbered += sum(1 for n in names if re.match(r"^\d+号", n))
    assert seen_numbered >= 2  # the sample data has numbered streets to get wrong
