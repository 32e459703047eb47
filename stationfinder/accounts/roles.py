"""The three staff roles, defined once.

- street_staff: keeps the stations of their own subdistrict (街道).
- district_admin: keeps the stations of every subdistrict of their district (区).
- council_secretary: runs the couriers' council (小哥议事厅).
- union_admin: everything, including accounts.
"""

from __future__ import annotations

STREET_STAFF = "street_staff"
DISTRICT_ADMIN = "district_admin"
COUNCIL_SECRETARY = "council_secretary"
UNION_ADMIN = "union_admin"
ROLES = (STREET_STAFF, DISTRICT_ADMIN, COUNCIL_SECRETARY, UNION_ADMIN)

STATION_EDITORS = (STREET_STAFF, DISTRICT_ADMIN, UNION_ADMIN)
COUNCIL_STAFF = (COUNCIL_SECRETARY, UNION_ADMIN)
