"""The address planner, without a database."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import shapely
from shapely.geometry import shape

from wangge.demo import names
from wangge.demo.addressbook import AddressRow, DoorBook, GridSpec, Planner, _stem
from wangge.demo.geometry import build_district, build_roads


def plan(seed: int) -> tuple[list[GridSpec], list[AddressRow]]:
    features = build_district(seed, 12)
    grids = [GridSpec(f["properties"]["code"], "张贵庄街道", shape(f["geometry"]),
                      f["properties"]["households"])
             for f in features
             if f["properties"]["layer"] == "base" and f["properties"]["level"] == "grid"][:4]
    planner = Planner(random.Random(seed), np.random.default_rng(seed),
                      DoorBook(build_roads(seed, 15)),
                      names.name_stream(random.Random(seed), names.COMPOUND_STEMS,
                                        names.COMPOUND_ENDINGS))
    return grids, [row for g in grids for row in planner.grid_rows(g)]


def test_each_grid_gets_exactly_its_households_as_rooms():
    grids, rows = plan(5)
    rooms = Counter(r.get("grid_code") for r in rows if r["level"] == "room")
    assert rooms == {g.code: g.households for g in grids}


def test_every_point_is_inside_its_grid():
    grids, rows = plan(5)
    by_code = {g.code: g.shape for g in grids}
    located = [r for r in rows if "lon" in r]
    assert all(shapely.contains_xy(by_code[r["grid_code"]], r["lon"], r["lat"]) for r in located)
    # Compounds, units and rooms inherit their parent's point in the loader.
    assert {r["level"] for r in located} == {"door", "building"}
    assert all(r.get("grid_code") in by_code for r in rows)


def test_codes_unique_and_children_follow_parents():
    _, rows = plan(5)
    seen: set[str] = set()
    for r in rows:
        assert r["code"] not in seen
        assert r["parent_code"] in seen or r["level"] == "door"
        seen.add(r["code"])
    doors = [(r["parent_code"], r["name"]) for r in rows if r["level"] == "door"]
    assert len(doors) == len(set(doors))


def test_same_seed_same_rows_other_seed_other_rows():
    assert plan(5)[1] == plan(5)[1]
    assert plan(5)[1] != plan(6)[1]


def test_compound_stem_drops_the_ending_and_phase():
    assert _stem("华明家园") == "华明"
    assert _stem("铁城里二期") == "铁城"
    assert _stem("无名") == "无名"


def test_names_never_repeat_the_last_character():
    pool = names.unique_names(random.Random(1), names.PLACE_STEMS, names.COMMUNITY_ENDINGS, 500)
    assert len(set(pool)) == 500
    assert not any("里里" in n for n in pool)
