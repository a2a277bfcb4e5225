"""Every read of cases, on behalf of a user.

Who sees a case: an area role sees the cases of its area (the grid worker their
grids, street staff their street, the centre its district); a department sees
the cases dispatched to it; a resident sees what they reported. A case outside
the caller's view is answered as missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from wangge.cases import deadlines, rules
from wangge.cases.models import Case, CaseEvent, Category, RoutingRule, pk_from_code
from wangge.cases.routing import Candidate, candidates, route
from wangge.core import audit
from wangge.core.errors import NotFound
from wangge.core.masking import Field, shown
from wangge.core.scope import code_q, scope_of

AREA_ROLES = frozenset({"grid_worker", "community_staff", "street_staff", "district_staff",
                        "command_centre", "police"})
CENTRE_ROLES = {"community_staff": "community", "street_staff": "street",
                "district_staff": "district", "command_centre": "district", "admin": "city"}
DEPARTMENT_ROLES = frozenset({"department_staff", "police"})
SUPERVISOR_ROLES = frozenset({"command_centre", "district_staff", "admin"})
GRID_ROLES = frozenset({"grid_worker", "community_staff"})


def _role(user: Any) -> str:
    return "admin" if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def visible_cases(user: Any) -> QuerySet[Case]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Case.objects.none()
    scope = scope_of(user)
    if scope.everything:
        return Case.objects.all()
    role = _role(user)
    q = Q(reporter_id=user.pk)
    if role in AREA_ROLES and scope.prefixes:
        q |= code_q("area_code", scope)
    if role in DEPARTMENT_ROLES and user.department_id:
        q |= Q(department_id=user.department_id)
    return Case.objects.filter(q)


def _listed(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "department")


def case_for(user: Any, case_id: int | str) -> Case:
    pk = case_id if isinstance(case_id, int) else (pk_from_code(str(case_id)) or
                                                    (int(case_id) if str(case_id).isdigit() else 0))
    case = _listed(visible_cases(user)).filter(pk=pk).first()
    if case is None:
        raise NotFound("case_not_found", "未找到该案件，或不在您的权限范围内")
    return case


def cases_for(user: Any, *, state: str | None = None, category: str | None = None,
              area: str | None = None, overdue: bool | None = None, q: str | None = None
              ) -> QuerySet[Case]:
    qs = _listed(visible_cases(user))
    if state:
        qs = qs.filter(state__in=state.split(","))
    if category:
        qs = qs.filter(category__code=category)
    if area:
        qs = qs.filter(area_code__startswith=area)
    if overdue is not None:
        qs = qs.filter(overdue=overdue)
    if q:
        qs = qs.filter(Q(description__icontains=q) | Q(address_text__icontains=q))
    return qs.order_by("-reported_at")


def centre_queue(user: Any) -> QuerySet[Case]:
    """What waits for this user's centre: reports to register, cases to
    dispatch or re-dispatch, postponements to decide, at their level or below."""
    level = CENTRE_ROLES.get(_role(user))
    if level is None:
        return Case.objects.none()
    levels = rules.LEVELS[: rules.level_rank(level) + 1]
    waiting = Q(state__in=(rules.REPORTED, rules.REGISTERED, rules.RETURNED)) | Q(
        state=rules.ACCEPTED, postpone_until__isnull=False)
    return _listed(visible_cases(user)).filter(waiting, level__in=levels).order_by("reported_at")


def supervision_queue(user: Any) -> QuerySet[Case]:
    if _role(user) not in SUPERVISOR_ROLES:
        return Case.objects.none()
    return _listed(visible_cases(user)).filter(
        Q(overdue=True) | Q(supervised=True), state__in=rules.OPEN).order_by("handle_due")


def workbench(user: Any) -> QuerySet[Case]:
    """The department's cases to sign for and to handle."""
    if _role(user) not in DEPARTMENT_ROLES or not user.department_id:
        return Case.objects.none()
    return _listed(Case.objects.filter(department_id=user.department_id,
                                       state__in=(rules.DISPATCHED, rules.ACCEPTED))
                   ).order_by("handle_due")


def to_verify(user: Any) -> QuerySet[Case]:
    if _role(user) not in GRID_ROLES:
        return Case.objects.none()
    return _listed(visible_cases(user)).filter(state=rules.HANDLED).order_by("verify_due")


def reported_by(user: Any) -> QuerySet[Case]:
    return _listed(Case.objects.filter(reporter_id=user.pk)).order_by("-reported_at")


def timeline(user: Any, case: Case) -> QuerySet[CaseEvent]:
    case_for(user, case.pk)
    return case.events.select_related("actor").order_by("at", "id")


def actor_for(user: Any, case: Case) -> rules.Actor:
    """The parties `user` plays for this case, as the transition table knows them."""
    if user is None:
        return rules.Actor(frozenset({rules.SYSTEM}))
    role = _role(user)
    scope = scope_of(user)
    parties: set[str] = set()
    in_area = (bool(case.area_code) and scope.covers(case.area_code)) or scope.everything
    level = CENTRE_ROLES.get(role)
    if role == "command_centre" and user.area_code and len(user.area_code) < 6:
        level = "city"
    if level and in_area:
        parties.add(rules.CENTRE)
    if role in SUPERVISOR_ROLES and in_area:
        parties.add(rules.SUPERVISOR)
    if role in DEPARTMENT_ROLES and user.department_id and user.department_id == case.department_id:
        parties.add(rules.DEPARTMENT)
    if role in GRID_ROLES and case.grid_code and scope.covers(case.grid_code):
        parties.add(rules.GRID)
    if case.reporter_id and case.reporter_id == user.pk:
        parties.add(rules.REPORTER)
    return rules.Actor(frozenset(parties), level if rules.CENTRE in parties else None)


def steps_for(user: Any, case: Case) -> list[rules.Transition]:
    return rules.available(actor_for(user, case), rules.Facts(
        case.state, case.level, postpone_pending=case.postpone_until is not None,
        rated=case.rating is not None))


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    full: bool


def contact_of(user: Any, case: Case, purpose: str = "") -> Contact:
    """The reporter's contact as this user may see it; a full read is audited."""
    name = shown(user, Field.NAME, case.contact_name, purpose) if case.contact_name else ""
    phone = shown(user, Field.PHONE, case.contact_phone, purpose) if case.contact_phone else ""
    full = bool(case.contact_phone and phone == case.contact_phone)
    if full:
        audit.record(user, "case.contact.read", "case", case.pk, fields=["contact_phone"],
                     reason=purpose)
    return Contact(name, phone, full)


# --- public, by tracking code ------------------------------------------------


def public_status(tracking_code: str) -> dict[str, Any]:
    """What a resident sees by their tracking code: no names, no contact."""
    case = (Case.objects.select_related("category", "department")
            .filter(tracking_code=tracking_code.strip().upper()).first())
    if case is None:
        raise NotFound("case_not_found", "查询码无效，请核对后重试")
    steps = public_steps(list(case.events.order_by("at", "id")))
    return {"case": case, "state": rules.STATE_NAMES.get(case.state, case.state), "steps": steps,
            "can_rate": case.state == rules.CLOSED and case.rating is None}


PUBLIC_LABELS = {
    "report": "已收到您的上报", "register": "已立案", "dispatch": "已派遣至处置部门",
    "accept": "部门已签收", "handle": "部门已处置", "verify": "网格员现场核查通过",
    "rework": "核查未通过，部门返工中", "close": "已结案", "reject": "不予立案",
    "merge": "与已有案件合并处理", "cancel": "已撤销", "withdraw": "已撤回", "rate": "已评价",
    "escalate": "已提交上级处理", "return": "重新派遣中",
}


# Steps whose note the public may read: what was done, or why not.
PUBLIC_NOTES = frozenset({"handle", "reject", "merge", "verify"})


def public_steps(events: list[CaseEvent]) -> list[dict[str, Any]]:
    """The timeline as a resident or an Open311 client sees it: labels, and
    notes only of the steps that answer the report."""
    return [{"at": e.at, "action": e.action, "label": PUBLIC_LABELS[e.action],
             "note": e.note.strip() if e.action in PUBLIC_NOTES else ""}
            for e in events if e.action in PUBLIC_LABELS]


# --- routing tool ---------------------------------------------------------------


@dataclass(frozen=True)
class RouteExplanation:
    category: Category
    grid_code: str
    area_code: str
    layers: dict[str, str]
    outside: bool
    department: Any
    reason: str
    candidates: list[Candidate]


def explain_route(user: Any, category_code: str, lon: float, lat: float, crs: str = "wgs84"
                  ) -> RouteExplanation:
    from wangge.cases.services import Report, _category, _locate, _point

    category = _category(category_code)
    if category is None:
        raise NotFound("unknown_category", "请选择案件类别")
    x, y = _point(Report("", lon=lon, lat=lat, crs=crs))
    place = _locate(x, y)
    found = route(category, place.area_code, place.layers) if place.area_code else None
    return RouteExplanation(category, place.grid_code, place.area_code, place.layers, place.outside,
                            found.department if found else None,
                            found.reason if found else "没有可用的派遣规则，也没有默认部门",
                            candidates(category, place.area_code, place.layers))


def dispatch_targets(user: Any) -> QuerySet[Any]:
    """Departments a centre may dispatch to; a case goes only to one that
    serves its area (services._department checks it)."""
    from wangge.accounts.models import Department

    if _role(user) not in CENTRE_ROLES:
        return Department.objects.none()
    return Department.objects.order_by("code")


def routing_rules(user: Any) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.select_related("category", "department").order_by(
        "category__code", "area_prefix")


def categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("code")


# --- figures for the map --------------------------------------------------------


def open_by_grid(user: Any) -> dict[str, dict[str, int]]:
    """Open and overdue cases per grid, for the command centre's case layer."""
    rows = (visible_cases(user).filter(state__in=rules.OPEN).exclude(grid_code="")
            .values("grid_code").annotate(open=Count("id"), overdue=Count("id", filter=Q(overdue=True))))
    return {r["grid_code"]: {"open": r["open"], "overdue": r["overdue"]} for r in rows}


def state_counts(user: Any) -> Counter[str]:
    return Counter(dict(visible_cases(user).values_list("state").annotate(n=Count("id"))))


def time_left(case: Case, now: datetime | None = None) -> float | None:
    if case.state not in rules.CLOCK_RUNS:
        return None
    return deadlines.remaining(case, now or timezone.now())


def cases_by_area(user: Any, codes: list[str]) -> dict[str, dict[str, Any]]:
    """Map figures: open and overdue cases in each of these areas."""
    if not codes:
        return {}
    per_area = (visible_cases(user).filter(state__in=rules.OPEN)
                .values_list("area_code").annotate(open=Count("id"), overdue=Count("id", filter=Q(overdue=True))))
    out = {code: {"cases_open": 0, "cases_overdue": 0} for code in codes}
    for area, n_open, n_overdue in per_area:
        for code in codes:
            if area.startswith(code):
                out[code]["cases_open"] += n_open
                out[code]["cases_overdue"] += n_overdue
    return out
