"""The demo catalog's shape, without a database."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from wangge.cases import catalog
from wangge.cases.catalog import GROUPS, ITEMS, by_code
from wangge.cases.rules import parse_limit

# accounts.DepartmentType's values; the catalog cannot import the model.
DEPARTMENT_TYPES = {
    "police", "civil_affairs", "health", "human_resources", "housing", "urban_management",
    "market", "emergency", "environment", "water", "transport", "justice", "education",
    "governance", "other",
}
# What workcal.DEFAULT_HOURS counts as a working day, for comparing limits.
HOURS_PER_DAY = 7


def hours(limit: str) -> float:
    amount, unit = parse_limit(limit)
    return amount * HOURS_PER_DAY if unit == "days" else amount


def test_about_140_items_in_both_kinds() -> None:
    kinds = Counter(item.kind for item in ITEMS)
    assert 120 <= len(ITEMS) <= 160
    assert set(kinds) == {"component", "event"}
    assert 40 <= kinds["component"] <= 60
    assert 80 <= kinds["event"] <= 100


def test_codes_are_unique_and_well_formed() -> None:
    codes = [item.code for item in ITEMS]
    assert len(set(codes)) == len(codes)
    for item in ITEMS:
        assert re.fullmatch(r"[CE]\d{4}", item.code), item.code
        assert item.kind == ("component" if item.code[0] == "C" else "event"), item.code
        assert GROUPS[item.code[:3]] == item.group, item.code
    assert by_code() == {item.code: item for item in ITEMS}


def test_names_are_unique() -> None:
    names = Counter(item.name for item in ITEMS)
    assert [name for name, n in names.items() if n > 1] == []


def test_every_group_has_items_and_the_standard_groups_are_there() -> None:
    assert {item.code[:3] for item in ITEMS} == set(GROUPS)
    assert {GROUPS[g] for g in GROUPS if g[0] == "C"} == {
        "公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"}
    assert {GROUPS[g] for g in GROUPS if g[0] == "E"} == {
        "市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "其他事件",
        "矛盾纠纷", "安全隐患", "特殊人群", "疫情防控", "民生服务"}


def test_every_department_is_a_department_type() -> None:
    assert set(catalog.DEPARTMENTS) == DEPARTMENT_TYPES
    assert {item.department for item in ITEMS} <= DEPARTMENT_TYPES


def test_department_types_match_the_model() -> None:
    apps = pytest.importorskip("django.apps").apps
    if not apps.ready:
        pytest.skip("needs Django set up (run without -p no:django)")
    from wangge.accounts.models import DepartmentType

    assert set(DepartmentType.values) == DEPARTMENT_TYPES


def test_limits_parse_and_tighten_with_urgency() -> None:
    for item in ITEMS:
        assert tuple(item.limits) == catalog.URGENCIES, item.code
        normal, urgent, emergency = (hours(item.limits[u]) for u in catalog.URGENCIES)
        assert normal >= urgent >= emergency > 0, item.code
        # The Category model stores limits in 8 characters.
        assert all(len(v) <= 8 for v in (*item.limits.values(), item.verify_limit)), item.code


def test_verify_limits_parse() -> None:
    for item in ITEMS:
        assert hours(item.verify_limit) <= 2 * HOURS_PER_DAY, item.code


def test_every_item_has_six_to_ten_distinct_phrases() -> None:
    for item in ITEMS:
        assert 6 <= len(item.phrases) <= 10, item.code
        assert len(set(item.phrases)) == len(item.phrases), item.code
        assert all(p.strip() == p and 2 <= len(p) <= 24 for p in item.phrases), item.code


def test_no_phrase_is_shared_between_items() -> None:
    owners = Counter(p for item in ITEMS for p in set(item.phrases))
    assert [p for p, n in owners.items() if n > 1] == []


def test_items_are_hashable() -> None:
    assert len(set(ITEMS)) == len(ITEMS)


@pytest.mark.parametrize(("text", "expected"), [
    ("3d", (3.0, "days")), ("4h", (4.0, "hours")), ("1.5h", (1.5, "hours")),
    ("0.5h", (0.5, "hours")), (" 2D ", (2.0, "days")), ("10d", (10.0, "days")),
])
def test_limits_parse(text: str, expected: tuple[float, str]) -> None:
    assert parse_limit(text) == expected


@pytest.mark.parametrize("text", ["", "0h", "0d", "-1d", "3", "d", "1.5d", "3w", "4 hours", "1e2h"])
def test_bad_limits_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="时限"):
        parse_limit(text)
