"""The raster in front of the tree must never change an answer."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from wangge.areas.locator import GridIndex, GridRecord
from wangge.demo.geometry import build_district
from wangge.testing import city


def _records(features):
    return [GridRecord(f["properties"]["layer"], f["properties"]["code"],
                       f["properties"]["name"], f["geometry"])
            for f in features if f["properties"]["level"] == "grid"]


@pytest.fixture(scope="module")
def demo_records():
    return _records(build_district(7, 60))


def test_raster_agrees_with_tree_on_random_points(demo_records):
    fast, exact = GridIndex(demo_records), GridIndex(demo_records, raster=False)
    x0, y0, x1, y1 = shapely.total_bounds([shapely.geometry.shape(r.geometry)
                                           for r in demo_records])
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(x0 - 0.01, x1 + 0.01, 200_000), rng.uniform(y0 - 0.01, y1 + 0.01, 200_000)
    a = fast.locate_many(lon, lat, with_nearest=False).hits
    b = exact.locate_many(lon, lat, with_nearest=False).hits
    for layer in b:
        assert np.array_equal(a[layer], b[layer])


def test_raster_agrees_on_vertices_and_edge_midpoints(demo_records):
    fast, exact = GridIndex(demo_records), GridIndex(demo_records, raster=False)
    coords = shapely.get_coordinates([shapely.geometry.shape(r.geometry) for r in demo_records])
    mids = (coords[:-1] + coords[1:]) / 2
    pts = np.vstack([coords, mids])
    a = fast.locate_many(pts[:, 0], pts[:, 1], with_nearest=False).hits["base"]
    b = exact.locate_many(pts[:, 0], pts[:, 1], with_nearest=False).hits["base"]
    assert np.array_equal(a, b)


def test_point_on_shared_edge_goes_to_lower_code():
    index = GridIndex(_records(city.city_geojson()["features"]))
    hit = index.locate(117.35, 39.05)["base"]  # the edge between A and B
    assert hit.code == city.GRID_A
