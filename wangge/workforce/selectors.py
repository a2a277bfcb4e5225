"""Every read of the workforce app, each taking the reader: a grid worker sees
their own work, community and street staff the work of the grids in their
scope. An object outside the reader's reach answers like a missing one."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from wangge.accounts.models import Role
from wangge.core.errors import NotFound
from wangge.core.scope import code_q, restrict, scope_of
from wangge.core.xlsx import Watermark, safe_text, stamp_workbook
from wangge.registry.models import Household, HouseholdMember
from wangge.registry.vocab import SENSITIVE_TAGS, TAGS
from wangge.workforce import scoring
from wangge.workforce.models import (
    MonthlyScore,
    Patrol,
    PatrolDay,
    PointsEntry,
    Task,
    TaskStatus,
    TrackPoint,
    Visit,
    VisitPolicy,
    Worker,
)

# Who oversees grid workers' work in their area (tasks, tracks, rankings).
OVERSEERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.COMMAND_CENTRE,
                       Role.ADMIN, Role.POLICE})
LIVE_WINDOW = timedelta(minutes=5)


def _role(user: Any) -> str:
    return "admin" if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def oversees(user: Any) -> bool:
    return _active(user) and _role(user) in OVERSEERS


# ---- workers -----------------------------------------------------------------


def workers_for(user: Any) -> QuerySet[Worker]:
    """Workers with a grid in the reader's scope (a worker: only themself)."""
    qs = Worker.objects.select_related("user").prefetch_related("assignments")
    if not _active(user):
        return qs.none()
    if _role(user) == Role.GRID_WORKER:
        return qs.filter(user=user)
    if not oversees(user):
        return qs.none()
    scope = scope_of(user)
    if scope.everything:
        return qs
    return qs.filter(pk__in=Worker.objects.filter(code_q("assignments__grid_code", scope)).values("pk"))


def worker_for(user: Any, worker_id: int) -> Worker:
    worker = workers_for(user).filter(pk=worker_id).first()
    if worker is None:
        raise NotFound("worker_not_found", f"网格员 {worker_id} 不存在或不在您的权限范围内")
    return worker


# ---- tasks -------------------------------------------------------------------


def tasks_for(user: Any, *, status: str | None = TaskStatus.OPEN, overdue: bool = False,
              kind: str = "", area: str = "", now: datetime | None = None) -> QuerySet[Task]:
    """A worker's own tasks; for overseers, every task of the grids in scope
    (unassigned ones included: they wait for someone to take them)."""
    qs = Task.objects.select_related("assignee")
    if not _active(user):
        return qs.none()
    if _role(user) == Role.GRID_WORKER:
        qs = qs.filter(assignee=user)
    elif oversees(user):
        qs = restrict(qs, user, code_field="grid_code")
    else:
        return qs.none()
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status=TaskStatus.OPEN, due_at__lt=now or timezone.now())
    if kind:
        qs = qs.filter(kind=kind)
    if area:
        qs = qs.filter(grid_code__startswith=area)
    return qs.order_by("due_at", "id")


def task_for(user: Any, task_id: int) -> Task:
    task = tasks_for(user, status=None).filter(pk=task_id).first()
    if task is None:
        raise NotFound("task_not_found", f"任务 {task_id} 不存在或不在您的权限范围内")
    return task


def task_counts(user: Any, now: datetime | None = None) -> dict[str, int]:
    qs = tasks_for(user)
    now = now or timezone.now()
    return {"open": qs.count(), "overdue": qs.filter(due_at__lt=now).count(),
            "today": qs.filter(due_at__lt=now + timedelta(days=1)).count()}


# ---- patrols -----------------------------------------------------------------


def patrols_for(user: Any) -> QuerySet[Patrol]:
    return Patrol.objects.filter(worker__in=workers_for(user)).select_related("worker__user")


def patrol_for(user: Any, patrol_id: int) -> Patrol:
    patrol = patrols_for(user).filter(pk=patrol_id).first()
    if patrol is None:
        raise NotFound("patrol_not_found", f"巡查 {patrol_id} 不存在或不在您的权限范围内")
    return patrol


def active_patrol(user: Any) -> Patrol | None:
    return Patrol.objects.filter(worker__user=user, status="active").first()


@dataclass(frozen=True)
class Position:
    worker_id: int
    name: str
    grid_code: str
    lon: float
    lat: float
    at: datetime
    patrolling: bool


def live_positions(user: Any, now: datetime | None = None) -> list[Position]:
    """Workers whose last fix is at most five minutes old: who is out now."""
    now = now or timezone.now()
    qs = workers_for(user).filter(last_at__gte=now - LIVE_WINDOW, last_lon__isnull=False)
    patrolling = set(Patrol.objects.filter(worker__in=qs, status="active").values_list("worker_id", flat=True))
    return [Position(w.pk, str(w.user), w.last_grid_code, float(w.last_lon or 0), float(w.last_lat or 0),
                     w.last_at, w.pk in patrolling) for w in qs if w.last_at is not None]


def day_track(user: Any, worker_id: int, day: date) -> dict[str, Any]:
    """A worker's fixes of one local day as GeoJSON: one line per patrol."""
    worker = worker_for(user, worker_id)
    start = timezone.make_aware(datetime.combine(day, time.min))
    points = (TrackPoint.objects.filter(patrol__worker=worker, at__gte=start, at__lt=start + timedelta(days=1))
              .order_by("patrol_id", "at").values_list("patrol_id", "at", "lon", "lat", "grid_code"))
    lines: dict[int, list[tuple[datetime, float, float, str]]] = {}
    for patrol_id, at, lon, lat, grid in points:
        lines.setdefault(patrol_id, []).append((at, lon, lat, grid))
    summary = PatrolDay.objects.filter(worker=worker, day=day).first()
    return {
        "type": "FeatureCollection",
        "worker": {"id": worker.pk, "name": str(worker.user)},
        "day": day.isoformat(),
        "summary": _day_dict(summary) if summary else None,
        "features": [{
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[round(p[1], 6), round(p[2], 6)] for p in pts]},
            "properties": {"patrol": pid, "start": pts[0][0].isoformat(), "end": pts[-1][0].isoformat(),
                           "points": len(pts)},
        } for pid, pts in lines.items()],
    }


def _day_dict(d: PatrolDay) -> dict[str, Any]:
    return {"day": d.day.isoformat(), "points": d.points, "distance_m": d.distance_m, "inside_s": d.inside_s,
            "morning_inside_s": d.morning_inside_s, "afternoon_inside_s": d.afternoon_inside_s,
            "coverage": d.coverage, "compliant": d.compliant, "flags": d.flags}


def patrol_days(user: Any, *, day: date | None = None, worker_id: int | None = None) -> QuerySet[PatrolDay]:
    qs = PatrolDay.objects.filter(worker__in=workers_for(user)).select_related("worker__user")
    if day:
        qs = qs.filter(day=day)
    if worker_id:
        qs = qs.filter(worker_id=worker_id)
    return qs.order_by("-day", "worker_id")


# ---- visits ------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdDue:
    household_id: int
    address: str
    grid_code: str
    members: list[dict[str, Any]]
    groups: list[str]
    every_days: int | None
    last_visit: datetime | None
    due: datetime | None
    overdue: bool


def households_to_visit(user: Any, now: datetime | None = None) -> list[HouseholdDue]:
    """The reader's households with someone of a group that is visited on a
    schedule, the most overdue first."""
    now = now or timezone.now()
    if not (_role(user) == Role.GRID_WORKER or oversees(user)):
        return []
    policies = dict(VisitPolicy.objects.values_list("tag", "every_days"))
    members = HouseholdMember.objects.select_related("person").prefetch_related("person__tags")
    qs = (restrict(Household.objects.all(), user, code_field="grid_code")
          .filter(members__person__tags__tag__in=list(policies)).distinct()
          .select_related("address").prefetch_related(Prefetch("members", queryset=members))
          .annotate(last_visit=Max("visits__at")))
    out: list[HouseholdDue] = []
    for h in qs[:2000]:
        tags = sorted({t.tag for m in h.members.all() for t in m.person.tags.all() if t.tag in policies})
        every = min((policies[t] for t in tags), default=None)
        due = (h.last_visit + timedelta(days=every)) if (every and h.last_visit) else None
        out.append(HouseholdDue(
            h.pk, h.address.full_name if h.address else h.key, h.grid_code,
            [{"id": m.person_id, "name": m.person.name, "relation": m.get_relation_display()}
             for m in h.members.all()],
            [TAGS.get(t, t) if t not in SENSITIVE_TAGS else "重点关爱" for t in tags], every, h.last_visit, due,
            overdue=every is not None and (h.last_visit is None or (due is not None and due < now))))
    out.sort(key=lambda d: (not d.overdue, d.due or datetime.min.replace(tzinfo=now.tzinfo)))
    return out


def household_for(user: Any, household_id: int) -> Household:
    household = (restrict(Household.objects.all(), user, code_field="grid_code")
                 .select_related("address").filter(pk=household_id).first())
    if household is None or not (_role(user) == Role.GRID_WORKER or oversees(user)):
        raise NotFound("household_not_found", f"户 {household_id} 不存在，或不在您负责的网格内")
    return household


def visits_for(user: Any) -> QuerySet[Visit]:
    """Visits to the households of the reader's grids, whoever made them: a
    worker taking over a grid sees what their predecessor found."""
    qs = Visit.objects.select_related("worker__user", "household__address", "person")
    if not (_role(user) == Role.GRID_WORKER or oversees(user)):
        return qs.none()
    return restrict(qs, user, code_field="grid_code")


# ---- assessment --------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    score: MonthlyScore
    rank: int
    of: int
    area: str


def ranking(user: Any, month: date, *, level: str = "community") -> list[Ranked]:
    """The month's scores of the workers in scope, ranked within their community
    (grid code's first 12 digits) or street (first 9)."""
    width = {"community": 12, "street": 9, "district": 6}.get(level, 12)
    qs = (MonthlyScore.objects.filter(month=month.replace(day=1), worker__in=workers_for(user))
          .select_related("worker__user"))
    groups: dict[str, list[MonthlyScore]] = {}
    for s in qs:
        groups.setdefault(s.grid_code[:width], []).append(s)
    out: list[Ranked] = []
    for area, rows in sorted(groups.items()):
        rows.sort(key=lambda r: (-r.score, r.worker_id))
        for row, place in zip(rows, scoring.rank([r.score for r in rows]), strict=True):
            out.append(Ranked(row, place, len(rows), area))
    return out


# What ranking_xlsx writes, for the export's record (core.exports).
RANKING_FIELDS = ("area", "rank", "worker", "grid_code", *scoring.PARTS, "score", "figures")


def ranking_xlsx(rows: list[Ranked], *, month: date, level: str,
                 watermark: Watermark | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "网格员考核"
    ws.append([f"网格员月度考核排名（{month:%Y年%m月}，按{'街道' if level == 'street' else '社区'}排名）"])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    header = ["区域", "排名", "网格员", "网格", *(scoring.PART_NAMES[p] for p in scoring.PARTS), "总分",
              "达标天数", "工作日", "有效上报", "应走访户", "已走访户", "到期任务", "按时完成", "核查", "按时核查",
              "评价数"]
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        s, f = r.score, r.score.figures
        ws.append([r.area, r.rank, safe_text(str(s.worker.user)), s.grid_code,
                   *(None if p in f.get("missing", []) else getattr(s, p) for p in scoring.PARTS), s.score,
                   f.get("compliant_days"), f.get("workdays"), f.get("valid_reports"), f.get("households_due"),
                   f.get("households_visited"), f.get("tasks_due"), f.get("tasks_on_time"), f.get("verified"),
                   f.get("verified_on_time"), f.get("ratings")])
    ws.freeze_panes = "C3"
    if watermark is not None:
        stamp_workbook(wb, watermark)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ledger(user: Any, worker_id: int) -> tuple[Worker, QuerySet[PointsEntry], int]:
    worker = worker_for(user, worker_id)
    entries = PointsEntry.objects.filter(worker=worker).select_related("by")
    return worker, entries, sum(entries.values_list("points", flat=True))


def party_members(user: Any) -> QuerySet[Worker]:
    from django.db.models import Sum

    return workers_for(user).filter(party_member=True).annotate(balance=Sum("points__points"))


