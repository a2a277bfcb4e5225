"""Reads on areas, each scoped to the requesting user, and the shared locator."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Max, Q, QuerySet
from shapely.geometry import mapping

from wangge.areas import geo
from wangge.areas.locator import CachedIndex, GridIndex, GridRecord
from wangge.areas.models import BASE_LAYER, Area
from wangge.core.errors import NotFound, OutOfScope
from wangge.core.scope import restrict_areas, scope_of


def _leaf_grids() -> list[GridRecord]:
    qs = Area.objects.filter(
        (Q(layer_id=BASE_LAYER) & Q(level="grid")) | ~Q(layer_id=BASE_LAYER),
        geometry__isnull=False,
    ).values_list("layer_id", "code", "name", "geometry")
    return [GridRecord(*row) for row in qs.iterator(chunk_size=1000)]


def _revision() -> object:
    agg = Area.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return (agg["n"], agg["last"])


grid_cache = CachedIndex(_leaf_grids, _revision)


def grid_index() -> GridIndex:
    return grid_cache.get()


def known_areas() -> dict[tuple[str, str], geo.KnownArea]:
    from shapely.geometry import shape

    out: dict[tuple[str, str], geo.KnownArea] = {}
    rows = Area.objects.values_list("layer_id", "code", "level", "parent__code", "geometry")
    for layer, code, level, parent_code, geometry in rows.iterator(chunk_size=1000):
        out[(layer, code)] = geo.KnownArea(
            code, level, layer, parent_code, shape(geometry) if geometry else None)
    return out


def visible_areas(user: Any) -> QuerySet[Area]:
    return restrict_areas(Area.objects.all(), user)


def get_area(user: Any, code: str, layer: str = BASE_LAYER) -> Area:
    area = Area.objects.select_related("parent", "layer").filter(layer_id=layer, code=code).first()
    if area is None:
        raise NotFound("area_not_found", f"区域编码 {code} 不存在")
    if not scope_of(user).sees_area(code):
        raise OutOfScope("out_of_scope", f"区域 {code} 不在您的权限范围内")
    return area


def children_of(user: Any, area: Area | None, layer: str = BASE_LAYER) -> QuerySet[Area]:
    qs = visible_areas(user).filter(layer_id=layer)
    if area is None:
        return qs.filter(parent__isnull=True)
    if layer == BASE_LAYER:
        return qs.filter(parent=area)
    return qs.filter(parent=area) if area.layer_id != BASE_LAYER else qs.filter(parent__code=area.code)


def area_tree(user: Any, root: str | None = None, depth: int = 2) -> list[dict[str, Any]]:
    """Nested {code, name, level, households, children} down `depth` levels."""
    base = visible_areas(user).filter(layer_id=BASE_LAYER)
    if root:
        start = [get_area(user, root)]
    else:
        # The topmost areas the user can see.
        start = list(base.filter(Q(parent__isnull=True) | ~Q(parent__in=base)).order_by("code"))
    rows = [dict(r) for r in base.values("id", "code", "name", "level", "households", "parent_id")]
    by_parent: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        by_parent.setdefault(row["parent_id"], []).append(row)

    def node(row: dict[str, Any], left: int) -> dict[str, Any]:
        out = {k: row[k] for k in ("code", "name", "level", "households")}
        kids = by_parent.get(row["id"], [])
        out["child_count"] = len(kids)
        out["children"] = [node(k, left - 1) for k in kids] if left > 0 else []
        return out

    return [
        node({"id": a.pk, "code": a.code, "name": a.name, "level": a.level,
              "households": a.households, "parent_id": a.parent_id}, depth)
        for a in start
    ]


def areas_geojson(user: Any, *, parent: str | None = None, level: str | None = None,
                  layer: str = BASE_LAYER) -> dict[str, Any]:
    qs = visible_areas(user).filter(layer_id=layer).select_related("parent")
    if parent:
        parent_area = get_area(user, parent)
        qs = qs.filter(parent=parent_area) if not level else qs.filter(code__startswith=parent)
    if level:
        qs = qs.filter(level=level)
    if not parent and not level:
        qs = qs.filter(Q(parent__isnull=True) | ~Q(parent__in=visible_areas(user)))
    features = []
    for a in qs.order_by("code").iterator(chunk_size=500):
        features.append(geo.to_feature(
            {"code": a.code, "name": a.name, "level": a.level, "layer": a.layer_id,
             "parent_code": a.parent.code if a.parent else None,
             "households": a.households, "area_m2": a.area_m2,
             "centroid": [a.centroid_lon, a.centroid_lat]},
            a.geometry,
        ))
    _add_figures(user, features)
    return {"type": "FeatureCollection", "features": features}


# Per-area figures other apps contribute to the map (e.g. the registry's
# completeness): each takes the reader and area codes and returns
# {code: {property: value}}. Registered from the contributing app's ready(),
# so areas does not depend on them.
AreaFigures = Callable[[Any, list[str]], dict[str, dict[str, Any]]]
FIGURES: list[AreaFigures] = []


def _add_figures(user: Any, features: list[dict[str, Any]]) -> None:
    if not features or not FIGURES:
        return
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    for provider in FIGURES:
        for code, values in provider(user, list(by_code)).items():
            if code in by_code:
                by_code[code].update(values)


# --- public grid outlines -------------------------------------------------------

# Outlines per grid index: the index is rebuilt when areas change, so a new
# index object means new outlines.
_outlines_lock = threading.Lock()
_outlines: tuple[GridIndex | None, dict[str, bytes]] = (None, {})
# Metres: invisible at the map's scale, and it keeps a district's page light.
SIMPLIFY_M = 2.0


def public_grid_outlines(area: str = "") -> bytes:
    """GeoJSON (WGS-84) of the base layer's grids under `area` (all when blank):
    code and name only. Grid outlines are public knowledge, not personal data;
    they come from the locator's cached index, the same the intake uses."""
    global _outlines
    index = grid_index()
    with _outlines_lock:
        cached_index, by_area = _outlines
        if cached_index is not index:
            by_area = {}
            _outlines = (index, by_area)
        if area in by_area:
            return by_area[area]
    layer = index.layers.get(BASE_LAYER)
    features = []
    if layer is not None:
        scale = np.array([index.kx, index.ky])
        for code, name, geom in zip(layer.codes, layer.names, layer.geoms, strict=True):
            if not code.startswith(area):
                continue
            # The index keeps grids in metres (lon·kx, lat·ky); back to degrees.
            simple = shapely.simplify(geom, SIMPLIFY_M, preserve_topology=True)
            wgs = shapely.transform(simple, lambda xy: np.round(xy / scale, 6))
            features.append({"type": "Feature", "properties": {"code": code, "name": name},
                             "geometry": mapping(wgs)})
    body = json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, separators=(",", ":")).encode()
    with _outlines_lock:
        if _outlines[0] is index:
            _outlines[1][area] = body
    return body
