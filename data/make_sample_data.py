"""The seeded script that made the sample data in this folder.

    python data/make_sample_data.py [--out DIR]

writes three files (into the folder beside this script unless --out says otherwise):

- areas.geojson: approximate outlines of Qiantang district's seven subdistricts, drawn by
  hand from a shared set of vertices so that neighbours share their edges exactly. They
  are not official; staff replace them with `stationfinder load-areas FILE`.
- stations.geojson: 158 illustrative 小哥之家 stations. Positions, names, phones and
  hours are made up; only their spread over the subdistricts is meant to look plausible.
- gazetteer.json: about thirty real places of the district (lakes, metro stations,
  universities, government offices) at approximate WGS-84 positions, so couriers without
  geolocation can pick "near 金沙湖" instead.

Only the standard library and shapely are used, and every random choice comes from one
seeded random.Random, so running it twice gives byte-identical files. How a station is
entered (access, its note, seats, step_free) is drawn from a generator seeded with the
station's id, so adding those fields moved no station, name, phone or hours. The subdistrict
table below is the origin of Qiantang's areas in areas.geojson (division codes, names and
the QT-XX id stems); the app reads them from that file, not from code.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from stationfinder.geo.gazetteer import readings_for

SEED = 20210409  # the day Qiantang district was set up
DECIMALS = 6  # about 0.1 m
EDGE_MARGIN_DEG = 0.0012  # stations keep >100 m from a subdistrict's edge
MIN_SPACING_M = 120.0  # the data promise is 80 m; keep a safety margin
METRES_PER_DEG_LAT = 110_900.0


@dataclass(frozen=True)
class Street:
    name: str
    en: str
    code: str
    division: str
    stations: int  # how many sample stations it gets


STREETS: tuple[Street, ...] = (
    Street("下沙街道", "Xiasha Subdistrict", "XS", "330114001", 38),
    Street("白杨街道", "Baiyang Subdistrict", "BY", "330114002", 34),
    Street("河庄街道", "Hezhuang Subdistrict", "HZ", "330114003", 22),
    Street("义蓬街道", "Yipeng Subdistrict", "YP", "330114004", 18),
    Street("新湾街道", "Xinwan Subdistrict", "XW", "330114005", 14),
    Street("临江街道", "Linjiang Subdistrict", "LJ", "330114006", 16),
    Street("前进街道", "Qianjin Subdistrict", "QJ", "330114007", 16),
)
DISTRICT = ("钱塘区", "Qiantang District")
DISTRICT_DIVISION = "330114"

# --- outlines ---------------------------------------------------------------------
# Shared vertices (lon, lat). The district has two parts with the Qiantang river
# between them: Xiasha (north bank, west) and Dajiangdong (south bank, east). R* follow
# the north bank, D* the south bank and the district's outer edge, B* the line between
# Xiasha and Baiyang, P* the lines between the five Dajiangdong subdistricts.
VERTICES: dict[str, tuple[float, float]] = {
    # Xiasha part
    "W1": (120.288, 30.283),
    "R1": (120.318, 30.276),
    "R2": (120.348, 30.275),
    "R3": (120.372, 30.280),
    "R4": (120.390, 30.288),
    "R5": (120.405, 30.303),
    "R6": (120.415, 30.322),
    "R7": (120.422, 30.341),
    "N1": (120.405, 30.354),
    "N2": (120.370, 30.357),
    "B1": (120.328, 30.353),
    "N4": (120.300, 30.349),
    "W2": (120.289, 30.316),
    "B2": (120.326, 30.322),
    "B3": (120.328, 30.300),
    "B4": (120.345, 30.294),
    "B5": (120.375, 30.293),
    # Dajiangdong part
    "D1": (120.433, 30.276),
    "D2": (120.428, 30.296),
    "D3": (120.436, 30.318),
    "D4": (120.446, 30.337),
    "D5": (120.468, 30.344),
    "P1": (120.492, 30.347),
    "D6": (120.525, 30.349),
    "D7": (120.560, 30.351),
    "P7": (120.585, 30.352),
    "D8": (120.625, 30.354),
    "D9": (120.680, 30.350),
    "D10": (120.730, 30.337),
    "D11": (120.756, 30.305),
    "D12": (120.746, 30.266),
    "D13": (120.708, 30.232),
    "D14": (120.664, 30.199),
    "D15": (120.605, 30.188),
    "D16": (120.565, 30.196),
    "D17": (120.515, 30.200),
    "D18": (120.470, 30.220),
    "D19": (120.442, 30.248),
    "P2": (120.490, 30.300),
    "P3": (120.487, 30.270),
    "P4": (120.462, 30.262),
    "P5": (120.535, 30.276),
    "P6": (120.582, 30.274),
    "P8": (120.583, 30.310),
    "P9": (120.572, 30.240),
    "P10": (120.640, 30.272),
    "P11": (120.700, 30.270),
}

RINGS: dict[str, tuple[str, ...]] = {
    "下沙街道": ("W1", "R1", "R2", "R3", "R4", "B5", "B4", "B3", "B2", "B1", "N4", "W2"),
    "白杨街道": ("B1", "B2", "B3", "B4", "B5", "R4", "R5", "R6", "R7", "N1", "N2"),
    "河庄街道": ("D1", "D2", "D3", "D4", "D5", "P1", "P2", "P3", "P4", "D19"),
    "义蓬街道": ("D19", "P4", "P3", "P5", "P6", "P9", "D16", "D17", "D18"),
    "新湾街道": ("P1", "D6", "D7", "P7", "P8", "P6", "P5", "P3", "P2"),
    "临江街道": ("P7", "D8", "D9", "D10", "D11", "D12", "P11", "P10", "P6", "P8"),
    "前进街道": ("D16", "P9", "P6", "P10", "P11", "D12", "D13", "D14", "D15"),
}

AREAS_NOTICE = (
    "Subdistrict outlines drawn by the stationfinder developers, approximate; replace "
    "with an official file via `stationfinder load-areas FILE`."
)

# --- gazetteer --------------------------------------------------------------------
# (name, name_en, kind, street, lon, lat). Real places, approximate positions; the
# subdistrict offices other than Xiasha's are only roughly placed. 杭州大会展中心 station
# (line 1) is left out: it lies across the river in Xiaoshan district.
PLACES: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("金沙湖", "Jinsha Lake", "landmark", "下沙街道", 120.318, 30.305),
    ("龙湖杭州金沙天街", "Longfor Jinsha Paradise Walk", "landmark", "下沙街道", 120.311, 30.299),
    ("下沙街道办事处", "Xiasha Subdistrict Office", "government", "下沙街道", 120.315, 30.291),
    ("下沙西站", "Xiasha West Station", "metro", "下沙街道", 120.301, 30.316),
    ("金沙湖站", "Jinsha Lake Station", "metro", "下沙街道", 120.315, 30.311),
    ("云水站", "Yunshui Station", "metro", "下沙街道", 120.362, 30.288),
    ("下沙江滨站", "Xiasha Jiangbin Station", "metro", "下沙街道", 120.371, 30.285),
    ("高沙路站", "Gaosha Road Station", "metro", "白杨街道", 120.334, 30.315),
    ("文泽路站", "Wenze Road Station", "metro", "白杨街道", 120.347, 30.313),
    ("文海南路站", "Wenhai South Road Station", "metro", "白杨街道", 120.357, 30.301),
    ("下沙高教园区", "Xiasha Higher Education Park", "landmark", "白杨街道", 120.366, 30.318),
    ("白杨街道办事处", "Baiyang Subdistrict Office", "government", "白杨街道", 120.352, 30.333),
    ("杭州电子科技大学", "Hangzhou Dianzi University", "university", "白杨街道", 120.343, 30.321),
    ("浙江理工大学", "Zhejiang Sci-Tech University", "university", "白杨街道", 120.357, 30.315),
    ("中国计量大学", "China Jiliang University", "university", "白杨街道", 120.356, 30.326),
    (
        "浙江财经大学（下沙校区）",
        "Zhejiang University of Finance & Economics (Xiasha campus)",
        "university",
        "白杨街道",
        120.388,
        30.304,
    ),
    (
        "杭州师范大学（下沙校区）",
        "Hangzhou Normal University (Xiasha campus)",
        "university",
        "白杨街道",
        120.380,
        30.318,
    ),
    ("浙江工商大学", "Zhejiang Gongshang University", "university", "白杨街道", 120.372, 30.309),
    (
        "浙江传媒学院（下沙校区）",
        "Communication University of Zhejiang (Xiasha campus)",
        "university",
        "白杨街道",
        120.368,
        30.330,
    ),
    ("钱塘区人民政府", "Qiantang District Government", "government", "河庄街道", 120.472, 30.292),
    ("河庄街道办事处", "Hezhuang Subdistrict Office", "government", "河庄街道", 120.458, 30.281),
    ("河庄路站", "Hezhuang Road Station", "metro", "河庄街道", 120.4525, 30.301),
    ("青六中路站", "Qingliu Middle Road Station", "metro", "河庄街道", 120.479, 30.284),
    ("义蓬街道办事处", "Yipeng Subdistrict Office", "government", "义蓬街道", 120.510, 30.245),
    ("新湾街道办事处", "Xinwan Subdistrict Office", "government", "新湾街道", 120.552, 30.296),
    ("冯娄村站", "Fenglou Village Station", "metro", "新湾街道", 120.512, 30.298),
    ("新湾路站", "Xinwan Road Station", "metro", "新湾街道", 120.541, 30.300),
    ("临江街道办事处", "Linjiang Subdistrict Office", "government", "临江街道", 120.655, 30.310),
    ("前进街道办事处", "Qianjin Subdistrict Office", "government", "前进街道", 120.640, 30.228),
)

# The names people really use for some of PLACES (curated: forms the gazetteer cannot
# derive by rule, or well known enough to rank as a name). The gazetteer derives the
# rest itself: the bracketed campus dropped, 办事处 dropped, abbreviations such as 杭电
# picked from the full name, pinyin and initials (stationfinder/geo/place_names.py).
ALIASES: dict[str, tuple[str, ...]] = {
    "杭州电子科技大学": ("杭电", "HDU"),
    "浙江理工大学": ("浙理工", "理工大", "ZSTU"),
    "中国计量大学": ("量大", "CJLU"),
    "浙江财经大学（下沙校区）": ("浙财", "浙财大", "ZUFE"),
    "杭州师范大学（下沙校区）": ("杭师大", "HZNU"),
    "浙江工商大学": ("浙工商", "浙商大", "ZJGSU"),
    "浙江传媒学院（下沙校区）": ("浙传", "CUZ"),
    "下沙高教园区": ("高教园", "下沙大学城", "大学城"),
    "龙湖杭州金沙天街": ("金沙天街", "天街"),
    "钱塘区人民政府": ("区政府",),
}

GAZETTEER_NOTICE = (
    "Real places of Qiantang district at approximate WGS-84 positions, not surveyed: "
    "good enough to pick the stations near a place, not to navigate by. Each place lies "
    "inside its subdistrict in areas.geojson."
)

# --- stations ---------------------------------------------------------------------
# Roads used in names and addresses, per subdistrict code: (zh, en).
ROADS: dict[str, tuple[tuple[str, str], ...]] = {
    "XS": (
        ("海达南路", "Haida South Road"),
        ("海达北路", "Haida North Road"),
        ("下沙路", "Xiasha Road"),
        ("金沙大道", "Jinsha Avenue"),
        ("福城路", "Fucheng Road"),
        ("九沙大道", "Jiusha Avenue"),
        ("幸福南路", "Xingfu South Road"),
        ("月雅路", "Yueya Road"),
        ("1号大街", "No. 1 Avenue"),
        ("3号大街", "No. 3 Avenue"),
        ("14号大街", "No. 14 Avenue"),
        ("25号大街", "No. 25 Avenue"),
        ("银海街", "Yinhai Street"),
    ),
    "BY": (
        ("文泽路", "Wenze Road"),
        ("学源街", "Xueyuan Street"),
        ("学林街", "Xuelin Street"),
        ("学正街", "Xuezheng Street"),
        ("文渊北路", "Wenyuan North Road"),
        ("文海北路", "Wenhai North Road"),
        ("高沙路", "Gaosha Road"),
        ("2号大街", "No. 2 Avenue"),
        ("4号大街", "No. 4 Avenue"),
        ("6号大街", "No. 6 Avenue"),
        ("10号大街", "No. 10 Avenue"),
        ("12号大街", "No. 12 Avenue"),
    ),
    "HZ": (
        ("江东大道", "Jiangdong Avenue"),
        ("河景路", "Hejing Road"),
        ("河庄路", "Hezhuang Road"),
        ("青六北路", "Qingliu North Road"),
        ("青五北路", "Qingwu North Road"),
        ("江东一路", "Jiangdong 1st Road"),
        ("围垦路", "Weiken Road"),
        ("建设一路", "Jianshe 1st Road"),
    ),
    "YP": (
        ("义府大街", "Yifu Street"),
        ("青六中路", "Qingliu Middle Road"),
        ("青六南路", "Qingliu South Road"),
        ("建设二路", "Jianshe 2nd Road"),
        ("江东二路", "Jiangdong 2nd Road"),
        ("蓬园路", "Pengyuan Road"),
        ("头蓬路", "Toupeng Road"),
        ("义隆路", "Yilong Road"),
    ),
    "XW": (
        ("新湾路", "Xinwan Road"),
        ("冯娄路", "Fenglou Road"),
        ("江东三路", "Jiangdong 3rd Road"),
        ("新东路", "Xindong Road"),
        ("海塘路", "Haitang Road"),
        ("青西三路", "Qingxi 3rd Road"),
        ("创新路", "Chuangxin Road"),
    ),
    "LJ": (
        ("临江路", "Linjiang Road"),
        ("纬三路", "Wei 3rd Road"),
        ("纬五路", "Wei 5th Road"),
        ("经一路", "Jing 1st Road"),
        ("经六路", "Jing 6th Road"),
        ("江东五路", "Jiangdong 5th Road"),
        ("围垦大道", "Weiken Avenue"),
    ),
    "QJ": (
        ("前进路", "Qianjin Road"),
        ("前进大道", "Qianjin Avenue"),
        ("三丰路", "Sanfeng Road"),
        ("江东六路", "Jiangdong 6th Road"),
        ("纬十路", "Wei 10th Road"),
        ("海塘南路", "Haitang South Road"),
        ("丰收路", "Fengshou Road"),
    ),
}

# Places an 爱心驿家 is often "next to".
NEIGHBOURS: tuple[tuple[str, str], ...] = (
    ("派出所", "police station"),
    ("社区卫生服务中心", "health centre"),
    ("农贸市场", "farmers' market"),
    ("邮政支局", "post office"),
    ("公交首末站", "bus terminal"),
    ("文化礼堂", "culture hall"),
)
# Workplaces that host a 工会驿站.
WORKPLACES: tuple[tuple[str, str], ...] = (
    ("快递园区", "Express Park"),
    ("物流中心", "Logistics Centre"),
    ("商务楼宇", "Office Tower"),
    ("环卫所", "Sanitation Depot"),
)

# Exact counts per kind (45/25/15/10/5 % of 158), in vocabulary order.
KIND_COUNTS: tuple[tuple[str, int], ...] = (
    ("党群服务中心", 71),
    ("城管驿站", 40),
    ("爱心驿家", 24),
    ("工会驿站", 16),
    ("户外劳动者服务站", 7),
)
ALWAYS_OPEN = "24/7"
ALWAYS_OPEN_COUNT = 24  # about 15 %
UNKNOWN_HOURS_COUNT = 8  # about 5 %
REGULAR_HOURS: tuple[tuple[str, int], ...] = (  # (expression, weight)
    ("Mo-Su 08:00-20:00", 30),
    ("Mo-Fr 08:30-17:30; Sa,Su 09:00-17:00", 20),
    ("Mo-Fr 08:30-11:30,13:30-17:30; PH off", 15),
    ("Mo-Su 07:00-21:00", 20),
    ("Mo-Su 09:00-18:00", 10),
    ("Mo-Sa 08:00-18:00; Su 09:00-12:00", 5),
)
# Share of stations offering each amenity, in vocabulary order; open_24h follows the
# hours instead.
AMENITY_SHARES: tuple[tuple[str, float], ...] = (
    ("rest", 1.0),
    ("toilet", 0.7),
    ("drinking_water", 0.97),
    ("cooling", 0.6),
    ("food_heating", 0.6),
    ("warm_shelter", 0.45),
    ("phone_charging", 0.96),
    ("reading", 0.3),
    ("first_aid", 0.45),
    ("battery_swap", 0.08),
    ("discount_meals", 0.12),
    ("legal_advice", 0.07),
    ("haircut", 0.06),
    ("hot_water", 0.55),
    ("wifi", 0.45),
    ("repair_tools", 0.3),
    ("ebike_parking", 0.5),
    ("rain_gear_loan", 0.3),
    ("open_24h", 0.0),
)
# How a courier gets in, by kind: (access code, weight); the codes are
# core/vocabulary.py's ACCESSES. Civic centres and shops are walked into, posts ring a
# bell, stations inside workplaces sit behind a gate or a door system.
ACCESS_BY_KIND: dict[str, tuple[tuple[str, int], ...]] = {
    "党群服务中心": (("walk_in", 9), ("scan_code", 1)),
    "城管驿站": (("walk_in", 6), ("bell", 4)),
    "爱心驿家": (("walk_in", 1),),
    "工会驿站": (("door_entry", 4), ("scan_code", 3), ("call_ahead", 2), ("walk_in", 1)),
    "户外劳动者服务站": (("walk_in", 7), ("bell", 3)),
}
ACCESS_NOTES: dict[str, tuple[str | None, ...]] = {
    "walk_in": (None, None, None, "工作时间直接进入"),
    "bell": ("门铃在门右侧", "按铃后稍等", None),
    "scan_code": ("扫门口二维码登记", "扫码登记后进入"),
    "call_ahead": ("到门口拨打站点电话", "提前电话联系值班人员"),
    "door_entry": ("门卫处登记", "门卫处登记后刷卡进入"),
}
SEATS_BY_KIND: dict[str, tuple[int, int]] = {  # (fewest, most)
    "党群服务中心": (10, 40),
    "城管驿站": (4, 12),
    "爱心驿家": (2, 8),
    "工会驿站": (6, 30),
    "户外劳动者服务站": (4, 16),
}
STEP_FREE_SHARE: dict[str, float] = {  # the rest have a step at the door
    "党群服务中心": 0.85,
    "城管驿站": 0.5,
    "爱心驿家": 0.6,
    "工会驿站": 0.7,
    "户外劳动者服务站": 0.5,
}
ACCESS_UNKNOWN_SHARE = 0.08  # not recorded yet
SEATS_UNKNOWN_SHARE = 0.1
STEP_FREE_UNKNOWN_SHARE = 0.15

PHONE_PREFIXES = ("0571-8691", "0571-8672", "0571-8287", "0571-8290", "0571-8219")
NO_PHONE_SHARE = 0.2
ENGLISH_NAME_SHARE = 0.5

STATIONS_NOTICE = (
    "Illustrative sample data: positions, names, phones and hours are made up for "
    "demonstration; replace with the union's registry (see README)."
)
STATIONS_NOTICE_ZH = (
    "示例数据：位置、名称、电话和开放时间均为演示用虚构数据，"
    "请以工会登记的站点名录替换（见 README）。"
)


# --- building -----------------------------------------------------------------------


def subdistrict_outlines() -> dict[str, Polygon]:
    """The seven subdistricts, exterior rings counter-clockwise (RFC 7946)."""
    outlines = {}
    for street in STREETS:
        ring = [VERTICES[name] for name in RINGS[street.name]]
        polygon = orient(Polygon(ring), sign=1.0)
        if not polygon.is_valid:
            raise SystemExit(f"the outline of {street.name} is not a valid polygon")
        outlines[street.name] = polygon
    return outlines


def district_outline(outlines: dict[str, Polygon]) -> Polygon | MultiPolygon:
    union = unary_union(list(outlines.values()))
    if isinstance(union, MultiPolygon):
        return MultiPolygon([orient(part, sign=1.0) for part in union.geoms])
    return orient(union, sign=1.0)


def rounded(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to DECIMALS, as lists."""

    def walk(value: Any) -> Any:
        if isinstance(value, float | int):
            return round(float(value), DECIMALS)
        return [walk(item) for item in value]

    geojson = mapping(geometry)
    return {"type": geojson["type"], "coordinates": walk(geojson["coordinates"])}


def areas_document(outlines: dict[str, Polygon]) -> dict[str, Any]:
    """The outlines in the app's area schema (stationfinder/geo/areas.py): the district,
    then its subdistricts, each with its division code; the seven keep their legacy
    station-id stems (QT-BY-001)."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": rounded(district_outline(outlines)),
            "properties": {
                "level": "district",
                "division": DISTRICT_DIVISION,
                "name": DISTRICT[0],
                "name_en": DISTRICT[1],
                "city": "杭州市",
                "city_en": "Hangzhou",
            },
        }
    ]
    features += [
        {
            "type": "Feature",
            "geometry": rounded(outlines[street.name]),
            "properties": {
                "level": "subdistrict",
                "division": street.division,
                "name": street.name,
                "name_en": street.en,
                "district": DISTRICT_DIVISION,
                "id_prefix": f"QT-{street.code}",
            },
        }
        for street in STREETS
    ]
    return {
        "type": "FeatureCollection",
        "properties": {
            "approximate": True,
            "notice": AREAS_NOTICE,
            "source": "data/make_sample_data.py",
        },
        "features": features,
    }


def gazetteer_document(outlines: dict[str, Polygon]) -> dict[str, Any]:
    places = []
    for name, name_en, kind, street, lon, lat in PLACES:
        if not outlines[street].contains(Point(lon, lat)):
            raise SystemExit(f"{name} ({lon}, {lat}) is not inside {street}")
        places.append(
            {
                "name": name,
                "name_en": name_en,
                "kind": kind,
                "street": street,
                "lon": lon,
                "lat": lat,
            }
        )
    names = {name for name, *_ in PLACES}
    if not names >= ALIASES.keys():
        raise SystemExit(f"aliases for unknown places: {sorted(ALIASES.keys() - names)}")
    # The pinyin of every name the app's gazetteer reads (the places with their aliases,
    # and the subdistricts), so that serving never loads pypinyin's dictionary.
    named = {name: ALIASES.get(name, ()) for name, *_ in PLACES}
    named |= {street.name: () for street in STREETS}
    return {
        "notice": GAZETTEER_NOTICE,
        "source": "data/make_sample_data.py",
        "places": places,
        "aliases": {name: list(aliases) for name, aliases in ALIASES.items()},
        "readings": readings_for(named),
    }


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance: plenty for a few kilometres at 30° N."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * METRES_PER_DEG_LAT * math.cos(mean_lat)
    dy = (a[1] - b[1]) * METRES_PER_DEG_LAT
    return math.hypot(dx, dy)


def station_positions(
    rng: random.Random,
    area: Polygon,
    centres: Sequence[tuple[float, float]],
    count: int,
    taken: list[tuple[float, float]],
) -> list[tuple[float, float]]:
    """`count` points well inside `area`: half gathered round its well-known places
    (where people and parcels are), half anywhere, none close to another station."""
    inner = area.buffer(-EDGE_MARGIN_DEG)
    minx, miny, maxx, maxy = inner.bounds
    positions: list[tuple[float, float]] = []
    while len(positions) < count:
        if centres and rng.random() < 0.5:
            cx, cy = rng.choice(centres)
            lon, lat = rng.gauss(cx, 0.01), rng.gauss(cy, 0.008)
        else:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        candidate = (round(lon, DECIMALS), round(lat, DECIMALS))
        if not inner.contains(Point(candidate)):
            continue
        if any(metres_between(candidate, other) < MIN_SPACING_M for other in taken):
            continue
        positions.append(candidate)
        taken.append(candidate)
    return positions


def station_name(
    rng: random.Random, kind: str, street: Street, used: set[str]
) -> tuple[str, str, tuple[str, str]]:
    """A believable, unused (zh, en) name for a station of `kind`, and the road it is on."""
    short, short_en = street.name.removesuffix("街道"), street.en.split()[0]
    roads = ROADS[street.code]
    candidates: list[tuple[str, str, tuple[str, str]]] = []
    for road in roads:
        zh, en = road
        if kind == "党群服务中心":
            candidates += [
                (f"{street.name}{zh}小哥之家", f"{en} Courier Home, {short_en}", road),
                (f"{zh}党群服务中心", f"{en} Party-Mass Service Centre", road),
            ]
        elif kind == "城管驿站":
            candidates.append((f"{zh}城管驿站", f"{en} City-Management Post", road))
        elif kind == "爱心驿家":
            candidates.append((f"{zh}爱心驿家", f"{en} Aixin Yijia", road))
        elif kind == "工会驿站":
            candidates.append((f"{zh}工会驿站", f"{en} Trade-Union Station", road))
        else:
            candidates.append(
                (f"{zh}户外劳动者服务站", f"{en} Outdoor Workers' Service Station", road)
            )
    # Names after a nearby place rather than a road; the address takes any road.
    if kind == "城管驿站":
        candidates += [
            (f"{name}城管驿站", f"{name_en} City-Management Post", rng.choice(roads))
            for name, name_en, place_kind, place_street, *_ in PLACES
            if place_kind == "landmark" and place_street == street.name
        ]
    elif kind == "爱心驿家":
        candidates += [
            (
                f"{short}爱心驿家（{short}{what}旁）",
                f"{short_en} Aixin Yijia (next to {what_en})",
                rng.choice(roads),
            )
            for what, what_en in NEIGHBOURS
        ]
    elif kind == "工会驿站":
        candidates += [
            (
                f"{short}{where}工会驿站",
                f"{short_en} {where_en} Trade-Union Station",
                rng.choice(roads),
            )
            for where, where_en in WORKPLACES
        ]
    free = [candidate for candidate in candidates if candidate[0] not in used]
    if not free:
        raise SystemExit(f"ran out of {kind} names in {street.name}: add roads")
    choice = rng.choice(free)
    used.add(choice[0])
    return choice


def amenities_for(rng: random.Random, hours: str | None) -> list[str]:
    codes = [code for code, share in AMENITY_SHARES if rng.random() < share]
    if hours == ALWAYS_OPEN:
        codes.append("open_24h")  # last in the vocabulary, so the order holds
    return codes


def access_for(station_id: str, kind: str, phone: str | None) -> dict[str, Any]:
    """How one station is entered: its own generator (seeded with its id), so these
    values never shift the shared one. Phoning ahead needs a phone to call."""
    rng = random.Random(f"{SEED}:access:{station_id}")
    codes, weights = zip(*ACCESS_BY_KIND[kind], strict=True)
    access: str | None = rng.choices(codes, weights=weights)[0]
    if access == "call_ahead" and phone is None:
        access = "door_entry"
    if rng.random() < ACCESS_UNKNOWN_SHARE:
        access = None
    note = rng.choice(ACCESS_NOTES[access]) if access is not None else None
    fewest, most = SEATS_BY_KIND[kind]
    seats = rng.randint(fewest, most)
    step_free = rng.random() < STEP_FREE_SHARE[kind]
    return {
        "access": access,
        "access_note": note,
        "seats": None if rng.random() < SEATS_UNKNOWN_SHARE else seats,
        "step_free": None if rng.random() < STEP_FREE_UNKNOWN_SHARE else step_free,
    }


def stations_document(outlines: dict[str, Polygon], rng: random.Random) -> dict[str, Any]:
    total = sum(street.stations for street in STREETS)
    kinds = [kind for kind, count in KIND_COUNTS for _ in range(count)]
    hours: list[str | None] = [ALWAYS_OPEN] * ALWAYS_OPEN_COUNT + [None] * UNKNOWN_HOURS_COUNT
    expressions, weights = zip(*REGULAR_HOURS, strict=True)
    hours += rng.choices(expressions, weights=weights, k=total - len(hours))
    if len(kinds) != total:
        raise SystemExit(f"kind counts add up to {len(kinds)}, not {total}")
    rng.shuffle(kinds)
    rng.shuffle(hours)

    features = []
    taken: list[tuple[float, float]] = []
    used_names: set[str] = set()
    used_phones: set[str] = set()
    for street in STREETS:
        centres = [
            (lon, lat) for *_, place_street, lon, lat in PLACES if place_street == street.name
        ]
        positions = station_positions(rng, outlines[street.name], centres, street.stations, taken)
        for serial, (lon, lat) in enumerate(positions, start=1):
            kind, opening = kinds.pop(), hours.pop()
            name, name_en, road = station_name(rng, kind, street, used_names)
            number = rng.randrange(1, 1200)
            phone = None
            if rng.random() >= NO_PHONE_SHARE:
                while phone is None or phone in used_phones:
                    phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10_000):04d}"
                used_phones.add(phone)
            station_id = f"QT-{street.code}-{serial:03d}"
            features.append(
                {
                    "type": "Feature",
                    "id": station_id,
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "name": name,
                        "name_en": name_en if rng.random() < ENGLISH_NAME_SHARE else None,
                        "kind": kind,
                        "street": street.name,
                        "address": f"钱塘区{street.name}{road[0]}{number}号",
                        "amenities": amenities_for(rng, opening),
                        "opening_hours": opening,
                        "phone": phone,
                        **access_for(station_id, kind, phone),
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "properties": {
            "sample_data": True,
            "notice": STATIONS_NOTICE,
            "notice_zh": STATIONS_NOTICE_ZH,
            "source": "data/make_sample_data.py",
            "seed": SEED,
        },
        "features": features,
    }


def write_json(path: Path, document: Any) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8", newline="\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write into (default: the data/ folder beside this script)",
    )
    out: Path = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    outlines = subdistrict_outlines()
    write_json(out / "areas.geojson", areas_document(outlines))
    write_json(out / "gazetteer.json", gazetteer_document(outlines))
    write_json(out / "stations.geojson", stations_document(outlines, rng))
    print(f"wrote areas.geojson, gazetteer.json and stations.geojson to {out}")


if __name__ == "__main__":
    main()
