"""Seeded synthetic test data with more than one district: districts are data, not code.

    python data/make_multi_district.py [--out DIR] [--seed N] [--national OUT_DIR]

writes two files into data/multi_district/ (or --out):

- areas.geojson: Qiantang district and its seven subdistricts, copied from the shipped
  data/areas.geojson, plus three fictional districts of Hangzhou (示例东区, 示例南区,
  示例湾区, division codes 330191-330193) east and south of Qiantang. Each is a rectangle
  cut into 6-9 subdistricts by a Voronoi diagram of seeded random points. Some subdistrict
  names (城南街道, 城北街道, 新城街道) occur in more than one district on purpose: the app
  must then know them by their qualified keys (示例东区城南街道). The fictional districts'
  features have no geometry, so each is the union of its subdistricts.
- stations.geojson: Qiantang's 158 sample stations, copied unchanged from the shipped
  data/stations.geojson, plus 8-15 stations in every fictional subdistrict, in the same
  feature shape (make_sample_data.py), their `street` the subdistrict's key as
  stationfinder.geo.areas.Areas computes it and their ids `<id_prefix>-001`...

`national(seed, cities, stations)` builds a national-scale registry in memory instead
(hundreds of fictional cities across China's longitude/latitude box, 400,000 stations by
default); `--national OUT_DIR` writes it. The places are made up: they are test data, not
a map. Every random choice comes from generators seeded with the seed, so the same seed
gives byte-identical files (how a station is entered is make_sample_data.access_for's,
seeded with the station's id).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box, shape
from shapely.geometry.polygon import orient

from stationfinder.core.vocabulary import AMENITY_CODES
from stationfinder.geo.areas import Areas
from stationfinder.geo.point import Point

HERE = Path(__file__).resolve().parent


def _load_sample_script() -> ModuleType:
    """data/make_sample_data.py (data/ is no package): its station shape and tables."""
    name = "make_sample_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "make_sample_data.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load data/make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


sample = _load_sample_script()

SEED = 20260101
DECIMALS: int = sample.DECIMALS  # 6, about 0.1 m
GRID = 10.0**-DECIMALS
OUT = HERE / "multi_district"
QIANTANG_AREAS = HERE / "areas.geojson"
QIANTANG_STATIONS = HERE / "stations.geojson"
QIANTANG_DIVISION = "330114"
SOURCE = "data/make_multi_district.py"
CITY = ("杭州市", "Hangzhou")
STATIONS_PER_SUBDISTRICT = (8, 15)
SUBDISTRICTS_PER_DISTRICT = (6, 9)
ALWAYS_OPEN_SHARE = 0.15
UNKNOWN_HOURS_SHARE = 0.05
# More expressions than the Qiantang sample's, all OSM opening_hours syntax.
EXTRA_HOURS: tuple[tuple[str, int], ...] = (
    ("Mo-Fr 09:00-18:00; Sa 09:00-12:00; PH off", 8),
    ("Mo-Su 06:30-22:00", 8),
    ("Mo-Su 10:00-14:00,17:00-21:00", 5),
)
HOURS: tuple[tuple[str, int], ...] = (*sample.REGULAR_HOURS, *EXTRA_HOURS)


@dataclass(frozen=True)
class DistrictSpec:
    division: str
    name: str
    name_en: str
    stem: str  # first part of its subdistricts' id prefixes: SE -> SE-CN
    bounds: tuple[float, float, float, float]  # (min lon, min lat, max lon, max lat)
    # Names it must have, given to the cell lying that way (城南 the southernmost...);
    # shared with other districts on purpose, so their keys get qualified.
    required: tuple[str, ...]


# East and south of Qiantang (lon 120.288-120.756, lat 30.188-30.357), apart from it and
# from each other.
DISTRICTS: tuple[DistrictSpec, ...] = (
    DistrictSpec(
        "330191",
        "示例东区",
        "Example East District",
        "SE",
        (120.780, 30.240, 120.980, 30.400),
        ("城南街道", "城东街道", "新城街道"),
    ),
    DistrictSpec(
        "330192",
        "示例南区",
        "Example South District",
        "SS",
        (120.500, 30.000, 120.740, 30.170),
        ("城南街道", "城北街道", "新城街道"),
    ),
    DistrictSpec(
        "330193",
        "示例湾区",
        "Example Bay District",
        "SB",
        (120.775, 30.010, 120.990, 30.215),
        ("城北街道", "城西街道", "新城街道"),
    ),
)


@dataclass(frozen=True)
class Name:
    zh: str
    en: str
    letters: str  # id stem: CN -> SE-CN


DIRECTIONAL: dict[str, Name] = {
    n.zh: n
    for n in (
        Name("城南街道", "Chengnan Subdistrict", "CN"),
        Name("城北街道", "Chengbei Subdistrict", "CB"),
        Name("城东街道", "Chengdong Subdistrict", "CD"),
        Name("城西街道", "Chengxi Subdistrict", "CX"),
        Name("新城街道", "Xincheng Subdistrict", "XC"),
    )
}
# Which way a directional name points: (axis, sign); 新城 takes the cell nearest the middle.
_DIRECTION = {"城南街道": (1, -1), "城北街道": (1, 1), "城东街道": (0, 1), "城西街道": (0, -1)}
OTHER_NAMES: tuple[Name, ...] = (
    Name("湖滨街道", "Hubin Subdistrict", "HB"),
    Name("江滨街道", "Jiangbin Subdistrict", "JB"),
    Name("花园街道", "Huayuan Subdistrict", "HY"),
    Name("文昌街道", "Wenchang Subdistrict", "WC"),
    Name("长安街道", "Chang'an Subdistrict", "CA"),
    Name("东湖街道", "Donghu Subdistrict", "DH"),
    Name("凤凰街道", "Fenghuang Subdistrict", "FH"),
    Name("龙山街道", "Longshan Subdistrict", "LS"),
    Name("桃源街道", "Taoyuan Subdistrict", "TY"),
    Name("金桥街道", "Jinqiao Subdistrict", "JQ"),
    Name("海港街道", "Haigang Subdistrict", "HG"),
    Name("潮音街道", "Chaoyin Subdistrict", "CY"),
    Name("望海街道", "Wanghai Subdistrict", "WH"),
    Name("兴港街道", "Xinggang Subdistrict", "XG"),
    Name("云峰街道", "Yunfeng Subdistrict", "YF"),
    Name("梅林街道", "Meilin Subdistrict", "ML"),
    Name("滨海街道", "Binhai Subdistrict", "BH"),
    Name("丰收街道", "Fengshou Subdistrict", "FS"),
    Name("翠苑街道", "Cuiyuan Subdistrict", "CYY"),
    Name("盐仓街道", "Yancang Subdistrict", "YC"),
    Name("沙田街道", "Shatian Subdistrict", "ST"),
    Name("渔港街道", "Yugang Subdistrict", "YG"),
    Name("明珠街道", "Mingzhu Subdistrict", "MZ"),
    Name("青山街道", "Qingshan Subdistrict", "QS"),
)
ROAD_STEMS: tuple[tuple[str, str], ...] = (
    ("人民", "Renmin"),
    ("解放", "Jiefang"),
    ("建设", "Jianshe"),
    ("文化", "Wenhua"),
    ("中山", "Zhongshan"),
    ("新华", "Xinhua"),
    ("振兴", "Zhenxing"),
    ("和平", "Heping"),
    ("光明", "Guangming"),
    ("迎宾", "Yingbin"),
    ("滨江", "Binjiang"),
    ("湖光", "Huguang"),
    ("青年", "Qingnian"),
    ("学府", "Xuefu"),
    ("兴业", "Xingye"),
    ("科技", "Keji"),
    ("创业", "Chuangye"),
    ("富民", "Fumin"),
    ("丰乐", "Fengle"),
    ("望江", "Wangjiang"),
    ("海滨", "Haibin"),
    ("金湾", "Jinwan"),
    ("朝阳", "Chaoyang"),
    ("长青", "Changqing"),
)
ROAD_KINDS: tuple[tuple[str, str], ...] = (("路", "Road"), ("大道", "Avenue"), ("街", "Street"))
KIND_SUFFIX_EN = {
    "党群服务中心": "Party-Mass Service Centre",
    "城管驿站": "City-Management Post",
    "爱心驿家": "Aixin Yijia",
    "工会驿站": "Trade-Union Station",
    "户外劳动者服务站": "Outdoor Workers' Service Station",
}
STATIONS_NOTICE = (
    "Synthetic test data: the districts 330191-330193, their subdistricts and stations "
    "are fictional (seeded random); Qiantang's part is the shipped sample."
)
STATIONS_NOTICE_ZH = (
    "合成测试数据：330191-330193 三个区及其街道、站点均为虚构；钱塘区部分即示例数据。"
)
AREAS_NOTICE = (
    "Synthetic test outlines: Qiantang's approximate sample outlines plus three fictional "
    "districts cut into Voronoi cells; not a map."
)


# --- small helpers ----------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _spread_points(
    rng: random.Random, bounds: tuple[float, float, float, float], count: int
) -> list[tuple[float, float]]:
    """`count` seeded points well inside `bounds`, none too close to another (so that no
    Voronoi cell is a sliver)."""
    minx, miny, maxx, maxy = bounds
    width, height = maxx - minx, maxy - miny
    spacing = 0.55 * math.sqrt(width * height / count)
    for _attempt in range(1000):
        points: list[tuple[float, float]] = []
        for _try in range(2000):
            x = rng.uniform(minx + 0.08 * width, maxx - 0.08 * width)
            y = rng.uniform(miny + 0.08 * height, maxy - 0.08 * height)
            if all(math.hypot(x - px, y - py) >= spacing for px, py in points):
                points.append((x, y))
                if len(points) == count:
                    return points
        spacing *= 0.95
    raise RuntimeError("cannot spread the Voronoi points")  # pragma: no cover


def voronoi_cells(
    points: Sequence[tuple[float, float]], bounds: tuple[float, float, float, float]
) -> list[Polygon]:
    """The Voronoi cells of `points` (in their order) clipped to the rectangle `bounds`,
    snapped to the 6-decimal grid, exterior rings counter-clockwise (RFC 7946)."""
    frame = box(*bounds)
    diagram = shapely.voronoi_polygons(
        shapely.MultiPoint(list(points)), extend_to=frame, ordered=True
    )
    cells = shapely.intersection(np.asarray(diagram.geoms, dtype=object), frame)
    cells = shapely.set_precision(cells, GRID)
    result = []
    for cell in cells:
        if not isinstance(cell, Polygon) or not cell.is_valid or cell.is_empty:
            raise RuntimeError(f"a Voronoi cell came out as {cell.geom_type}")
        result.append(orient(cell, sign=1.0))
    return result


def _assign_names(
    rng: random.Random, cells: Sequence[Polygon], required: Sequence[str], pool: list[Name]
) -> list[Name]:
    """A name per cell: each required directional name on the cell lying furthest that
    way (新城 on the one nearest the middle), the others drawn from `pool` (consumed)."""
    centres = [(c.centroid.x, c.centroid.y) for c in cells]
    names: list[Name | None] = [None] * len(cells)
    middle = shapely.MultiPolygon(list(cells)).centroid
    for zh in required:
        free = [i for i in range(len(cells)) if names[i] is None]
        if zh in _DIRECTION:
            axis, sign = _DIRECTION[zh]
            best = max(free, key=lambda i: sign * centres[i][axis])
        else:
            best = min(
                free, key=lambda i: math.hypot(centres[i][0] - middle.x, centres[i][1] - middle.y)
            )
        names[best] = DIRECTIONAL[zh]
    for i in range(len(cells)):
        if names[i] is None:
            names[i] = pool.pop(rng.randrange(len(pool)))
    return [n for n in names if n is not None]


def _reading_order(cells: Sequence[Polygon]) -> list[int]:
    """Cell indexes north to south, then west to east: the order codes are given in."""
    return sorted(
        range(len(cells)), key=lambda i: (-round(cells[i].centroid.y, 2), cells[i].centroid.x)
    )


# --- areas --------------------------------------------------------------------------------


def qiantang_area_features(path: Path = QIANTANG_AREAS) -> list[dict[str, Any]]:
    """Qiantang's district and subdistrict features, exactly as in the shipped file."""
    return [
        f
        for f in _load(path)["features"]
        if str(f["properties"].get("division", "")).startswith(QIANTANG_DIVISION)
    ]


def areas_document(seed: int = SEED, qiantang: Path = QIANTANG_AREAS) -> dict[str, Any]:
    """Qiantang's features, then each fictional district (no geometry) and its
    Voronoi subdistricts in division-code order."""
    rng = random.Random(f"{seed}:areas")
    pool = list(OTHER_NAMES)
    features = qiantang_area_features(qiantang)
    for spec in DISTRICTS:
        features.append(
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "level": "district",
                    "division": spec.division,
                    "name": spec.name,
                    "name_en": spec.name_en,
                    "city": CITY[0],
                    "city_en": CITY[1],
                },
            }
        )
        count = rng.randint(*SUBDISTRICTS_PER_DISTRICT)
        cells = voronoi_cells(_spread_points(rng, spec.bounds, count), spec.bounds)
        names = _assign_names(rng, cells, spec.required, pool)
        for serial, i in enumerate(_reading_order(cells), start=1):
            features.append(
                {
                    "type": "Feature",
                    "geometry": sample.rounded(cells[i]),
                    "properties": {
                        "level": "subdistrict",
                        "division": f"{spec.division}{serial:03d}",
                        "name": names[i].zh,
                        "name_en": names[i].en,
                        "district": spec.division,
                        "id_prefix": f"{spec.stem}-{names[i].letters}",
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "properties": {
            "synthetic": True,
            "approximate": True,
            "notice": AREAS_NOTICE,
            "source": SOURCE,
            "seed": seed,
        },
        "features": features,
    }


# --- stations -----------------------------------------------------------------------------


def _hours(rng: random.Random) -> str | None:
    draw = rng.random()
    if draw < ALWAYS_OPEN_SHARE:
        return str(sample.ALWAYS_OPEN)
    if draw < ALWAYS_OPEN_SHARE + UNKNOWN_HOURS_SHARE:
        return None
    expressions, weights = zip(*HOURS, strict=True)
    return str(rng.choices(expressions, weights=weights)[0])


def _roads(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` different roads of a subdistrict, (zh, en): 人民路, Renmin Road."""
    roads = []
    for zh, en in rng.sample(ROAD_STEMS, count):
        kind_zh, kind_en = rng.choice(ROAD_KINDS)
        roads.append((f"{zh}{kind_zh}", f"{en} {kind_en}"))
    return roads


def _station_name(
    rng: random.Random,
    kind: str,
    district: str,
    subdistrict: Name,
    roads: Sequence[tuple[str, str]],
    used: set[str],
) -> tuple[str, str, tuple[str, str]]:
    """An unused (zh, en) name for a station of `kind`, and the road it is on; the
    patterns are make_sample_data.station_name's."""
    short, short_en = subdistrict.zh.removesuffix("街道"), subdistrict.en.split()[0]
    suffix_en = KIND_SUFFIX_EN[kind]
    candidates: list[tuple[str, str, tuple[str, str]]] = []
    for road in roads:
        zh, en = road
        if kind == "党群服务中心":
            candidates.append(
                (f"{subdistrict.zh}{zh}小哥之家", f"{en} Courier Home, {short_en}", road)
            )
        candidates.append((f"{zh}{kind}", f"{en} {suffix_en}", road))
    if kind == "爱心驿家":
        candidates += [
            (
                f"{short}爱心驿家（{short}{what}旁）",
                f"{short_en} Aixin Yijia (next to {what_en})",
                rng.choice(roads),
            )
            for what, what_en in sample.NEIGHBOURS
        ]
    elif kind == "工会驿站":
        candidates += [
            (
                f"{short}{where}工会驿站",
                f"{short_en} {where_en} Trade-Union Station",
                rng.choice(roads),
            )
            for where, where_en in sample.WORKPLACES
        ]
    # Road names recur between subdistricts and districts: then say whose it is, and as
    # a last resort number it (城西人民路第二城管驿站).
    tiers = (
        lambda zh: zh,
        lambda zh: zh if zh.startswith(short) else f"{short}{zh}",
        lambda zh: f"{district}{zh}",
    )
    free: list[tuple[str, str, tuple[str, str]]] = []
    for tier in tiers:
        free = [(tier(zh), en, road) for zh, en, road in candidates if tier(zh) not in used]
        if free:
            break
    number = 2
    while not free:
        numbered = [
            (f"{short}{zh}第{number}{kind}", f"{en} {suffix_en} No. {number}", (zh, en))
            for zh, en in roads
        ]
        free = [c for c in numbered if c[0] not in used]
        number += 1
    choice = rng.choice(free)
    used.add(choice[0])
    return choice


def _phone(rng: random.Random, used: set[str]) -> str | None:
    if rng.random() < sample.NO_PHONE_SHARE:
        return None
    phone = None
    while phone is None or phone in used:
        phone = f"{rng.choice(sample.PHONE_PREFIXES)}{rng.randrange(10_000):04d}"
    used.add(phone)
    return phone


def qiantang_station_features(path: Path = QIANTANG_STATIONS) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = _load(path)["features"]
    return features


def stations_document(
    areas: dict[str, Any], seed: int = SEED, qiantang: Path = QIANTANG_STATIONS
) -> dict[str, Any]:
    """Qiantang's shipped stations, then 8-15 in every fictional subdistrict (those of
    the districts in DISTRICTS), in the order of the areas document."""
    rng = random.Random(f"{seed}:stations")
    loaded = Areas.from_geojson(areas)
    features = qiantang_station_features(qiantang)
    taken = [tuple(f["geometry"]["coordinates"]) for f in features]
    used_names = {f["properties"]["name"] for f in features}
    used_phones = {f["properties"]["phone"] for f in features if f["properties"]["phone"]}
    kinds, kind_weights = zip(*sample.KIND_COUNTS, strict=True)
    districts = {spec.division: spec for spec in DISTRICTS}
    for area in areas["features"]:
        p = area["properties"]
        if p["level"] != "subdistrict" or p["district"] not in districts:
            continue
        spec = districts[p["district"]]
        found = loaded.subdistrict(p["division"])
        if found is None:  # pragma: no cover - Areas lost a subdistrict
            raise SystemExit(f"Areas does not know {p['division']}")
        name = Name(p["name"], p["name_en"], "")
        roads = _roads(rng, 6)
        count = rng.randint(*STATIONS_PER_SUBDISTRICT)
        positions = sample.station_positions(rng, shape(area["geometry"]), [], count, taken)
        for serial, (lon, lat) in enumerate(positions, start=1):
            street = loaded.street_at(Point(lon, lat))
            if street != found.key:
                raise SystemExit(f"({lon}, {lat}) lies in {street}, not in {found.key}")
            kind = str(rng.choices(kinds, weights=kind_weights)[0])
            opening = _hours(rng)
            station_name, name_en, road = _station_name(
                rng, kind, spec.name, name, roads, used_names
            )
            number = rng.randrange(1, 1200)
            phone = _phone(rng, used_phones)
            station_id = f"{p['id_prefix']}-{serial:03d}"
            features.append(
                {
                    "type": "Feature",
                    "id": station_id,
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "name": station_name,
                        "name_en": name_en if rng.random() < sample.ENGLISH_NAME_SHARE else None,
                        "kind": kind,
                        "street": street,
                        "address": f"{spec.name}{p['name']}{road[0]}{number}号",
                        "amenities": sample.amenities_for(rng, opening),
                        "opening_hours": opening,
                        "phone": phone,
                        # seeded with the station's id (make_sample_data.access_for)
                        **sample.access_for(station_id, kind, phone),
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "properties": {
            "sample_data": True,
            "synthetic": True,
            "notice": STATIONS_NOTICE,
            "notice_zh": STATIONS_NOTICE_ZH,
            "source": SOURCE,
            "seed": seed,
        },
        "features": features,
    }


# --- national scale -----------------------------------------------------------------------

CHINA_BOX = (73.5, 18.5, 134.5, 53.0)  # lon/lat box round the mainland
CITY_SIZE_DEG = 0.35  # at most; smaller where the grid is finer
NATIONAL_SUBDISTRICTS = (3, 6)
NATIONAL_EDGE_MARGIN_DEG = 1e-4  # about 10 m: no station on an edge
CITY_CHARS: tuple[tuple[str, str], ...] = (
    ("青", "qing"),
    ("安", "an"),
    ("平", "ping"),
    ("宁", "ning"),
    ("丰", "feng"),
    ("兴", "xing"),
    ("华", "hua"),
    ("嘉", "jia"),
    ("永", "yong"),
    ("泰", "tai"),
    ("昌", "chang"),
    ("德", "de"),
    ("阳", "yang"),
    ("江", "jiang"),
    ("山", "shan"),
    ("河", "he"),
    ("林", "lin"),
    ("海", "hai"),
    ("州", "zhou"),
    ("川", "chuan"),
    ("源", "yuan"),
    ("乐", "le"),
    ("明", "ming"),
    ("云", "yun"),
    ("石", "shi"),
    ("湖", "hu"),
    ("桥", "qiao"),
    ("溪", "xi"),
    ("原", "yuan"),
    ("泉", "quan"),
    ("城", "cheng"),
    ("远", "yuan"),
    ("新", "xin"),
    ("临", "lin"),
    ("庆", "qing"),
)
NATIONAL_NAMES: tuple[Name, ...] = (*DIRECTIONAL.values(), *OTHER_NAMES[:7])
NATIONAL_KIND_WEIGHTS = np.array([n for _, n in sample.KIND_COUNTS], dtype=float)


def _city_stems(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    pairs = [
        (a + b, (pa + pb).capitalize()) for a, pa in CITY_CHARS for b, pb in CITY_CHARS if a != b
    ]
    order = rng.permutation(len(pairs))
    stems = [pairs[i] for i in order[: min(count, len(pairs))]]
    # Beyond the combinations, numbered ones: names must be unique (keys use them).
    stems += [(f"示例{n}", f"Shili{n}") for n in range(len(stems) + 1, count + 1)]
    return stems


def national_areas(seed: int = SEED, cities: int = 370) -> dict[str, Any]:
    """`cities` fictional cities on a jittered grid over China's lon/lat box, each one
    district (code PPCC02) of 3-6 Voronoi subdistricts (PPCC02001...)."""
    if not 1 <= cities <= 89 * 99:
        raise ValueError("cities must be between 1 and 8811")
    rng = np.random.default_rng([seed, 1])
    pyrng = random.Random(f"{seed}:national-areas")
    minx, miny, maxx, maxy = CHINA_BOX
    columns = math.ceil(math.sqrt(cities * (maxx - minx) / (maxy - miny)))
    rows = math.ceil(cities / columns)
    cell_w, cell_h = (maxx - minx) / columns, (maxy - miny) / rows
    size = min(CITY_SIZE_DEG, 0.6 * cell_w, 0.6 * cell_h)
    chosen = np.sort(rng.choice(columns * rows, size=cities, replace=False))
    stems = _city_stems(rng, cities)
    features: list[dict[str, Any]] = []
    for k, slot in enumerate(chosen.tolist()):
        row, column = divmod(slot, columns)
        x0 = minx + column * cell_w + float(rng.uniform(0, cell_w - size))
        y0 = miny + row * cell_h + float(rng.uniform(0, cell_h - size))
        bounds = (round(x0, 3), round(y0, 3), round(x0 + size, 3), round(y0 + size, 3))
        stem, stem_en = stems[k]
        division = f"{11 + k // 99:02d}{k % 99 + 1:02d}02"
        features.append(
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "level": "district",
                    "division": division,
                    "name": f"{stem}区",
                    "name_en": f"{stem_en} District",
                    "city": f"{stem}市",
                    "city_en": stem_en,
                },
            }
        )
        count = int(rng.integers(NATIONAL_SUBDISTRICTS[0], NATIONAL_SUBDISTRICTS[1] + 1))
        cells = voronoi_cells(_spread_points(pyrng, bounds, count), bounds)
        names = [NATIONAL_NAMES[i] for i in rng.permutation(len(NATIONAL_NAMES))[:count]]
        for serial, i in enumerate(_reading_order(cells), start=1):
            features.append(
                {
                    "type": "Feature",
                    "geometry": sample.rounded(cells[i]),
                    "properties": {
                        "level": "subdistrict",
                        "division": f"{division}{serial:03d}",
                        "name": names[i].zh,
                        "name_en": names[i].en,
                        "district": division,
                        "id_prefix": f"N{k + 1:03d}-{names[i].letters}",
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "properties": {
            "synthetic": True,
            "notice": "Fictional cities: test data, not a map.",
            "source": SOURCE,
            "seed": seed,
            "cities": cities,
        },
        "features": features,
    }


def _points_inside(
    rng: np.random.Generator, polygon: Polygon, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """`count` random points at least NATIONAL_EDGE_MARGIN_DEG inside `polygon`, rounded
    to the 6-decimal grid: vectorised rejection sampling over its bounding box."""
    inner = polygon.buffer(-NATIONAL_EDGE_MARGIN_DEG)
    minx, miny, maxx, maxy = inner.bounds
    fill = inner.area / ((maxx - minx) * (maxy - miny))
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    found = 0
    while found < count:
        n = int((count - found) / fill * 1.2) + 16
        x = np.round(rng.uniform(minx, maxx, n), DECIMALS)
        y = np.round(rng.uniform(miny, maxy, n), DECIMALS)
        keep = shapely.contains_xy(inner, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        found += int(keep.sum())
    return np.concatenate(xs)[:count], np.concatenate(ys)[:count]


def national(
    seed: int = SEED, cities: int = 370, stations: int = 400_000
) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """A national-scale registry: the areas document and a generator of `stations`
    station features (the same shape as the sample's), spread unevenly over the
    cities (a few big ones) and within a city by subdistrict area. Positions and every
    property are drawn up front with numpy; the generator only builds the dicts."""
    areas = national_areas(seed, cities)
    loaded = Areas.from_geojson(areas)
    subs = [f for f in areas["features"] if f["properties"]["level"] == "subdistrict"]
    if stations < len(subs):
        raise ValueError(f"at least one station per subdistrict: {len(subs)} needed")
    rng = np.random.default_rng([seed, 2])
    polygons = [shape(f["geometry"]) for f in subs]
    # A few big cities, many small ones.
    codes = sorted({f["properties"]["district"] for f in subs})
    city_weight = dict(zip(codes, (rng.pareto(1.2, len(codes)) + 0.2).tolist(), strict=True))
    weights = np.array(
        [
            city_weight[f["properties"]["district"]] * p.area
            for f, p in zip(subs, polygons, strict=True)
        ]
    )
    counts = rng.multinomial(stations - len(subs), weights / weights.sum()) + 1

    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    for polygon, count in zip(polygons, counts.tolist(), strict=True):
        x, y = _points_inside(rng, polygon, count)
        lons.append(x)
        lats.append(y)
    lon = np.concatenate(lons).tolist()
    lat = np.concatenate(lats).tolist()
    sub_of = np.repeat(np.arange(len(subs)), counts).tolist()
    serial_of = np.concatenate([np.arange(1, c + 1) for c in counts.tolist()]).tolist()

    kinds = rng.choice(
        len(sample.KIND_COUNTS),
        size=stations,
        p=NATIONAL_KIND_WEIGHTS / NATIONAL_KIND_WEIGHTS.sum(),
    ).tolist()
    expressions = [e for e, _ in HOURS]
    hour_weights = np.array([w for _, w in HOURS], dtype=float)
    hour_weights *= (1 - ALWAYS_OPEN_SHARE - UNKNOWN_HOURS_SHARE) / hour_weights.sum()
    hour_options: list[str | None] = [sample.ALWAYS_OPEN, None, *expressions]
    hour_p = np.concatenate([[ALWAYS_OPEN_SHARE, UNKNOWN_HOURS_SHARE], hour_weights])
    hours = rng.choice(len(hour_options), size=stations, p=hour_p).tolist()
    share_of = dict(sample.AMENITY_SHARES)  # columns in vocabulary order
    shares = np.array([share_of.get(code, 0.0) for code in AMENITY_CODES])
    offered = rng.random((stations, len(shares))) < shares
    offered[:, AMENITY_CODES.index("open_24h")] = np.array(hours) == 0
    # Each row's amenities as one bitmask; the few distinct masks are decoded once.
    masks, amenity_of = np.unique(offered @ (1 << np.arange(len(shares))), return_inverse=True)
    amenity_sets = [[c for j, c in enumerate(AMENITY_CODES) if int(m) >> j & 1] for m in masks]
    amenity_of = amenity_of.tolist()
    road_of = rng.integers(0, len(ROAD_STEMS), size=stations).tolist()
    numbers = rng.integers(1, 1200, size=stations).tolist()
    has_phone = (rng.random(stations) >= sample.NO_PHONE_SHARE).tolist()
    phone_digits = rng.integers(0, 10**8, size=stations).tolist()
    english = (rng.random(stations) < sample.ENGLISH_NAME_SHARE).tolist()
    access_draw = rng.random((stations, 6)).tolist()
    seats_draw = rng.random(stations).tolist()
    kind_names = [k for k, _ in sample.KIND_COUNTS]
    access_tables = {kind: _cumulative(sample.ACCESS_BY_KIND[kind]) for kind in kind_names}

    info = []
    for f in subs:
        p = f["properties"]
        found = loaded.subdistrict(p["division"])
        district = loaded.district(p["district"])
        if found is None or district is None:  # pragma: no cover
            raise RuntimeError(f"Areas does not know {p['division']}")
        width = max(3, len(str(int(counts[len(info)]))))
        info.append((found.key, p["id_prefix"], width, district, p["name"], p["name_en"]))

    def features() -> Iterator[dict[str, Any]]:
        for i in range(stations):
            key, prefix, width, district, sub_name, sub_en = info[sub_of[i]]
            kind = kind_names[kinds[i]]
            road, road_en = ROAD_STEMS[road_of[i]]
            short = sub_name.removesuffix("街道")
            phone = f"0{10 + phone_digits[i] % 890}-{phone_digits[i]:08d}" if has_phone[i] else None
            draws = access_draw[i]
            access = _pick(access_tables[kind], draws[0])
            if access == "call_ahead" and phone is None:
                access = "door_entry"
            if draws[1] < sample.ACCESS_UNKNOWN_SHARE:
                access = None
            notes = sample.ACCESS_NOTES[access] if access is not None else (None,)
            fewest, most = sample.SEATS_BY_KIND[kind]
            yield {
                "type": "Feature",
                "id": f"{prefix}-{serial_of[i]:0{width}d}",
                "geometry": {"type": "Point", "coordinates": [lon[i], lat[i]]},
                "properties": {
                    "name": f"{short}{road}路{kind}",
                    "name_en": (
                        f"{road_en} Road {KIND_SUFFIX_EN[kind]}, {sub_en.split()[0]}"
                        if english[i]
                        else None
                    ),
                    "kind": kind,
                    "street": key,
                    "address": f"{district.city}{district.name}{sub_name}{road}路{numbers[i]}号",
                    "amenities": list(amenity_sets[amenity_of[i]]),
                    "opening_hours": hour_options[hours[i]],
                    "phone": phone,
                    "access": access,
                    "access_note": notes[int(draws[2] * len(notes))],
                    "seats": (
                        None
                        if seats_draw[i] < sample.SEATS_UNKNOWN_SHARE
                        else fewest + int(draws[3] * (most - fewest + 1))
                    ),
                    "step_free": (
                        None
                        if draws[4] < sample.STEP_FREE_UNKNOWN_SHARE
                        else draws[5] < sample.STEP_FREE_SHARE[kind]
                    ),
                },
            }

    return areas, features()


def _cumulative(table: Sequence[tuple[str, int]]) -> list[tuple[float, str]]:
    total = sum(w for _, w in table)
    result, running = [], 0
    for code, weight in table:
        running += weight
        result.append((running / total, code))
    return result


def _pick(table: Sequence[tuple[float, str]], draw: float) -> str:
    return next((code for edge, code in table if draw < edge), table[-1][1])


# --- writing ------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(document: dict[str, Any]) -> str:
    """The document as UTF-8 JSON with one feature per line: compact, and a change to
    one area or station is a one-line diff."""
    return "".join(_chunks(document, iter(document.get("features", ()))))


def _chunks(document: dict[str, Any], features: Iterator[dict[str, Any]]) -> Iterator[str]:
    items = [(k, v) for k, v in document.items() if k != "features"]
    yield "{\n"
    for key, value in items:
        yield f"{_dumps(key)}: {_dumps(value)},\n"
    yield '"features": [\n'
    first = True
    for feature in features:
        yield ("" if first else ",\n") + _dumps(feature)
        first = False
    yield ("" if first else "\n") + "]\n}\n"


def write(path: Path, document: dict[str, Any], features: Iterator[dict[str, Any]]) -> int:
    """Stream a FeatureCollection to `path` (features from an iterator); its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for chunk in _chunks(document, features):
            file.write(chunk)
    return path.stat().st_size


def documents(seed: int = SEED) -> tuple[dict[str, Any], dict[str, Any]]:
    """(areas, stations) documents as main writes them."""
    areas = areas_document(seed)
    return areas, stations_document(areas, seed)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--national",
        type=Path,
        metavar="OUT_DIR",
        help="also write the national-scale registry into OUT_DIR",
    )
    parser.add_argument("--cities", type=int, default=370)
    parser.add_argument("--stations", type=int, default=400_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    areas, stations = documents(args.seed)
    out: Path = args.out
    for name, document in (("areas.geojson", areas), ("stations.geojson", stations)):
        size = write(out / name, document, iter(document["features"]))
        print(f"wrote {out / name} ({len(document['features'])} features, {size:,} bytes)")
    print(f"in {time.perf_counter() - started:.1f} s")
    if args.national is not None:
        started = time.perf_counter()
        national_doc, features = national(args.seed, args.cities, args.stations)
        size = write(args.national / "areas.geojson", national_doc, iter(national_doc["features"]))
        header = {
            "type": "FeatureCollection",
            "properties": {"synthetic": True, "source": SOURCE, "seed": args.seed},
        }
        size += write(args.national / "stations.geojson", header, features)
        print(
            f"wrote the national registry ({args.cities} cities, {args.stations:,} "
            f"stations, {size:,} bytes) to {args.national} "
            f"in {time.perf_counter() - started:.1f} s"
        )


if __name__ == "__main__":
    main()
