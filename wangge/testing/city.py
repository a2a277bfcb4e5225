"""A tiny city with known geometry, for tests that need exact answers.

District 120110 is the rectangle lon 117.30–117.50, lat 39.00–39.10, cut in two
streets (west 120110001, east 120110002) with one community each; the west
community has grids A (…001001, south half) and B (…001002, north half), the
east community has grid C (120110002001001) covering all of it.

    39.10 +-----------+-----------+
          |  B        |           |
    39.05 +-----------+     C     |
          |  A        |           |
    39.00 +-----------+-----------+
       117.30       117.40      117.50
"""

from __future__ import annotations

from typing import Any

DISTRICT = "120110"
STREET_WEST = "120110001"
STREET_EAST = "120110002"
COMMUNITY_WEST = "120110001001"
COMMUNITY_EAST = "120110002001"
GRID_A = "120110001001001"
GRID_B = "120110001001002"
GRID_C = "120110002001001"
POLICE_BEAT = "120110901"  # police layer, under the district

# A point well inside each grid (WGS-84).
POINT_A = (117.35, 39.025)
POINT_B = (117.35, 39.075)
POINT_C = (117.45, 39.05)
POINT_OUTSIDE = (117.60, 39.05)  # about 8.6 km east of grid C


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature(code: str, name: str, level: str, parent: str | None, geometry: dict[str, Any],
            layer: str = "base", **props: Any) -> dict[str, Any]:
    return {"type": "Feature",
            "properties": {"code": code, "name": name, "level": level, "parent_code": parent,
                           "layer": layer, **props},
            "geometry": geometry}


def city_geojson() -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        feature(DISTRICT, "东丽区", "district", None, box(117.30, 39.00, 117.50, 39.10)),
        feature(STREET_WEST, "西街道", "street", DISTRICT, box(117.30, 39.00, 117.40, 39.10)),
        feature(STREET_EAST, "东街道", "street", DISTRICT, box(117.40, 39.00, 117.50, 39.10)),
        feature(COMMUNITY_WEST, "西社区", "community", STREET_WEST, box(117.30, 39.00, 117.40, 39.10)),
        feature(COMMUNITY_EAST, "东社区", "community", STREET_EAST, box(117.40, 39.00, 117.50, 39.10)),
        feature(GRID_A, "A网格", "grid", COMMUNITY_WEST, box(117.30, 39.00, 117.40, 39.05),
                households=300),
        feature(GRID_B, "B网格", "grid", COMMUNITY_WEST, box(117.30, 39.05, 117.40, 39.10),
                households=280),
        feature(GRID_C, "C网格", "grid", COMMUNITY_EAST, box(117.40, 39.00, 117.50, 39.10),
                households=310),
        # A police beat spanning both streets' southern halves.
        feature(POLICE_BEAT, "一号警务区", "grid", DISTRICT, box(117.30, 39.00, 117.50, 39.05),
                layer="police"),
    ]}


def make_city() -> None:
    from wangge.areas.services import import_areas, recount_households

    import_areas(None, city_geojson())
    recount_households({GRID_A: 300, GRID_B: 280, GRID_C: 310})
