"""The demo city's standard addresses (一标), planned as plain rows. No Django here.

Rows are in the format `wangge.addresses.services.bulk_load_addresses` takes:
code, level, name and parent, plus a point where one is chosen (door numbers,
buildings) and the grid it was chosen in. The loader derives the normalised
components and full names, and children inherit their parent's point.

Per grid: 1–3 compounds (小区), each with a door number (门牌) on the nearest
named road as its parent, then buildings (楼栋), units (单元) and rooms (户室).
A grid gets exactly as many rooms as it has households, so the household
counts rolled up from rooms are the grid's own. Buildings stand in rows near
their compound's gate, the way Tianjin's slab blocks do, and every point is
strictly inside its grid, so the locator puts each room back in its grid.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from wangge.demo import names
from wangge.demo.geometry import KX, KY, Road, apportion, sample_inside, to_metres

# Keep points this far (degrees, about 2 m) from grid edges, so a point never
# sits on a shared edge where the locator would have to break a tie.
EDGE_MARGIN_DEG = 2e-5
ROW_SPACING_M, COLUMN_SPACING_M = 45.0, 60.0
DOOR_SPACING_M = 30.0
OLD_STYLE_ENDINGS = ("里", "新村", "小区", "公寓", "南里", "北里", "东里", "西里")


class AddressRow(TypedDict):
    """One entry for `bulk_load_addresses`; its docstring explains each key."""

    code: str
    level: str
    name: str
    parent_code: str | None
    grid_code: NotRequired[str]
    lon: NotRequired[float]
    lat: NotRequired[float]
    aliases: NotRequired[list[str]]
    prefix: NotRequired[str]


@dataclass(frozen=True)
class GridSpec:
    code: str
    street_name: str
    shape: BaseGeometry  # degrees
    households: int


@dataclass(frozen=True)
class BuildingType:
    floors: tuple[int, int]
    units: tuple[int, int]
    per_floor: tuple[int, int]


# 多层 walk-ups, 小高层 and 高层 towers, as the district's housing stock mixes them.
WALK_UP = BuildingType((5, 7), (2, 4), (2, 2))
MID_RISE = BuildingType((11, 11), (2, 3), (2, 2))
HIGH_RISE = BuildingType((18, 26), (1, 2), (3, 4))


def road_rows(roads: list[Road]) -> list[AddressRow]:
    # Roads cross streets, so their full name carries the district only.
    return [AddressRow(code=r.code, level="road", name=r.name, parent_code=None,
                       prefix=names.DISTRICT_NAME)
            for r in roads]


class DoorBook:
    """Hands out door numbers: the nearest road, odd numbers on one side and
    even on the other, rising along the road, never twice the same."""

    def __init__(self, roads: list[Road]) -> None:
        self.roads = roads
        self.tree = shapely.STRtree([r.line for r in roads])
        self.taken: set[tuple[int, int]] = set()

    def door_for(self, lon: float, lat: float) -> tuple[Road, int]:
        point = to_metres(shapely.Point(lon, lat))
        k = int(self.tree.nearest(point))
        line = self.roads[k].line
        along = line.project(point)
        ahead = line.interpolate(min(along + 1.0, line.length))
        behind = line.interpolate(max(along - 1.0, 0.0))
        cross = ((ahead.x - behind.x) * (point.y - behind.y)
                 - (ahead.y - behind.y) * (point.x - behind.x))
        number = 2 * int(along // DOOR_SPACING_M) + (1 if cross > 0 else 2)
        while (k, number) in self.taken:
            number += 2
        self.taken.add((k, number))
        return self.roads[k], number


@dataclass
class Planner:
    """Rows for grid after grid; compound numbers and names run on across grids."""

    rng: random.Random
    np_rng: np.random.Generator
    doors: DoorBook
    compound_names: Iterator[str]
    next_compound: int = 1

    def grid_rows(self, grid: GridSpec) -> list[AddressRow]:
        inner = grid.shape.buffer(-EDGE_MARGIN_DEG)
        if inner.is_empty or inner.area < grid.shape.area * 0.2:
            inner = grid.shape
        shapely.prepare(inner)
        k = min(self.rng.choice((1, 2, 2, 3)), max(1, grid.households // 60))
        shares = apportion(grid.households, [self.rng.uniform(0.6, 1.4) for _ in range(k)])
        gates = sample_inside(inner, k, self.np_rng)
        rows: list[AddressRow] = []
        for rooms, (lon, lat) in zip(shares, gates, strict=True):
            rows += self._compound(grid, inner, rooms, float(lon), float(lat))
        return rows

    def _compound(self, grid: GridSpec, inner: BaseGeometry, rooms: int,
                  lon: float, lat: float) -> list[AddressRow]:
        road, number = self.doors.door_for(lon, lat)
        name = next(self.compound_names)
        code = f"{names.DISTRICT_CODE}C{self.next_compound:05d}"
        self.next_compound += 1
        door_code = f"{road.code}-{number:04d}"
        # The door number's full name starts afresh with district and street:
        # "东丽区华明街道津塘路123号", and everything behind the door carries it.
        door = AddressRow(code=door_code, level="door", name=f"{number}号",
                          parent_code=road.code,
                          prefix=f"{names.DISTRICT_NAME}{grid.street_name}",
                          grid_code=grid.code, lon=lon, lat=lat)
        compound = AddressRow(code=code, level="compound", name=name, parent_code=door_code,
                              grid_code=grid.code, aliases=self._aliases(name, road.name, number))
        rows = [door, compound]
        sizes = self._building_sizes(rooms, name)
        spots = self._building_spots(inner, lon, lat, len(sizes))
        for b, (size, (x, y)) in enumerate(zip(sizes, spots, strict=True), start=1):
            rows += _building(code, grid.code, b, size, float(x), float(y))
        return rows

    def _aliases(self, name: str, road: str, number: int) -> list[str]:
        stem = _stem(name)
        out = [stem] if stem != name else []
        out.append(f"{road}{number}号院")
        if self.rng.random() < 0.3:
            out.append(f"{stem}村还迁房" if self.rng.random() < 0.5 else f"原{stem}宿舍")
        return out

    def _building_sizes(self, rooms: int, name: str) -> list[tuple[int, int, int, int]]:
        """(units, floors, rooms per floor, rooms) per building, until rooms run out."""
        old = name.endswith(OLD_STYLE_ENDINGS)
        out = []
        left = rooms
        while left > 0:
            kind = WALK_UP if old or self.rng.random() < 0.4 else (
                MID_RISE if self.rng.random() < 0.5 else HIGH_RISE)
            units = self.rng.randint(*kind.units)
            floors = self.rng.randint(*kind.floors)
            per_floor = self.rng.randint(*kind.per_floor)
            n = min(left, units * floors * per_floor)
            units = min(units, math.ceil(n / per_floor))
            floors = math.ceil(n / (units * per_floor))
            out.append((units, floors, per_floor, n))
            left -= n
        return out

    def _building_spots(self, inner: BaseGeometry, lon: float, lat: float,
                        n: int) -> NDArray[np.float64]:
        """Rows of blocks around the gate; spots outside the grid are replaced
        by random points inside it."""
        cols = math.ceil(math.sqrt(n * 1.5))
        rows = math.ceil(n / cols)
        c, r = np.meshgrid(np.arange(cols) - (cols - 1) / 2, np.arange(rows) - (rows - 1) / 2)
        x = lon + c.ravel()[:n] * COLUMN_SPACING_M / KX
        y = lat - r.ravel()[:n] * ROW_SPACING_M / KY
        spots = np.column_stack([x, y])
        outside = ~shapely.contains_xy(inner, x, y)
        if outside.any():
            spots[outside] = sample_inside(inner, int(outside.sum()), self.np_rng)
        return spots


def _stem(name: str) -> str:
    """华明家园 → 华明; 铁城里二期 → 铁城; a name with no known ending stays."""
    bare = name
    for i in range(2, 10):
        bare = bare.removesuffix(names.chinese_number(i) + "期")
    for ending in sorted(names.COMPOUND_ENDINGS, key=len, reverse=True):
        if bare.endswith(ending) and len(bare) > len(ending):
            return bare[: -len(ending)]
    return name


def _building(compound: str, grid: str, b: int, size: tuple[int, int, int, int],
              lon: float, lat: float) -> list[AddressRow]:
    units, floors, per_floor, n = size
    building = AddressRow(code=f"{compound}-B{b:02d}", level="building", name=f"{b}号楼",
                          parent_code=compound, grid_code=grid, lon=lon, lat=lat)
    unit_rows = [AddressRow(code=f"{building['code']}-U{u}", level="unit", name=f"{u}单元",
                            parent_code=building["code"], grid_code=grid)
                 for u in range(1, units + 1)]
    rooms: list[AddressRow] = []
    # Fill floor by floor across units, so a short last building has its top
    # floor part-empty rather than a whole unit missing.
    for floor in range(1, floors + 1):
        for unit in unit_rows:
            for r in range(1, per_floor + 1):
                if len(rooms) < n:
                    rooms.append(AddressRow(code=f"{unit['code']}-{floor:02d}{r:02d}",
                                            level="room", name=f"{floor}{r:02d}室",
                                            parent_code=unit["code"], grid_code=grid))
    return [building, *unit_rows, *rooms]
