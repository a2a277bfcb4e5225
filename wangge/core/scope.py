"""Who may see which rows. Every selector that returns rows goes through
`restrict`; single objects go through `ensure_covers`.

A user's scope is a set of area-code prefixes and/or a department. Codes carry
the hierarchy (district 6 digits, street 9, community 12, grid 15), so
"everything in this street" is a prefix match on an indexed column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from wangge.core.errors import OutOfScope

M = TypeVar("M", bound=Model)

# Roles whose scope is not bounded by area.
UNBOUNDED_ROLES = frozenset({"admin"})


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    prefixes: tuple[str, ...] = ()
    department_code: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.prefixes and not self.department_code

    def covers(self, code: str) -> bool:
        """The code lies inside the scope (itself or a descendant of a prefix)."""
        return self.everything or any(code.startswith(p) for p in self.prefixes)

    def sees_area(self, code: str) -> bool:
        """Areas are visible inside the scope and along the path above it, so a
        grid worker can see that their grid lies in its community and street."""
        return self.covers(code) or any(p.startswith(code) for p in self.prefixes)


NOTHING = Scope()
EVERYTHING = Scope(everything=True)


def scope_of(user: Any) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_superuser or getattr(user, "role", None) in UNBOUNDED_ROLES:
        return EVERYTHING
    prefixes = tuple(p for p in extra_prefixes(user) if p)
    if user.area_code:
        prefixes = (user.area_code, *prefixes)
    department = user.department.code if getattr(user, "department_id", None) else None
    return Scope(prefixes=_minimal(prefixes), department_code=department)


def extra_prefixes(user: Any) -> tuple[str, ...]:
    """Areas granted beyond the user's own area (a worker's further grids).
    Cached on the user object for the request."""
    cached = getattr(user, "_extra_scope_prefixes", None)
    if cached is None:
        cached = tuple(user.extra_areas.values_list("area_code", flat=True)) if user.pk else ()
        user._extra_scope_prefixes = cached
    return cached


def _minimal(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """Drop prefixes covered by a shorter one, so queries stay small."""
    kept: list[str] = []
    for p in sorted(set(prefixes), key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(kept)


def code_q(field: str, scope: Scope) -> Q:
    if scope.everything:
        return Q()
    if not scope.prefixes:
        return Q(pk__in=[])
    q = Q()
    for prefix in scope.prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def restrict(
    qs: QuerySet[M], user: Any, *, code_field: str, department_field: str | None = None
) -> QuerySet[M]:
    """Rows of `qs` inside the user's scope.

    With `department_field`, a user who belongs to a department sees only that
    department's rows, and within their area if they have one.
    """
    scope = scope_of(user)
    if scope.everything:
        return qs
    if department_field and scope.department_code:
        qs = qs.filter(**{department_field: scope.department_code})
        return qs.filter(code_q(code_field, scope)) if scope.prefixes else qs
    return qs.filter(code_q(code_field, scope))


def restrict_areas(qs: QuerySet[M], user: Any, *, code_field: str = "code") -> QuerySet[M]:
    """Areas inside the scope and their ancestors."""
    scope = scope_of(user)
    if scope.everything:
        return qs
    if not scope.prefixes:
        return qs.none()
    ancestors = {p[:n] for p in scope.prefixes for n in range(1, len(p))}
    return qs.filter(code_q(code_field, scope) | Q(**{f"{code_field}__in": ancestors}))


def ensure_covers(user: Any, code: str, what: str = "该区域") -> None:
    if not scope_of(user).covers(code):
        raise OutOfScope("out_of_scope", f"{what}（{code}）不在您的权限范围内")
