"""Place search: the gazetteer's build (every pinyin, initials and short-form key worked
out once) and its queries, on the shipped places and on 10,000 synthetic ones.

    python bench/place_search.py               # shipped data and 10,000 places
    python bench/place_search.py --sizes 1000,10000,50000

Synthetic places are seeded: two to four characters drawn from common place-name
characters, then a kind word (路站, 大学, 小区, 公园 ...), so the pinyin index holds
what a real one would. Queries are a mix of how couriers type (a whole name, its start,
its pinyin, its initials, a numbered street in Chinese numerals) and typos that find
nothing (which also run the edit-distance suggestions). Memory is what tracemalloc sees
the built gazetteer hold (on a second build: tracing slows the first); per-query
figures are the median and p99 of single searches.
pypinyin's dictionaries load when it is imported, once per process: timed on its own,
with the resident memory they add, in a fresh interpreter. The app never pays it for
the shipped names (their readings are stored in data/gazetteer.json); the synthetic
places here have none, so their build reads them with pypinyin.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stationfinder.core.resources import data_file
from stationfinder.geo.areas import Areas
from stationfinder.geo.gazetteer import Gazetteer, Place, load_document
from stationfinder.geo.place_names import normalise, pinyin_forms
from stationfinder.geo.point import Point

CHARS = "金沙湖下江滨高教文泽海南白杨河庄义蓬新湾临前进青六中冯娄村云水东西北星月明华春"
KINDS = ("路站", "大学", "小区", "公园", "广场", "大厦", "中心", "街道", "驿站")
TYPED = ("exact", "prefix", "pinyin", "initials", "typo")


def synthetic(count: int, seed: int = 13) -> list[Place]:
    rng = random.Random(seed)
    places = []
    for i in range(count):
        if i % 20 == 0:
            name = f"{rng.randint(1, 29)}号大街{rng.choice(KINDS)}"
        else:
            name = "".join(rng.choices(CHARS, k=rng.randint(2, 4))) + rng.choice(KINDS)
        point = Point(120.2 + rng.random() * 0.5, 30.1 + rng.random() * 0.3)
        places.append(Place(name, None, "landmark", None, point))
    return places


def queries(places: list[Place], count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        place = rng.choice(places)
        how = TYPED[i % len(TYPED)]
        forms = pinyin_forms(place.name)
        if how == "exact":
            out.append(place.name)
        elif how == "prefix":
            out.append(place.name[:2])
        elif how == "pinyin" and forms:
            out.append(forms.full[: max(4, len(forms.full) // 2)])
        elif how == "initials" and forms:
            out.append(forms.initials[:3])
        else:
            key = normalise(place.name)
            at = rng.randrange(len(key))
            out.append(key[:at] + "吖" + key[at + 1 :])  # one character wrong
    return out


def measure(label: str, build: Callable[[], Gazetteer], places: list[Place] | None = None) -> None:
    started = time.perf_counter()
    gazetteer = build()
    built_s = time.perf_counter() - started
    del gazetteer
    # Memory on a second build (tracemalloc slows the build several times over).
    tracemalloc.start()
    gazetteer = build()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sample = queries(places or gazetteer._places, 500)
    search_ms, suggest_ms = [], []
    for q in sample:
        t0 = time.perf_counter()
        found = gazetteer.search(q)
        search_ms.append((time.perf_counter() - t0) * 1000)
        if not found:
            t0 = time.perf_counter()
            gazetteer.suggest(q)
            suggest_ms.append((time.perf_counter() - t0) * 1000)

    def p(values: list[float], q: float) -> str:
        if not values:
            return "-"
        ordered = sorted(values)
        return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.2f}"

    print(
        f"| {label} | {len(gazetteer):,} | {built_s * 1000:.0f} ms | {held / 2**20:.2f} MiB "
        f"| {statistics.median(search_ms):.2f} / {p(search_ms, 0.99)} ms "
        f"| {p(suggest_ms, 0.5)} / {p(suggest_ms, 0.99)} ms ({len(suggest_ms)}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    args = parser.parse_args()
    code = (
        "import time\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1])\n"
        "r = rss(); t = time.perf_counter()\n"
        "import pypinyin; pypinyin.lazy_pinyin('下沙')\n"
        "print(round((time.perf_counter() - t) * 1000), round((rss() - r) / 1024))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    ms, mb = run.stdout.split()
    print(
        f"pypinyin imported with its dictionaries in {ms} ms, +{mb} MB resident "
        "(once per process that reads a name without a stored reading)\n"
    )
    print("| places | count | build | memory held | search median / p99 "
          "| suggest median / p99 (queries) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    areas = Areas.from_file(data_file("areas.geojson"))
    from stationfinder.web.couriers.places import street_centres

    document = load_document(data_file("gazetteer.json"))
    english = {s.key: s.label(english=True) for s in areas.listed()}
    centres = street_centres(areas)
    measure("shipped", lambda: Gazetteer.build(document, centres, (), english))
    for size in (int(s) for s in args.sizes.split(",")):
        places = synthetic(size)
        measure(f"synthetic {size:,}", lambda places=places: Gazetteer(places), places)


if __name__ == "__main__":
    main()
