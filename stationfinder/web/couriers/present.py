"""How a station reads on a card: distance, minutes on foot and by e-bike, open or closed,
amenities (one staff marked out of service struck through, with its note), and how to get
in (24 hours, the way in and its note, a step at the door, seats).

The page's script formats the same things the same way (static/app.js); a browser test
compares the two. Flask-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from stationfinder.core.vocabulary import ACCESS_BY_CODE, AMENITY_BY_CODE, KINDS

NAV_APPS = ("amap", "baidu", "tencent", "apple")
# The chips on the courier page: what couriers ask for most, in the order they ask.
CHIP_AMENITIES = (
    "drinking_water",
    "phone_charging",
    "toilet",
    "warm_shelter",
    "cooling",
    "food_heating",
    "hot_water",
    "rest",
)


def _half_up(value: float) -> int:
    # JavaScript's Math.round, so both sides print the same figure.
    return math.floor(value + 0.5)


def distance_text(metres: float, t: Mapping[str, str]) -> str:
    """Like "350 米" below a kilometre (to 10 m), "1.2 公里" above (to 100 m)."""
    tens = _half_up(metres / 10) * 10
    if tens < 1000:
        return t["metres"].format(n=tens)
    tenths = _half_up(metres / 100)
    return t["km"].format(n=f"{tenths // 10}.{tenths % 10}")


def walk_text(minutes: int, t: Mapping[str, str]) -> str:
    return t["walk"].format(n=minutes)


def ride_text(minutes: int, t: Mapping[str, str]) -> str:
    """Minutes by e-bike (STATIONFINDER_RIDE_SPEED_KMH): couriers ride."""
    return t["ride"].format(n=minutes)


@dataclass(frozen=True, slots=True)
class Badge:
    state: str  # "open", "closed" or "unknown"
    label: str
    detail: str  # "20:00 关门"; empty when there is nothing to add


def hours_badge(
    open_now: bool | None, next_change: str | None, now: datetime, t: Mapping[str, str]
) -> Badge:
    """Unknown hours are shown as unknown, never as closed."""
    if open_now is None:
        return Badge("unknown", t["hours_unknown"], "")
    state = "open" if open_now else "closed"
    detail = ""
    if next_change:
        when = datetime.fromisoformat(next_change)
        local = when.astimezone(now.tzinfo) if now.tzinfo else when
        clock = local.strftime("%H:%M")
        day = local.date()
        if day == now.date():
            time = clock
        elif day == now.date() + timedelta(days=1):
            time = t["time_on_day"].format(time=clock, day=t["tomorrow"])
        else:
            time = t["time_on_day"].format(time=clock, day=f"{local.month}/{local.day}")
        detail = t["closes_at" if open_now else "opens_at"].format(time=time)
    return Badge(state, t["open" if open_now else "closed"], detail)


@dataclass(frozen=True, slots=True)
class AmenityItem:
    code: str
    icon: str
    label: str
    paused: str | None = None  # "暂停：饮水机维修中" while staff mark it out of service


def amenity_items(
    codes: Iterable[str],
    lang: str,
    out_of_service: Mapping[str, str] | None = None,
    t: Mapping[str, str] | None = None,
) -> list[AmenityItem]:
    """The amenities to show; one staff marked out of service carries its public note."""
    broken = out_of_service or {}
    items = []
    for code in codes:
        amenity = AMENITY_BY_CODE.get(code)
        if amenity is not None:
            label = amenity.en if lang == "en" else amenity.zh
            paused = None
            if code in broken and t is not None:
                paused = t["paused"].format(note=broken[code] or "").strip()
            items.append(AmenityItem(code, amenity.icon, label, paused))
    return items


def amenity_icons(codes: Sequence[str]) -> str:
    return " ".join(AMENITY_BY_CODE[c].icon for c in codes if c in AMENITY_BY_CODE)


def access_text(props: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    """One line on how to get in, from a feature's properties: "24小时 · 按铃（门卫处登记）
    · 无台阶 · 座位：12"; empty when nothing is recorded. Only what staff recorded is said
    (an unknown step or seat count is left out, never guessed)."""
    parts = []
    if props.get("open_24h"):
        parts.append(t["open_24h"])
    entry = ACCESS_BY_CODE.get(props.get("access") or "")
    how = (entry.en if lang == "en" else entry.zh) if entry else ""
    note = (props.get("access_note") or "").strip()
    if how or note:
        parts.append(t["access_note"].format(how=how, note=note) if how and note else how or note)
    if props.get("step_free") is not None:
        parts.append(t["step_free" if props["step_free"] else "steps"])
    if props.get("seats") is not None:
        parts.append(t["seats"].format(n=props["seats"]))
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class NavLink:
    app: str
    label: str
    url: str


def nav_links(navigation: Mapping[str, Mapping[str, str]], t: Mapping[str, str]) -> list[NavLink]:
    return [NavLink(app, t[app], navigation[app]["url"]) for app in NAV_APPS if app in navigation]


def in_wechat(user_agent: str | None) -> bool:
    """Whether the page is open in WeChat's built-in browser (its user agent says
    MicroMessenger). WeChat does not let a page open other apps, neither by their
    schemes nor by universal/app links: every navigation link there opens the map's web
    page inside WeChat, so the page says so and offers the address to copy into a map app.
    """
    return "micromessenger" in (user_agent or "").lower()


def copy_text(name: str, address: str | None) -> str:
    """What the copy button hands a map app's search box: the station's name and address
    (names are what map apps know best; the address finds it when the name does not)."""
    address = (address or "").strip()
    return f"{name} {address}" if address and address != name else name


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    name: str
    kind: str
    distance: str
    walk: str
    ride: str
    badge: Badge
    amenities: list[AmenityItem]
    navigation: list[NavLink]
    copy_text: str = ""  # name + address, for the copy-address control in WeChat
    access: str = ""  # how to get in, one line (access_text)


_KIND_EN = {k.name: k.en for k in KINDS}


def kind_label(name: str, lang: str) -> str:
    """A kind is vocabulary data: its English name on English pages."""
    return _KIND_EN.get(name, name) if lang == "en" else name


def card(feature: Mapping[str, Any], now: datetime, lang: str, t: Mapping[str, str]) -> Card:
    """A card for one feature of the nearest-stations answer."""
    props = feature["properties"]
    return Card(
        id=str(feature["id"]),
        name=(props.get("name_en") or props["name"]) if lang == "en" else props["name"],
        kind=kind_label(props["kind"], lang),
        distance=distance_text(props["distance_m"], t),
        walk=walk_text(props["walk_min"], t),
        ride=ride_text(props["ride_min"], t) if props.get("ride_min") else "",
        badge=hours_badge(props.get("open_now"), props.get("next_change"), now, t),
        amenities=amenity_items(
            props.get("amenities") or [], lang, props.get("out_of_service") or {}, t
        ),
        navigation=nav_links(props.get("navigation") or {}, t),
        copy_text=copy_text(props["name"], props.get("address")),
        access=access_text(props, lang, t),
    )
