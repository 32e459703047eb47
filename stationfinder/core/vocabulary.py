"""The registry's fixed vocabularies: amenities, ways in and station kinds.

Subdistricts and districts are not fixed: they are data, loaded with the outlines
(`stationfinder.geo.areas`).

Each entry carries its stable code, its zh-CN and English labels, and (for amenities)
the OpenStreetMap tag that says the same thing where one exists. Codes are what the
database, the API and import files hold; labels are for people.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Amenity:
    code: str
    zh: str
    en: str
    osm: str | None
    icon: str  # one emoji: readable at a glance, costs no icon font download


AMENITIES: tuple[Amenity, ...] = (
    # What the national union's stations offer.
    Amenity("rest", "休息", "Rest", None, "🪑"),
    Amenity("toilet", "卫生间", "Toilet", "toilets=yes", "🚻"),
    Amenity("drinking_water", "饮水", "Drinking water", "drinking_water=yes", "🚰"),
    Amenity("cooling", "纳凉", "Cooling (air conditioning)", "air_conditioning=yes", "❄️"),
    Amenity("food_heating", "热饭", "Food heating (microwave)", "microwave=yes", "🍱"),
    Amenity("warm_shelter", "避寒避雨", "Shelter from cold and rain", "shelter=yes", "🏠"),
    Amenity(
        "phone_charging", "手机充电", "Phone charging", "amenity=device_charging_station", "🔌"
    ),
    Amenity("reading", "阅读", "Reading corner", "amenity=public_bookcase", "📚"),
    Amenity("first_aid", "急救药箱", "First-aid medicine", "emergency=first_aid_kit", "🩹"),
    Amenity("battery_swap", "电瓶换电", "E-bike battery swap", None, "🔋"),
    Amenity("discount_meals", "爱心餐", "Discounted meals", None, "🍚"),
    Amenity("legal_advice", "法律咨询", "Legal advice", None, "⚖️"),
    Amenity("haircut", "理发", "Haircuts", "shop=hairdresser", "💇"),
    # What couriers ask for.
    Amenity("hot_water", "热水", "Hot water", None, "♨️"),
    Amenity("wifi", "无线网络", "Wi-Fi", "internet_access=wlan", "📶"),
    Amenity("repair_tools", "维修工具", "Repair tools", "service:bicycle:repair=yes", "🔧"),
    Amenity("ebike_parking", "电动车停放", "E-bike parking", "amenity=motorcycle_parking", "🛵"),
    Amenity("rain_gear_loan", "雨具借用", "Umbrella / raincoat loan", None, "☂️"),
    Amenity("open_24h", "24小时开放", "Open 24 hours", "opening_hours=24/7", "🕛"),
)

AMENITY_BY_CODE: dict[str, Amenity] = {a.code: a for a in AMENITIES}
AMENITY_CODES: tuple[str, ...] = tuple(a.code for a in AMENITIES)


@dataclass(frozen=True, slots=True)
class Access:
    """How a courier gets in: the door's rule, which decides whether a station that is
    open lets a stranger in (locked doors are the most cited failure of such stations)."""

    code: str
    zh: str
    en: str


ACCESSES: tuple[Access, ...] = (
    Access("walk_in", "直接进入", "Walk in"),
    Access("bell", "按铃", "Ring the bell"),
    Access("scan_code", "扫码", "Scan the code"),
    Access("call_ahead", "打电话", "Phone ahead"),
    Access("door_entry", "门禁", "Door entry (keycard)"),
)
ACCESS_BY_CODE: dict[str, Access] = {a.code: a for a in ACCESSES}
ACCESS_CODES: tuple[str, ...] = tuple(a.code for a in ACCESSES)


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # the canonical value, as staff write it
    en: str


KINDS: tuple[Kind, ...] = (
    Kind("党群服务中心", "Party-mass service centre"),
    Kind("城管驿站", "City-management post"),
    Kind("爱心驿家", "Aixin Yijia (caring station)"),
    Kind("工会驿站", "Trade-union station"),
    Kind("户外劳动者服务站", "Outdoor workers' service station"),
    Kind("其他", "Other"),
)
KIND_NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)
