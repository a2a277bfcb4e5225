"""Every read of the proactive app, on behalf of a user.

Rules are the district's configuration: every staff role may read them and
their run figures (counts, no personal data); the open tasks beside each rule
are counted inside the reader's area only. Water accounts and flags are
scoped by their grid, imports by who uploaded them (all of them for a user
whose scope is not bounded). A missing object and a forbidden one answer alike.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from wangge.accounts.models import Role
from wangge.core.errors import InvalidInput, NotFound
from wangge.core.scope import restrict, scope_of
from wangge.proactive import rules
from wangge.proactive.models import FlagKind, Rule, RuleRun, WaterAccount, WaterFlag, WaterImport
from wangge.workforce.models import Task, TaskStatus

STAFF_ROLES = frozenset(set(Role.values) - {Role.RESIDENT})


def is_staff(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser) or getattr(user, "role", "") in STAFF_ROLES


# --- rules -------------------------------------------------------------------------


def rules_for(user: Any) -> QuerySet[Rule]:
    if not is_staff(user):
        return Rule.objects.none()
    return Rule.objects.filter(code__in=list(rules.CATALOGUE)).order_by("code")


def rule_for(user: Any, code: str) -> Rule:
    rule = rules_for(user).filter(code=code).first()
    if rule is None:
        raise NotFound("rule_not_found", f"没有编码为 {code} 的规则，或您无权查看")
    return rule


def runs_for(user: Any, code: str | None = None) -> QuerySet[RuleRun]:
    qs = RuleRun.objects.select_related("rule", "by").filter(rule__in=rules_for(user))
    return qs.filter(rule__code=code) if code else qs


def last_runs(user: Any) -> dict[str, RuleRun]:
    """rule code → its latest run."""
    out: dict[str, RuleRun] = {}
    for rule in rules_for(user):
        run = runs_for(user, rule.code).order_by("-started_at", "-id").first()
        if run is not None:
            out[rule.code] = run
    return out


def open_tasks_by_rule(user: Any) -> dict[str, int]:
    """rule code → open tasks it raised inside the user's area."""
    if not is_staff(user):
        return {}
    prefix = "proactive."
    qs = restrict(Task.objects.filter(source__startswith=prefix, status=TaskStatus.OPEN), user,
                  code_field="grid_code")
    rows = qs.values("source").annotate(n=Count("pk")).values_list("source", "n")
    return {source[len(prefix):]: n for source, n in rows}


def rule_params(rule: Rule) -> dict[str, Any]:
    """The parameters in force (defaults filled in); {} when the stored ones are
    invalid, which the rule's last run then explains."""
    try:
        return rules.effective_params(rules.CATALOGUE[rule.code], rule.params)
    except (KeyError, rules.ParamError):
        return {}


# --- water ----------------------------------------------------------------------------


def imports_for(user: Any) -> QuerySet[WaterImport]:
    if not is_staff(user):
        return WaterImport.objects.none()
    qs = WaterImport.objects.select_related("by")
    return qs if scope_of(user).everything else qs.filter(by=user)


def import_for(user: Any, pk: int) -> WaterImport:
    found = imports_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound("water_import_not_found", "未找到该次用水数据导入，或不在您的权限范围内")
    return found


def flags_for(user: Any, *, kind: str | None = None) -> QuerySet[WaterFlag]:
    qs = restrict(WaterFlag.objects.select_related("account", "account__house__address"), user,
                  code_field="account__grid_code")
    if kind:
        if kind not in FlagKind.values:
            raise InvalidInput("bad_flag_kind", f"异常类别应为 {'、'.join(FlagKind.values)} 之一", fields={"kind": "取值无效"})
        qs = qs.filter(kind=kind)
    return qs.order_by("-period_end", "-id")


def accounts_for(user: Any, *, unmatched: bool | None = None) -> QuerySet[WaterAccount]:
    qs = restrict(WaterAccount.objects.select_related("address", "house"), user, code_field="grid_code")
    if unmatched is not None:
        qs = qs.filter(house__isnull=unmatched)
    return qs.order_by("account_no")
