"""Districts and subdistricts: their names, division codes and outlines, as data.

Outlines come from a GeoJSON FeatureCollection (RFC 7946, WGS-84 lon/lat), one Feature
per area; the property schema (README, "Areas") is:

- districts: ``level: "district"``, ``division`` (the statistics bureau's 6-digit code,
  or its 12-digit form ending in 000000), ``name``, ``name_en``, optionally ``city`` and
  ``city_en``; its geometry may be null and is not used: a district is always the union
  of its subdistricts, so the two cannot disagree.
- subdistricts: ``level: "subdistrict"``, ``division`` (9 digits, or 12 ending in 000),
  ``name``, ``name_en``, optionally ``district`` (the parent's 6-digit code; by default
  the first six digits of ``division``) and ``id_prefix`` (the stem of station ids,
  e.g. ``QT-BY``; by default D and the division code, D330114-002).

A subdistrict is known everywhere by its key: its name, or, where the same name occurs
in more than one loaded district, the district's name followed by its own (示例东区城南街道),
so that one key never means two places. Areas are listed in division-code order, the one
order used on every page. The shipped file holds Qiantang's seven subdistricts
(approximate outlines); staff load official ones, for a city or a province, with
`stationfinder load-areas FILE`.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from stationfinder.core.errors import DomainError
from stationfinder.geo.point import CRS, Point

# Official outlines of neighbours overlap by slivers where surveys disagree; more than
# this share of the smaller one means the file is wrong (a duplicated or shifted outline).
MAX_OVERLAP_SHARE = 0.01
# The longest subdistrict key the registry stores (models' street columns).
MAX_KEY_LENGTH = 60
_WGS84_CRS_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
}
_DISTRICT_CODE = re.compile(r"\d{6}(?:000000)?")
_SUBDISTRICT_CODE = re.compile(r"\d{9}(?:000)?")
# A stem that, with "-" and a serial, makes an id registry/fields.ID_PATTERN accepts.
_ID_PREFIX = re.compile(r"[A-Z][A-Z0-9]{1,7}(?:-[A-Z0-9]{1,8}){0,2}")


class AreasError(DomainError):
    """The outlines cannot be used; the message says why, in words staff can act on."""

    code = "invalid_areas"


@dataclass(frozen=True, slots=True)
class District:
    code: str  # 6-digit division code, e.g. 330114
    name: str  # 钱塘区
    name_en: str
    city: str | None = None
    city_en: str | None = None

    def label(self, english: bool = False) -> str:
        return self.name_en if english else self.name


@dataclass(frozen=True, slots=True)
class Subdistrict:
    key: str  # what the registry stores: the name, qualified by the district if shared
    code: str  # 9-digit division code, e.g. 330114002
    name: str  # 白杨街道
    name_en: str
    district: str  # the district's 6-digit code
    id_prefix: str  # stem of station ids: QT-BY, or the division code
    key_en: str = ""

    def label(self, english: bool = False) -> str:
        """The key in a language: unique among the loaded areas."""
        return (self.key_en or self.name_en) if english else self.key

    def short_label(self, english: bool = False) -> str:
        """The bare name, for lists already grouped by district."""
        return self.name_en if english else self.name


class Areas:
    """The loaded districts and subdistricts, ready for lookups and point-in-area tests.

    A point on an edge shared by two subdistricts belongs to the first in division-code
    order, so every point has exactly one answer.
    """

    def __init__(
        self,
        subdistricts: Sequence[tuple[Subdistrict, Polygon | MultiPolygon]],
        districts: Sequence[tuple[District, BaseGeometry | None]],
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        ordered = sorted(subdistricts, key=lambda item: item[0].code)
        self._subdistricts: tuple[Subdistrict, ...] = tuple(s for s, _ in ordered)
        self._by_key = {s.key: s for s in self._subdistricts}
        self._by_code = {s.code: s for s in self._subdistricts}
        self._by_prefix = {s.id_prefix: s for s in self._subdistricts}
        self._rank = {s.key: i for i, s in enumerate(self._subdistricts)}
        self._outlines: dict[str, Polygon | MultiPolygon] = {
            s.key: _oriented(outline) for s, outline in ordered
        }
        self._districts: tuple[District, ...] = tuple(
            sorted((d for d, _ in districts), key=lambda d: d.code)
        )
        self._district_by_code = {d.code: d for d in self._districts}
        self._members: dict[str, tuple[Subdistrict, ...]] = {
            d.code: tuple(s for s in self._subdistricts if s.district == d.code)
            for d in self._districts
        }
        # A district is its subdistricts' union, whatever outline a file gives it: a
        # stale or hand-drawn district outline must not disagree with its parts.
        self._district_outlines: dict[str, Polygon | MultiPolygon] = {
            d.code: _oriented(
                shapely.union_all([self._outlines[s.key] for s in self._members[d.code]])
            )
            for d in self._districts
        }
        self._whole = _oriented(shapely.union_all(list(self._outlines.values())))
        self._properties = dict(properties or {})
        for geometry in self._outlines.values():
            shapely.prepare(geometry)
        # One R-tree over the subdistricts: a province's thousands cost one query.
        self._tree = shapely.STRtree([self._outlines[s.key] for s in self._subdistricts])
        self._bounds = tuple(float(v) for v in self._whole.bounds)

    # --- loading --------------------------------------------------------------------

    @classmethod
    def from_geojson(cls, data: Any) -> Areas:
        """Check a parsed GeoJSON document and build the areas from it."""
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise AreasError("the outlines must be a GeoJSON FeatureCollection")
        _check_crs(data.get("crs"))
        features = data.get("features")
        if not isinstance(features, list):
            raise AreasError("the FeatureCollection has no list of features")

        districts: dict[str, tuple[District, BaseGeometry | None]] = {}
        raw_subdistricts: list[tuple[dict[str, Any], Polygon | MultiPolygon]] = []
        seen_codes: set[str] = set()
        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise AreasError(f"feature {number} is not a GeoJSON Feature")
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                raise AreasError(f"feature {number} has properties that are not an object")
            name = _text(properties.get("name"))
            if not name:
                raise AreasError(f"feature {number} has no properties.name")
            level = properties.get("level")
            if level not in ("district", "subdistrict"):
                raise AreasError(
                    f'{name}: properties.level must be "district" or "subdistrict", not {level!r}'
                )
            division = _text(properties.get("division"))
            pattern = _DISTRICT_CODE if level == "district" else _SUBDISTRICT_CODE
            if not pattern.fullmatch(division):
                digits = "6" if level == "district" else "9"
                raise AreasError(
                    f"{name}: properties.division must be the {digits}-digit (or 12-digit) "
                    f"division code, not {properties.get('division')!r}"
                )
            code = division[:6] if level == "district" else division[:9]
            if code in seen_codes:
                raise AreasError(f"division code {code} ({name}) appears more than once")
            seen_codes.add(code)
            name_en = _text(properties.get("name_en")) or name
            if level == "district":
                raw = feature.get("geometry")
                outline = None if raw is None else _geometry(raw, name)
                districts[code] = (
                    District(
                        code,
                        name,
                        name_en,
                        _text(properties.get("city")) or None,
                        _text(properties.get("city_en")) or None,
                    ),
                    outline,
                )
                continue
            parent = _text(properties.get("district")) or code[:6]
            if not _DISTRICT_CODE.fullmatch(parent) or not code.startswith(parent[:6]):
                raise AreasError(
                    f"{name}: properties.district {parent!r} is not the first six digits "
                    f"of its division code {code}"
                )
            prefix = _text(properties.get("id_prefix")) or default_id_prefix(code)
            if not _ID_PREFIX.fullmatch(prefix):
                raise AreasError(
                    f"{name}: properties.id_prefix {prefix!r} is not usable: capital letters "
                    "and digits, starting with a letter, up to three parts joined by '-' "
                    "(e.g. QT-BY)"
                )
            raw_subdistricts.append(
                (
                    {"code": code, "name": name, "name_en": name_en,
                     "district": parent[:6], "id_prefix": prefix},
                    _geometry(feature.get("geometry"), name),
                )
            )  # fmt: skip

        if not raw_subdistricts:
            raise AreasError('the file has no subdistrict (level "subdistrict") features')
        orphans = sorted({r["district"] for r, _ in raw_subdistricts} - set(districts))
        if orphans:
            raise AreasError(
                f"no district feature for division code(s) {', '.join(orphans)}: "
                "add one per district with its name and name_en"
            )
        empty = [d.name for d, _ in districts.values()
                 if not any(r["district"] == d.code for r, _ in raw_subdistricts)]  # fmt: skip
        if empty:
            raise AreasError(f"district(s) without subdistricts: {', '.join(empty)}")
        prefixes = Counter(r["id_prefix"] for r, _ in raw_subdistricts)
        shared_prefix = [p for p, n in prefixes.items() if n > 1]
        if shared_prefix:
            raise AreasError(f"id_prefix {shared_prefix[0]} is given to more than one area")
        subdistricts = _keyed(raw_subdistricts, {c: d for c, (d, _) in districts.items()})
        _check_overlaps({s.key: outline for s, outline in subdistricts})
        top = data.get("properties")
        return cls(subdistricts, list(districts.values()), top if isinstance(top, dict) else None)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Areas:
        """Read a GeoJSON file of outlines; any problem becomes an AreasError."""
        try:
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
        except FileNotFoundError:
            raise AreasError(f"outline file {os.fspath(path)} does not exist") from None
        except UnicodeDecodeError:
            raise AreasError(f"outline file {os.fspath(path)} is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise AreasError(
                f"outline file {os.fspath(path)} is not JSON (line {exc.lineno}, "
                f"column {exc.colno}: {exc.msg})"
            ) from None
        except OSError as exc:
            raise AreasError(
                f"cannot read outline file {os.fspath(path)}: {exc.strerror or exc}"
            ) from None
        try:
            return cls.from_geojson(data)
        except AreasError as exc:
            raise AreasError(f"{os.fspath(path)}: {exc}") from None

    # --- questions ------------------------------------------------------------------

    def street_at(self, point: Point) -> str | None:
        """The key of the subdistrict containing a WGS-84 point, or None outside them."""
        lon, lat = _wgs84(point)
        minx, miny, maxx, maxy = self._bounds
        if not (minx <= lon <= maxx and miny <= lat <= maxy):
            return None
        hits = self._tree.query(shapely.Point(lon, lat))
        for i in sorted(int(h) for h in hits):  # division-code order decides edges
            s = self._subdistricts[i]
            # intersects_xy counts the boundary, so points on an edge are not lost.
            if shapely.intersects_xy(self._outlines[s.key], lon, lat):
                return s.key
        return None

    def in_district(self, point: Point) -> bool:
        """Whether a point lies in any loaded subdistrict."""
        return self.street_at(point) is not None

    def subdistrict(self, key: str | None) -> Subdistrict | None:
        """A subdistrict by its key (as stored) or its division code (9 or 12 digits)."""
        if not key:
            return None
        found = self._by_key.get(key)
        if found is None and _SUBDISTRICT_CODE.fullmatch(key):
            found = self._by_code.get(key[:9])
        return found

    def resolve(self, value: str | None) -> str | None:
        """The key a typed subdistrict means (a key, its division code, its English
        name, or a bare name that only one loaded district has), or None."""
        if value is None:
            return None
        value = value.strip()
        found = self.subdistrict(value)
        if found is not None:
            return found.key
        folded = value.casefold()
        matches = [
            s
            for s in self._subdistricts
            if folded in (s.name.casefold(), s.name_en.casefold(), s.key_en.casefold())
        ]
        return matches[0].key if len(matches) == 1 else None

    def with_id_prefix(self, stem: str) -> Subdistrict | None:
        """The subdistrict whose station ids start with this stem (QT-BY), if any."""
        return self._by_prefix.get(stem)

    def district(self, value: str | None) -> District | None:
        """A district by its code (6 or 12 digits) or its zh or English name."""
        if not value:
            return None
        value = value.strip()
        if _DISTRICT_CODE.fullmatch(value):
            return self._district_by_code.get(value[:6])
        folded = value.casefold()
        return next(
            (d for d in self._districts if folded in (d.name.casefold(), d.name_en.casefold())),
            None,
        )

    def district_of(self, key: str | None) -> District | None:
        found = self.subdistrict(key)
        return self._district_by_code.get(found.district) if found else None

    def subdistrict_keys(self, district: str | None = None) -> tuple[str, ...]:
        """Subdistrict keys in division-code order, of one district or of all."""
        return tuple(s.key for s in self.listed(district))

    def listed(self, district: str | None = None) -> tuple[Subdistrict, ...]:
        """Subdistricts in division-code order, of one district (its code) or of all."""
        if district is None:
            return self._subdistricts
        return self._members.get(district, ())

    def districts(self) -> tuple[District, ...]:
        return self._districts

    def rank(self, key: str | None) -> int:
        """A subdistrict's place in the one order (unknown ones last)."""
        found = self.subdistrict(key)
        return self._rank[found.key] if found else len(self._subdistricts)

    def label(self, key: str | None, english: bool = False) -> str:
        """A subdistrict's key in a language; an unknown value as it is."""
        found = self.subdistrict(key)
        return found.label(english) if found else (key or "")

    def outline(self, key: str) -> BaseGeometry:
        """A subdistrict's outline by key, or a district's by its code."""
        if key in self._outlines:
            return self._outlines[key]
        found = self.subdistrict(key)
        if found is not None:
            return self._outlines[found.key]
        if key in self._district_outlines:
            return self._district_outlines[key]
        raise KeyError(f"no outline named {key!r}")

    def subdistricts(self, district: str | None = None) -> list[tuple[str, BaseGeometry]]:
        """(key, outline) pairs in division-code order."""
        return [(s.key, self._outlines[s.key]) for s in self.listed(district)]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of everything loaded."""
        return self._bounds  # type: ignore[return-value]

    def district_bounds(self, code: str) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self._district_outlines[code].bounds)  # type: ignore[return-value]

    def to_geojson(self) -> dict[str, Any]:
        """A FeatureCollection in the documented shape: each district, then its
        subdistricts, in division-code order."""
        features = []
        for d in self._districts:
            district_props: dict[str, Any] = {
                "level": "district", "division": d.code, "name": d.name, "name_en": d.name_en
            }  # fmt: skip
            if d.city:
                district_props["city"] = d.city
            if d.city_en:
                district_props["city_en"] = d.city_en
            features.append(_feature(self._district_outlines[d.code], district_props))
            for s in self._members[d.code]:
                features.append(
                    _feature(
                        self._outlines[s.key],
                        {
                            "level": "subdistrict",
                            "division": s.code,
                            "name": s.name,
                            "name_en": s.name_en,
                            "district": s.district,
                            "id_prefix": s.id_prefix,
                        },
                    )
                )
        document: dict[str, Any] = {"type": "FeatureCollection"}
        if self._properties:
            document["properties"] = dict(self._properties)
        document["features"] = features
        return document


def default_id_prefix(code: str) -> str:
    """The id stem of a subdistrict whose file gives none: D, the district's code, its
    own three digits (D330191-003, so its stations are D330191-003-001...)."""
    return f"D{code[:6]}-{code[6:9]}"


def _keyed(
    raw: Sequence[tuple[dict[str, Any], Polygon | MultiPolygon]],
    districts: Mapping[str, District],
) -> list[tuple[Subdistrict, Polygon | MultiPolygon]]:
    """Subdistricts with their keys: the bare name where it is unique, else qualified."""
    names = Counter(r["name"] for r, _ in raw)
    result = []
    for r, outline in raw:
        district = districts[r["district"]]
        shared = names[r["name"]] > 1
        key = f"{district.name}{r['name']}" if shared else r["name"]
        key_en = f"{r['name_en']}, {district.name_en}" if shared else r["name_en"]
        if len(key) > MAX_KEY_LENGTH:
            raise AreasError(f"{key}: the name is longer than {MAX_KEY_LENGTH} characters")
        result.append((Subdistrict(key, r["code"], r["name"], r["name_en"], r["district"],
                                   r["id_prefix"], key_en), outline))  # fmt: skip
    keys = Counter(s.key for s, _ in result)
    twice = [k for k, n in keys.items() if n > 1]
    if twice:
        raise AreasError(f"two subdistricts named {twice[0]} in the same district")
    return result


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# --- helpers --------------------------------------------------------------------------


def _wgs84(point: Point) -> tuple[float, float]:
    if point.crs is not CRS.WGS84:
        raise ValueError(f"outlines are in WGS-84; convert the {point.crs.value} point first")
    return point.lon, point.lat


def _check_crs(crs: Any) -> None:
    """RFC 7946 dropped `crs`; older files carry one, which must still mean WGS-84."""
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if name not in _WGS84_CRS_NAMES:
        raise AreasError(
            f"the outlines use coordinate system {name or crs!r}; "
            "convert them to WGS-84 longitude/latitude (EPSG:4326)"
        )


def _geometry(raw: Any, name: str) -> Polygon | MultiPolygon:
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        raise AreasError(f"{name}: geometry must be a Polygon or MultiPolygon, not {kind}")
    try:
        geometry = shape(raw)
    except Exception as exc:  # untrusted input: shapely and GEOS raise many kinds
        raise AreasError(f"{name}: the geometry cannot be read ({exc})") from None
    if geometry.is_empty:
        raise AreasError(f"{name}: the geometry is empty")
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise AreasError(
            f"{name}: coordinates ({minx:.0f}, {miny:.0f}) are not longitude/latitude; "
            "convert the file to WGS-84 (EPSG:4326)"
        )
    if not geometry.is_valid:
        problem = explain_validity(geometry)
        raise AreasError(f"{name}: the outline is not a valid polygon ({problem})")
    return geometry


def _check_overlaps(outlines: Mapping[str, BaseGeometry]) -> None:
    """No place in two subdistricts: neighbours are found with an R-tree, so a
    province's thousands of outlines cost thousands of tests, not millions."""
    names = list(outlines)
    geometries = [outlines[n] for n in names]
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        a, b = geometries[i], geometries[j]
        shared = a.intersection(b).area
        if shared > MAX_OVERLAP_SHARE * min(a.area, b.area):
            raise AreasError(
                f"{names[i]} and {names[j]} overlap; each place must lie in one subdistrict"
            )


def _oriented(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    """Exterior rings counter-clockwise, holes clockwise (RFC 7946 section 3.1.6)."""
    if isinstance(geometry, Polygon):
        return orient(geometry, sign=1.0)
    if isinstance(geometry, MultiPolygon):
        return MultiPolygon([orient(part, sign=1.0) for part in geometry.geoms])
    # A union of touching polygons can come back as a collection; keep its polygons.
    parts = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon([orient(part, sign=1.0) for part in parts])


def _feature(geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _lists(mapping(geometry)), "properties": properties}


def _lists(value: Any) -> Any:
    """mapping() gives tuples; JSON documents compare and store more simply as lists."""
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    return value
