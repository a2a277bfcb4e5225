"""Every read of the exchange, on behalf of a user.

Published catalogs are a shop window: any staff member may browse them.
Drafts, applications, grants, clients and call logs belong to the
departments on either side of them (and administrators)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from wangge.accounts.models import Department, Role
from wangge.core.errors import NotFound, OutOfScope
from wangge.exchange import rules
from wangge.exchange.models import (
    Application,
    ApplicationStatus,
    CallLog,
    Catalog,
    CatalogItem,
    CatalogStatus,
    Client,
    Endpoint,
    Grant,
    ShareClass,
)
from wangge.exchange.services import is_admin

BROWSERS = frozenset({Role.ADMIN, Role.DISTRICT_STAFF, Role.STREET_STAFF, Role.COMMUNITY_STAFF,
                      Role.DEPARTMENT_STAFF, Role.COMMAND_CENTRE, Role.POLICE})


def _role(user: Any) -> str:
    return "admin" if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def may_browse(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _role(user) in BROWSERS


def _require_browser(user: Any) -> None:
    if not may_browse(user):
        raise OutOfScope("exchange_forbidden", "数据共享交换面向部门和各级工作人员")


def department_of(user: Any) -> Department | None:
    return getattr(user, "department", None) if getattr(user, "department_id", None) else None


def catalogs_for(user: Any, q: str = "", *, share_class: str = "", owner: str = "",
                 backing: str = "") -> QuerySet[Catalog]:
    """Published catalogs, and the user's own department's drafts; searched
    in names, descriptions, item names and the owner's name."""
    _require_browser(user)
    qs = Catalog.objects.select_related("owner")
    if not is_admin(user):
        mine = Q(owner_id=getattr(user, "department_id", None)) if getattr(user, "department_id", None) else Q(pk__in=[])
        qs = qs.filter(Q(status=CatalogStatus.PUBLISHED) | mine)
    for word in q.split()[:5]:
        # Item names through a subquery: a join would make the item count below
        # count only the matching items.
        named = CatalogItem.objects.filter(name__icontains=word).values("catalog_id")
        qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(code__icontains=word)
                       | Q(owner__name__icontains=word) | Q(pk__in=named))
    if share_class:
        qs = qs.filter(share_class=share_class)
    if owner:
        qs = qs.filter(owner__code=owner)
    if backing:
        qs = qs.filter(backing=backing)
    return qs.annotate(item_count=Count("items", distinct=True)).order_by("code")


def catalog_for(user: Any, code: str) -> Catalog:
    catalog = catalogs_for(user).filter(code=code).first()
    if catalog is None:
        raise NotFound("catalog_not_found", f"目录 {code} 不存在或未发布")
    return catalog


def items_of(catalog: Catalog) -> list[CatalogItem]:
    return list(catalog.items.all())


def _dept_q(user: Any, *, requester: str, owner: str) -> Q:
    dept = getattr(user, "department_id", None)
    if is_admin(user):
        return Q()
    if not dept:
        return Q(pk__in=[])
    return Q(**{requester: dept}) | Q(**{owner: dept})


def applications_for(user: Any, *, box: str = "all", status: str = "") -> QuerySet[Application]:
    """`box`: "mine" (my department applied), "incoming" (for my department's
    catalogs) or "all" of both."""
    _require_browser(user)
    dept = getattr(user, "department_id", None)
    qs = Application.objects.select_related("catalog__owner", "department", "applicant", "decided_by")
    if box == "mine":
        qs = qs.filter(department_id=dept) if dept else qs.none()
    elif box == "incoming":
        qs = qs.filter(catalog__owner_id=dept) if dept else (qs if is_admin(user) else qs.none())
    qs = qs.filter(_dept_q(user, requester="department_id", owner="catalog__owner_id"))
    if status:
        qs = qs.filter(status=status)
    return qs.prefetch_related("items")


def application_for(user: Any, pk: int) -> Application:
    application = applications_for(user).filter(pk=pk).first()
    if application is None:
        raise NotFound("application_not_found", "申请不存在，或不属于本部门")
    return application


@dataclass
class GrantRow:
    grant: Grant
    state: str
    items: list[tuple[str, str, bool]]  # key, name, masked


STATE_LABELS = {"active": "生效中", "pending": "未生效", "expired": "已到期", "revoked": "已撤销"}


def grants_for(user: Any, *, state: str = "") -> list[GrantRow]:
    _require_browser(user)
    today = timezone.localdate()
    qs = (Grant.objects.filter(_dept_q(user, requester="department_id", owner="catalog__owner_id"))
          .select_related("catalog__owner", "department").prefetch_related("grant_items__item"))
    rows = [GrantRow(g, rules.grant_state(g.starts, g.ends, g.revoked_at is not None, today),
                     [(gi.item.key, gi.item.name, gi.masked) for gi in g.grant_items.all()])
            for g in qs.order_by("-created_at")[:500]]
    return [r for r in rows if not state or r.state == state]


def grant_for(user: Any, pk: int) -> Grant:
    grant = Grant.objects.filter(_dept_q(user, requester="department_id", owner="catalog__owner_id"),
                                 pk=pk).select_related("catalog__owner", "department").first()
    if grant is None:
        raise NotFound("grant_not_found", "授权不存在，或不属于本部门")
    return grant


def clients_for(user: Any) -> QuerySet[Client]:
    _require_browser(user)
    qs = Client.objects.select_related("department")
    if is_admin(user):
        return qs
    dept = getattr(user, "department_id", None)
    return qs.filter(department_id=dept) if dept else qs.none()


def client_for(user: Any, pk: int) -> Client:
    client = clients_for(user).filter(pk=pk).first()
    if client is None:
        raise NotFound("client_not_found", "接入凭据不存在，或不属于本部门")
    return client


def calls_for(user: Any, *, department: str = "", catalog: str = "", endpoint: str = "",
              status: str = "", since: date | None = None, until: date | None = None) -> QuerySet[CallLog]:
    """Calls made by the user's department or to its catalogs; all for admins."""
    _require_browser(user)
    qs = CallLog.objects.filter(_dept_q(user, requester="department_id", owner="catalog__owner_id"))
    if department:
        qs = qs.filter(department__code=department)
    if catalog:
        qs = qs.filter(catalog__code=catalog)
    if endpoint:
        qs = qs.filter(endpoint=endpoint)
    if status == "ok":
        qs = qs.filter(status__lt=400)
    elif status == "refused":
        qs = qs.filter(status__gte=400)
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs.select_related("department", "catalog", "client").order_by("-at", "-pk")


# --- statistics (the big screen) ----------------------------------------------------


def stats(user: Any, *, days: int = 30) -> dict[str, Any]:
    """Figures over the whole exchange, as on the command centre's screen:
    calls per interface, per department and per day; catalogs ranked by the
    departments hooked to them; the share-class proportions of catalogs and
    items. Aggregates only, so any browser may see them."""
    _require_browser(user)
    days = max(1, min(days, 366))
    since = timezone.now() - timedelta(days=days)
    calls = CallLog.objects.filter(at__gte=since)
    endpoint_labels = dict(Endpoint.choices)
    per_endpoint = Counter({str(endpoint_labels.get(r["endpoint"], r["endpoint"])): r["n"]
                            for r in calls.values("endpoint").annotate(n=Count("pk"))})
    per_day: dict[str, dict[str, int]] = {}
    for r in calls.annotate(day=TruncDate("at")).values("day", "endpoint").annotate(n=Count("pk")):
        per_day.setdefault(r["day"].isoformat(), {})[str(endpoint_labels.get(r["endpoint"], r["endpoint"]))] = r["n"]
    per_department = [{"department": r["department__name"] or "（未识别）", "calls": r["n"],
                       "refused": r["refused"]}
                      for r in calls.values("department__name").annotate(
                          n=Count("pk"), refused=Count("pk", filter=Q(status__gte=400))).order_by("-n")[:20]]
    today = timezone.localdate()
    hooked = (Catalog.objects.filter(status=CatalogStatus.PUBLISHED)
              .annotate(departments=Count("grants__department", distinct=True, filter=Q(
                  grants__revoked_at__isnull=True, grants__starts__lte=today, grants__ends__gte=today)))
              .select_related("owner").order_by("-departments", "code")[:20])
    catalog_calls = dict(calls.filter(catalog__isnull=False).values("catalog_id")
                         .annotate(n=Count("pk")).values_list("catalog_id", "n"))
    published = Catalog.objects.filter(status=CatalogStatus.PUBLISHED)
    class_labels = dict(ShareClass.choices)
    by_class = {str(class_labels[c]): 0 for c in ShareClass.values}
    items_by_class = dict(by_class)
    for r in published.values("share_class").annotate(n=Count("pk")):
        by_class[str(class_labels[r["share_class"]])] = r["n"]
    for r in CatalogItem.objects.filter(catalog__in=published).values("catalog__share_class").annotate(n=Count("pk")):
        items_by_class[str(class_labels[r["catalog__share_class"]])] = r["n"]
    catalogs_total = sum(by_class.values())
    items_total = sum(items_by_class.values())
    return {
        "days": days,
        "totals": {
            "calls": sum(per_endpoint.values()),
            "refused": calls.filter(status__gte=400).count(),
            # Providing a published catalog or holding a grant in force.
            "departments_connected": Department.objects.filter(
                Q(catalogs__status=CatalogStatus.PUBLISHED)
                | Q(grants__revoked_at__isnull=True, grants__starts__lte=today, grants__ends__gte=today))
            .distinct().count(),
            "catalogs": catalogs_total, "items": items_total,
            "applications_pending": Application.objects.filter(status=ApplicationStatus.PENDING).count(),
        },
        "per_endpoint": dict(per_endpoint),
        "per_day": [{"day": d, **v} for d, v in sorted(per_day.items())],
        "per_department": per_department,
        "catalog_ranking": [{"code": c.code, "name": c.name, "owner": c.owner.name,
                             "departments": c.departments, "calls": catalog_calls.get(c.pk, 0)}
                            for c in hooked],
        "share_classes": [{"share_class": k, "catalogs": by_class[k], "items": items_by_class[k],
                           "catalog_share": round(100 * by_class[k] / catalogs_total, 2) if catalogs_total else 0.0,
                           "item_share": round(100 * items_by_class[k] / items_total, 2) if items_total else 0.0}
                          for k in by_class],
    }
