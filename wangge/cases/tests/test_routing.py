from __future__ import annotations

from typing import Any

import pytest

from wangge.cases.models import Category, RoutingRule
from wangge.cases.routing import route
from wangge.cases.selectors import explain_route
from wangge.core.errors import InvalidInput
from wangge.testing import city
from wangge.testing.cases import department

pytestmark = pytest.mark.django_db


def rule(dept: str, category: str | None = None, **kw: Any) -> RoutingRule:
    cat = Category.objects.get(code=category) if category else None
    return RoutingRule.objects.create(category=cat, department=department(dept), **kw)


def where(code: str = "E0101", area: str = city.GRID_A,
          layers: dict[str, str] | None = None) -> str:
    found = route(Category.objects.get(code=code), area, layers or {})
    return found.department.code if found else ""


def test_without_rules_the_category_type_decides(catalog: None) -> None:
    assert where("E0101") == "120110-CG"
    assert where("C0102") == "120110-SW"


def test_a_category_rule_beats_the_default(catalog: None) -> None:
    rule("120110-ZZ", "E0101")
    assert where("E0101") == "120110-ZZ"
    assert where("E0501") == "120110-CG"


def test_the_longer_area_prefix_wins(catalog: None) -> None:
    rule("120110-ZZ", "E0101", area_prefix=city.DISTRICT)
    rule("120110-ZJ", "E0101", area_prefix=city.STREET_WEST)
    assert where(area=city.GRID_A) == "120110-ZJ"
    assert where(area=city.GRID_C) == "120110-ZZ"


def test_more_matched_dimensions_beat_a_longer_prefix(catalog: None) -> None:
    rule("120110-ZJ", None, area_prefix=city.GRID_A)            # anything in grid A
    rule("120110-ZZ", "E0101", area_prefix=city.STREET_WEST)    # this category in the street
    assert where(area=city.GRID_A) == "120110-ZZ"
    assert where("E0501", area=city.GRID_A) == "120110-ZJ"


def test_a_specialised_layer_grid_narrows_a_rule(catalog: None) -> None:
    rule("120110-GA", "E0701", layer="police", layer_code=city.POLICE_BEAT)
    assert where("E0701", layers={"police": city.POLICE_BEAT}) == "120110-GA"
    assert where("E0701", area=city.GRID_B, layers={}) == "120110-SF"


def test_group_rules_cover_every_item_of_the_group(catalog: None) -> None:
    rule("120110-ZZ", None, group="矛盾纠纷")
    assert where("E0701") == "120110-ZZ"
    assert where("E0101") == "120110-CG"


def test_inactive_rules_are_ignored(catalog: None) -> None:
    rule("120110-ZZ", "E0101", active=False)
    assert where("E0101") == "120110-CG"


def test_the_tool_explains_which_rule_wins_and_why_the_others_do_not(
        catalog: None, viewer: Any) -> None:
    rule("120110-ZZ", "E0101", area_prefix=city.STREET_EAST)
    winner = rule("120110-ZJ", "E0101", area_prefix=city.STREET_WEST)
    e = explain_route(viewer, "E0101", *city.POINT_A)
    assert e.grid_code == city.GRID_A and e.department.code == "120110-ZJ"
    assert f"#{winner.pk}" in e.reason
    reasons = {c.rule.area_prefix: c.why_not for c in e.candidates}
    assert reasons == {city.STREET_WEST: "", city.STREET_EAST: "区域不符"}


def test_the_tool_refuses_an_unknown_category(catalog: None, viewer: Any) -> None:
    with pytest.raises(InvalidInput):
        explain_route(viewer, "NOPE", *city.POINT_A)
