"""A small standard address library on the tiny test city (see city.py).

    津塘路 (road, no grid)
      津塘路100号 (door, grid A)
        华明家园 (compound, grid A; alias 华明小区)
          1号楼..3号楼 / 1单元..2单元 / 101 102 201 202室
    丽苑小区 (compound, grid C: the east street, the outsider's)
      1号楼 / 1单元 / 101 102室
"""

from __future__ import annotations

from typing import Any

from wangge.testing import city

ROAD = "R000001"
DOOR = f"{ROAD}D0001"
HUAMING = f"{city.GRID_A}C0001"
LIYUAN = f"{city.GRID_C}C0001"
HUAMING_POINT = (117.351, 39.021)  # inside grid A
LIYUAN_POINT = (117.452, 39.062)  # inside grid C
BUILDINGS, UNITS, ROOMS = (1, 2, 3), (1, 2), (101, 102, 201, 202)


def building_code(compound: str, building: int) -> str:
    return f"{compound}B{building:03d}"


def unit_code(compound: str, building: int, unit: int) -> str:
    return f"{building_code(compound, building)}U{unit:02d}"


def room_code(compound: str, building: int, unit: int, room: int) -> str:
    return f"{unit_code(compound, building, unit)}H{room:04d}"


ROOM_3_2_201 = room_code(HUAMING, 3, 2, 201)
LIYUAN_ROOM_101 = room_code(LIYUAN, 1, 1, 101)


def _compound_rows(compound: str, buildings: tuple[int, ...], units: tuple[int, ...],
                   rooms: tuple[int, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for b in buildings:
        rows.append({"code": building_code(compound, b), "level": "building",
                     "name": f"{b}号楼", "parent_code": compound})
        for u in units:
            rows.append({"code": unit_code(compound, b, u), "level": "unit",
                         "name": f"{u}单元", "parent_code": building_code(compound, b)})
            rows += [{"code": room_code(compound, b, u, r), "level": "room", "name": f"{r}室",
                      "parent_code": unit_code(compound, b, u)} for r in rooms]
    return rows


def library_rows() -> list[dict[str, Any]]:
    """The rows `bulk_load_addresses` takes, in no particular order."""
    lon_a, lat_a = HUAMING_POINT
    lon_c, lat_c = LIYUAN_POINT
    return [
        {"code": ROAD, "level": "road", "name": "津塘路", "parent_code": None},
        {"code": DOOR, "level": "door", "name": "100号", "parent_code": ROAD,
         "lon": lon_a, "lat": lat_a},
        {"code": HUAMING, "level": "compound", "name": "华明家园", "parent_code": DOOR,
         "lon": lon_a, "lat": lat_a, "aliases": ["华明小区"]},
        {"code": LIYUAN, "level": "compound", "name": "丽苑小区", "parent_code": None,
         "lon": lon_c, "lat": lat_c},
        *_compound_rows(HUAMING, BUILDINGS, UNITS, ROOMS),
        *_compound_rows(LIYUAN, (1,), (1,), (101, 102)),
    ]


def make_addresses() -> dict[str, str]:
    """Load the library into the test city (which must exist: `small_city`)."""
    from wangge.addresses.services import bulk_load_addresses

    bulk_load_addresses(library_rows())
    return {"road": ROAD, "door": DOOR, "huaming": HUAMING, "liyuan": LIYUAN,
            "room": ROOM_3_2_201, "liyuan_room": LIYUAN_ROOM_101}
