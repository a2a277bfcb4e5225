"""Every write of the workforce app: workers and their grids, the task inbox,
patrols, visits, assessment and service points."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from numpy.typing import NDArray

from wangge.accounts.models import Role, UserArea
from wangge.addresses.models import Address, AddressLevel
from wangge.areas.models import BASE_LAYER
from wangge.areas.selectors import grid_index
from wangge.cases.photos import check_photos
from wangge.core import audit, coords
from wangge.core.errors import InvalidInput, NotFound, OutOfScope
from wangge.core.notify import notify
from wangge.core.scope import ensure_covers, scope_of
from wangge.core.workcal import is_workday
from wangge.fusion.collect import record_correction
from wangge.registry.models import Household, Person, PersonTag
from wangge.workforce import scoring, tracks
from wangge.workforce.models import (
    AssessmentScheme,
    Assignment,
    Duty,
    MonthlyScore,
    Patrol,
    PatrolDay,
    PatrolSchedule,
    PatrolStatus,
    PointsEntry,
    Task,
    TaskKind,
    TaskStatus,
    TrackPoint,
    Visit,
    VisitOutcome,
    VisitPhoto,
    VisitPolicy,
    Worker,
)

# ---- workers and grids -------------------------------------------------------


def ensure_worker(user: Any) -> Worker:
    """The user's worker profile; a grid worker account without one gets it, with
    the grids of its scope, so an account made in the admin can patrol at once."""
    worker = Worker.objects.filter(user=user).first()
    if worker is not None:
        return worker
    if getattr(user, "role", None) != Role.GRID_WORKER:
        raise OutOfScope("not_a_worker", "只有网格员账号可以巡查、走访和办理任务")
    with transaction.atomic():
        worker, created = Worker.objects.get_or_create(user=user)
        if created:
            grids = [c for c in scope_of(user).prefixes if len(c) == 15]
            taken = set(Assignment.objects.filter(grid_code__in=grids, primary=True)
                        .values_list("grid_code", flat=True))
            Assignment.objects.bulk_create(
                [Assignment(worker=worker, grid_code=g, primary=g not in taken) for g in grids],
                ignore_conflicts=True)
    return worker


def assign_grid(*, by: Any, worker: Worker, grid_code: str, primary: bool = True) -> Assignment:
    """Put a worker on a grid; the grid joins their scope. Making them the
    primary worker hands the grid's open tasks to them."""
    ensure_covers(by, grid_code, "该网格")
    if len(grid_code) != 15 or not grid_code.isdigit():
        raise InvalidInput("bad_grid", f"网格编码应为15位数字：{grid_code}", fields={"grid_code": "格式错误"})
    with transaction.atomic():
        if primary:
            Assignment.objects.filter(grid_code=grid_code, primary=True).exclude(worker=worker).update(
                primary=False)
        assignment, _ = Assignment.objects.update_or_create(
            worker=worker, grid_code=grid_code, defaults={"primary": primary})
        if worker.user.area_code != grid_code:
            UserArea.objects.get_or_create(user=worker.user, area_code=grid_code)
        if primary:
            Task.objects.filter(grid_code=grid_code, status=TaskStatus.OPEN).update(assignee=worker.user)
        audit.record(by, "assign_grid", "worker", worker.pk, fields=["grid_code", "primary"],
                     reason=grid_code)
    return assignment


def create_worker(*, by: Any, user: Any, grids: Sequence[str], duty: str = Duty.FULL_TIME,
                  party_member: bool = False) -> Worker:
    if duty not in Duty.values:
        raise InvalidInput("bad_duty", f"未知的网格员类别：{duty}", fields={"duty": "取值无效"})
    with transaction.atomic():
        worker, _ = Worker.objects.update_or_create(
            user=user, defaults={"duty": duty, "party_member": party_member})
        for i, code in enumerate(grids):
            assign_grid(by=by, worker=worker, grid_code=code, primary=(i == 0 and duty != Duty.VOLUNTEER))
        audit.record(by, "create_worker", "worker", worker.pk, fields=["duty", "party_member"])
    return worker


# ---- tasks -------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """A task to raise. `source` + subject is its identity (see Task)."""

    kind: str
    source: str
    subject_type: str
    subject_id: str
    title: str
    reason: str
    grid_code: str
    due_at: datetime
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Raised:
    opened: int
    kept: int


def primary_workers(grid_codes: Iterable[str]) -> dict[str, Any]:
    """grid code → the user who gets its tasks (its active primary worker)."""
    rows = (Assignment.objects.filter(grid_code__in=set(grid_codes), primary=True, worker__active=True)
            .select_related("worker__user"))
    return {a.grid_code: a.worker.user for a in rows}


def raise_tasks(specs: Sequence[TaskSpec], *, by: Any = None, notify_assignees: bool = True,
                chunk: int = 2000) -> Raised:
    """Open the tasks that are not open yet; each goes to its grid's primary
    worker (none: it waits, unassigned, in the community's list). Idempotent."""
    opened = kept = 0
    for start in range(0, len(specs), chunk):
        part = _unique(specs[start:start + chunk])
        with transaction.atomic():
            existing = _open_keys(part)
            new = [s for s in part if (s.source, s.subject_type, s.subject_id) not in existing]
            kept += len(part) - len(new)
            if not new:
                continue
            owners = primary_workers(s.grid_code for s in new)
            Task.objects.bulk_create(
                [Task(kind=s.kind, source=s.source[:64], subject_type=s.subject_type,
                      subject_id=str(s.subject_id)[:64], title=s.title[:200], reason=s.reason,
                      evidence=s.evidence, grid_code=s.grid_code, due_at=s.due_at,
                      assignee=owners.get(s.grid_code)) for s in new],
                ignore_conflicts=True)
            opened += len(new)
            audit.record(by, "raise_tasks", "task", new[0].source, fields=["assignee", "reason"],
                         reason=f"{len(new)} 项")
            if notify_assignees:
                _tell_assignees(new, owners)
    return Raised(opened=opened, kept=kept)


def _unique(specs: Sequence[TaskSpec]) -> list[TaskSpec]:
    seen: dict[tuple[str, str, str], TaskSpec] = {}
    for s in specs:
        seen.setdefault((s.source, s.subject_type, str(s.subject_id)), s)
    return list(seen.values())


def _open_keys(specs: Sequence[TaskSpec]) -> set[tuple[str, str, str]]:
    by_source: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in specs:
        by_source[(s.source, s.subject_type)].append(str(s.subject_id))
    keys: set[tuple[str, str, str]] = set()
    for (source, subject_type), ids in by_source.items():
        rows = Task.objects.filter(source=source, subject_type=subject_type, subject_id__in=ids,
                                   status=TaskStatus.OPEN).values_list("subject_id", flat=True)
        keys.update((source, subject_type, sid) for sid in rows)
    return keys


def _tell_assignees(specs: Sequence[TaskSpec], owners: dict[str, Any]) -> None:
    count: dict[Any, int] = defaultdict(int)
    for s in specs:
        if s.grid_code in owners:
            count[owners[s.grid_code]] += 1
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    for user, n in count.items():
        notify([user], key=f"tasks:{specs[0].source}:{stamp}", kind="task",
               title=f"您有 {n} 项新任务", body=specs[0].title if n == 1 else specs[0].reason[:200],
               link="/m/tasks/")


def close_obsolete(*, source: str, subject_type: str, still: Iterable[str], result: str) -> int:
    """Cancel the open tasks of `source` whose subject no longer qualifies (the
    card was issued, the tenant re-registered): a worker never knocks for nothing."""
    keep = {str(s) for s in still}
    stale = [pk for pk, sid in Task.objects.filter(source=source, subject_type=subject_type,
                                                   status=TaskStatus.OPEN).values_list("pk", "subject_id")
             if sid not in keep]
    if not stale:
        return 0
    with transaction.atomic():
        n = Task.objects.filter(pk__in=stale, status=TaskStatus.OPEN).update(
            status=TaskStatus.CANCELLED, done_at=timezone.now(), result=result)
        audit.record(None, "close_tasks", "task", source, fields=["status"], reason=f"{n} 项：{result}")
    return n


def _task_for_update(task_id: int) -> Task:
    task = Task.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise NotFound("task_not_found", f"任务 {task_id} 不存在或不在您的权限范围内")
    return task


def complete_task(*, task_id: int, by: Any, result: str) -> Task:
    """The assignee (or community staff over the grid) reports the task done."""
    if len(result.strip()) < 2:
        raise InvalidInput("result_required", "请填写办理结果", fields={"result": "必填"})
    with transaction.atomic():
        task = _task_for_update(task_id)
        _ensure_may_work(by, task)
        if task.status != TaskStatus.OPEN:
            raise InvalidInput("task_closed", f"任务已{task.get_status_display()}，不能再办理")
        task.status, task.done_at, task.done_by, task.result = TaskStatus.DONE, timezone.now(), by, result.strip()
        task.save(update_fields=["status", "done_at", "done_by", "result"])
        audit.record(by, "complete_task", "task", task.pk, fields=["status", "result"])
    return task


def finish_tasks(*, source: str, subject_type: str, subject_id: object, by: Any, result: str,
                 cancelled: bool = False, at: datetime | None = None) -> int:
    """Close the open task of a subject when the work happened elsewhere (the
    case was verified on its own page, the visit was filed), as of when it happened."""
    status = TaskStatus.CANCELLED if cancelled else TaskStatus.DONE
    return Task.objects.filter(source=source, subject_type=subject_type, subject_id=str(subject_id),
                               status=TaskStatus.OPEN).update(
        status=status, done_at=at or timezone.now(), done_by=by if getattr(by, "pk", None) else None,
        result=result)


def _ensure_may_work(user: Any, task: Task) -> None:
    if task.assignee_id == getattr(user, "pk", None):
        return
    if getattr(user, "role", None) in SUPERVISING_ROLES and scope_of(user).covers(task.grid_code):
        return
    # The same answer as a missing task: the caller learns nothing of others' work.
    raise NotFound("task_not_found", f"任务 {task.pk} 不存在或不在您的权限范围内")


SUPERVISING_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.ADMIN})


def reassign_tasks(*, by: Any, task_ids: Sequence[int], to_user_id: int, reason: str) -> int:
    """Hand tasks (of an absent worker, say) to another worker; both the tasks'
    grids and the new worker must lie in the caller's scope."""
    if getattr(by, "role", None) not in SUPERVISING_ROLES and not getattr(by, "is_superuser", False):
        raise OutOfScope("not_allowed", "只有社区及以上工作人员可以转派任务")
    if len(reason.strip()) < 2:
        raise InvalidInput("reason_required", "请填写转派原因", fields={"reason": "必填"})
    target = get_user_model().objects.filter(pk=to_user_id, is_active=True, role=Role.GRID_WORKER).first()
    scope = scope_of(by)
    if target is None or not (target.area_code and scope.covers(target.area_code)):
        raise NotFound("worker_not_found", "接收任务的网格员不存在或不在您的权限范围内",
                       fields={"to_user": "无效"})
    with transaction.atomic():
        tasks = list(Task.objects.select_for_update().filter(pk__in=list(task_ids), status=TaskStatus.OPEN))
        found = {t.pk for t in tasks if scope.covers(t.grid_code)}
        missing = sorted(set(task_ids) - found)
        if missing:
            raise NotFound("task_not_found", f"任务 {missing[0]} 不存在、已办结或不在您的权限范围内",
                           fields={"task_ids": missing})
        n = Task.objects.filter(pk__in=found).update(assignee=target)
        audit.record(by, "reassign_tasks", "task", ",".join(map(str, sorted(found)))[:64],
                     fields=["assignee"], reason=reason.strip())
    notify([target], key=f"reassigned:{min(found)}:{timezone.now():%Y%m%d%H%M%S%f}", kind="task",
           title=f"转派给您 {n} 项任务", body=reason.strip(), link="/m/tasks/")
    return n



# ---- patrols -----------------------------------------------------------------

# Phones' clocks drift; a point this far ahead of the server is still "now".
CLOCK_SKEW = timedelta(minutes=2)
# A fix older than this is not a late upload any more but a different day's patrol.
LATE_LIMIT = timedelta(days=7)
# Points a little before the start or after the stop belong to the patrol:
# the phone starts recording before the start request arrives.
EDGE = timedelta(minutes=5)
MAX_BATCH = 2000


@dataclass(frozen=True)
class PointIn:
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Accepted:
    patrol: Patrol
    accepted: int
    duplicates: int
    rejected: list[dict[str, Any]]


def _own_patrol(worker: Worker, patrol_id: int) -> Patrol:
    patrol = Patrol.objects.filter(pk=patrol_id, worker=worker).first()
    if patrol is None:
        raise NotFound("patrol_not_found", f"巡查 {patrol_id} 不存在，或不是您的巡查")
    return patrol


def start_patrol(*, by: Any, client_id: str = "", at: datetime | None = None) -> Patrol:
    """Start a patrol; a start resent with the same client id is the same patrol,
    and a worker with a patrol still running gets that one back."""
    worker = ensure_worker(by)
    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise InvalidInput("future_time", f"开始时间 {timezone.localtime(at):%Y-%m-%d %H:%M} 晚于当前时间，请校准手机时间",
                           fields={"at": "晚于当前时间"})
    with transaction.atomic():
        if client_id:
            same = Patrol.objects.filter(worker=worker, client_id=client_id[:64]).first()
            if same is not None:
                return same
        running = Patrol.objects.filter(worker=worker, status=PatrolStatus.ACTIVE).first()
        if running is not None:
            return running
        patrol = Patrol.objects.create(worker=worker, client_id=client_id[:64], started_at=at)
        audit.record(by, "start_patrol", "patrol", patrol.pk)
    return patrol


def stop_patrol(*, by: Any, patrol_id: int, at: datetime | None = None) -> Patrol:
    worker = ensure_worker(by)
    now = timezone.now()
    at = min(at or now, now)
    with transaction.atomic():
        patrol = _own_patrol(worker, patrol_id)
        if patrol.status == PatrolStatus.ENDED:
            return patrol
        last = patrol.track.order_by("-at").values_list("at", flat=True).first()
        patrol.ended_at = max(at, last or at, patrol.started_at)
        patrol.status = PatrolStatus.ENDED
        _measure_patrol(patrol)
        patrol.save()
        audit.record(by, "stop_patrol", "patrol", patrol.pk)
    return patrol


def add_points(*, by: Any, patrol_id: int, points: Sequence[PointIn], crs: str = "wgs84") -> Accepted:
    """Take a batch of fixes from the phone's queue, in any order and possibly
    again. Each bad fix is refused with its index and reason; the others land."""
    if len(points) > MAX_BATCH:
        raise InvalidInput("batch_too_large", f"每批最多 {MAX_BATCH} 个轨迹点，本批 {len(points)} 个，请分批上传")
    worker = ensure_worker(by)
    patrol = _own_patrol(worker, patrol_id)
    good, rejected = _check_points(patrol, points, timezone.now())
    if not good:
        return Accepted(patrol, 0, 0, rejected)
    fixes = [p for _, p in good]
    lon, lat = coords.to_wgs84(np.array([p.lon for p in fixes]), np.array([p.lat for p in fixes]), crs)
    grids = _grid_codes(lon, lat)
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
        seen = set(patrol.track.filter(at__in=[p.at for p in fixes]).values_list("at", flat=True))
        fresh: dict[datetime, TrackPoint] = {}
        for p, x, y, g in zip(fixes, lon, lat, grids, strict=True):
            if p.at not in seen and p.at not in fresh:
                fresh[p.at] = TrackPoint(patrol=patrol, at=p.at, lon=float(x), lat=float(y),
                                         accuracy_m=p.accuracy_m, grid_code=g)
        TrackPoint.objects.bulk_create(list(fresh.values()), ignore_conflicts=True)
        _move_live_position(worker, list(fresh.values()))
        if fresh:
            # A few thousand fixes at most: cheap enough to keep the running
            # patrol's figures current for the phone after every batch.
            _measure_patrol(patrol)
        patrol.save()
    return Accepted(patrol, len(fresh), len(good) - len(fresh), rejected)


def _check_points(patrol: Patrol, points: Sequence[PointIn], now: datetime
                  ) -> tuple[list[tuple[int, PointIn]], list[dict[str, Any]]]:
    good: list[tuple[int, PointIn]] = []
    rejected: list[dict[str, Any]] = []
    earliest = max(patrol.started_at - EDGE, now - LATE_LIMIT)
    latest = min(now + CLOCK_SKEW, (patrol.ended_at + EDGE) if patrol.ended_at else now + CLOCK_SKEW)
    for i, p in enumerate(points):
        problem = coords.coordinate_problem(p.lon, p.lat)
        if problem is None and not coords.in_china(p.lon, p.lat).all():
            problem = f"坐标（{p.lon}, {p.lat}）不在中国境内，请检查经纬度是否写反"
        if problem is None and p.at > now + CLOCK_SKEW:
            problem = f"时间 {timezone.localtime(p.at):%Y-%m-%d %H:%M:%S} 晚于当前时间，请校准手机时间"
        elif problem is None and p.at > latest:
            problem = f"时间 {timezone.localtime(p.at):%H:%M:%S} 在巡查结束之后"
        elif problem is None and p.at < earliest:
            problem = f"时间 {timezone.localtime(p.at):%Y-%m-%d %H:%M:%S} 早于巡查开始或已超过 7 天"
        if problem:
            rejected.append({"index": i, "reason": problem})
        else:
            good.append((i, p))
    return good, rejected


def _grid_codes(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> list[str]:
    index = grid_index()
    found = index.locate_many(lon, lat, layers=[BASE_LAYER], with_nearest=False).hits.get(BASE_LAYER)
    if found is None:
        return [""] * len(lon)
    return [index.code_of(BASE_LAYER, int(k)) or "" for k in found]


def _move_live_position(worker: Worker, fresh: list[TrackPoint]) -> None:
    if not fresh:
        return
    last = max(fresh, key=lambda p: p.at)
    # Conditional, so a late batch of old fixes never moves the dot backwards.
    Worker.objects.filter(pk=worker.pk).filter(Q(last_at__isnull=True) | Q(last_at__lt=last.at)).update(
        last_at=last.at, last_lon=last.lon, last_lat=last.lat, last_grid_code=last.grid_code)


def _measure_patrol(patrol: Patrol) -> None:
    rows = list(patrol.track.order_by("at").values_list("at", "lon", "lat", "grid_code"))
    grids = worker_grids(patrol.worker)
    schedule = schedule_for(next(iter(sorted(grids)), ""))
    if not rows:
        patrol.points, patrol.distance_m, patrol.inside_s, patrol.coverage, patrol.flags = 0, 0.0, 0.0, None, []
        return
    t = np.array([r[0].timestamp() for r in rows])
    lon = np.array([r[1] for r in rows])
    lat = np.array([r[2] for r in rows])
    inside = np.array([r[3] in grids for r in rows])
    distance, inside_s, flags = tracks.interval_metrics(t, lon, lat, inside, schedule)
    blon, blat = buildings_of(grids)
    patrol.points = len(rows)
    patrol.distance_m, patrol.inside_s = round(distance, 1), round(inside_s, 1)
    patrol.coverage = tracks.coverage(lon, lat, blon, blat, schedule.coverage_m)
    patrol.flags = [f.as_dict() for f in flags]


def worker_grids(worker: Worker) -> frozenset[str]:
    return frozenset(worker.assignments.values_list("grid_code", flat=True))


def buildings_of(grids: Iterable[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Where the buildings of these grids stand: what a patrol should pass by."""
    grids = set(grids)
    return _stack(_buildings_by_grid(grids), grids)


def schedule_for(grid_code: str) -> tracks.Schedule:
    """The patrol schedule of the most specific PatrolSchedule row above the grid."""
    return _schedules({0: frozenset([grid_code])}).get(0, tracks.Schedule())


def schedule_from(row: PatrolSchedule) -> tracks.Schedule:
    def seconds(t: Any) -> int:
        if isinstance(t, str):
            h, m = t.split(":")[:2]
            return int(h) * 3600 + int(m) * 60
        return int(t.hour * 3600 + t.minute * 60)

    return tracks.Schedule(
        morning=(seconds(row.morning_start), seconds(row.morning_end)),
        afternoon=(seconds(row.afternoon_start), seconds(row.afternoon_end)),
        morning_min_s=row.morning_minutes * 60.0, afternoon_min_s=row.afternoon_minutes * 60.0,
        max_gap_s=float(row.max_gap_seconds), max_speed_kmh=float(row.max_speed_kmh),
        outside_alert_s=row.outside_minutes * 60.0, coverage_m=float(row.coverage_metres))


# ---- patrol days -------------------------------------------------------------


def compute_days(day: date, *, worker_ids: Iterable[int] | None = None) -> int:
    """Derive every worker's figures for one local day from all their fixes
    (or only these workers'), replacing what was derived before. Returns rows written."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = start + timedelta(days=1)
    owners, t, lon, lat, inside = _day_fixes(start, end, worker_ids)
    wanted = set(worker_ids) if worker_ids is not None else None
    if len(t) == 0:
        stale = PatrolDay.objects.filter(day=day)
        (stale.filter(worker_id__in=wanted) if wanted is not None else stale).delete()
        return 0
    order = np.argsort(owners, kind="stable")
    owners, t, lon, lat, inside = owners[order], t[order], lon[order], lat[order], inside[order]
    assigned = _assigned_grids()
    buildings = _buildings_by_grid(set().union(*assigned.values()) if assigned else set())
    schedules = _schedules(assigned)
    rows: list[PatrolDay] = []
    for schedule, members in _by_schedule(np.unique(owners), schedules).items():
        at = np.isin(owners, members)
        metrics = tracks.day_metrics(owners[at], t[at], lon[at], lat[at], inside[at], schedule,
                                     utc_offset_s=_utc_offset(start))
        for m in metrics:
            lo, hi = np.searchsorted(owners, [m.owner, m.owner + 1])
            blon, blat = _stack(buildings, assigned.get(m.owner, frozenset()))
            rows.append(PatrolDay(
                worker_id=m.owner, day=day, points=m.points, distance_m=round(m.distance_m, 1),
                inside_s=round(m.inside_s, 1), morning_inside_s=round(m.morning_inside_s, 1),
                afternoon_inside_s=round(m.afternoon_inside_s, 1), compliant=m.compliant,
                coverage=tracks.coverage(lon[lo:hi], lat[lo:hi], blon, blat, schedule.coverage_m),
                flags=[f.as_dict() for f in m.flags]))
    with transaction.atomic():
        stale = PatrolDay.objects.filter(day=day)
        (stale.filter(worker_id__in=wanted) if wanted is not None else stale).delete()
        PatrolDay.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _day_fixes(start: datetime, end: datetime, worker_ids: Iterable[int] | None
               ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                          NDArray[np.bool_]]:
    """All fixes of the day as arrays, each with whether it lies in one of its
    worker's own grids. One plain query, all numbers: at millions of fixes a
    model row or a string per fix would cost more than the figures."""
    epoch = ("EXTRACT(EPOCH FROM t.at)::float8" if connection.vendor == "postgresql"
             else "(julianday(t.at) - 2440587.5) * 86400.0")
    # Only constants are formatted in; the values go as parameters.
    sql = (f"SELECT p.worker_id, {epoch}, t.lon, t.lat, "  # noqa: S608
           "CASE WHEN a.id IS NULL THEN 0 ELSE 1 END FROM workforce_trackpoint t "
           "JOIN workforce_patrol p ON p.id = t.patrol_id "
           "LEFT JOIN workforce_assignment a ON a.worker_id = p.worker_id AND a.grid_code = t.grid_code "
           "WHERE t.at >= %s AND t.at < %s")
    params: list[Any] = [connection.ops.adapt_datetimefield_value(start),
                         connection.ops.adapt_datetimefield_value(end)]
    if worker_ids is not None:
        ids = [int(w) for w in worker_ids] or [-1]
        sql += f" AND p.worker_id IN ({','.join(['%s'] * len(ids))})"
        params += ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        table = np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 5)
    # SQLite's julianday carries about 50 µs of float error; phones send whole
    # milliseconds at best, so rounding to them restores the exact instant.
    return (table[:, 0].astype(np.int64), np.round(table[:, 1], 3).astype(np.float64), table[:, 2],
            table[:, 3], table[:, 4] > 0)


def _buildings_by_grid(grids: set[str]) -> dict[str, NDArray[np.float64]]:
    rows = (Address.objects.filter(level=AddressLevel.BUILDING, grid_code__in=list(grids), lon__isnull=False,
                                   lat__isnull=False).values_list("grid_code", "lon", "lat"))
    out: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    for grid, x, y in rows.iterator(chunk_size=5000):
        out[grid].append((x, y))
    return {g: np.array(v, dtype=np.float64) for g, v in out.items()}


def _stack(buildings: dict[str, NDArray[np.float64]], grids: Iterable[str]
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    parts = [buildings[g] for g in grids if g in buildings]
    both = np.concatenate(parts) if parts else np.zeros((0, 2))
    return both[:, 0], both[:, 1]


def _assigned_grids(*, primary_only: bool = False) -> dict[int, frozenset[str]]:
    rows = Assignment.objects.filter(primary=True) if primary_only else Assignment.objects.all()
    out: dict[int, set[str]] = defaultdict(set)
    for worker_id, code in rows.values_list("worker_id", "grid_code"):
        out[worker_id].add(code)
    return {k: frozenset(v) for k, v in out.items()}


def _schedules(assigned: dict[int, frozenset[str]]) -> dict[int, tracks.Schedule]:
    rows = {s.area_code: schedule_from(s) for s in PatrolSchedule.objects.all()}
    if not rows:
        return {}
    out: dict[int, tracks.Schedule] = {}
    for worker_id, grids in assigned.items():
        code = min(grids) if grids else ""
        for n in (15, 12, 9, 6, 4, 2, 0):
            if len(code) >= n and code[:n] in rows:
                out[worker_id] = rows[code[:n]]
                break
    return out


def _by_schedule(owners: NDArray[np.int64], schedules: dict[int, tracks.Schedule]
                 ) -> dict[tracks.Schedule, NDArray[np.int64]]:
    groups: dict[tracks.Schedule, list[int]] = defaultdict(list)
    for owner in owners.tolist():
        groups[schedules.get(owner, tracks.Schedule())].append(owner)
    return {k: np.array(v, dtype=np.int64) for k, v in groups.items()}


def _utc_offset(moment: datetime) -> int:
    offset = timezone.localtime(moment).utcoffset()
    return int(offset.total_seconds()) if offset else 0


# ---- visits ------------------------------------------------------------------

# A visit may be filed later than it happened (offline), but not for last month.
VISIT_LATE_LIMIT = timedelta(days=3)
VISIT_SOURCE = "proactive.visit_overdue"


@dataclass(frozen=True)
class VisitIn:
    household_id: int
    outcome: str
    notes: str = ""
    person_id: int | None = None
    corrections: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None
    client_id: str = ""
    task_id: int | None = None
    photos: list[Any] = field(default_factory=list)


def record_visit(*, by: Any, visit: VisitIn) -> Visit:
    """File a visit to a household of one's own grids. Corrections land as a
    grid-form source record; the household's visit task is done; a door closed
    too often on someone living alone raises an alert."""
    worker = ensure_worker(by)
    if visit.outcome not in VisitOutcome.values:
        raise InvalidInput("bad_outcome", f"走访结果应为：{'、'.join(str(c.label) for c in VisitOutcome)}",
                           fields={"outcome": "取值无效"})
    now = timezone.now()
    at = visit.at or now
    if at > now + CLOCK_SKEW:
        raise InvalidInput("future_time", "走访时间晚于当前时间，请校准手机时间", fields={"at": "晚于当前时间"})
    if at < now - VISIT_LATE_LIMIT:
        raise InvalidInput("too_late", "走访时间已超过 3 天，请联系社区补录", fields={"at": "过早"})
    photos = check_photos(visit.photos)
    if visit.client_id:
        same = Visit.objects.filter(worker=worker, client_id=visit.client_id[:64]).first()
        if same is not None:
            return same
    household = _own_household(by, visit.household_id)
    person = _member(household, visit.person_id)
    if visit.corrections and person is None:
        raise InvalidInput("person_required", "更正信息需要选择走访对象", fields={"person_id": "必填"})
    with transaction.atomic():
        saved = Visit.objects.create(
            worker=worker, household=household, person=person, client_id=visit.client_id[:64], at=at,
            grid_code=household.grid_code, outcome=visit.outcome, notes=visit.notes.strip()[:2000],
            corrections={k: v for k, v in visit.corrections.items() if (v or "").strip()},
            task_id=_own_task_id(by, visit.task_id))
        for photo in photos:
            VisitPhoto.objects.create(visit=saved, file=photo.as_file(), content_type=photo.content_type,
                                      size=len(photo.content), width=photo.width, height=photo.height)
        if saved.corrections and person is not None:
            saved.source_record = record_correction(by, person, saved.corrections,
                                                    record_key=f"visit-{saved.pk}")
            saved.save(update_fields=["source_record"])
        audit.record(by, "record_visit", "registry.Household", household.pk,
                     fields=["outcome", *saved.corrections], reason=saved.get_outcome_display())
        _close_visit_tasks(saved, by)
        _award(worker, saved)
        _alert_closed_door(saved)
    return saved


def _own_household(user: Any, household_id: int) -> Household:
    household = Household.objects.filter(pk=household_id).first()
    if household is None or not scope_of(user).covers(household.grid_code or "-"):
        raise NotFound("household_not_found", f"户 {household_id} 不存在，或不在您负责的网格内",
                       fields={"household_id": "不在您的网格"})
    return household


def _member(household: Household, person_id: int | None) -> Person | None:
    if person_id is None:
        return None
    person = Person.objects.filter(pk=person_id, memberships__household=household).first()
    if person is None:
        raise InvalidInput("not_a_member", "走访对象不是该户成员", fields={"person_id": "不是该户成员"})
    return person


def _own_task_id(user: Any, task_id: int | None) -> int | None:
    if task_id is None:
        return None
    if not Task.objects.filter(pk=task_id, assignee=user).exists():
        raise NotFound("task_not_found", f"任务 {task_id} 不存在或不是您的任务", fields={"task_id": "无效"})
    return task_id


def _close_visit_tasks(visit: Visit, by: Any) -> None:
    """A visit that reached the door does the household's visit task; a refused
    or unanswered one leaves it open, since nobody has been seen."""
    result = f"{timezone.localtime(visit.at):%m-%d %H:%M} 走访：{visit.get_outcome_display()}"
    if visit.task_id:
        Task.objects.filter(pk=visit.task_id, status=TaskStatus.OPEN).update(
            status=TaskStatus.DONE, done_at=visit.at, done_by=by, result=result)
    if visit.outcome == VisitOutcome.MET:
        finish_tasks(source=VISIT_SOURCE, subject_type="household", subject_id=visit.household_id,
                     by=by, result=result, at=visit.at)


def _award(worker: Worker, visit: Visit) -> None:
    if worker.party_member and visit.outcome == VisitOutcome.MET:
        PointsEntry.objects.get_or_create(
            worker=worker, ref=f"visit:{visit.pk}",
            defaults={"at": visit.at, "points": POINTS["visit"], "reason": "入户走访"})


STREAK_LOOKBACK = 50

# Service points per deed for party members (党员积分).
POINTS = {"visit": 1, "report": 2, "verify": 1}


def _alert_closed_door(visit: Visit) -> None:
    """Tell community staff and the police when the door of someone living alone
    has stayed closed on the last N visits in a row (N per their group)."""
    if visit.outcome != VisitOutcome.NOBODY_HOME:
        return
    tags = set(PersonTag.objects.filter(person__memberships__household_id=visit.household_id)
               .values_list("tag", flat=True))
    limits = [p.closed_door_alert for p in VisitPolicy.objects.filter(tag__in=tags)
              if p.closed_door_alert]
    if not limits:
        return
    limit = min(limits)
    recent = Visit.objects.filter(household_id=visit.household_id).order_by("-at", "-pk")
    streak: list[int] = []
    for pk, outcome in recent.values_list("pk", "outcome")[:STREAK_LOOKBACK]:
        if outcome != VisitOutcome.NOBODY_HOME:
            break
        streak.append(pk)
    if len(streak) < limit:
        return
    # Named by the streak's first visit: further closed doors of the same streak
    # do not alert again; a door opened in between starts a new streak.
    first = streak[-1]
    staff = get_user_model().objects.filter(
        is_active=True, role__in=(Role.COMMUNITY_STAFF, Role.POLICE),
        area_code__in=[visit.grid_code[:n] for n in (6, 9, 12, 15)])
    notify(staff, key=f"closed-door:{visit.household_id}:{first}", kind="alert", channels=("sms",),
           title=f"连续 {limit} 次走访无人应门", link=f"/workforce/households/{visit.household_id}/",
           body=(f"网格 {visit.grid_code} 的户 {visit.household_id}（有独居或重点关爱对象）"
                 f"最近 {limit} 次走访均无人应门，请社区和民警尽快上门确认安全。"))
    raise_tasks([TaskSpec(
        kind=TaskKind.ALERT, source="workforce.closed_door", subject_type="household",
        subject_id=str(visit.household_id), title="连续无人应门，请会同社区民警上门确认",
        reason=f"最近 {limit} 次走访均无人应门（最近一次 {timezone.localtime(visit.at):%m-%d %H:%M}）",
        grid_code=visit.grid_code, due_at=visit.at + timedelta(days=1),
        evidence={"visits": streak})], notify_assignees=False)


# ---- case verification -------------------------------------------------------

CASE_VERIFY_SOURCE = "case.verify"


def case_moved(case: Any, step: str, by: Any, at: datetime) -> None:
    """Keep the grid worker's verification task in step with the case: raised
    when the department reports it handled, done when verified or sent back."""
    if step == "handle" and case.grid_code:
        raise_tasks([TaskSpec(
            kind=TaskKind.CASE_VERIFY, source=CASE_VERIFY_SOURCE, subject_type="case",
            subject_id=str(case.pk), title=f"核查案件 {case.code}：{case.description[:40]}",
            reason=f"{case.department or '部门'}已处置，请到现场核查是否解决",
            grid_code=case.grid_code, due_at=case.verify_due or at + timedelta(days=1),
            evidence={"case": case.code, "feedback": case.feedback[:200]})], by=by,
            notify_assignees=False)
    elif step in ("verify", "rework", "close", "cancel"):
        finish_tasks(source=CASE_VERIFY_SOURCE, subject_type="case", subject_id=case.pk, by=by,
                     result="核查通过" if step in ("verify", "close") else "已退回重办",
                     cancelled=step in ("cancel",), at=at)


# ---- assessment --------------------------------------------------------------


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (datetime.combine(first, time.min, tzinfo=tz), datetime.combine(after, time.min, tzinfo=tz))


def compute_month(month: date, *, now: datetime | None = None) -> int:
    """Score every worker with a grid for the month (so far), replacing earlier
    figures of that month. Every count is one grouped query, not one per worker."""
    start, end = month_bounds(month)
    now = now or timezone.now()
    # Ranked are the workers responsible for grids; team members (police,
    # volunteers) help in a grid but are not measured against it.
    assigned = _assigned_grids(primary_only=True)
    workers = {w.pk: w for w in Worker.objects.filter(pk__in=list(assigned)).select_related("user")}
    # Days that are over: today's patrols are still going on.
    last_day = min(end.date(), timezone.localdate(now)) - timedelta(days=1)
    workdays = sum(1 for d in _days(start.date(), last_day) if is_workday(d))
    counts = _month_counts(start, min(end, now + timedelta(seconds=1)), end, assigned, workers, last_day)
    schemes = {s.area_code: s for s in AssessmentScheme.objects.all()}
    rows: list[MonthlyScore] = []
    for pk, worker in workers.items():
        grid = min(assigned[pk]) if assigned[pk] else ""
        scheme = _most_specific(schemes, grid) or AssessmentScheme()
        figures = scoring.Figures(workdays=workdays, report_target=scheme.report_target,
                                  **{k: counts[k].get(pk, 0) for k in MONTH_COUNTS})
        parts = scoring.parts(figures)
        weights = scoring.Weights(**{p: getattr(scheme, p) for p in scoring.PARTS})
        rows.append(MonthlyScore(
            worker=worker, month=start.date(), grid_code=grid, score=scoring.total(parts, weights),
            figures={**figures.as_dict(), "missing": [p for p, v in parts.items() if v is None]},
            **{p: (v if v is not None else 0.0) for p, v in parts.items()}))
    with transaction.atomic():
        MonthlyScore.objects.filter(month=start.date()).delete()
        MonthlyScore.objects.bulk_create(rows, batch_size=500)
    return len(rows)


MONTH_COUNTS = ("compliant_days", "valid_reports", "households_due", "households_visited", "tasks_due",
                "tasks_on_time", "verified", "verified_on_time", "ratings", "rating_sum")


def _days(first: date, last: date) -> Iterable[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def _most_specific(rows: dict[str, Any], code: str) -> Any:
    for n in (15, 12, 9, 6, 4, 2, 0):
        if len(code) >= n and code[:n] in rows:
            return rows[code[:n]]
    return None


def _month_counts(start: datetime, so_far: datetime, end: datetime, assigned: dict[int, frozenset[str]],
                  workers: dict[int, Worker], last_day: date) -> dict[str, dict[int, int]]:
    from wangge.cases.models import Case, CaseEvent

    user_of = {w.user_id: pk for pk, w in workers.items()}
    out: dict[str, dict[int, int]] = {k: defaultdict(int) for k in MONTH_COUNTS}

    def by_user(key: str, rows: Iterable[tuple[Any, ...]]) -> None:
        for user_id, n in rows:
            if user_id in user_of:
                out[key][user_of[user_id]] += n

    def by_grid(key: str, per_grid: dict[str, int]) -> None:
        for pk, grids in assigned.items():
            out[key][pk] = sum(per_grid.get(g, 0) for g in grids)

    days = PatrolDay.objects.filter(day__gte=start.date(), day__lte=last_day, compliant=True)
    out["compliant_days"].update(dict(days.values("worker_id").annotate(n=Count("id"))
                                      .values_list("worker_id", "n")))
    valid = Case.objects.filter(reported_at__gte=start, reported_at__lt=end).exclude(
        state__in=("rejected", "cancelled"))
    by_user("valid_reports", valid.values("reporter_id").annotate(n=Count("id")).values_list("reporter_id", "n"))
    due = Task.objects.filter(due_at__gte=start, due_at__lt=so_far).exclude(status=TaskStatus.CANCELLED)
    by_user("tasks_due", due.values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    by_user("tasks_on_time", due.filter(status=TaskStatus.DONE, done_at__lte=F("due_at"))
            .values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    checks = CaseEvent.objects.filter(action="verify", at__gte=start, at__lt=end)
    by_user("verified", checks.values("actor_id").annotate(n=Count("id")).values_list("actor_id", "n"))
    by_user("verified_on_time", checks.filter(case__verified_on_time=True).values("actor_id")
            .annotate(n=Count("id")).values_list("actor_id", "n"))
    rated = Case.objects.filter(closed_at__gte=start, closed_at__lt=end, rating__isnull=False)
    grids = rated.values("grid_code").annotate(n=Count("id"), s=Sum("rating"))
    by_grid("ratings", {r["grid_code"]: r["n"] for r in grids})
    by_grid("rating_sum", {r["grid_code"]: r["s"] for r in grids})
    due_households = _households_to_visit()
    visited = set(Visit.objects.filter(at__gte=start, at__lt=end).values_list("household_id", flat=True))
    per_grid_due: dict[str, int] = defaultdict(int)
    per_grid_visited: dict[str, int] = defaultdict(int)
    for household_id, grid_code in due_households:
        per_grid_due[grid_code] += 1
        per_grid_visited[grid_code] += household_id in visited
    by_grid("households_due", per_grid_due)
    by_grid("households_visited", per_grid_visited)
    return out


def _households_to_visit() -> list[tuple[int, str]]:
    """Households with a member of a group that has a visit frequency."""
    tags = list(VisitPolicy.objects.values_list("tag", flat=True))
    return list(Household.objects.filter(members__person__tags__tag__in=tags).distinct()
                .values_list("pk", "grid_code"))


def award_points(*, by: Any, worker_id: int, points: int, reason: str) -> PointsEntry:
    """A line in a party member's ledger written by community staff (volunteering,
    a commendation); deeds recorded in the system are awarded automatically."""
    if getattr(by, "role", None) not in SUPERVISING_ROLES and not getattr(by, "is_superuser", False):
        raise OutOfScope("not_allowed", "只有社区及以上工作人员可以记录积分")
    worker = Worker.objects.select_related("user").filter(pk=worker_id).first()
    grids = worker_grids(worker) if worker else frozenset()
    if worker is None or not grids or not all(scope_of(by).covers(g) for g in grids):
        raise NotFound("worker_not_found", f"网格员 {worker_id} 不存在或不在您的权限范围内")
    if not worker.party_member:
        raise InvalidInput("not_party_member", f"{worker} 不是党员，党员积分只记给党员")
    if not reason.strip() or not -100 <= points <= 100 or points == 0:
        raise InvalidInput("bad_points", "请填写事由，积分为 -100 到 100 之间的非零整数",
                           fields={"points": "无效", "reason": "必填"})
    with transaction.atomic():
        entry = PointsEntry.objects.create(worker=worker, at=timezone.now(), points=points,
                                           reason=reason.strip()[:200], by=by)
        audit.record(by, "award_points", "worker", worker.pk, fields=["points"], reason=reason.strip()[:200])
    return entry
