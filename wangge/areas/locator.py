"""Point → grid, held in memory.

Each layer's leaf polygons (unit grids in the base layer, the specialised grids
in the others) go into a shapely STRtree in a local metric projection. The
projection is affine per axis, so point-in-polygon answers are the same as in
degrees, and the distance to the nearest grid for a point outside every grid
comes out in metres.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import shape

from wangge.core.coords import metres_per_degree, to_wgs84


@dataclass(frozen=True)
class GridRecord:
    layer: str
    code: str
    name: str
    geometry: Any


@dataclass(frozen=True)
class Hit:
    layer: str
    code: str | None
    name: str | None
    inside: bool
    nearest_code: str | None = None
    nearest_name: str | None = None
    distance_m: float | None = None


# Raster cell values besides a grid's index.
_EMPTY = -1     # no grid touches the cell: every point in it is outside
_MIXED = -2     # a boundary crosses the cell: ask the tree

RASTER_CELLS = 1024  # cells along the longer side of a layer's extent


@dataclass
class Raster:
    """A coarse lookup over the layer's extent in front of the exact tree.

    A cell wholly inside one grid answers at once; a cell no grid touches is
    outside; only points in cells that a boundary crosses (a few per cent)
    go to the STRtree. The answer is the tree's answer, just sooner.
    """

    x0: float
    y0: float
    size: float
    cells: NDArray[np.int32]

    @classmethod
    def build(cls, geoms: Sequence[Any], tree: shapely.STRtree, n: int | None = None) -> Raster:
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        if n is None:
            # About 24 cells across a typical grid: boundary cells stay a few
            # per cent of the points while the build stays well under a second.
            n = min(RASTER_CELLS, max(32, int(math.sqrt(len(geoms)) * 24)))
        size = max(x1 - x0, y1 - y0) / n or 1.0
        nx = math.ceil((x1 - x0) / size) + 1
        ny = math.ceil((y1 - y0) / size) + 1
        mixed = _boundary_cells(geoms, x0, y0, size, nx, ny)
        cells = np.full((ny, nx), _MIXED, dtype=np.int32)
        iy, ix = np.nonzero(~mixed)
        # No boundary crosses these cells, so each lies wholly in the grid
        # that holds its centre, or wholly outside every grid.
        centres = shapely.points(x0 + (ix + 0.5) * size, y0 + (iy + 0.5) * size)
        cells[iy, ix] = _query_tree(tree, centres)
        return cls(x0, y0, size, cells)

    def lookup(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        ny, nx = self.cells.shape
        ix = np.floor((x - self.x0) / self.size)
        iy = np.floor((y - self.y0) / self.size)
        within = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.full(len(x), _EMPTY, dtype=np.int64)
        out[within] = self.cells[iy[within].astype(np.intp), ix[within].astype(np.intp)]
        return out


@dataclass
class LayerIndex:
    codes: list[str]
    names: list[str]
    tree: shapely.STRtree
    geoms: list[Any]
    raster: Raster | None = None


@dataclass
class BatchResult:
    """Per layer, for each input point, the index of its grid or -1 (outside)."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    hits: dict[str, NDArray[np.int64]]
    nearest: dict[str, NDArray[np.int64]]
    distance_m: dict[str, NDArray[np.float64]]


class GridIndex:
    def __init__(self, grids: Sequence[GridRecord], lat0: float | None = None,
                 *, raster: bool = True) -> None:
        if lat0 is None:
            lat0 = _mean_lat(grids)
        self.lat0 = lat0
        self.kx, self.ky = metres_per_degree(lat0)
        by_layer: dict[str, list[GridRecord]] = {}
        for g in sorted(grids, key=lambda g: (g.layer, g.code)):
            by_layer.setdefault(g.layer, []).append(g)
        self.layers: dict[str, LayerIndex] = {}
        scale = np.array([self.kx, self.ky])
        for layer, records in by_layer.items():
            geoms = [shapely.transform(shape(r.geometry), lambda xy: xy * scale) for r in records]
            shapely.prepare(geoms)
            tree = shapely.STRtree(geoms)
            self.layers[layer] = LayerIndex(
                codes=[r.code for r in records], names=[r.name for r in records],
                tree=tree, geoms=geoms,
                raster=Raster.build(geoms, tree) if raster else None,
            )

    def locate_many(
        self,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        crs: str = "wgs84",
        layers: Sequence[str] | None = None,
        with_nearest: bool = True,
    ) -> BatchResult:
        x, y = to_wgs84(lon, lat, crs)
        x = np.atleast_1d(x)
        y = np.atleast_1d(y)
        px, py = x * self.kx, y * self.ky
        hits: dict[str, NDArray[np.int64]] = {}
        nearest: dict[str, NDArray[np.int64]] = {}
        dist: dict[str, NDArray[np.float64]] = {}
        for layer in layers or list(self.layers):
            index = self.layers.get(layer)
            if index is None:
                continue
            if index.raster is not None:
                found = index.raster.lookup(px, py)
                ask = np.flatnonzero(found == _MIXED)
                found[ask] = _query_tree(index.tree, shapely.points(px[ask], py[ask]))
            else:
                found = _query_tree(index.tree, shapely.points(px, py))
            hits[layer] = found
            if with_nearest:
                outside = np.flatnonzero(found < 0)
                near = np.full(len(px), -1, dtype=np.int64)
                d = np.full(len(px), np.nan)
                if len(outside):
                    (qi, ti), dd = index.tree.query_nearest(
                        shapely.points(px[outside], py[outside]),
                        return_distance=True, all_matches=False)
                    near[outside[qi]] = ti
                    d[outside[qi]] = dd
                nearest[layer] = near
                dist[layer] = d
        return BatchResult(x, y, hits, nearest, dist)

    def locate(self, lon: float, lat: float, *, crs: str = "wgs84") -> dict[str, Hit]:
        result = self.locate_many([lon], [lat], crs=crs)
        return {layer: self.hit(result, layer, 0) for layer in result.hits}

    def hit(self, result: BatchResult, layer: str, i: int) -> Hit:
        index = self.layers[layer]
        k = int(result.hits[layer][i])
        if k >= 0:
            return Hit(layer, index.codes[k], index.names[k], True)
        n = int(result.nearest.get(layer, np.array([-1]))[i]) if layer in result.nearest else -1
        if n < 0:
            return Hit(layer, None, None, False)
        d = float(result.distance_m[layer][i])
        return Hit(layer, None, None, False, index.codes[n], index.names[n],
                   round(d, 1) if math.isfinite(d) else None)

    def code_of(self, layer: str, k: int) -> str | None:
        return self.layers[layer].codes[k] if k >= 0 else None


def _boundary_cells(geoms: Sequence[Any], x0: float, y0: float, size: float,
                    nx: int, ny: int, fraction: float = 0.125) -> NDArray[np.bool_]:
    """Cells any polygon edge passes through, found conservatively.

    Points are laid along every edge `fraction` of a cell apart. An edge that
    crosses a cell for less than that distance has a point within that
    distance of the cell, in a neighbour; so each point marks its own cell and
    the neighbours whose side (or corner) it lies that close to.
    """
    rings = shapely.get_rings(np.asarray(geoms, dtype=object))
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    k = np.maximum(np.ceil(np.hypot(*(b - a).T) / (size * fraction)).astype(np.int64), 1) + 1
    seg = np.repeat(np.arange(len(a)), k)
    t = (np.arange(len(seg)) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k - 1, k)
    pts = a[seg] + (b[seg] - a[seg]) * t[:, None]
    fx = (pts[:, 0] - x0) / size
    fy = (pts[:, 1] - y0) / size
    ix, iy = np.floor(fx).astype(np.intp), np.floor(fy).astype(np.intp)
    rx, ry = fx - ix, fy - iy
    hit = np.zeros((ny + 2, nx + 2), dtype=bool)
    for dx, near_x in ((-1, rx <= fraction), (0, True), (1, rx >= 1 - fraction)):
        for dy, near_y in ((-1, ry <= fraction), (0, True), (1, ry >= 1 - fraction)):
            sel = np.asarray(near_x & near_y) if (dx or dy) else slice(None)
            hit[np.clip(iy[sel] + dy + 1, 0, ny + 1), np.clip(ix[sel] + dx + 1, 0, nx + 1)] = True
    return hit[1:-1, 1:-1]


def _query_tree(tree: shapely.STRtree, pts: NDArray[Any]) -> NDArray[np.int64]:
    found = np.full(len(pts), -1, dtype=np.int64)
    if not len(pts):
        return found
    src, tgt = tree.query(pts, predicate="intersects")
    if len(src):
        # A point on a shared edge touches two grids; the lower code wins
        # (tree order is code order), so the answer never depends on luck.
        order = np.lexsort((tgt, src))
        src, tgt = src[order], tgt[order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = src[1:] != src[:-1]
        found[src[first]] = tgt[first]
    return found


def _mean_lat(grids: Sequence[GridRecord]) -> float:
    if not grids:
        return 0.0
    lats = [shape(g.geometry).centroid.y for g in grids[:200]]
    return float(np.mean(lats))


class CachedIndex:
    """One GridIndex per process, rebuilt when the stored areas change.

    `revision` is asked at most every `ttl` seconds, so a hot loop does not pay
    a query per call; a write in this process calls `invalidate` to see its own
    change at once.
    """

    def __init__(self, load: Callable[[], list[GridRecord]], revision: Callable[[], object],
                 ttl: float = 2.0) -> None:
        self._load = load
        self._revision = revision
        self._ttl = ttl
        self._lock = threading.Lock()
        self._index: GridIndex | None = None
        self._rev: object = None
        self._checked = 0.0

    def get(self) -> GridIndex:
        now = time.monotonic()
        index = self._index
        if index is not None and now - self._checked < self._ttl:
            return index
        with self._lock:
            rev = self._revision()
            self._checked = time.monotonic()
            if self._index is None or rev != self._rev:
                self._index = GridIndex(self._load())
                self._rev = rev
            return self._index

    def invalidate(self) -> None:
        with self._lock:
            self._index = None
            self._checked = 0.0
