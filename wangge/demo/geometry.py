"""The demo district's map, built from a seed. No Django here.

One district (东丽区, 120110) with an irregular outline about 25 km × 20 km is
cut into streets, the streets into communities of about six grids, and the
communities into unit grids of 250–350 households (the 300-household grid the
seeds describe). Each cut is one Voronoi diagram of seeded points, relaxed by
Lloyd steps so cells come out roundish, and clipped to the parent: siblings
share edges exactly and tile the parent with no gap or overlap, which is what
`wangge.areas.geo.validate_collection` demands before an import.

Work is done in local metres around the district centre and converted to
WGS-84 degrees at the end. Separate random streams per purpose keep the outline
and the roads the same for a seed whatever the number of grids.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPoint, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from wangge.core.coords import metres_per_degree
from wangge.demo import names

CENTER_LON, CENTER_LAT = 117.40, 39.10
HALF_WIDTH_M, HALF_HEIGHT_M = 12_500.0, 10_000.0
HOUSEHOLDS_PER_GRID = 300
HOUSEHOLDS_RANGE = (250, 350)
PEOPLE_PER_HOUSEHOLD = 2.6
GRIDS_PER_COMMUNITY = 6
LLOYD_STEPS = 2
# 1e-8 degrees is about a millimetre: slivers where a rounded vertex leaves its
# parent's edge stay far below the validator's 10 m² tolerance.
DECIMALS = 8

# Random stream ids: one per purpose, so adding grids never moves the outline.
_OUTLINE, _AREAS, _LAYERS, _ROADS = 1, 2, 3, 4

POLICE_FIRST, FIRE_FIRST, TRAFFIC_FIRST = 901, 951, 971
FIRE_STATIONS = ("张贵庄", "华明", "军粮城", "东丽湖", "金桥", "空港")
TRAFFIC_SQUADRONS = ("津塘路", "华明", "东丽湖", "军粮城", "空港", "金钟")


def grids_for_people(people: int) -> int:
    households = people / PEOPLE_PER_HOUSEHOLD
    return max(4, round(households / HOUSEHOLDS_PER_GRID))


def street_count(n_grids: int) -> int:
    return min(max(n_grids // 150, 2), len(names.STREETS))


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


# ---------------------------------------------------------------- projection

KX, KY = metres_per_degree(CENTER_LAT)  # metres per degree of lon, lat


def to_degrees(geom: BaseGeometry) -> BaseGeometry:
    origin = np.array([CENTER_LON, CENTER_LAT])
    scale = np.array([KX, KY])
    return shapely.transform(geom, lambda xy: xy / scale + origin)


def to_metres(geom: BaseGeometry) -> BaseGeometry:
    origin = np.array([CENTER_LON, CENTER_LAT])
    scale = np.array([KX, KY])
    return shapely.transform(geom, lambda xy: (xy - origin) * scale)


def _ring(coords: Any) -> list[list[float]]:
    return np.round(np.asarray(coords)[:, :2], DECIMALS).tolist()


def _polygon_coords(poly: Polygon) -> list[list[list[float]]]:
    poly = orient(poly, sign=1.0)  # RFC 7946: exterior rings counter-clockwise
    return [_ring(poly.exterior.coords)] + [_ring(r.coords) for r in poly.interiors]


def geojson_geometry(geom_m: BaseGeometry) -> dict[str, Any]:
    """A metre-space polygon as a GeoJSON geometry in degrees, with list rings
    (the validator rejects tuples) rounded to DECIMALS."""
    geom = to_degrees(geom_m)
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]
    if len(parts) == 1:
        out: dict[str, Any] = {"type": "Polygon", "coordinates": _polygon_coords(parts[0])}
    else:
        out = {"type": "MultiPolygon", "coordinates": [_polygon_coords(p) for p in parts]}
    if not shape(out).is_valid:
        # Rounding folded a tiny edge; keep full precision for this one.
        out = mapping(geom)
        out = {"type": out["type"], "coordinates": _listify(out["coordinates"])}
    return out


def _listify(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_listify(v) for v in value]
    return value


# ------------------------------------------------------------------ outline

def district_outline(seed: int) -> Polygon:
    """A star-shaped blob: an ellipse whose radius wobbles with a few seeded
    harmonics, so it is irregular but always a simple polygon."""
    rng = _rng(seed, _OUTLINE)
    theta = np.linspace(0.0, 2 * math.pi, 72, endpoint=False)
    wobble = np.ones_like(theta)
    for k in (2, 3, 5, 7):
        wobble += rng.uniform(0.02, 0.07) * np.sin(k * theta + rng.uniform(0, 2 * math.pi))
    wobble += rng.uniform(-0.015, 0.015, size=theta.size)
    x = HALF_WIDTH_M * wobble * np.cos(theta)
    y = HALF_HEIGHT_M * wobble * np.sin(theta)
    return Polygon(np.column_stack([x, y]))


# ------------------------------------------------------------- partitioning

def sample_inside(poly: BaseGeometry, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """n uniform points strictly inside poly, by rejection from its bounds."""
    x0, y0, x1, y1 = poly.bounds
    shapely.prepare(poly)
    out: list[NDArray[np.float64]] = []
    have = 0
    while have < n:
        batch = max(16, 2 * (n - have))
        xy = rng.uniform((x0, y0), (x1, y1), size=(batch, 2))
        keep = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        out.append(keep)
        have += len(keep)
    return np.concatenate(out)[:n]


def _cells(parent: BaseGeometry, sites: NDArray[np.float64]) -> list[BaseGeometry]:
    pad = parent.envelope.buffer(max(HALF_WIDTH_M, HALF_HEIGHT_M))
    diagram = shapely.voronoi_polygons(MultiPoint(sites), extend_to=pad, ordered=True)
    cells = list(shapely.get_parts(diagram))
    if len(cells) != len(sites):
        raise RuntimeError("Voronoi diagram lost a site (two seeded points coincide)")
    return list(shapely.intersection(np.array(cells, dtype=object), parent))


def _relax(parent: BaseGeometry, sites: NDArray[np.float64]) -> NDArray[np.float64]:
    """One Lloyd step. A centroid that falls outside a concave parent is
    replaced by a point of the cell, so no site can leave and empty its cell."""
    out = []
    for cell in _cells(parent, sites):
        c = cell.centroid
        out.append(c if parent.contains(c) else cell.representative_point())
    return np.array([[p.x, p.y] for p in out])


def partition(parent: BaseGeometry, n: int, rng: np.random.Generator,
              steps: int = LLOYD_STEPS) -> list[BaseGeometry]:
    """n polygons tiling parent exactly, ordered west to east by site so the
    codes read across the map (001 next to the city centre)."""
    if n == 1:
        return [parent]
    sites = sample_inside(parent, n, rng)
    for _ in range(steps):
        sites = _relax(parent, sites)
    cells = _single_parts(_cells(parent, sites), sites)
    order = np.argsort(sites[:, 0], kind="stable")
    return [cells[i] for i in order]


def _single_parts(cells: list[BaseGeometry], sites: NDArray[np.float64]) -> list[BaseGeometry]:
    """A convex cell clipped to a concave parent can fall apart; the stray
    pieces join the neighbour they share most edge with, so every area is one
    polygon and the tiling stays exact."""
    mains: list[BaseGeometry] = []
    strays: list[Polygon] = []
    for cell, site in zip(cells, sites, strict=True):
        parts = [p for p in shapely.get_parts(cell) if isinstance(p, Polygon) and p.area > 0]
        home = Point(site)
        main = next((p for p in parts if p.covers(home)), max(parts, key=lambda p: p.area))
        mains.append(main)
        strays.extend(p for p in parts if p is not main)
    for stray in strays:
        shared = [stray.boundary.intersection(m.boundary).length for m in mains]
        k = int(np.argmax(shared))
        mains[k] = shapely.union(mains[k], stray)
    # A stray touching its new owner at one point leaves a MultiPolygon: valid
    # GeoJSON, and better than losing the area.
    return mains


def apportion(total: int, weights: Sequence[float], minimum: int = 1) -> list[int]:
    """Split total into integer shares near weights (largest remainder), each
    at least minimum."""
    n = len(weights)
    spare = total - minimum * n
    if spare < 0:
        raise ValueError(f"cannot give {n} shares at least {minimum} from {total}")
    w = np.asarray(weights, dtype=float)
    raw = spare * w / w.sum()
    shares = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - shares), kind="stable")[: spare - int(shares.sum())]:
        shares[i] += 1
    return [int(s) + minimum for s in shares]


# -------------------------------------------------------------- the layers

@dataclass
class MapArea:
    code: str
    name: str
    level: str
    parent_code: str | None
    shape: BaseGeometry  # metres
    layer: str = "base"
    households: int | None = None
    responsible_unit: str | None = None

    def feature(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "code": self.code, "name": self.name, "level": self.level,
            "parent_code": self.parent_code, "layer": self.layer,
        }
        if self.households is not None:
            props["households"] = self.households
        if self.responsible_unit:
            props["responsible_unit"] = self.responsible_unit
        return {"type": "Feature", "properties": props, "geometry": geojson_geometry(self.shape)}


def _streets(district: MapArea, n_grids: int, rng: np.random.Generator) -> list[tuple[MapArea, int]]:
    n = street_count(n_grids)
    shapes = partition(district.shape, n, rng)
    # Grids (300 households each) are denser in the west, next to Tianjin's
    # centre, and sparser toward the farmland and lake in the east.
    weights = [s.area * math.exp(-s.centroid.x / 20_000) * rng.uniform(0.8, 1.2) for s in shapes]
    counts = apportion(n_grids, weights)
    return [
        (MapArea(f"{district.code}{i:03d}", names.STREETS[i - 1], "street", district.code, s), g)
        for i, (s, g) in enumerate(zip(shapes, counts, strict=True), start=1)
    ]


def _communities(street: MapArea, n_grids: int, rng: np.random.Generator,
                 pool: list[str]) -> list[tuple[MapArea, int]]:
    n = max(1, round(n_grids / GRIDS_PER_COMMUNITY))
    shapes = partition(street.shape, n, rng)
    counts = apportion(n_grids, [s.area * rng.uniform(0.8, 1.2) for s in shapes])
    return [
        (MapArea(f"{street.code}{i:03d}", pool.pop(), "community", street.code, s), g)
        for i, (s, g) in enumerate(zip(shapes, counts, strict=True), start=1)
    ]


def _grids(community: MapArea, n: int, rng: np.random.Generator) -> list[MapArea]:
    low, high = HOUSEHOLDS_RANGE
    stem = community.name.removesuffix("社区")
    return [
        MapArea(f"{community.code}{i:03d}", f"{stem}第{names.chinese_number(i)}网格", "grid",
             community.code, s, households=int(rng.integers(low, high + 1)))
        for i, s in enumerate(partition(community.shape, n, rng), start=1)
    ]


def base_areas(seed: int, n_grids: int) -> list[MapArea]:
    """District, streets, communities, grids; parents before children."""
    if n_grids < 2:
        raise ValueError("a district needs at least 2 grids (one per street)")
    rng = _rng(seed, _AREAS)
    district = MapArea(names.DISTRICT_CODE, names.DISTRICT_NAME, "district", None,
                    district_outline(seed))
    streets = _streets(district, n_grids, rng)
    n_communities = sum(max(1, round(g / GRIDS_PER_COMMUNITY)) for _, g in streets)
    pool = names.unique_names(random.Random(seed), names.PLACE_STEMS, names.COMMUNITY_ENDINGS,
                              n_communities, suffix="社区")
    pool.reverse()  # popped from the end, so the first street gets the first names
    out_streets: list[MapArea] = []
    out_communities: list[MapArea] = []
    out_grids: list[MapArea] = []
    for street, g in streets:
        out_streets.append(street)
        for community, k in _communities(street, g, rng, pool):
            grids = _grids(community, k, rng)
            community.households = sum(x.households or 0 for x in grids)
            out_communities.append(community)
            out_grids.extend(grids)
        street.households = sum(c.households or 0 for c in out_communities
                                if c.parent_code == street.code)
    district.households = sum(s.households or 0 for s in out_streets)
    return [district, *out_streets, *out_communities, *out_grids]


def _special_layer(district: MapArea, streets: list[MapArea], layer: str, first: int,
                   labels: Sequence[str], n: int, rng: np.random.Generator) -> list[MapArea]:
    """A specialised layer cut from the district by its own Voronoi; it does
    not follow street lines, as real police beats and fire districts do not."""
    out = []
    per_label: dict[str, int] = {}
    for i, s in enumerate(partition(district.shape, n, rng)):
        home = next((st for st in streets if st.shape.covers(s.representative_point())),
                    streets[0])
        label = labels[i] if labels else names.short_street(home.name)
        per_label[label] = per_label.get(label, 0) + 1
        name, unit = _special_name(layer, label, per_label[label])
        out.append(MapArea(f"{district.code}{first + i:03d}", name, "grid", district.code, s,
                        layer=layer, responsible_unit=unit))
    return out


def _special_name(layer: str, label: str, k: int) -> tuple[str, str]:
    if layer == "police":
        return f"{label}派出所第{names.chinese_number(k)}警务区", f"东丽公安分局{label}派出所"
    if layer == "fire":
        return f"{label}消防救援站责任区", f"东丽区消防救援支队{label}消防救援站"
    return f"{label}交警中队辖区", f"东丽交警支队{label}中队"


def special_areas(seed: int, base: list[MapArea]) -> list[MapArea]:
    """Police beats (2–4 per street), fire districts and traffic squadrons."""
    rng = _rng(seed, _LAYERS)
    district = base[0]
    streets = [a for a in base if a.level == "street"]
    n_police = sum(int(rng.integers(2, 5)) for _ in streets)
    n_fire = min(max(len(streets) // 2, 2), len(FIRE_STATIONS))
    n_traffic = min(max(len(streets) // 3 + 1, 2), len(TRAFFIC_SQUADRONS))
    return [
        *_special_layer(district, streets, "police", POLICE_FIRST, (), n_police, rng),
        *_special_layer(district, streets, "fire", FIRE_FIRST, FIRE_STATIONS, n_fire, rng),
        *_special_layer(district, streets, "traffic", TRAFFIC_FIRST, TRAFFIC_SQUADRONS,
                        n_traffic, rng),
    ]


def build_district(seed: int, n_grids: int) -> list[dict[str, Any]]:
    """GeoJSON Features of the whole demo district, parents before children."""
    base = base_areas(seed, n_grids)
    return [a.feature() for a in [*base, *special_areas(seed, base)]]


def feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


# -------------------------------------------------------------------- roads

@dataclass(frozen=True)
class Road:
    code: str
    name: str
    line: LineString  # metres, clipped to the district


def road_count(n_grids: int) -> int:
    return min(max(15 + n_grids // 120, 15), len(names.ROADS))


def build_roads(seed: int, n_roads: int) -> list[Road]:
    """Named roads across the district: east–west ones spread north to south,
    north–south ones spread west to east, each with a gentle seeded bend."""
    rng = _rng(seed, _ROADS)
    outline = district_outline(seed)
    chosen = names.ROADS[:n_roads]
    across = [n for n, ew in chosen if ew]
    down = [n for n, ew in chosen if not ew]
    lines: dict[str, LineString] = {}
    for group, east_west in ((across, True), (down, False)):
        half = HALF_HEIGHT_M if east_west else HALF_WIDTH_M
        for k, name in enumerate(group):
            offset = -half * 0.85 + 1.7 * half * (k + rng.uniform(0.2, 0.8)) / len(group)
            lines[name] = _bent_line(offset, east_west, rng)
    out = []
    for i, (name, _) in enumerate(chosen, start=1):
        clipped = lines[name].intersection(outline)
        if clipped.geom_type == "MultiLineString":
            clipped = max(clipped.geoms, key=lambda g: g.length)
        out.append(Road(f"{names.DISTRICT_CODE}R{i:04d}", name, clipped))
    return out


def _bent_line(offset: float, east_west: bool, rng: np.random.Generator) -> LineString:
    t = np.linspace(-16_000.0, 16_000.0, 33)
    bend = rng.uniform(300, 1200) * np.sin(t / rng.uniform(5000, 12000) + rng.uniform(0, 6.3))
    along, across = t, offset + bend + rng.uniform(-0.08, 0.08) * t
    xy = np.column_stack([along, across]) if east_west else np.column_stack([across, along])
    return LineString(xy)
