"""District and subdistrict outlines, and which subdistrict a point lies in.

Outlines come from a GeoJSON FeatureCollection (RFC 7946, WGS-84 lon/lat) with one
Polygon or MultiPolygon Feature per subdistrict, named by `properties.name` as in
vocabulary.STREET_NAMES. A Feature for the whole district (`level: "district"` or named
钱塘区) may be present; it is ignored, because the district is always the union of its
subdistricts. The shipped file is approximate; staff load an official one with
`stationfinder load-areas FILE`.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from stationfinder.core.errors import DomainError
from stationfinder.core.vocabulary import STREET_BY_NAME, STREET_NAMES
from stationfinder.geo.point import CRS, Point

DISTRICT_NAME = "钱塘区"
DISTRICT_NAME_EN = "Qiantang District"

# Official outlines of neighbours overlap by slivers where surveys disagree; more than
# this share of the smaller one means the file is wrong (a duplicated or shifted outline).
MAX_OVERLAP_SHARE = 0.01
_WGS84_CRS_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
}


class AreasError(DomainError):
    """The outlines cannot be used; the message says why, in words staff can act on."""

    code = "invalid_areas"


class Areas:
    """The seven subdistrict outlines of the district, ready for point-in-area tests.

    Subdistricts are kept in vocabulary order; a point on an edge shared by two of them
    belongs to the first in that order, so every point has exactly one answer.
    """

    def __init__(
        self,
        subdistricts: Mapping[str, Polygon | MultiPolygon],
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        self._names: tuple[str, ...] = tuple(n for n in STREET_NAMES if n in subdistricts)
        self._outlines: dict[str, Polygon | MultiPolygon] = {
            name: _oriented(subdistricts[name]) for name in self._names
        }
        self._district = _oriented(shapely.union_all(list(self._outlines.values())))
        self._properties = dict(properties or {})
        # Plain-float bounding boxes reject most subdistricts before any GEOS call.
        self._boxes = [(name, self._outlines[name].bounds) for name in self._names]
        for geometry in self._outlines.values():
            shapely.prepare(geometry)
        minx, miny, maxx, maxy = self._district.bounds
        self._bounds = (minx, miny, maxx, maxy)

    # --- loading --------------------------------------------------------------------

    @classmethod
    def from_geojson(cls, data: Any) -> Areas:
        """Check a parsed GeoJSON document and build the outlines from it."""
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise AreasError("the outlines must be a GeoJSON FeatureCollection")
        _check_crs(data.get("crs"))
        features = data.get("features")
        if not isinstance(features, list):
            raise AreasError("the FeatureCollection has no list of features")

        found: dict[str, Polygon | MultiPolygon] = {}
        unknown: list[str] = []
        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise AreasError(f"feature {number} is not a GeoJSON Feature")
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                raise AreasError(f"feature {number} has properties that are not an object")
            name = properties.get("name")
            if properties.get("level") == "district" or name == DISTRICT_NAME:
                continue  # the district is the union of its subdistricts
            if not isinstance(name, str) or not name.strip():
                raise AreasError(f"feature {number} has no properties.name")
            name = name.strip()
            if name not in STREET_BY_NAME:
                unknown.append(name)
                continue
            if name in found:
                raise AreasError(f"subdistrict {name} appears more than once")
            found[name] = _geometry(feature.get("geometry"), name)

        if unknown:
            raise AreasError(
                f"unknown subdistrict name(s): {', '.join(unknown)}; "
                f"expected {', '.join(STREET_NAMES)}"
            )
        missing = [name for name in STREET_NAMES if name not in found]
        if missing:
            raise AreasError(f"missing subdistrict(s): {', '.join(missing)}")
        _check_overlaps(found)
        top = data.get("properties")
        return cls(found, top if isinstance(top, dict) else None)

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
        """The subdistrict containing a WGS-84 point, or None outside the district."""
        lon, lat = _wgs84(point)
        minx, miny, maxx, maxy = self._bounds
        if not (minx <= lon <= maxx and miny <= lat <= maxy):
            return None
        for name, (x0, y0, x1, y1) in self._boxes:
            # intersects_xy counts the boundary, so points on an edge are not lost.
            if (
                x0 <= lon <= x1
                and y0 <= lat <= y1
                and shapely.intersects_xy(self._outlines[name], lon, lat)
            ):
                return name
        return None

    def in_district(self, point: Point) -> bool:
        return self.street_at(point) is not None

    def outline(self, name: str) -> BaseGeometry:
        """A subdistrict's outline by name, or the district's for 钱塘区."""
        if name == DISTRICT_NAME:
            return self._district
        try:
            return self._outlines[name]
        except KeyError:
            raise KeyError(f"no outline named {name!r}") from None

    def subdistricts(self) -> list[tuple[str, BaseGeometry]]:
        """(name, outline) pairs in vocabulary order."""
        return [(name, self._outlines[name]) for name in self._names]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the district."""
        return self._bounds

    def to_geojson(self) -> dict[str, Any]:
        """A FeatureCollection in the shape of data/areas.geojson, district last."""
        features = []
        for name in self._names:
            street = STREET_BY_NAME[name]
            features.append(
                _feature(
                    self._outlines[name],
                    {
                        "name": name,
                        "name_en": street.en,
                        "code": street.code,
                        "division": street.division,
                        "level": "subdistrict",
                    },
                )
            )
        features.append(
            _feature(
                self._district,
                {"name": DISTRICT_NAME, "name_en": DISTRICT_NAME_EN, "level": "district"},
            )
        )
        document: dict[str, Any] = {"type": "FeatureCollection"}
        if self._properties:
            document["properties"] = dict(self._properties)
        document["features"] = features
        return document


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
    for (name_a, a), (name_b, b) in itertools.combinations(outlines.items(), 2):
        if not a.intersects(b):
            continue
        shared = a.intersection(b).area
        if shared > MAX_OVERLAP_SHARE * min(a.area, b.area):
            raise AreasError(
                f"{name_a} and {name_b} overlap; each place must lie in one subdistrict"
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
