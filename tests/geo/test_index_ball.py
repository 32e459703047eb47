"""The unfiltered query's ball search (`StationIndex._nearest_in_ball`) against a brute
force geodesic to every station: it must answer exactly, or not at all (None: the
k-nearest search then answers)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from scipy.spatial import cKDTree

from stationfinder.geo.ball_radius import CELL_M, FINE_CELL_M, BallRadius
from stationfinder.geo.index import Hit, IndexedStation, StationIndex, _ecef
from stationfinder.geo.point import Point

CHINA = ((73.5, 135.0), (18.0, 53.5))
CM = 0.01
MM = 0.001
GEOD = Geod(ellps="WGS84")


def _stations(lon: np.ndarray, lat: np.ndarray) -> list[IndexedStation]:
    amenities = (frozenset(), frozenset({"wifi"}), frozenset({"wifi", "rare"}))
    return [
        IndexedStation(f"S{i}", float(x), float(y), "ab"[i % 2], None, amenities[i % 3], None)
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]


def _clustered(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense cities and sparse country across China, as couriers' stations are."""
    cities = np.column_stack([rng.uniform(*CHINA[0], 30), rng.uniform(*CHINA[1], 30)])
    city = rng.integers(0, len(cities), n)
    spread = rng.choice([0.01, 0.05, 0.3], n, p=[0.3, 0.5, 0.2])
    lon = cities[city, 0] + rng.normal(size=n) * spread
    lat = np.clip(cities[city, 1] + rng.normal(size=n) * spread, -89.0, 89.0)
    return lon, lat


def _distances(qlon: float, qlat: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return GEOD.inv(np.full(len(lon), qlon), np.full(len(lon), qlat), lon, lat)[2]


def _assert_exact(hits: list[Hit], dist: np.ndarray, k: int) -> None:
    near = np.argpartition(dist, k - 1)[:k] if k < len(dist) else np.arange(len(dist))
    want = near[np.argsort(dist[near], kind="stable")]
    assert len(hits) == min(k, len(dist))
    assert len({h.id for h in hits}) == len(hits)
    for hit, j in zip(hits, want, strict=True):
        got = int(hit.id[1:])
        assert abs(hit.distance_m - dist[got]) <= MM  # its own distance, exactly
        assert abs(hit.distance_m - dist[j]) <= CM  # and the k-th nearest's
    assert [h.distance_m for h in hits] == sorted(h.distance_m for h in hits)


def test_the_ball_search_is_exact_on_thousands_of_random_points_across_china() -> None:
    rng = np.random.default_rng(14)
    lon, lat = _clustered(rng, 4_000)
    index = StationIndex(_stations(lon, lat))
    near = np.column_stack([lon[:500], lat[:500]]) + rng.normal(size=(500, 2)) * 0.02
    anywhere = np.column_stack([rng.uniform(*CHINA[0], 100), rng.uniform(*CHINA[1], 100)])
    answered = 0
    for q, (qlon, qlat) in enumerate(np.concatenate([near, anywhere]).tolist()):
        k = 1 + q % 8
        dist = _distances(qlon, qlat, lon, lat)
        hits = index._nearest_in_ball(Point(qlon, qlat), k)
        if hits is not None:
            answered += 1
            _assert_exact(hits, dist, k)
        _assert_exact(index.nearest(Point(qlon, qlat), k), dist, k)
    assert answered > 450  # the ball, not the fallback, answered most queries near stations


def test_stations_on_the_same_spot_are_ranked_exactly() -> None:
    rng = np.random.default_rng(7)
    lon = np.concatenate([np.full(12, 120.5), rng.uniform(120.3, 120.7, 200)])
    lat = np.concatenate([np.full(12, 30.3), rng.uniform(30.1, 30.5, 200)])
    lon[100:110], lat[100:110] = lon[99], lat[99]  # another spot shared by eleven
    index = StationIndex(_stations(lon, lat))
    for qlon, qlat, k in [(120.5, 30.3, 5), (120.501, 30.3, 12), (120.5, 30.3, 15),
                          (float(lon[99]), float(lat[99]), 3), (120.45, 30.28, 8)]:  # fmt: skip
        dist = _distances(qlon, qlat, lon, lat)
        hits = index._nearest_in_ball(Point(qlon, qlat), k)
        if hits is not None:
            _assert_exact(hits, dist, k)
        _assert_exact(index.nearest(Point(qlon, qlat), k), dist, k)
    same = index.nearest(Point(120.5, 30.3), 10)
    assert {h.id for h in same} <= {f"S{i}" for i in range(12)}
    assert {h.distance_m for h in same} == {0.0}


def test_a_ball_holding_exactly_k_of_many_candidates_is_ranked() -> None:
    lon = np.concatenate([np.full(60, 120.5), np.linspace(121.5, 121.6, 10)])
    lat = np.concatenate([np.full(60, 30.3), np.full(10, 30.3)])
    index = StationIndex(_stations(lon, lat))
    dist = _distances(120.5, 30.3, lon, lat)
    for k in (59, 60, 61):
        hits = index._nearest_in_ball(Point(120.5, 30.3), k)
        if hits is not None:
            _assert_exact(hits, dist, k)
        _assert_exact(index.nearest(Point(120.5, 30.3), k), dist, k)


@pytest.mark.parametrize("k", [3, 4, 5, 9, 50])
def test_k_as_large_as_the_registry_or_larger_returns_every_station(k: int) -> None:
    lon, lat = np.array([120.40, 120.41, 120.45, 120.50]), np.array([30.30, 30.31, 30.3, 30.2])
    index = StationIndex(_stations(lon, lat))
    hits = index.nearest(Point(120.42, 30.30), k)
    _assert_exact(hits, _distances(120.42, 30.30, lon, lat), k)
    if k >= len(lon):
        assert index._nearest_in_ball(Point(120.42, 30.30), k) is None  # by k instead


def test_filters_still_answer_exactly_beside_the_ball_search() -> None:
    rng = np.random.default_rng(3)
    lon, lat = _clustered(rng, 3_000)
    stations = _stations(lon, lat)
    index = StationIndex(stations)
    rare = np.array(["rare" in s.amenities for s in stations])
    kind_b = np.array([s.kind == "b" for s in stations])
    for q in range(200):
        qlon, qlat = float(lon[q] + 0.01), float(lat[q] - 0.01)
        for keep, kwargs in [(rare, {"amenities": ["rare"]}), (kind_b, {"kind": "b"})]:
            sub = np.flatnonzero(keep)
            hits = index.nearest(Point(qlon, qlat), 5, **kwargs)
            dist = GEOD.inv(np.full(len(sub), qlon), np.full(len(sub), qlat), lon[sub], lat[sub])
            want = np.sort(dist[2])[:5]
            assert [round(h.distance_m, 2) for h in hits] == [round(d, 2) for d in want]
            assert all(keep[int(h.id[1:])] for h in hits)


def test_far_from_every_station_the_ball_declines() -> None:
    lon, lat = np.array([120.40, 120.41, 120.45]), np.array([30.30, 30.31, 30.3])
    index = StationIndex(_stations(lon, lat))
    assert index._nearest_in_ball(Point(151.21, -33.87), 2) is None  # Sydney: no cell
    hits = index.nearest(Point(151.21, -33.87), 2)
    _assert_exact(hits, _distances(151.21, -33.87, lon, lat), 2)


def test_the_radius_guess_grows_with_k_and_shrinks_with_density() -> None:
    rng = np.random.default_rng(1)
    dense = _ecef(120.2 + rng.normal(size=2_000) * 0.01, 30.3 + rng.normal(size=2_000) * 0.01)
    sparse = _ecef(np.array([100.0, 100.01]), np.array([40.0, 40.0]))
    guess = BallRadius(np.concatenate([dense, sparse]))
    in_city, in_country = dense[0].tolist(), sparse[0].tolist()
    assert guess.guess(*in_city, 5) < guess.guess(*in_country, 5)
    assert guess.guess(*in_city, 5) < guess.guess(*in_city, 20)
    assert guess.guess(*in_country, 100) <= 2 * CELL_M
    assert guess.guess(0.0, 0.0, 6_356_752.0, 5) is None  # the North Pole: no station


def _on_cube_faces(
    rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, n: int
) -> list[tuple[float, float]]:
    """Points on the Earth's surface within a micrometre of a face of the fine guess's
    cubes (2 km; every coarser cube's face is one of theirs), both sides: found by
    bisecting in latitude until one ECEF coordinate crosses a multiple of the side."""
    points: list[tuple[float, float]] = []
    for q in rng.integers(0, len(lon), n).tolist():
        axis = q % 3
        qlon = float(lon[q]) + float(rng.normal()) * 0.01
        south, north = float(lat[q]) - 0.02, float(lat[q]) + 0.02

        def cube(y: float, qlon: float = qlon, axis: int = axis) -> int:
            return int(_ecef(np.array([qlon]), np.array([y]))[0, axis] // FINE_CELL_M)

        if cube(south) == cube(north) or not -89.0 < south < north < 89.0:
            continue
        for _ in range(60):
            mid = (south + north) / 2
            south, north = (mid, north) if cube(mid) == cube(south) else (south, mid)
        points += [(qlon, south), (qlon, north)]
    return points


def test_the_guess_never_changes_an_answer_at_cube_faces_in_clusters_and_far_away() -> None:
    """Seeded sweep against the brute force: dense clusters (stations metres apart),
    shared spots, sparse country, queries on both sides of the guess's cube faces, in
    gaps between stations, between cities and on other continents, for k from 1 to
    past the Python loop's limit. Every answer of the ball search must be the exact
    k nearest (or None); `nearest` always."""
    rng = np.random.default_rng(2026)
    lon, lat = _clustered(rng, 3_000)
    tight = rng.integers(0, 3_000, 8)  # eight dense spots: 40 stations within ~10 m
    lon = np.concatenate([lon, np.repeat(lon[tight], 40) + rng.normal(size=320) * 1e-4])
    lat = np.concatenate([lat, np.repeat(lat[tight], 40) + rng.normal(size=320) * 1e-4])
    lon[-5:], lat[-5:] = lon[-6], lat[-6]  # six on one spot
    index = StationIndex(_stations(lon, lat))
    queries = _on_cube_faces(rng, lon, lat, 150)
    queries += [(float(lon[i]), float(lat[i])) for i in rng.integers(0, len(lon), 60)]
    near = rng.integers(0, len(lon), 120)
    queries += (np.column_stack([lon[near], lat[near]]) + rng.normal(size=(120, 2)) * 0.03).tolist()
    queries += [(100.0, 30.0), (151.21, -33.87), (-0.13, 51.5), (0.0, 89.9), (-120.0, -60.0)]
    answered = 0
    for q, (qlon, qlat) in enumerate(queries):
        dist = _distances(qlon, qlat, lon, lat)
        for k in (1 + q % 12, (5, 10, 47, 60)[q % 4]):
            hits = index._nearest_in_ball(Point(qlon, qlat), k)
            if hits is not None:
                answered += 1
                _assert_exact(hits, dist, k)
            _assert_exact(index.nearest(Point(qlon, qlat), k), dist, k)
    assert answered > 0.8 * 2 * len(queries)


@pytest.mark.parametrize("scale", [1e-3, 0.2, 1.0, 5.0, 100.0])
def test_a_wrong_guess_costs_time_never_exactness(scale: float) -> None:
    """The ball's radius is only a guess: far too small (no station inside, or fewer
    than k), or far too large (thousands inside), the answer is the exact one."""
    rng = np.random.default_rng(int(scale * 1000))
    lon, lat = _clustered(rng, 2_000)
    index = StationIndex(_stations(lon, lat))
    honest = index._ball_radius.guess
    index._ball_radius.guess = lambda x, y, z, k: (honest(x, y, z, k) or 5e3) * scale  # type: ignore[method-assign]
    near = rng.integers(0, len(lon), 150)
    queries = np.column_stack([lon[near], lat[near]]) + rng.normal(size=(150, 2)) * 0.02
    for q, (qlon, qlat) in enumerate(queries.tolist()):
        k = 1 + q % 10
        dist = _distances(qlon, qlat, lon, lat)
        hits = index._nearest_in_ball(Point(qlon, qlat), k)
        if hits is not None:
            _assert_exact(hits, dist, k)
        _assert_exact(index.nearest(Point(qlon, qlat), k), dist, k)


def test_the_fine_guess_follows_the_density_of_a_citys_edge() -> None:
    """The 2 km cubes hold the chord to their centre's sixth-nearest station, so a query
    among a city's stations gets a small ball and one in its suburbs a wider one; either
    holds at least k stations and at most a few dozen (what the Python loop ranks)."""
    rng = np.random.default_rng(5)
    lon = 120.2 + rng.normal(size=20_000) * 0.1  # density falls off over ~10 km
    lat = 30.3 + rng.normal(size=20_000) * 0.1
    xyz = _ecef(lon, lat)
    guess = BallRadius(xyz)
    tree = cKDTree(xyz)
    centre, suburb = _ecef(np.array([120.2, 120.45]), np.array([30.3, 30.3]))
    assert guess.guess(*centre.tolist(), 5) < guess.guess(*suburb.tolist(), 5) / 1.5
    for point in (centre, suburb):
        held = len(tree.query_ball_point(point, guess.guess(*point.tolist(), 5)))
        assert 5 <= held <= 40
