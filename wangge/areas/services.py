"""Writes on areas: GeoJSON import, household counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from shapely.geometry import shape

from wangge.areas import geo
from wangge.areas.codes import LEVELS
from wangge.areas.models import BASE_LAYER, Area, Layer
from wangge.areas.selectors import grid_cache, known_areas
from wangge.core import audit
from wangge.core.coords import metres_per_degree
from wangge.core.errors import DomainError


class AreaImportRefused(DomainError):
    status = 422

    def __init__(self, problems: list[geo.Problem]) -> None:
        self.problems = problems
        super().__init__(
            "area_import_refused",
            f"区域导入被拒绝：{len(problems)} 处问题，未写入任何数据",
            fields={"problems": [
                {"index": p.index, "code": p.code, "message": p.message} for p in problems
            ]},
        )


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def import_areas(actor: Any, data: Any, *, tolerance_m2: float = geo.DEFAULT_TOLERANCE_M2,
                 progress: Any = None) -> ImportResult:
    """Check a FeatureCollection whole, then write all of it or nothing."""
    features, problems = geo.validate_collection(data, known_areas(), tolerance_m2)
    layer_codes = set(Layer.objects.values_list("code", flat=True))
    for f in features:
        if f.layer not in layer_codes:
            problems.append(geo.Problem(
                f.code, f"图层 {f.layer!r} 不存在，可用：{'、'.join(sorted(layer_codes))}", f.index))
    if problems:
        raise AreaImportRefused(problems)
    created = updated = 0
    order = sorted(features, key=lambda f: (f.layer != BASE_LAYER, LEVELS.index(f.level), f.code))
    with transaction.atomic():
        for f in order:
            was_new = _upsert(f)
            created += was_new
            updated += not was_new
            if progress is not None:
                progress(1)
        audit.record(actor, "import_areas", "area", "", fields=["geometry", "name", "level"],
                     reason=f"导入 {len(features)} 个区域：新增 {created}，更新 {updated}")
    grid_cache.invalidate()
    return ImportResult(created, updated)


def _upsert(f: geo.AreaFeature) -> bool:
    geom = shape(f.geometry) if f.geometry else None
    defaults: dict[str, Any] = {
        "name": f.name,
        "level": f.level,
        "parent": Area.objects.get(layer_id=BASE_LAYER, code=f.parent_code) if f.parent_code else None,
        "geometry": f.geometry,
    }
    if geom is not None:
        c = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
        kx, ky = metres_per_degree(c.y)
        defaults.update(centroid_lon=round(c.x, 7), centroid_lat=round(c.y, 7),
                        area_m2=round(geom.area * kx * ky, 1))
    if f.households is not None:
        defaults["households"] = f.households
    if f.responsible_unit is not None:
        defaults["responsible_unit"] = f.responsible_unit
    _, created = Area.objects.update_or_create(layer_id=f.layer, code=f.code, defaults=defaults)
    return created


def export_areas(layer: str | None = None) -> dict[str, Any]:
    qs = Area.objects.select_related("parent").order_by("layer__sort", "layer_id", "code")
    if layer:
        qs = qs.filter(layer_id=layer)
    features = [
        geo.to_feature(
            {
                "code": a.code, "name": a.name, "level": a.level,
                "parent_code": a.parent.code if a.parent else None, "layer": a.layer_id,
                "households": a.households, "responsible_unit": a.responsible_unit,
            },
            a.geometry,
        )
        for a in qs.iterator(chunk_size=500)
    ]
    return {"type": "FeatureCollection", "features": features}


def recount_households(codes_to_counts: dict[str, int]) -> None:
    """Set grids' household counts and roll them up the base hierarchy."""
    with transaction.atomic():
        for code, n in codes_to_counts.items():
            Area.objects.filter(layer_id=BASE_LAYER, code=code).update(households=n)
        for level in ("community", "street", "district", "city"):
            for area in Area.objects.filter(layer_id=BASE_LAYER, level=level):
                total = sum(Area.objects.filter(parent=area).values_list("households", flat=True))
                if area.households != total:
                    Area.objects.filter(pk=area.pk).update(households=total)
