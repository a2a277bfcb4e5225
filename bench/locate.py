"""Point → grid for the demo district.

Figures: batch points/s over 1,000,000 points (fixed seed) and single-call
p50/p99 in process; anchor: a loop of `contains` over every grid polygon, on a
sample, measured in the same run. The two must agree on every sampled point.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely
from shapely.geometry import shape

from bench.common import emit, percentile, timed
from wangge.areas.locator import GridIndex, GridRecord
from wangge.demo.geometry import build_district


def _grids(seed: int, n_grids: int) -> list[GridRecord]:
    features = build_district(seed, n_grids)
    return [
        GridRecord(f["properties"]["layer"], f["properties"]["code"], f["properties"]["name"],
                   f["geometry"])
        for f in features
        if f["properties"]["level"] == "grid"
    ]


def _points(index_grids: list[GridRecord], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    bounds = shapely.total_bounds([shape(g.geometry) for g in index_grids if g.layer == "base"])
    rng = np.random.default_rng(seed)
    # Pad the box by 2 % so some points fall outside every grid, as real
    # reports near the district's edge do.
    dx, dy = (bounds[2] - bounds[0]) * 0.02, (bounds[3] - bounds[1]) * 0.02
    lon = rng.uniform(bounds[0] - dx, bounds[2] + dx, n)
    lat = rng.uniform(bounds[1] - dy, bounds[3] + dy, n)
    return lon, lat


def naive_locate(polygons: list, codes: list[str], lon: float, lat: float) -> str | None:
    point = shapely.Point(lon, lat)
    for polygon, code in zip(polygons, codes, strict=True):
        if polygon.contains(point) or polygon.touches(point):
            return code
    return None


def run(points: int, grids: int, seed: int, sample: int, singles: int) -> None:
    records = _grids(seed, grids)
    base = [r for r in records if r.layer == "base"]
    build_s, index = timed(lambda: GridIndex(records))
    emit("locate.grids", len(base), "grids", layers=len(index.layers), build_s=round(build_s, 3))
    lon, lat = _points(base, points, seed)

    index.locate_many(lon[:1000], lat[:1000], layers=["base"], with_nearest=False)  # warm up
    batch_s, result = timed(lambda: index.locate_many(lon, lat, layers=["base"], with_nearest=False))
    hits = result.hits["base"]

    polygons = [shape(r.geometry) for r in base]
    codes = [r.code for r in base]
    t0 = time.perf_counter()
    naive = [naive_locate(polygons, codes, float(lon[i]), float(lat[i])) for i in range(sample)]
    naive_s = time.perf_counter() - t0
    fast = [index.code_of("base", int(k)) for k in hits[:sample]]
    mismatches = sum(1 for a, b in zip(naive, fast, strict=True) if a != b)
    emit("locate.batch", points / batch_s, "points/s", anchor="naive contains loop (sample)",
         anchor_value=sample / naive_s, points=points, sample=sample,
         outside=int((hits < 0).sum()), mismatches_vs_anchor=mismatches)

    tree_only = GridIndex(records, raster=False)
    tree_s, tree_result = timed(
        lambda: tree_only.locate_many(lon, lat, layers=["base"], with_nearest=False))
    emit("locate.batch_vs_strtree", points / batch_s, "points/s",
         anchor="STRtree intersects, no raster (all points)", anchor_value=points / tree_s,
         mismatches_vs_anchor=int((tree_result.hits["base"] != hits).sum()))

    all_s, _ = timed(lambda: index.locate_many(lon, lat))
    emit("locate.batch_all_layers_with_nearest", points / all_s, "points/s",
         layers=len(index.layers))

    lat_ms: list[float] = []
    for i in range(singles):
        t = time.perf_counter()
        index.locate_many(lon[i:i + 1], lat[i:i + 1], layers=["base"], with_nearest=True)
        lat_ms.append((time.perf_counter() - t) * 1000)
    lat_ms.sort()
    naive_single = naive_s / sample * 1000
    emit("locate.single_p50", percentile(lat_ms, 0.50), "ms", anchor="naive contains loop (mean)",
         anchor_value=naive_single, higher_is_better=False, calls=singles)
    emit("locate.single_p99", percentile(lat_ms, 0.99), "ms", anchor="naive contains loop (mean)",
         anchor_value=naive_single, higher_is_better=False, calls=singles)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=1_800)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--singles", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.points, args.grids, args.sample, args.singles = 50_000, 200, 300, 1_000
    run(args.points, args.grids, args.seed, args.sample, args.singles)


if __name__ == "__main__":
    main()
