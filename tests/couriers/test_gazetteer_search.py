"""The offline gazetteer: Chinese and English names, short forms, pinyin and initials,
numbered streets, subdistricts, stations, and what a search that finds nothing offers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from shipped_areas import SHIPPED

from stationfinder.core.resources import data_file
from stationfinder.db import session_scope
from stationfinder.geo.areas import Areas
from stationfinder.geo.gazetteer import (
    Gazetteer,
    Place,
    like_patterns,
    load_document,
    normalise,
)
from stationfinder.geo.place_names import reading
from stationfinder.geo.point import Point
from stationfinder.registry.name_search import StationNames
from stationfinder.web.couriers.places import street_centres

STATIONS = [
    {
        "type": "Feature",
        "id": "QT-XS-001",
        "geometry": {"type": "Point", "coordinates": [120.31, 30.30]},
        "properties": {"name": "金沙湖城管驿站", "name_en": None, "street": "下沙街道"},
    }
]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    areas = Areas.from_file(data_file("areas.geojson"))
    return Gazetteer.build(
        load_document(data_file("gazetteer.json")),
        street_centres(areas),
        STATIONS,
        {s.key: s.label(english=True) for s in SHIPPED.listed()},  # as the app does
    )


def test_exact_landmark_comes_before_stations_that_contain_it(gazetteer: Gazetteer) -> None:
    found = gazetteer.search("金沙湖")
    assert found[0].name == "金沙湖"
    assert found[0].point == Point(120.318, 30.305)
    assert "金沙湖城管驿站" in [p.name for p in found]


def test_subdistrict_by_short_name_and_english(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("白杨")[0].name == "白杨街道"
    assert gazetteer.search("baiyang")[0].name == "白杨街道"
    assert gazetteer.search("Jinsha Lake")[0].name == "金沙湖"


def test_width_case_and_spaces_do_not_matter(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("ＪＩＮＳＨＡ　ｌａｋｅ")[0].name == "金沙湖"
    assert normalise(" Jinsha  Lake ") == "jinshalake"


def test_station_names_are_places(gazetteer: Gazetteer) -> None:
    hit = gazetteer.search("城管驿站")[0]
    assert hit.station_id == "QT-XS-001"


def test_nothing_and_junk_find_nothing(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("") == []
    assert gazetteer.search("   ") == []
    assert gazetteer.search("火星基地") == []
    assert gazetteer.search("x" * 10_000) == []


def test_every_subdistrict_centre_lies_inside_its_outline() -> None:
    areas = Areas.from_file(data_file("areas.geojson"))
    centres = street_centres(areas)
    assert len(centres) == 7
    for name, centre in centres.items():
        assert areas.street_at(centre) == name


def _like(pattern: str, text: str) -> bool:
    """SQL LIKE with ESCAPE '\\', as the database applies it."""
    regex, chars = "", iter(pattern)
    for c in chars:
        if c == "\\":
            regex += re.escape(next(chars))
        elif c == "%":
            regex += ".*"
        elif c == "_":
            regex += "."
        else:
            regex += re.escape(c)
    return re.fullmatch(regex, text, flags=re.S) is not None


NAME_PARTS = st.sampled_from(
    [
        *("金沙", "湖", "下沙", "街道", "站", "Jinsha", " Lake", "-", "%", "_", "x"),
        *("1", "4", "0", "一", "二", "十", "四", "〇", "号", "大街", "杭州", "电子", "大学"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.lists(NAME_PARTS, min_size=1, max_size=5).map("".join),
    name_en=st.none() | st.lists(NAME_PARTS, min_size=1, max_size=4).map("".join),
    query=st.lists(NAME_PARTS, min_size=1, max_size=3).map("".join),
)
def test_the_database_pattern_finds_every_station_the_gazetteer_would(
    name: str, name_en: str | None, query: str
) -> None:
    """Stations are searched in the database with `like_patterns` and ranked by the
    gazetteer: the pattern must let through every station the ranking would keep."""
    place = Place(name, name_en, "station", None, Point(120.3, 30.3), station_id="S1")
    found = Gazetteer([]).search(query, also=[place])
    patterns = like_patterns(query)
    if found:
        assert any(
            _like(pattern, name.lower()) or _like(pattern, (name_en or "").lower())
            for pattern in patterns
        ), patterns


def test_stations_are_found_by_name_in_the_database(client: FlaskClient) -> None:
    places = client.get("/places", query_string={"q": "金沙天街"}).get_json()["places"]
    assert [p["kind"] for p in places[:2]] == ["landmark", "station"]  # landmarks first
    assert places[1]["name"] == "龙湖杭州金沙天街城管驿站" and places[1]["station_id"]
    english = client.get("/places", query_string={"q": "ＸＩＡＳＨＡ"}).get_json()["places"]
    assert any(p["station_id"] for p in english)  # English names, full-width typed


def test_likes_wildcards_typed_are_text_not_wildcards(app: Flask) -> None:
    names = StationNames()
    with session_scope(app) as session:
        assert names.named_like(session, like_patterns("驿站"))  # sanity
        for typed in ("%", "\\", "驿%站", "%驿站"):
            patterns = like_patterns(typed)
            assert patterns
            assert names.named_like(session, patterns) == [], typed
    assert like_patterns("_") == []  # punctuation the gazetteer ignores: no search


# --- how people type ---------------------------------------------------------------


def _names(found: list[Place]) -> list[str]:
    return [p.name for p in found]


@pytest.mark.parametrize("typed", ["xiasha", "XiaSha", "Xia Sha", "xià shā", "xs", "XS"])
def test_pinyin_and_initials_find_xiasha(gazetteer: Gazetteer, typed: str) -> None:
    assert gazetteer.search(typed)[0].name == "下沙街道"


def test_pinyin_finds_a_place_whose_english_name_is_not_pinyin() -> None:
    places = [Place("下沙", None, "landmark", None, Point(120.3, 30.3))]
    places.append(Place("下沙西站", "Xiasha West Station", "metro", None, Point(120.3, 30.3)))
    assert [p.name for p in Gazetteer(places).search("xiasha")] == ["下沙西站", "下沙"]
    assert [p.name for p in Gazetteer(places).search("xs")] == ["下沙", "下沙西站"]


@pytest.mark.parametrize("typed", ["jinshahu", "Jin Sha Hu", "jsh"])
def test_pinyin_and_initials_find_jinsha_lake(gazetteer: Gazetteer, typed: str) -> None:
    # 金沙湖站 matches as well as the lake (its stem is 金沙湖): the shorter name first.
    assert _names(gazetteer.search(typed))[:2] == ["金沙湖", "金沙湖站"]


def test_pinyin_from_a_syllable_inside_the_name(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("dianzi")[0].name == "杭州电子科技大学"
    assert gazetteer.search("hzdz")[0].name == "杭州电子科技大学"  # initials, begun
    assert gazetteer.search("shahu")[0].name == "金沙湖"
    assert gazetteer.search("hahu") == []  # not from inside a syllable


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("杭电", "杭州电子科技大学"),  # curated in the data file
        ("HDU", "杭州电子科技大学"),
        ("hangdian", "杭州电子科技大学"),  # the pinyin of a curated short form
        ("杭师大", "杭州师范大学（下沙校区）"),
        ("浙理", "浙江理工大学"),  # derived: characters of the name in order, from its first
        ("浙江财经大学", "浙江财经大学（下沙校区）"),  # derived: the campus dropped
        ("钱塘区政府", "钱塘区人民政府"),  # derived: 人民政府 said 政府
        ("大学城", "下沙高教园区"),
    ],
)
def test_short_forms(gazetteer: Gazetteer, typed: str, place: str) -> None:
    assert gazetteer.search(typed)[0].name == place


def test_an_abbreviation_must_keep_what_names_the_place(gazetteer: Gazetteer) -> None:
    """浙大 is Zhejiang University (not in the district): picking 浙 and 大学's 大 from
    浙江理工大学 says nothing about which of three universities is meant."""
    assert gazetteer.search("浙大") == []


def test_subdistricts_with_or_without_jiedao(gazetteer: Gazetteer) -> None:
    for typed in ("下沙", "下沙街道", "下沙 街道"):
        assert gazetteer.search(typed)[0].name == "下沙街道"
    # The office is found by its own name, and by the subdistrict's with 办事处 left off
    # only after the subdistrict itself.
    assert _names(gazetteer.search("下沙街道办事处"))[0] == "下沙街道办事处"


def test_ranking_exact_prefix_alias_pinyin_initials() -> None:
    """Each place below matches "tj" (or its Chinese) in one way only; the order is the
    one the gazetteer promises, whatever order the places come in."""
    point = Point(120.3, 30.3)
    places = [
        Place("天街北", None, "landmark", None, point),  # prefix of the name
        Place("天街", None, "landmark", None, point),  # the exact name
        Place("龙湖金沙商场", None, "landmark", None, point),  # alias 天街 (below)
        Place("东天街口", None, "landmark", None, point),  # inside the name
    ]
    aliases = {"龙湖金沙商场": ["天街"]}
    for order in (places, places[::-1]):
        found = Gazetteer(order, aliases).search("天街")
        assert _names(found) == ["天街", "天街北", "龙湖金沙商场", "东天街口"]
    latin = [
        Place("田家", None, "landmark", None, point),  # initials tj
        Place("天津路", None, "landmark", None, point),  # pinyin tianjinlu, a prefix
        Place("天津", None, "landmark", None, point),  # pinyin tianjin, exact
        Place("Tianjin Plaza", None, "landmark", None, point),  # English prefix
    ]
    found = Gazetteer(latin).search("tianjin")
    assert _names(found) == ["Tianjin Plaza", "天津", "天津路"]
    assert _names(Gazetteer(latin).search("tj")) == ["天津", "田家", "天津路"]


def test_equal_matches_answer_in_a_stable_order() -> None:
    point = Point(120.3, 30.3)
    places = [Place(n, None, "landmark", None, point) for n in ("下沙乙", "下沙甲", "下沙丙")]
    first = _names(Gazetteer(places).search("xs"))
    assert first == _names(Gazetteer(places[::-1]).search("xs"))
    assert first == sorted(first)  # same rank, kind and length: by name


STREET_STATIONS = [
    Place(n, None, "station", "下沙街道", Point(120.3, 30.3), station_id=f"S{i}")
    for i, n in enumerate(["1号大街驿站", "14号大街驿站", "二十一号大街驿站", "四号大街驿站"])
]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("1号大街", ["1号大街驿站"]),
        ("一号大街", ["1号大街驿站"]),
        ("14号大街", ["14号大街驿站"]),
        ("十四号大街", ["14号大街驿站"]),
        ("4号大街", ["四号大街驿站"]),  # not 14号大街
        ("21号大街", ["二十一号大街驿站"]),
        ("二十一号", ["二十一号大街驿站"]),
        ("号大街", ["1号大街驿站", "四号大街驿站", "14号大街驿站", "二十一号大街驿站"]),
    ],
)
def test_numbered_streets_in_digits_or_chinese_numerals(typed: str, found: list[str]) -> None:
    assert _names(Gazetteer([]).search(typed, also=STREET_STATIONS)) == found


def test_a_number_in_the_query_finds_each_way_the_database_may_write_it() -> None:
    for typed in ("2号大街", "二号大街"):
        patterns = like_patterns(typed)
        for stored in ("2号大街驿站", "二号大街驿站", "下沙2号大街"):
            assert any(_like(p, stored) for p in patterns), (typed, stored)
        assert not any(_like(p, "3号大街驿站") for p in patterns)
    assert any(_like(p, "二〇号") for p in like_patterns("20号"))
    assert any(_like(p, "二十号") for p in like_patterns("20号"))


# --- when nothing is found ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("金纱湖", "金沙湖"),  # a wrong character
        ("xaisha", "下沙街道"),  # letters swapped
        ("jinshahuu", "金沙湖"),  # one too many
        ("hangzhoudainzi", "杭州电子科技大学"),  # the start of a long name, mistyped
    ],
)
def test_suggestions_are_the_nearest_names(gazetteer: Gazetteer, typed: str, first: str) -> None:
    assert gazetteer.search(typed) == []
    assert gazetteer.suggest(typed)[0].name == first


def test_nothing_near_is_no_suggestion(gazetteer: Gazetteer) -> None:
    assert gazetteer.suggest("火星基地") == []
    assert gazetteer.suggest("qq") == []  # two letters are near everything
    assert gazetteer.suggest("") == []
    assert len(gazetteer.suggest("x" * 10_000)) <= 5


def test_the_shipped_aliases_name_shipped_places() -> None:
    document = load_document(data_file("gazetteer.json"))
    names = {p["name"] for p in document["places"]}
    assert document["aliases"]["杭州电子科技大学"][0] == "杭电"
    assert set(document["aliases"]) <= names


def test_a_malformed_alias_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.json"
    path.write_text('{"places": [], "aliases": {"金沙湖": "金湖"}}', encoding="utf-8")
    with pytest.raises(ValueError, match="aliases"):
        load_document(path)


# --- the pages ---------------------------------------------------------------------


def test_places_api_by_pinyin_and_by_numbered_street(client: FlaskClient) -> None:
    body = client.get("/places", query_string={"q": "xs"}).get_json()
    assert body["places"][0]["name"] == "下沙街道" and body["suggestions"] == []
    streets = client.get("/places", query_string={"q": "一号大街"}).get_json()["places"]
    names = [p["name"] for p in streets]
    assert names and all("1号大街" in n for n in names), names
    assert not any("14号大街" in n for n in names)


def test_places_api_offers_suggestions_when_nothing_matches(client: FlaskClient) -> None:
    body = client.get("/places", query_string={"q": "金纱湖"}).get_json()
    assert body["places"] == []
    assert body["suggestions"][0]["name"] == "金沙湖"
    assert body["suggestions"][0]["lon"] == 120.318


def test_the_no_script_page_finds_a_place_by_initials(client: FlaskClient) -> None:
    page = client.get("/nearest", query_string={"place": "jsh"}).get_data(as_text=True)
    assert "附近：金沙湖" in page and 'data-testid="station-card"' in page
    assert 'data-testid="place-suggestions" aria-label' in page  # the box, hidden
    assert 'data-testid="suggested-places"' not in page


def test_the_no_script_page_lists_suggestions_as_links(client: FlaskClient) -> None:
    response = client.get(
        "/nearest", query_string={"place": "金纱湖", "amenity": "toilet", "open_now": "1"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    box = page[page.index('data-testid="place-suggestions"') :].split("</nav>")[0]
    assert " hidden" not in box.split(">")[0]
    places = re.findall(r'<a href="([^"]+)">([^<]+)</a>', box)
    hrefs = dict((label, href) for href, label in places)
    # The nearest name first, keeping the filters the courier chose; then all seven
    # subdistricts.
    assert places[0][1] == "金沙湖"
    assert "place=%E9%87%91%E6%B2%99%E6%B9%96" in places[0][0]
    assert "amenity=toilet" in places[0][0] and "open_now=1" in places[0][0]
    assert "street=%E4%B8%8B%E6%B2%99%E8%A1%97%E9%81%93" in hrefs["下沙街道"]
    assert len([h for h, _ in places if "street=" in h]) == 7
    # Following the first link finds stations near the lake.
    followed = client.get(places[0][0].replace("&amp;", "&")).get_data(as_text=True)
    assert 'class="cards"' in followed and "金沙湖" in followed.split('class="cards"')[0]


def test_the_english_page_suggests_in_english(client: FlaskClient) -> None:
    page = client.get("/nearest", query_string={"place": "Jinsha Lkae", "lang": "en"})
    text = page.get_data(as_text=True)
    box = text[text.index('data-testid="place-suggestions"') :].split("</nav>")[0]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', box)
    assert links[0][1] == "Jinsha Lake" and "lang=en" in links[0][0]
    assert ("Xiasha Subdistrict" in [label for _, label in links]) and "下沙街道" not in box


# --- what a worker holds ------------------------------------------------------------

_WORKER = """
import json
import sys
from stationfinder import create_app, import_modules
import_modules()  # what gunicorn's master imports before it forks the workers
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x"})
client = app.test_client()
found = {q: [p["name"] for p in client.get("/places", query_string={"q": q}).json["places"]]
         for q in ("xiasha", "xs", "jsh", "hangdian", "二号大街", "杭电")}
print(json.dumps(found))
print(json.dumps(sorted({"pypinyin", "segno", "icalendar"} & set(sys.modules))))
"""


def test_a_worker_finds_places_by_pinyin_without_loading_pypinyin(seeded_sqlite: Path) -> None:
    """pypinyin's phrase dictionary costs each worker ~56 MB of resident memory: the
    shipped names carry their readings in data/gazetteer.json, so gunicorn's master and
    its workers answer pinyin and initials without importing it. Measured: VmRSS per
    worker 192 → 140 MB at 158 stations (bench/http_load.py)."""
    run = subprocess.run(
        [sys.executable, "-c", _WORKER, f"sqlite:///{seeded_sqlite}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found_line, loaded_line = run.stdout.strip().splitlines()[-2:]
    found = json.loads(found_line)
    assert found["xiasha"][0] == "下沙街道" and found["xs"][0] == "下沙街道"
    assert found["jsh"][0] == "金沙湖"
    assert found["hangdian"][0] == "杭州电子科技大学" and found["杭电"][0] == "杭州电子科技大学"
    assert any("2号大街" in name for name in found["二号大街"])
    # Nor the poster's QR code maker or the meeting's calendar file (~10 MB each).
    assert json.loads(loaded_line) == [], "a worker loaded what few requests need"


def test_stored_readings_are_pypinyins(gazetteer: Gazetteer) -> None:
    """The stored readings say what pypinyin says (多音字 read as phrases: 行 in 银行 is
    hang), and a gazetteer without them reads the same keys itself."""
    document = load_document(data_file("gazetteer.json"))
    for text, stored in document["readings"].items():
        assert stored.split() == list(reading(text)), text
    assert reading("中国银行") == ("zhong", "guo", "yin", "hang")
    place = Place("下沙街道", None, "street", "下沙街道", Point(120.3, 30.3))
    read_here = Gazetteer([place]).search("xsjd")
    from_store = Gazetteer([place], readings={"下沙街道": "xia sha jie dao"}).search("xsjd")
    assert read_here == from_store == [place]
