"""The demo map tiles exactly and is the same for the same seed. No database."""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from wangge.areas import geo
from wangge.demo import geometry
from wangge.demo.geometry import build_district, build_roads, feature_collection, grids_for_people


@cache
def district(seed: int, n_grids: int) -> list[dict[str, Any]]:
    return build_district(seed, n_grids)


def _props(features: list[dict[str, Any]], layer: str = "base",
           level: str | None = None) -> list[dict[str, Any]]:
    return [f["properties"] for f in features if f["properties"]["layer"] == layer
            and (level is None or f["properties"]["level"] == level)]


@pytest.mark.parametrize("n_grids", [12, 320])
def test_collection_passes_import_validation(n_grids):
    _, problems = geo.validate_collection(feature_collection(district(7, n_grids)), {})
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("n_grids", [12, 320])
def test_grids_cover_district_area(n_grids):
    features = district(7, n_grids)
    outline = shape(features[0]["geometry"])
    grids = [shape(f["geometry"]) for f in features
             if f["properties"]["layer"] == "base" and f["properties"]["level"] == "grid"]
    assert sum(g.area for g in grids) == pytest.approx(outline.area, rel=1e-6)
    assert shapely.union_all(grids).area == pytest.approx(outline.area, rel=1e-6)


def test_counts_and_codes_follow_the_hierarchy():
    features = district(7, 320)
    grids = _props(features, level="grid")
    streets = _props(features, level="street")
    assert len(grids) == 320
    assert len(streets) == geometry.street_count(320) == 2
    for g in grids:
        assert len(g["code"]) == 15 and g["code"].startswith(g["parent_code"])
        assert 250 <= g["households"] <= 350
    per_community = Counter(g["parent_code"] for g in grids)
    assert 4 <= sum(per_community.values()) / len(per_community) <= 8
    district_props = features[0]["properties"]
    assert district_props["code"] == "120110"
    assert district_props["households"] == sum(g["households"] for g in grids)


def test_specialised_layers_hang_under_the_district():
    features = district(7, 320)
    for layer, first in (("police", 901), ("fire", 951), ("traffic", 971)):
        zones = _props(features, layer)
        assert len(zones) >= 2
        assert [z["code"] for z in zones] == [f"120110{first + i}" for i in range(len(zones))]
        assert {z["parent_code"] for z in zones} == {"120110"}


def test_district_is_about_25_by_20_km():
    outline = geometry.to_metres(shape(district(7, 12)[0]["geometry"]))
    x0, y0, x1, y1 = outline.bounds
    assert 20_000 < x1 - x0 < 30_000
    assert 16_000 < y1 - y0 < 24_000


def test_same_seed_same_map_other_seed_other_map():
    assert build_district(3, 40) == build_district(3, 40)
    assert build_district(3, 40) != build_district(4, 40)


def test_roads_cross_the_district_and_are_deterministic():
    roads = build_roads(7, 20)
    assert len({r.name for r in roads}) == 20
    assert all(r.line.length > 5_000 for r in roads)
    assert [r.line.wkt for r in roads] == [r.line.wkt for r in build_roads(7, 20)]


@pytest.mark.parametrize(("people", "grids"), [(0, 4), (3000, 4), (20000, 26),
                                                 (1_000_000, 1282)])
def test_grids_for_people(people, grids):
    assert grids_for_people(people) == grids


def test_apportion_keeps_total_and_minimum():
    shares = geometry.apportion(10, [1, 1, 100], minimum=2)
    assert sum(shares) == 10 and min(shares) >= 2
