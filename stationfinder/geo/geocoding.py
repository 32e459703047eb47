"""An optional outside geocoder for places the offline gazetteer does not know.

Off unless `STATIONFINDER_GEOCODER` names one of geopy's services (e.g. `nominatim`,
`baiduv3`, `arcgis`); its constructor options come from `STATIONFINDER_GEOCODER_OPTIONS`
(JSON) and the coordinate system of its answers from `STATIONFINDER_GEOCODER_CRS`
(Baidu answers in BD-09, Amap and Tencent in GCJ-02). Answers are converted to WGS-84
here, at the edge. A slow or failing service gives no answer, never an error page.
Flask-free. geopy is imported only when a geocoder is configured (~0.1 s of every
worker's start otherwise).
"""

from __future__ import annotations

import logging
from typing import Any

from stationfinder.geo import crs
from stationfinder.geo.gazetteer import Place
from stationfinder.geo.point import CRS, Point

log = logging.getLogger(__name__)


class PlaceGeocoder:
    def __init__(
        self, service: str, options: dict[str, Any], system: CRS, scope: str = "杭州市钱塘区 "
    ) -> None:
        from geopy.geocoders import get_geocoder_for_service

        geocoder_class = get_geocoder_for_service(service)
        options = {"timeout": 3, **options}
        self._geocoder = geocoder_class(**options)
        self._system = system
        self._scope = scope

    @classmethod
    def from_settings(cls, config: dict[str, Any]) -> PlaceGeocoder | None:
        if not config.get("GEOCODER"):
            return None
        return cls(config["GEOCODER"], config["GEOCODER_OPTIONS"], CRS(config["GEOCODER_CRS"]))

    def locate(self, query: str) -> Place | None:
        from geopy.exc import GeopyError

        try:
            location = self._geocoder.geocode(self._scope + query, exactly_one=True)
        except (GeopyError, OSError, ValueError) as exc:
            log.warning("geocoder failed for %r: %s", query, exc)
            return None
        if location is None:
            return None
        try:
            point = crs.to_wgs84(Point(location.longitude, location.latitude, self._system))
        except ValueError:
            return None
        return Place(query, None, "geocoder", None, point)
