"""Conversions between WGS-84, GCJ-02 and BD-09, over typed `Point`s.

Stations are stored in WGS-84, but couriers' phones and the maps they use speak GCJ-02
(Amap, Tencent, WeChat) or BD-09 (Baidu), which are deliberately offset by a few hundred
metres. Points are converted at the edges of the service, never stored converted.

The arithmetic is the public-domain `prcoords` package's (Mingye Wang's reference
implementation) rather than hand-written here: it is small, well known and has a precise
inverse. Notes on its behaviour that this module relies on:

- GCJ-02 is only applied inside prcoords' rough "China" box (lat 0.8293–55.8271,
  lon 72.004–137.8347; it also covers e.g. Korea, Japan and Mongolia). Outside it GCJ-02 is
  WGS-84 unchanged. prcoords warns when asked to convert such a point; we test the box
  ourselves and return the point as-is instead, so no warning escapes (pytest runs with
  warnings as errors, and a warning per request is noise).
- BD-09 is Baidu's extra rotation/shift applied on top of GCJ-02; prcoords applies it
  everywhere, and so do we (outside the box BD-09 is thus BD(WGS-84)).
- Inverses use prcoords' "bored" fixed-point iteration (Caijun 2014): it stops when a step
  moves less than 1e-5°, after which the residual is ~1e-8° (millimetres), well under the
  1 cm we promise. The one-step "rough" inverses are metre-level and not used.

Results are not rounded: rounding is a presentation concern.
"""

from __future__ import annotations

import prcoords

from stationfinder.geo.point import CRS, Point

__all__ = ["convert", "from_wgs84", "in_gcj_area", "to_wgs84"]


def in_gcj_area(lon: float, lat: float) -> bool:
    """Whether GCJ-02's obfuscation applies at this point (prcoords' rough China box)."""
    return bool(prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)))


def _wgs_to_gcj(c: prcoords.Coords) -> prcoords.Coords:
    if not in_gcj_area(c.lon, c.lat):
        return c
    return prcoords.wgs_gcj(c, False)


def _gcj_to_wgs(c: prcoords.Coords) -> prcoords.Coords:
    if not in_gcj_area(c.lon, c.lat):
        return c
    return prcoords.gcj_wgs_bored(c, False)


def _point(c: prcoords.Coords, crs: CRS) -> Point:
    return Point(lon=c.lon, lat=c.lat, crs=crs)


def to_wgs84(p: Point) -> Point:
    """The WGS-84 point for `p`, whatever system it is in (inverse error < 1 cm)."""
    c = prcoords.Coords(p.lat, p.lon)
    if p.crs == CRS.WGS84:
        return p
    if p.crs == CRS.GCJ02:
        return _point(_gcj_to_wgs(c), CRS.WGS84)
    # BD-09 -> GCJ-02 -> WGS-84, each step with its own precise inverse: prcoords'
    # bd_wgs_bored would ignore the China box (its first guess warns, its iterations
    # apply GCJ-02 everywhere).
    return _point(_gcj_to_wgs(prcoords.bd_gcj_bored(c)), CRS.WGS84)


def from_wgs84(p: Point, crs: CRS) -> Point:
    """`p` (which must be WGS-84) expressed in `crs`."""
    if p.crs != CRS.WGS84:
        raise ValueError(f"from_wgs84 needs a WGS-84 point, got {p.crs.value}")
    if crs == CRS.WGS84:
        return p
    gcj = _wgs_to_gcj(prcoords.Coords(p.lat, p.lon))
    if crs == CRS.GCJ02:
        return _point(gcj, CRS.GCJ02)
    return _point(prcoords.gcj_bd(gcj), CRS.BD09)


def convert(p: Point, crs: CRS) -> Point:
    """`p` expressed in `crs`, from any system.

    GCJ-02 and BD-09 are converted into each other directly, since BD-09 is defined on
    top of GCJ-02; going through WGS-84 would add the GCJ-02 inverse's (tiny) error.
    """
    if p.crs == crs:
        return p
    c = prcoords.Coords(p.lat, p.lon)
    if p.crs == CRS.GCJ02 and crs == CRS.BD09:
        return _point(prcoords.gcj_bd(c), CRS.BD09)
    if p.crs == CRS.BD09 and crs == CRS.GCJ02:
        return _point(prcoords.bd_gcj_bored(c), CRS.GCJ02)
    return from_wgs84(to_wgs84(p), crs)
