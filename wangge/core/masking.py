"""Who sees which personal field in full.

One table, role × kind of field → FULL (always shown), PURPOSE (shown when the
reader states why; the reason goes to the audit log) or MASKED (never shown in
full here; a department gets such data only through an exchange grant).
Pure module: selectors and exports call `visible` and `mask`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from wangge.core import identity


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


FULL, PURPOSE, MASKED = "full", "purpose", "masked"

N, ID, P, A, T = Field.NAME, Field.ID_NUMBER, Field.PHONE, Field.ADDRESS, Field.SENSITIVE_TAG

# Grid workers and community staff visit these people, so they see names, phones
# and the groups they serve; an ID number needs a reason even for them.
POLICY: dict[str, dict[Field, str]] = {
    "grid_worker": {N: FULL, P: FULL, A: FULL, T: FULL, ID: PURPOSE},
    "community_staff": {N: FULL, P: FULL, A: FULL, T: FULL, ID: PURPOSE},
    "street_staff": {N: FULL, A: FULL, P: PURPOSE, T: PURPOSE, ID: PURPOSE},
    "district_staff": {N: FULL, A: FULL, P: PURPOSE, T: PURPOSE, ID: PURPOSE},
    "police": {N: FULL, P: FULL, A: FULL, T: FULL, ID: FULL},
    "admin": {N: FULL, A: FULL, P: PURPOSE, T: PURPOSE, ID: PURPOSE},
    "command_centre": {N: MASKED, P: MASKED, A: MASKED, T: MASKED, ID: MASKED},
    "department_staff": {N: MASKED, P: MASKED, A: MASKED, T: MASKED, ID: MASKED},
    "resident": {N: MASKED, P: MASKED, A: MASKED, T: MASKED, ID: MASKED},
}

MASKERS: dict[Field, Callable[[str], str]] = {
    Field.NAME: identity.mask_name,
    Field.ID_NUMBER: identity.mask_id_number,
    Field.PHONE: identity.mask_phone,
    Field.ADDRESS: identity.mask_text,
    Field.SENSITIVE_TAG: lambda value: "特殊人群" if value else "",
}

MIN_PURPOSE = 2


def role_of(user: Any) -> str:
    if getattr(user, "is_superuser", False):
        return "admin"
    return str(getattr(user, "role", "resident") or "resident")


def rule(user: Any, field: Field) -> str:
    return POLICY.get(role_of(user), POLICY["resident"]).get(field, MASKED)


def visible(user: Any, field: Field, purpose: str = "") -> bool:
    """The field may be shown in full to this user for this purpose."""
    decided = rule(user, field)
    return decided == FULL or (decided == PURPOSE and len(purpose.strip()) >= MIN_PURPOSE)


def needs_purpose(user: Any, field: Field) -> bool:
    return rule(user, field) == PURPOSE


def mask(field: Field, value: str) -> str:
    return MASKERS[field](value)


def shown(user: Any, field: Field, value: str, purpose: str = "") -> str:
    return value if visible(user, field, purpose) else mask(field, value)
