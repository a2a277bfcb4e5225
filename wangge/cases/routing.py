"""Which department handles a case: the most specific routing rule, then the
category's default department, then a department of the category's type that
serves the area.

A rule matches on up to three things (category or its group, an area-code
prefix, one grid of a specialised layer). The rule that matches on more of
them wins; among equals, a layer grid beats an area, a longer area prefix beats
a shorter one, and a category beats its group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wangge.accounts.models import Department
from wangge.cases import lookups
from wangge.cases.models import Category, RoutingRule


@dataclass(frozen=True)
class Route:
    department: Department
    reason: str
    rule: RoutingRule | None = None


@dataclass(frozen=True)
class Candidate:
    rule: RoutingRule
    matches: bool
    why_not: str
    rank: tuple[int, int, int, int]


def _category_level(rule: RoutingRule, category: Category) -> int:
    if rule.category_id:
        return 2 if rule.category_id == category.pk else -1
    if rule.group:
        return 1 if rule.group == category.group else -1
    return 0


def judge(rule: RoutingRule, category: Category, area_code: str,
          layers: dict[str, str]) -> Candidate:
    cat = _category_level(rule, category)
    why_not = ""
    if cat < 0:
        why_not = "类别不符"
    elif rule.area_prefix and not area_code.startswith(rule.area_prefix):
        why_not = "区域不符"
    elif rule.layer and not layers.get(rule.layer):
        why_not = "不在该专业图层内"
    elif rule.layer_code and layers.get(rule.layer) != rule.layer_code:
        why_not = "专业网格不符"
    layer_hit = int(bool(rule.layer))
    dims = layer_hit + int(cat > 0) + int(bool(rule.area_prefix))
    return Candidate(rule, not why_not, why_not, (dims, layer_hit, len(rule.area_prefix), cat))


def candidates(category: Category, area_code: str, layers: dict[str, str],
               rules: Iterable[RoutingRule] | None = None) -> list[Candidate]:
    """Every rule that could concern this category, judged, best first."""
    if rules is None:
        rules = lookups.rules_for(category)
    judged = [judge(r, category, area_code, layers) for r in rules]
    return sorted(judged, key=lambda c: (c.matches, c.rank, -c.rule.pk), reverse=True)


def route(category: Category, area_code: str, layers: dict[str, str]) -> Route | None:
    for c in candidates(category, area_code, layers):
        if c.matches:
            return Route(c.rule.department, f"派遣规则 #{c.rule.pk}：{c.rule}", c.rule)
        break
    default = category.default_department
    if default is not None and _serves(default, area_code):
        return Route(default, f"类别默认部门：{default}")
    if category.department_type:
        local = [d for d in lookups.departments_of_type(category.department_type)
                 if _serves(d, area_code)]
        if local:
            best = max(local, key=lambda d: len(d.area_code))
            return Route(best, f"类别默认部门类型：{best.get_type_display()}")
    return None


def _serves(department: Department | None, area_code: str) -> bool:
    return department is not None and area_code.startswith(department.area_code or "")
