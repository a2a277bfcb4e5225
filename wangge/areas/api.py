from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from wangge.areas import selectors
from wangge.areas.models import BASE_LAYER
from wangge.core.coords import coordinate_problem
from wangge.core.errors import InvalidInput

router = Router(tags=["areas"])
locate_router = Router(tags=["locate"])

CrsName = Literal["wgs84", "gcj02", "bd09"]


class AreaOut(Schema):
    code: str
    name: str
    level: str
    layer: str
    parent_code: str | None
    households: int
    responsible_unit: str
    area_m2: float | None
    centroid: list[float | None]
    child_count: int
    path: list[dict[str, str]]


class TreeNode(Schema):
    code: str
    name: str
    level: str
    households: int
    child_count: int
    children: list[TreeNode]


@router.get("/tree", response=list[TreeNode], summary="区域树")
def area_tree(request: HttpRequest, root: str | None = None,
              depth: int = Query(2, ge=0, le=4)) -> Any:
    return selectors.area_tree(request.user, root, depth)


@router.get("/geojson", summary="区域边界 GeoJSON",
            description="parent 的下级（或 parent 下某一 level 的全部区域），图层默认 base。")
def area_geojson(request: HttpRequest, parent: str | None = None,
                 level: Literal["city", "district", "street", "community", "grid"] | None = None,
                 layer: str = BASE_LAYER) -> dict[str, Any]:
    return selectors.areas_geojson(request.user, parent=parent, level=level, layer=layer)


@router.get("/{code}", response=AreaOut, summary="区域详情")
def area_detail(request: HttpRequest, code: str, layer: str = BASE_LAYER) -> Any:
    area = selectors.get_area(request.user, code, layer)
    path: list[dict[str, str]] = []
    node = area.parent
    while node is not None:
        path.insert(0, {"code": node.code, "name": node.name, "level": node.level})
        node = node.parent
    return {
        "code": area.code, "name": area.name, "level": area.level, "layer": area.layer_id,
        "parent_code": area.parent.code if area.parent else None,
        "households": area.households, "responsible_unit": area.responsible_unit,
        "area_m2": area.area_m2, "centroid": [area.centroid_lon, area.centroid_lat],
        "child_count": selectors.children_of(request.user, area).count(), "path": path,
    }


class LayerHit(Schema):
    layer: str
    inside: bool
    code: str | None
    name: str | None
    nearest_code: str | None = None
    nearest_name: str | None = None
    distance_m: float | None = None


class LocateOut(Schema):
    lon: float = Field(description="WGS-84 经度")
    lat: float = Field(description="WGS-84 纬度")
    inside: bool = Field(description="是否落在某个基础网格内")
    grid_code: str | None
    grid_name: str | None
    layers: list[LayerHit]


def _check_point(lon: float, lat: float, where: str = "") -> None:
    problem = coordinate_problem(lon, lat)
    if problem:
        raise InvalidInput("invalid_coordinate", f"{where}{problem}", fields={"point": problem})


def _located(index: Any, result: Any, i: int) -> dict[str, Any]:
    layers = [index.hit(result, layer, i) for layer in result.hits]
    base = next((h for h in layers if h.layer == BASE_LAYER), None)
    return {
        "lon": round(float(result.lon[i]), 7), "lat": round(float(result.lat[i]), 7),
        "inside": bool(base and base.inside),
        "grid_code": base.code if base else None, "grid_name": base.name if base else None,
        "layers": [h.__dict__ for h in layers],
    }


@locate_router.get("", response=LocateOut, summary="坐标定位到网格",
                   description="输入 WGS-84、GCJ-02（手机与国内地图）或 BD-09（百度）坐标。"
                   "不在任何网格内时返回 inside=false 及最近的网格与距离（米）。")
def locate(request: HttpRequest, lon: float, lat: float, crs: CrsName = "wgs84") -> Any:
    _check_point(lon, lat)
    index = selectors.grid_index()
    return _located(index, index.locate_many([lon], [lat], crs=crs), 0)


class BatchIn(Schema):
    crs: CrsName = "wgs84"
    lons: list[float] = Field(..., max_length=100_000)
    lats: list[float] = Field(..., max_length=100_000)


class BatchOut(Schema):
    count: int
    outside: int
    grid_codes: list[str | None]
    results: list[LocateOut] | None = None


@locate_router.post("/batch", response=BatchOut, summary="批量定位",
                    description="lons 与 lats 为等长数组（最多 100,000 个点）。"
                    "detail=true 时返回每个点的完整结果。")
def locate_batch(request: HttpRequest, payload: BatchIn, detail: bool = False) -> Any:
    if len(payload.lons) != len(payload.lats):
        raise InvalidInput("length_mismatch",
                           f"lons 有 {len(payload.lons)} 个值，lats 有 {len(payload.lats)} 个，应等长")
    for i, (x, y) in enumerate(zip(payload.lons, payload.lats, strict=True)):
        _check_point(x, y, f"第 {i + 1} 个点：")
    index = selectors.grid_index()
    result = index.locate_many(payload.lons, payload.lats, crs=payload.crs, with_nearest=detail)
    base = result.hits.get(BASE_LAYER)
    codes = [index.code_of(BASE_LAYER, int(k)) for k in base] if base is not None else \
        [None] * len(payload.lons)
    out: dict[str, Any] = {
        "count": len(codes), "outside": sum(c is None for c in codes), "grid_codes": codes}
    if detail:
        out["results"] = [_located(index, result, i) for i in range(len(codes))]
    return out
