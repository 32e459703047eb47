"""StationIndex.nearest against a brute force: geopy's geodesic to every station."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from stationfinder.geo.index import (
    Hit,
    IndexedStation,
    StationIndex,
    _chord_reach,
    _ecef_point,
    _lower_bound,
)
from stationfinder.geo.point import CRS, Point

DISTRICT = ((120.25, 120.80), (30.15, 30.45))  # Qiantang district's box, lon and lat
CHINA = ((73.5, 135.0), (18.0, 53.5))
PLACES = {
    "Beijing": (116.40, 39.90),
    "Sydney": (151.21, -33.87),
    "North Pole": (0.0, 90.0),
    "South Pole": (0.0, -90.0),
    "antimeridian": (180.0, 0.0),
    "antimeridian, west side": (-180.0, 10.0),
    "near the pole, near the antimeridian": (179.9999, -89.9),
}
KINDS = ("a", "b", "c")
STREETS = (None, "east", "west")
AMENITIES = ("wifi", "toilet", "rare")

CM = 0.01
MM = 0.001


def _box(lons: tuple[float, float], lats: tuple[float, float]) -> st.SearchStrategy:
    return st.tuples(
        st.floats(*lons, allow_nan=False, allow_infinity=False),
        st.floats(*lats, allow_nan=False, allow_infinity=False),
    )


ANYWHERE = _box((-180.0, 180.0), (-90.0, 90.0))
ACROSS_ANTIMERIDIAN = st.tuples(
    st.one_of(st.floats(179.0, 180.0), st.floats(-180.0, -179.0)), st.floats(-60.0, 60.0)
)
NEAR_POLES = st.tuples(
    st.floats(-180.0, 180.0), st.one_of(st.floats(88.0, 90.0), st.floats(-90.0, -88.0))
)
REGIONS = {
    "district": _box(*DISTRICT),
    "china": _box(*CHINA),
    "world": ANYWHERE,
    "antimeridian": ACROSS_ANTIMERIDIAN,
    "poles": NEAR_POLES,
}
QUERY_POINTS = st.one_of(
    _box(*DISTRICT), _box(*CHINA), ANYWHERE, ACROSS_ANTIMERIDIAN, NEAR_POLES,
    st.sampled_from(sorted(PLACES.values())),
)  # fmt: skip


HOURS = (None, "24/7", "Mo-Fr 08:00-18:00", "Sa,Su 09:00-17:00")
OPEN_HOURS = frozenset({"24/7", "Mo-Fr 08:00-18:00"})  # what the `hours` filter admits


@st.composite
def registries(draw: st.DrawFn, max_size: int = 40) -> list[IndexedStation]:
    where = REGIONS[draw(st.sampled_from(sorted(REGIONS)))]
    rows = draw(
        st.lists(
            st.tuples(
                where,
                st.sampled_from(KINDS),
                st.sampled_from(STREETS),
                st.frozensets(st.sampled_from(AMENITIES)),
                st.sampled_from(HOURS),
            ),
            max_size=max_size,
        )
    )
    return [
        IndexedStation(f"S{i}", lon, lat, kind, street, amenities, hours)
        for i, ((lon, lat), kind, street, amenities, hours) in enumerate(rows)
    ]


def geopy_m(lon: float, lat: float, s: IndexedStation) -> float:
    return geodesic((lat, lon), (s.lat, s.lon)).meters  # geopy takes (lat, lon)


def assert_matches_brute_force(
    hits: list[Hit], eligible: list[tuple[float, IndexedStation]], k: int
) -> None:
    """Same stations in the same order as the brute force (ties within 1 cm may swap)."""
    want = sorted(eligible, key=lambda pair: pair[0])
    assert len(hits) == min(k, len(want))
    distances = {s.id: d for d, s in eligible}
    assert len({h.station.id for h in hits}) == len(hits)
    for hit, (want_m, want_station) in zip(hits, want, strict=False):
        assert hit.station.id in distances, "a station that fails the filters came back"
        assert abs(hit.distance_m - distances[hit.station.id]) <= MM
        assert abs(hit.distance_m - want_m) <= CM
        if all(abs(want_m - d) > CM for d, s in want if s != want_station):
            assert hit.station == want_station


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stations=registries(),
    where=QUERY_POINTS,
    k=st.integers(1, 8),
    radius_m=st.one_of(st.none(), st.floats(0, 30_000), st.floats(0, 2.1e7)),
    amenities=st.frozensets(st.sampled_from(AMENITIES), max_size=2),
    kind=st.one_of(st.none(), st.sampled_from(KINDS)),
    street=st.one_of(st.none(), st.sampled_from(STREETS[1:])),
    open_every=st.sampled_from([None, 2, 3]),
    by_hours=st.booleans(),
)
def test_nearest_agrees_with_geopy_brute_force(
    stations: list[IndexedStation],
    where: tuple[float, float],
    k: int,
    radius_m: float | None,
    amenities: frozenset[str],
    kind: str | None,
    street: str | None,
    open_every: int | None,
    by_hours: bool,
) -> None:
    lon, lat = where
    predicate: Callable[[IndexedStation], bool] | None = None
    if open_every is not None:
        every = open_every

        def predicate(s: IndexedStation) -> bool:
            return int(s.id[1:]) % every != 0

    index = StationIndex(stations)
    hits = index.nearest(
        Point(lon, lat),
        k,
        radius_m=radius_m,
        amenities=amenities,
        kind=kind,
        street=street,
        hours=OPEN_HOURS.__contains__ if by_hours else None,
        predicate=predicate,
    )
    eligible = [
        (geopy_m(lon, lat, s), s)
        for s in stations
        if amenities <= s.amenities
        and kind in (None, s.kind)
        and street in (None, s.street)
        and (predicate is None or predicate(s))
        and (not by_hours or s.opening_hours in OPEN_HOURS)
    ]
    if radius_m is not None:
        # A station within a hair of the radius may fall either side of it.
        assert all(h.distance_m <= radius_m for h in hits)
        eligible = [(d, s) for d, s in eligible if d <= radius_m + MM]
        if any(abs(d - radius_m) <= MM for d, _ in eligible):
            return
    assert_matches_brute_force(hits, eligible, k)


@settings(max_examples=100, deadline=None)
@given(stations=registries(max_size=30), where=QUERY_POINTS)
def test_unfiltered_answers_come_from_any_distance(
    stations: list[IndexedStation], where: tuple[float, float]
) -> None:
    lon, lat = where
    hits = StationIndex(stations).nearest(Point(lon, lat), 3)
    assert_matches_brute_force(hits, [(geopy_m(lon, lat, s), s) for s in stations], 3)


@settings(max_examples=500, deadline=None)
@given(a=QUERY_POINTS, b=QUERY_POINTS)
def test_the_chord_bound_never_exceeds_the_geodesic(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    """The search's stopping rule rests on these: a station at chord c is at least
    _lower_bound(c) away, and one within s metres is within _chord_reach(s) by chord."""
    q = _ecef_point(*a)
    chord = math.dist(q, _ecef_point(*b))
    s = geodesic((a[1], a[0]), (b[1], b[0])).meters
    r_query = math.hypot(*q)
    assert _lower_bound(chord, r_query) <= s + 1e-6
    assert chord <= _chord_reach(s, r_query)
    # ...and tight enough to be useful (looser only towards the antipode).
    # (Below a metre, floating-point noise in the ECEF chord dominates; tightness there
    # does not matter, correctness above does.)
    if s > 1.0:
        assert _lower_bound(chord, r_query) >= (0.994 if s < 15_000_000 else 0.96) * s


@pytest.mark.parametrize("place", sorted(PLACES))
def test_every_place_on_earth_gets_the_districts_stations(place: str) -> None:
    lon, lat = PLACES[place]
    rng = np.random.default_rng(7)
    stations = [
        IndexedStation(f"S{i}", float(x), float(y), "a", None, frozenset(), None)
        for i, (x, y) in enumerate(
            zip(rng.uniform(*DISTRICT[0], 158), rng.uniform(*DISTRICT[1], 158), strict=True)
        )
    ]
    hits = StationIndex(stations).nearest(Point(lon, lat), 5)
    assert_matches_brute_force(hits, [(geopy_m(lon, lat, s), s) for s in stations], 5)


def test_thousands_of_random_queries_match_a_vectorised_brute_force() -> None:
    rng = np.random.default_rng(2024)
    n = 2_000
    lon = rng.uniform(*DISTRICT[0], n)
    lat = rng.uniform(*DISTRICT[1], n)
    has = rng.random((n, 3)) < [0.5, 0.8, 0.02]
    stations = [
        IndexedStation(
            f"S{i}",
            float(lon[i]),
            float(lat[i]),
            KINDS[i % 3],
            STREETS[i % 3],
            frozenset(a for a, h in zip(AMENITIES, has[i], strict=True) if h),
            HOURS[i % len(HOURS)],
        )
        for i in range(n)
    ]
    index = StationIndex(stations)
    geod = Geod(ellps="WGS84")
    filters: list[dict] = [
        {},
        {"amenities": ["rare"]},
        {"amenities": ["wifi", "toilet"], "kind": "b"},
        {"street": "east", "radius_m": 2_000.0},
        {"predicate": lambda s: int(s.id[1:]) % 4 == 0},
        {"hours": OPEN_HOURS.__contains__, "amenities": ["wifi"]},
    ]
    eligible = [
        np.array([all(a in s.amenities for a in f.get("amenities", ())) for s in stations])
        & np.array([f.get("kind") in (None, s.kind) for s in stations])
        & np.array([f.get("street") in (None, s.street) for s in stations])
        & np.array([f.get("predicate", lambda s: True)(s) for s in stations])
        & np.array([f.get("hours", lambda h: True)(s.opening_hours) for s in stations])
        for f in filters
    ]
    queries = np.column_stack([rng.uniform(120.2, 120.85, 2_000), rng.uniform(30.1, 30.5, 2_000)])
    queries[::50] = np.column_stack([rng.uniform(-180, 180, 40), rng.uniform(-90, 90, 40)])
    for q, (qlon, qlat) in enumerate(queries):
        f = q % len(filters)
        hits = index.nearest(Point(qlon, qlat), 5, **filters[f])
        dist = geod.inv(np.full(n, qlon), np.full(n, qlat), lon, lat)[2]
        ok = eligible[f] & (dist <= filters[f].get("radius_m", math.inf))
        want = np.flatnonzero(ok)[np.argsort(dist[ok], kind="stable")][:5]
        assert len(hits) == len(want)
        for hit, j in zip(hits, want, strict=True):
            assert abs(hit.distance_m - dist[j]) <= CM
            assert hit.station == stations[j] or abs(dist[int(hit.station.id[1:])] - dist[j]) <= CM
        if q % 100 == 0 and hits:  # spot-check pyproj's figure against geopy's
            assert abs(hits[0].distance_m - geopy_m(qlon, qlat, hits[0].station)) <= MM


@pytest.mark.parametrize("lat", [0.0, 30.3, -45.0, 70.0, 89.9])
def test_distances_are_the_solvers_to_a_hundredth_of_a_millimetre(lat: float) -> None:
    """Up to 10 km the index takes the geodesic from the chord (a series), beyond it from
    Karney's solver: every answer's distance is the solver's within 0.01 mm, either side
    of 10 km and on every search path (the ball, a sub-tree, a radius, a predicate)."""
    geod = Geod(ellps="WGS84")
    rng = np.random.default_rng(abs(round(lat * 10)) + 7)
    n = 600
    lon0 = np.full(n, 120.3)
    far = rng.uniform(0, 1, n) < 0.1  # a tenth out beyond the series' reach
    reach = np.where(far, rng.uniform(10_000, 40_000, n), rng.uniform(0, 10_000, n))
    lon, lat2, _ = geod.fwd(lon0, np.full(n, lat), rng.uniform(0, 360, n), reach)
    stations = [
        IndexedStation(f"S{i}", float(lon[i]), float(lat2[i]), "a", None,
                       frozenset({"wifi"}) if i % 3 else frozenset(), None)
        for i in range(n)
    ]  # fmt: skip
    index = StationIndex(stations)
    filters: list[dict] = [
        {},
        {"amenities": ["wifi"]},
        {"radius_m": 30_000.0},
        {"predicate": lambda s: int(s.id[1:]) % 2 == 0},
    ]
    qlons, qlats, _ = geod.fwd(lon0[:400], np.full(400, lat), rng.uniform(0, 360, 400),
                               rng.uniform(0, 1, 400) ** 2 * 45_000)  # fmt: skip
    worst = 0.0
    near = beyond = 0
    for q in range(400):
        qlon, qla = float(qlons[q]), float(qlats[q])
        hits = index.nearest(Point(qlon, qla), 5, **filters[q % len(filters)])
        for hit in hits:
            s = hit.station
            want = geod.inv(qlon, qla, s.lon, s.lat)[2]
            worst = max(worst, abs(hit.distance_m - want))
            near += want <= 9_990
            beyond += want >= 10_010
    assert worst <= 1e-5, f"{worst * 1000:.4f} mm off the solver"
    assert near > 500 and beyond > 50  # both sides of 10 km were asked


def test_k_larger_than_the_matches_returns_all_of_them_nearest_first() -> None:
    stations = [
        IndexedStation("near", 120.40, 30.30, "a", None, frozenset({"wifi"}), None),
        IndexedStation("far", 120.60, 30.30, "a", None, frozenset({"wifi"}), None),
        IndexedStation("dry", 120.41, 30.30, "a", None, frozenset(), None),
    ]
    hits = StationIndex(stations).nearest(Point(120.39, 30.30), 10, amenities={"wifi"})
    assert [h.station.id for h in hits] == ["near", "far"]


def test_stations_on_the_same_spot_all_come_back() -> None:
    stations = [
        IndexedStation(f"S{i}", 120.5, 30.3, "a", None, frozenset(), None) for i in range(12)
    ]
    hits = StationIndex(stations).nearest(Point(120.51, 30.3), 10)
    assert len({h.station.id for h in hits}) == 10
    assert len({h.distance_m for h in hits}) == 1


def test_unknown_filter_values_match_nothing() -> None:
    index = StationIndex([IndexedStation("S0", 120.5, 30.3, "a", "east", frozenset(), None)])
    here = Point(120.5, 30.3)
    assert index.nearest(here, amenities=["sauna"]) == []
    assert index.nearest(here, kind="z") == []
    assert index.nearest(here, street="north") == []
    assert [h.station.id for h in index.nearest(here, radius_m=0.0)] == ["S0"]


def test_an_empty_index_answers_nothing() -> None:
    index = StationIndex([])
    assert len(index) == 0
    assert index.get("S0") is None
    assert index.nearest(Point(120.5, 30.3), 5, amenities=["wifi"]) == []


def test_stations_are_found_by_id() -> None:
    station = IndexedStation("QT-BY-001", 120.5, 30.3, "a", None, frozenset(), "24/7")
    index = StationIndex([station])
    assert len(index) == 1
    assert index.get("QT-BY-001") == station
    assert index.get("QT-BY-002") is None


@pytest.mark.parametrize("crs", [CRS.GCJ02, CRS.BD09])
def test_points_outside_wgs84_are_refused(crs: CRS) -> None:
    index = StationIndex([IndexedStation("S0", 120.5, 30.3, "a", None, frozenset(), None)])
    with pytest.raises(ValueError, match="WGS84"):
        index.nearest(Point(120.5, 30.3, crs))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"k": 0}, ValueError),
        ({"radius_m": -1.0}, ValueError),
        ({"radius_m": math.nan}, ValueError),
        ({"amenities": "wifi"}, TypeError),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, error: type[Exception]) -> None:
    index = StationIndex([IndexedStation("S0", 120.5, 30.3, "a", None, frozenset(), None)])
    with pytest.raises(error):
        index.nearest(Point(120.5, 30.3), **kwargs)


def test_bad_registries_are_refused() -> None:
    twice = IndexedStation("S0", 120.5, 30.3, "a", None, frozenset(), None)
    with pytest.raises(ValueError, match="more than once"):
        StationIndex([twice, twice])
    with pytest.raises(ValueError, match="outside WGS84"):
        StationIndex([IndexedStation("S1", 200.0, 30.3, "a", None, frozenset(), None)])
