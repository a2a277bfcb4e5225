"""Validation of area GeoJSON, with no Django in it.

An import is checked whole before anything is written: each feature's shape,
its code against its parent's, duplicate codes, and how siblings fit together
(no overlap, no gap in their parent, none sticking out of it) within a
tolerance in square metres. Every problem names the feature's code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from wangge.areas import codes
from wangge.core.coords import metres_per_degree

BASE = "base"
DEFAULT_TOLERANCE_M2 = 10.0


@dataclass
class AreaFeature:
    index: int
    code: str
    name: str
    level: str
    layer: str
    parent_code: str | None
    geometry: dict[str, Any] | None
    households: int | None = None
    responsible_unit: str | None = None
    shape: BaseGeometry | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.layer, self.code)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    index: int | None = None

    def __str__(self) -> str:
        where = f"要素 {self.index + 1}" if self.index is not None else "文件"
        return f"{where}（编码 {self.code or '无'}）：{self.message}"


@dataclass(frozen=True)
class KnownArea:
    """An area already stored, as the checks need it."""

    code: str
    level: str
    layer: str
    parent_code: str | None
    shape: BaseGeometry | None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _ring_problem(ring: Any) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return "多边形的环至少需要 4 个坐标点（首尾相同）"
    for pos in ring:
        if (
            not isinstance(pos, list | tuple)
            or len(pos) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
        ):
            return f"坐标 {pos!r} 不是 [经度, 纬度] 数值对"
        lon, lat = float(pos[0]), float(pos[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return "坐标必须是有限数值"
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return f"坐标 [{lon}, {lat}] 超出经纬度范围（是否经纬度写反，或不是 WGS-84？）"
    if list(ring[0][:2]) != list(ring[-1][:2]):
        return "多边形未闭合：环的首尾坐标不同"
    return None


def geometry_problem(geometry: Any) -> str | None:
    if not isinstance(geometry, dict):
        return "缺少几何边界（geometry）"
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    polygons: list[Any] | None
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords if isinstance(coords, list) else None
    else:
        return f"几何类型应为 Polygon 或 MultiPolygon，实际为 {kind!r}"
    if not polygons:
        return "几何边界没有坐标"
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "多边形没有外环"
        for ring in polygon:
            problem = _ring_problem(ring)
            if problem:
                return problem
    return None


def parse_collection(data: Any) -> tuple[list[AreaFeature], list[Problem]]:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return [], [Problem("", "文件不是 GeoJSON FeatureCollection")]
    raw = data.get("features")
    if not isinstance(raw, list) or not raw:
        return [], [Problem("", "FeatureCollection 中没有要素（features 为空）")]
    features: list[AreaFeature] = []
    problems: list[Problem] = []
    for i, item in enumerate(raw):
        props = item.get("properties") if isinstance(item, dict) else None
        if not isinstance(props, dict):
            problems.append(Problem("", "要素缺少 properties", i))
            continue
        code = _text(props.get("code"))
        level = _text(props.get("level"))
        feature = AreaFeature(
            index=i,
            code=code,
            name=_text(props.get("name")),
            level=level,
            layer=_text(props.get("layer")) or BASE,
            parent_code=_text(props.get("parent_code")) or None,
            geometry=item.get("geometry"),
            households=_households(props.get("households")),
            responsible_unit=_text(props.get("responsible_unit")) or None,
        )
        own: list[str] = []
        if not code:
            own.append("缺少编码（code）")
        if not feature.name:
            own.append("缺少名称（name）")
        if level not in codes.LEVELS:
            own.append(f"层级 {level!r} 无效，应为 {'、'.join(codes.LEVELS)} 之一")
        elif code:
            problem = (
                codes.code_problem(code, level)
                if feature.layer == BASE
                else (None if code.isascii() and code.isdigit() else f"编码 {code!r} 只能由数字组成")
            )
            if problem:
                own.append(problem)
        if props.get("households") not in (None, "") and feature.households is None:
            own.append(f"户数 {props.get('households')!r} 不是非负整数")
        geo_problem = geometry_problem(feature.geometry)
        if geo_problem:
            own.append(geo_problem)
        else:
            geom = shape(feature.geometry)
            if not geom.is_valid:
                own.append(f"多边形无效：{_explain(geom)}")
            elif geom.area == 0:
                own.append("多边形面积为零")
            else:
                feature.shape = geom
        problems.extend(Problem(code, msg, i) for msg in own)
        features.append(feature)
    return features, problems


def _households(value: Any) -> int | None:
    if value in (None, "") or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _explain(geom: BaseGeometry) -> str:
    reason = explain_validity(geom)
    if reason.startswith("Self-intersection"):
        return "边界自相交 " + reason[len("Self-intersection"):]
    if reason.startswith("Ring Self-intersection"):
        return "环自相交 " + reason[len("Ring Self-intersection"):]
    if reason.startswith("Too few points"):
        return "点数过少"
    return reason


def check_structure(
    features: list[AreaFeature], known: Mapping[tuple[str, str], KnownArea]
) -> list[Problem]:
    """Duplicate codes, unknown parents and codes that do not extend their parent's."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], AreaFeature] = {}
    for f in features:
        if not f.code:
            continue
        if f.key in seen:
            first = seen[f.key]
            problems.append(Problem(f.code, f"编码重复：与要素 {first.index + 1} 相同", f.index))
        else:
            seen[f.key] = f

    def lookup(layer: str, code: str) -> tuple[str, str | None] | None:
        hit = seen.get((layer, code))
        if hit is not None:
            return hit.level, hit.parent_code
        stored = known.get((layer, code))
        return (stored.level, stored.parent_code) if stored else None

    for f in features:
        if not f.code or f.level not in codes.LEVELS:
            continue
        if f.parent_code is None:
            if f.layer != BASE:
                problems.append(Problem(f.code, "专业网格必须指明所属的上级区域（parent_code）", f.index))
            elif f.level not in ("city", "district"):
                problems.append(Problem(f.code, "缺少上级编码（parent_code）", f.index))
            continue
        parent = lookup(BASE, f.parent_code)
        if parent is None:
            problems.append(Problem(f.code, f"上级编码 {f.parent_code} 不存在（文件和库中都没有）", f.index))
            continue
        parent_level = parent[0]
        if f.layer == BASE:
            expected = codes.parent_level(f.level)
            if parent_level != expected:
                problems.append(Problem(
                    f.code,
                    f"上级 {f.parent_code} 是{codes.LEVEL_NAMES[parent_level]}级，"
                    f"{codes.LEVEL_NAMES[f.level]}的上级应为{codes.LEVEL_NAMES.get(expected or '', '无')}级",
                    f.index,
                ))
                continue
            if not codes.extends(f.code, f.parent_code, parent_level):
                prefix = codes.significant_prefix(f.parent_code, parent_level)
                problems.append(Problem(
                    f.code, f"编码未延续上级编码：应以 {prefix} 开头", f.index))
        elif not (f.code.startswith(f.parent_code) and len(f.code) == len(f.parent_code) + 3):
            problems.append(Problem(
                f.code, f"专业网格编码应为上级编码 {f.parent_code} 加 3 位数字", f.index))
    return problems


def project(geoms: Iterable[BaseGeometry], lat0: float) -> list[BaseGeometry]:
    """To local metres; an affine map, so containment and overlap are unchanged."""
    kx, ky = metres_per_degree(lat0)
    scale = np.array([kx, ky])
    return [shapely.transform(g, lambda xy: xy * scale) for g in geoms]


def check_fit(
    features: list[AreaFeature],
    known: Mapping[tuple[str, str], KnownArea],
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
) -> list[Problem]:
    """Overlaps between siblings, gaps in a parent, children outside their parent.

    Checked over the state after the import (the file's features replace stored
    ones with the same code), for every sibling group the file touches.
    """
    state: dict[tuple[str, str], KnownArea] = dict(known)
    for f in features:
        state[f.key] = KnownArea(f.code, f.level, f.layer, f.parent_code, f.shape)
    touched = {(f.layer, f.parent_code) for f in features if f.parent_code and f.shape is not None}
    if not touched:
        return []
    groups: dict[tuple[str, str | None], list[KnownArea]] = defaultdict(list)
    for area in state.values():
        if (area.layer, area.parent_code) in touched and area.shape is not None:
            groups[(area.layer, area.parent_code)].append(area)
    lats = [a.shape.centroid.y for g in groups.values() for a in g if a.shape is not None]
    lat0 = float(np.mean(lats)) if lats else 0.0
    in_file = {f.key: f.index for f in features}
    problems: list[Problem] = []
    for (layer, parent_code), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        members.sort(key=lambda a: a.code)
        shapes = project([m.shape for m in members if m.shape is not None], lat0)
        problems += _overlaps(members, shapes, in_file, tolerance_m2)
        parent = state.get((BASE, parent_code or ""))
        if parent is None or parent.shape is None:
            continue
        (parent_shape,) = project([parent.shape], lat0)
        problems += _outside_parent(members, shapes, parent, parent_shape, in_file, tolerance_m2)
        if layer == BASE:
            gap = parent_shape.difference(shapely.union_all(shapes)).area
            if gap > tolerance_m2:
                index = in_file.get((BASE, parent.code))
                problems.append(Problem(
                    parent.code,
                    f"{codes.LEVEL_NAMES.get(parent.level, '')}内有 {gap:,.0f} 平方米未被下级区域覆盖"
                    f"（允许 {tolerance_m2:g} 平方米）",
                    index,
                ))
    return problems


def _overlaps(members: list[KnownArea], shapes: list[BaseGeometry],
              in_file: Mapping[tuple[str, str], int], tolerance_m2: float) -> list[Problem]:
    problems: list[Problem] = []
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        overlap = shapes[i].intersection(shapes[j]).area
        if overlap <= tolerance_m2:
            continue
        a, b = members[i], members[j]
        for this, other in ((a, b), (b, a)):
            key = (this.layer, this.code)
            if key in in_file:
                problems.append(Problem(
                    this.code, f"与同级区域 {other.code} 重叠 {overlap:,.0f} 平方米", in_file[key]))
    return problems


def _outside_parent(members: list[KnownArea], shapes: list[BaseGeometry], parent: KnownArea,
                    parent_shape: BaseGeometry, in_file: Mapping[tuple[str, str], int],
                    tolerance_m2: float) -> list[Problem]:
    problems: list[Problem] = []
    for member, geom in zip(members, shapes, strict=True):
        key = (member.layer, member.code)
        if key not in in_file:
            continue
        outside = geom.difference(parent_shape).area
        if outside > tolerance_m2:
            problems.append(Problem(
                member.code, f"超出上级区域 {parent.code} 的边界 {outside:,.0f} 平方米", in_file[key]))
    return problems


def validate_collection(
    data: Any,
    known: Mapping[tuple[str, str], KnownArea],
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
) -> tuple[list[AreaFeature], list[Problem]]:
    features, problems = parse_collection(data)
    if not features:
        return features, problems
    problems += check_structure(features, known)
    # Shapes of features already refused would only echo their first problem
    # as overlaps and gaps; fit is judged among the sound ones.
    refused = {p.index for p in problems}
    sound = [f for f in features if f.index not in refused]
    problems += check_fit(sound, known, tolerance_m2)
    problems.sort(key=lambda p: (p.index if p.index is not None else -1, p.code))
    return features, problems


def to_feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}
