"""The shipped areas (Qiantang's seven subdistricts), as tests name them: subdistricts
are data now, so tests read them from the file the app loads by default."""

from __future__ import annotations

from stationfinder.core.resources import data_file
from stationfinder.geo.areas import Areas

SHIPPED = Areas.from_file(data_file("areas.geojson"))
QIANTANG = SHIPPED.districts()[0]  # 钱塘区, 330114
STREET_NAMES: tuple[str, ...] = SHIPPED.subdistrict_keys()  # division-code order
