"""The small, rarely edited tables every report reads (categories, routing
rules, departments), kept in the process for a few seconds.

Intake reads them on every report; without this each report pays three or four
queries for rows that change a few times a year. An edit in this process
clears the copy at once (signals); other processes see it within
`FRESH_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from wangge.accounts.models import Department
from wangge.cases.models import Category, RoutingRule

FRESH_SECONDS = 30.0

_lock = threading.Lock()
_loaded_at = 0.0
_categories: dict[str, Category] = {}
_rules: list[RoutingRule] = []
_departments: list[Department] = []


def _load() -> None:
    global _loaded_at, _categories, _rules, _departments
    with _lock:
        if time.monotonic() - _loaded_at < FRESH_SECONDS:
            return
        _categories = {c.code: c for c in Category.objects.filter(active=True)
                       .select_related("default_department")}
        _rules = list(RoutingRule.objects.filter(active=True).select_related("department", "category"))
        _departments = list(Department.objects.order_by("code"))
        _loaded_at = time.monotonic()


def _fresh() -> None:
    if time.monotonic() - _loaded_at >= FRESH_SECONDS:
        _load()


def category(code: str) -> Category | None:
    _fresh()
    return _categories.get(code)


def rules_for(category: Category) -> list[RoutingRule]:
    _fresh()
    return [r for r in _rules if r.category_id in (None, category.pk)]


def departments_of_type(kind: str) -> list[Department]:
    _fresh()
    return [d for d in _departments if d.type == kind]


def forget(**_: Any) -> None:
    global _loaded_at
    _loaded_at = 0.0


for _model in (Category, RoutingRule, Department):
    post_save.connect(forget, sender=_model, dispatch_uid=f"cases.lookups.{_model.__name__}.save")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"cases.lookups.{_model.__name__}.delete")
