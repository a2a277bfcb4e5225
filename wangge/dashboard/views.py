"""Pages of the command centre. The map and the address search draw from the
JSON API in the browser; the area tree is rendered here from the same selector
that serves /api/v1/areas/tree, and expands row by row through htmx."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from wangge.areas import selectors as area_selectors
from wangge.areas.codes import LEVEL_NAMES
from wangge.core.errors import DomainError


def level_names() -> dict[str, str]:
    return {level: _(name) for level, name in LEVEL_NAMES.items()}


def map_strings() -> dict[str, Any]:
    """Text the map script shows, translated here so the script holds no prose."""
    return {
        "levels": level_names(),
        "all_areas": _("全部区域"),
        "households": _("户数"),
        "unit_households": _("户"),
        "density": _("户密度"),
        "unit_density": _("户/平方公里"),
        "completeness": _("人口信息完整率"),
        "code": _("编码"),
        "level": _("层级"),
        "area": _("面积"),
        "unit_km2": _("平方公里"),
        "child_count": _("下级区域"),
        "unit_children": _("个"),
        "children": _("下级区域"),
        "sorted_by": _("按{indicator}排序"),
        "no_children": _("没有下级区域"),
        "no_areas": _("您的账号尚未分配可查看的区域，请联系管理员。"),
        "loading": _("正在加载…"),
        "back_to": _("返回{name}"),
        "http_error": _("请求失败（HTTP {status}），请稍后重试。"),
        "network_error": _("无法连接服务器，请检查网络后重试。"),
        "selected": _("已选中"),
        "map_aria": _("{name}下级区域地图"),
        # Grid workers' live positions and day tracks (workforce).
        "grid": _("网格"),
        "fix_time": _("定位时间"),
        "patrolling": _("巡查中"),
        "idle": _("未在巡查"),
        "live_count": _("在线 {n} 人（巡查中 {patrolling} 人），{time} 更新"),
        "track_of": _("{day} 轨迹"),
        "track_points": _("轨迹点"),
        "unit_points": _("个"),
        "distance": _("里程"),
        "unit_km": _("公里"),
        "inside": _("网格内时长"),
        "unit_minutes": _("分钟"),
        "compliant": _("一日双巡"),
        "yes": _("达标"),
        "no": _("未达标"),
        "coverage": _("楼栋覆盖率"),
        "flags": _("异常"),
        "no_flags": _("无异常"),
        "no_track": _("当日没有轨迹。"),
        "no_summary": _("当日巡查统计尚未生成（每日定时计算）。"),
        "clear_track": _("清除轨迹"),
    }


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/map.html", {"map_strings": map_strings()})


def _rows(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten tree nodes into table rows; a node whose children came with it
    is drawn expanded, the others get a button that loads theirs."""
    names = level_names()
    rows: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        rows.append({**node, "level_name": names.get(node["level"], node["level"]),
                     "expanded": bool(node["children"]) or not node["child_count"]})
        for child in node["children"]:
            walk(child)

    for node in nodes:
        walk(node)
    return rows


@login_required
def areas_page(request: HttpRequest) -> HttpResponse:
    root = request.GET.get("root") or None
    partial = request.headers.get("HX-Request") == "true"
    try:
        tree = area_selectors.area_tree(request.user, root, depth=1)
    except DomainError as exc:
        # A missing area and one outside the user's scope look alike (404).
        template = "dashboard/_area_error_row.html" if partial else "dashboard/areas.html"
        return render(request, template, {"error": exc.message, "rows": []}, status=404)
    template = "dashboard/_area_rows.html" if partial else "dashboard/areas.html"
    return render(request, template, {"rows": _rows(tree), "root": root})


@login_required
def addresses_page(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/addresses.html", {
        "q": request.GET.get("q", "").strip()[:200],
        "address_strings": {
            "levels": level_names(),
            "match": _("最佳匹配"),
            "no_match": _("没有找到可靠的匹配地址。"),
            "confidence": _("置信度"),
            "candidates": _("候选地址"),
            "results": _("搜索结果"),
            "no_results": _("没有找到相关地址。"),
            "code": _("编码"),
            "level": _("层级"),
            "grid": _("所属网格"),
            "searching": _("正在查询…"),
            "http_error": _("请求失败（HTTP {status}），请稍后重试。"),
            "network_error": _("无法连接服务器，请检查网络后重试。"),
            "unavailable": _("地址服务暂不可用。"),
        },
    })


@login_required
def welcome(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/welcome.html")
