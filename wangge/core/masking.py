"""Who sees which personal field in full: one policy for every page, API and export.

Each kind of field has a grade (`Sensitivity`, 数据分级), and the policy is one
table, role × grade → FULL (always shown), PURPOSE (shown when the reader
states why; the reason goes to the audit log) or MASKED (never shown in full
here; a department gets such data only through an exchange grant). Public data
is FULL for everyone.

Callers with a platform field use `visible`/`shown`/`rule`; callers that only
have a grade (the exchange's catalog items, exports) use `decision`. A reveal of
one masked field goes through `reveal_check`, which raises `core.errors`.

A deployment may change the table with the setting `WANGGE_MASKING_POLICY`
(role → grade → decision, merged over the defaults); a bad entry stops the
process at import with ImproperlyConfigured rather than silently showing data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wangge.core import identity
from wangge.core.errors import InvalidInput, OutOfScope


class Sensitivity(StrEnum):
    """How sensitive a kind of data is (数据分级): the exchange's catalog items
    and the platform's own fields are graded on the same scale."""

    PUBLIC = "public"  # 公开
    INTERNAL = "internal"  # 内部
    SENSITIVE = "sensitive"  # 敏感
    CORE = "core"  # 核心


class Field(StrEnum):
    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    ADDRESS = "address"
    SENSITIVE_TAG = "sensitive_tag"
    HEALTH = "health"  # health status, epidemic data (核酸、疫苗、隔离…)


FULL, PURPOSE, MASKED = "full", "purpose", "masked"
DECISIONS = frozenset({FULL, PURPOSE, MASKED})
GRADES = frozenset(s.value for s in Sensitivity)

GRADE: dict[Field, Sensitivity] = {
    Field.NAME: Sensitivity.INTERNAL,
    Field.ADDRESS: Sensitivity.INTERNAL,
    Field.PHONE: Sensitivity.SENSITIVE,
    Field.SENSITIVE_TAG: Sensitivity.SENSITIVE,
    Field.ID_NUMBER: Sensitivity.CORE,
    Field.HEALTH: Sensitivity.CORE,
}

INT, SEN, CORE = Sensitivity.INTERNAL, Sensitivity.SENSITIVE, Sensitivity.CORE

# Grid workers and community staff visit these people, so they see names, phones
# and the groups they serve; core data (ID number, health) needs a reason even
# for them. Street, district and admin desks need a reason for anything
# sensitive. Police work identity checks. The command centre's screen,
# departments and residents never see a person's data in full here.
# Public is not listed: it is FULL for every role (see build_policy).
DEFAULT_POLICY: dict[str, dict[Sensitivity, str]] = {
    "grid_worker": {INT: FULL, SEN: FULL, CORE: PURPOSE},
    "community_staff": {INT: FULL, SEN: FULL, CORE: PURPOSE},
    "street_staff": {INT: FULL, SEN: PURPOSE, CORE: PURPOSE},
    "district_staff": {INT: FULL, SEN: PURPOSE, CORE: PURPOSE},
    "police": {INT: FULL, SEN: FULL, CORE: FULL},
    "admin": {INT: FULL, SEN: PURPOSE, CORE: PURPOSE},
    "command_centre": {INT: MASKED, SEN: MASKED, CORE: MASKED},
    "department_staff": {INT: MASKED, SEN: MASKED, CORE: MASKED},
    "resident": {INT: MASKED, SEN: MASKED, CORE: MASKED},
}


def build_policy(overrides: Mapping[str, Mapping[str, str]] | None = None
                 ) -> dict[str, dict[Sensitivity, str]]:
    """The defaults with `overrides` merged in, each role complete over every
    grade. Raises ImproperlyConfigured on an unknown role, grade or decision,
    or on public data made anything but FULL."""
    table = {role: {Sensitivity.PUBLIC: FULL, **grades} for role, grades in DEFAULT_POLICY.items()}
    if overrides is None:
        return table
    if not isinstance(overrides, Mapping):
        raise ImproperlyConfigured("WANGGE_MASKING_POLICY 应为 {角色: {数据分级: 规则}} 的字典")
    for role, grades in overrides.items():
        if role not in table:
            raise ImproperlyConfigured(
                f"WANGGE_MASKING_POLICY：未知角色 {role!r}（可用：{'、'.join(sorted(table))}）")
        if not isinstance(grades, Mapping):
            raise ImproperlyConfigured(f"WANGGE_MASKING_POLICY[{role!r}] 应为 {{数据分级: 规则}} 的字典")
        for grade, decided in grades.items():
            if grade not in GRADES:
                raise ImproperlyConfigured(
                    f"WANGGE_MASKING_POLICY[{role!r}]：未知数据分级 {grade!r}"
                    f"（可用：{'、'.join(s.value for s in Sensitivity)}）")
            if not isinstance(decided, str) or decided not in DECISIONS:
                raise ImproperlyConfigured(
                    f"WANGGE_MASKING_POLICY[{role!r}][{grade!r}]：未知规则 {decided!r}"
                    f"（可用：{'、'.join(sorted(DECISIONS))}）")
            if grade == Sensitivity.PUBLIC and decided != FULL:
                raise ImproperlyConfigured(
                    f"WANGGE_MASKING_POLICY[{role!r}]：公开数据对所有角色都是 full")
            table[role][Sensitivity(grade)] = decided
    return table


def _configured_overrides() -> Any:
    # The module is imported by tools that run without settings (pure tests,
    # scripts); only a configured project can override the table.
    if not settings.configured:
        return None
    return getattr(settings, "WANGGE_MASKING_POLICY", None)


BY_GRADE: dict[str, dict[Sensitivity, str]] = build_policy(_configured_overrides())

# The same table per field, for readers that think in fields (and the tests
# that check every role has a rule for every field).
POLICY: dict[str, dict[Field, str]] = {
    role: {f: grades[GRADE[f]] for f in Field} for role, grades in BY_GRADE.items()}


def _label(text: str) -> Callable[[str], str]:
    """A mask that replaces the whole value with a label saying what is hidden."""
    return lambda value: (text if value != text else "*" * len(value)) if value else ""


MASKERS: dict[Field, Callable[[str], str]] = {
    Field.NAME: identity.mask_name,
    Field.ID_NUMBER: identity.mask_id_number,
    Field.PHONE: identity.mask_phone,
    Field.ADDRESS: identity.mask_text,
    Field.SENSITIVE_TAG: _label("特殊人群"),
    Field.HEALTH: _label("健康信息已隐藏"),
}

MIN_PURPOSE = 2


def role_of(user: Any) -> str:
    if getattr(user, "is_superuser", False):
        return "admin"
    return str(getattr(user, "role", "resident") or "resident")


def decision(user: Any, grade: Sensitivity | str) -> str:
    """FULL, PURPOSE or MASKED for data of this grade; an unknown role is
    treated as a resident, an unknown grade as core."""
    try:
        graded = Sensitivity(grade)
    except ValueError:
        graded = Sensitivity.CORE
    return BY_GRADE.get(role_of(user), BY_GRADE["resident"])[graded]


def rule(user: Any, field: Field) -> str:
    return decision(user, GRADE.get(field, Sensitivity.CORE))


def _has_purpose(purpose: str) -> bool:
    return len((purpose or "").strip()) >= MIN_PURPOSE


def visible(user: Any, field: Field, purpose: str = "") -> bool:
    """The field may be shown in full to this user for this purpose."""
    decided = rule(user, field)
    return decided == FULL or (decided == PURPOSE and _has_purpose(purpose))


def needs_purpose(user: Any, field: Field) -> bool:
    return rule(user, field) == PURPOSE


def mask(field: Field, value: str) -> str:
    masked = MASKERS[field](value)
    if masked != value or not value:
        return masked
    # A value that already looks masked ("王*", "***") must still not come back
    # as it was: a reader could not tell a mask from a real value.
    hidden = "*" * len(value)
    return hidden if hidden != value else "×" * len(value)


def shown(user: Any, field: Field, value: str, purpose: str = "") -> str:
    return value if visible(user, field, purpose) else mask(field, value)


def reveal_check(user: Any, field: Field, reason: str) -> str:
    """May this user see `field` in full for `reason`? Returns the reason as it
    goes to the audit log; raises OutOfScope (403, `reveal_not_allowed`) when
    the role never sees the field here, InvalidInput (422, `reason_required`)
    when the reason is blank or too short. The caller writes the audit entry."""
    if rule(user, field) == MASKED:
        raise OutOfScope("reveal_not_allowed", "您的角色无权查看该字段的完整信息")
    cleaned = (reason or "").strip()
    if len(cleaned) < MIN_PURPOSE:
        raise InvalidInput("reason_required", f"请填写查看完整信息的事由（至少{MIN_PURPOSE}个字），事由将记入审计日志",
                           fields={"reason": "required"})
    return cleaned
