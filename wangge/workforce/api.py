"""/api/v1/workforce: the grid worker's phone (patrols, visits, tasks) and the
overseers' reads (live positions, tracks, rankings). Every read goes through
selectors with the caller; every write through services."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from wangge.core import exports
from wangge.core.errors import InvalidInput, OutOfScope
from wangge.core.xlsx import download
from wangge.workforce import selectors, services
from wangge.workforce.models import Patrol, PointsEntry, Task, Visit

router = Router(tags=["workforce"])

CrsName = Literal["wgs84", "gcj02", "bd09"]


class PatrolOut(Schema):
    id: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    points: int
    distance_m: float
    inside_s: float
    coverage: float | None
    flags: list[dict[str, Any]]


class StartIn(Schema):
    client_id: str = Field("", max_length=64, description="手机生成的编号；重发同一开始请求不会产生第二次巡查")
    at: datetime | None = Field(None, description="开始时间（离线开始时由手机提供）")


class StopIn(Schema):
    at: datetime | None = None


class PointIn(Schema):
    at: datetime = Field(..., description="定位时间（ISO 8601，带时区）")
    lon: float
    lat: float
    accuracy: float | None = Field(None, ge=0, description="定位精度（米）")


class PointsIn(Schema):
    crs: CrsName = Field("wgs84", description="坐标系：wgs84、gcj02（手机与国内地图）、bd09")
    points: list[PointIn] = Field(..., max_length=services.MAX_BATCH)


class Rejected(Schema):
    index: int
    reason: str


class PointsOut(Schema):
    patrol: PatrolOut
    accepted: int
    duplicates: int
    rejected: list[Rejected]


class PositionOut(Schema):
    worker_id: int
    name: str
    grid_code: str
    lon: float
    lat: float
    at: datetime
    patrolling: bool


class DayOut(Schema):
    worker_id: int
    worker: str
    day: date
    points: int
    distance_m: float
    inside_s: float
    morning_inside_s: float
    afternoon_inside_s: float
    coverage: float | None
    compliant: bool
    flags: list[dict[str, Any]]


class TaskOut(Schema):
    id: int
    kind: str
    kind_name: str
    source: str
    subject_type: str
    subject_id: str
    title: str
    reason: str
    evidence: dict[str, Any]
    grid_code: str
    assignee: str | None
    due_at: datetime
    overdue: bool
    status: str
    done_at: datetime | None
    result: str


class CompleteIn(Schema):
    result: str = Field(..., max_length=2000, description="办理结果")


class ReassignIn(Schema):
    task_ids: list[int] = Field(..., min_length=1, max_length=500)
    to_user: int = Field(..., description="接收任务的网格员账号编号")
    reason: str = Field(..., max_length=200)


class HouseholdOut(Schema):
    household_id: int
    address: str
    grid_code: str
    members: list[dict[str, Any]]
    groups: list[str]
    every_days: int | None
    last_visit: datetime | None
    due: datetime | None
    overdue: bool


class VisitIn(Schema):
    household_id: int
    outcome: Literal["met", "nobody_home", "refused"]
    notes: str = Field("", max_length=2000)
    person_id: int | None = None
    corrections: dict[str, str] = Field(default_factory=dict, description="更正的字段：phones、address 等")
    at: datetime | None = None
    client_id: str = Field("", max_length=64)
    task_id: int | None = None


class VisitOut(Schema):
    id: int
    household_id: int
    person_id: int | None
    at: datetime
    grid_code: str
    outcome: str
    notes: str
    corrections: dict[str, Any]
    source_record_id: int | None


class ScoreOut(Schema):
    worker_id: int
    worker: str
    grid_code: str
    area: str
    rank: int
    of: int
    score: float
    patrol: float | None
    reports: float | None
    visits: float | None
    tasks: float | None
    verify: float | None
    rating: float | None
    figures: dict[str, Any]


class PointsEntryIn(Schema):
    points: int
    reason: str = Field(..., max_length=200)


class PointsEntryOut(Schema):
    id: int
    at: datetime
    points: int
    reason: str


def patrol_out(p: Patrol) -> dict[str, Any]:
    return {"id": p.pk, "status": p.status, "started_at": p.started_at, "ended_at": p.ended_at,
            "points": p.points, "distance_m": p.distance_m, "inside_s": p.inside_s, "coverage": p.coverage,
            "flags": p.flags}


def task_out(t: Task, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {"id": t.pk, "kind": t.kind, "kind_name": t.get_kind_display(), "source": t.source,
            "subject_type": t.subject_type, "subject_id": t.subject_id, "title": t.title, "reason": t.reason,
            "evidence": t.evidence, "grid_code": t.grid_code,
            "assignee": str(t.assignee) if t.assignee_id else None, "due_at": t.due_at,
            "overdue": t.status == "open" and t.due_at < now, "status": t.status, "done_at": t.done_at,
            "result": t.result}


def visit_out(v: Visit) -> dict[str, Any]:
    return {"id": v.pk, "household_id": v.household_id, "person_id": v.person_id, "at": v.at,
            "grid_code": v.grid_code, "outcome": v.outcome, "notes": v.notes, "corrections": v.corrections,
            "source_record_id": v.source_record_id}


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date() if value else timezone.localdate().replace(day=1)
    except ValueError:
        raise InvalidInput("bad_month", f"月份格式应为 YYYY-MM，例如 2026-11：{value}",
                           fields={"month": "格式错误"}) from None


# ---- patrols -----------------------------------------------------------------


@router.post("/patrols", response={201: PatrolOut}, summary="开始巡查")
def start_patrol(request: HttpRequest, payload: StartIn) -> Any:
    return 201, patrol_out(services.start_patrol(by=request.user, client_id=payload.client_id, at=payload.at))


@router.get("/patrols/active", response={200: PatrolOut, 204: None}, summary="进行中的巡查")
def active_patrol(request: HttpRequest) -> Any:
    patrol = selectors.active_patrol(request.user)
    return (200, patrol_out(patrol)) if patrol else (204, None)


@router.post("/patrols/{patrol_id}/points", response=PointsOut, summary="上传轨迹点（可离线缓存后补传）")
def add_points(request: HttpRequest, patrol_id: int, payload: PointsIn) -> Any:
    got = services.add_points(
        by=request.user, patrol_id=patrol_id, crs=payload.crs,
        points=[services.PointIn(p.at, p.lon, p.lat, p.accuracy) for p in payload.points])
    return {"patrol": patrol_out(got.patrol), "accepted": got.accepted, "duplicates": got.duplicates,
            "rejected": got.rejected}


@router.post("/patrols/{patrol_id}/stop", response=PatrolOut, summary="结束巡查")
def stop_patrol(request: HttpRequest, patrol_id: int, payload: StopIn) -> Any:
    return patrol_out(services.stop_patrol(by=request.user, patrol_id=patrol_id, at=payload.at))


@router.get("/patrols/{patrol_id}", response=PatrolOut, summary="巡查详情")
def get_patrol(request: HttpRequest, patrol_id: int) -> Any:
    return patrol_out(selectors.patrol_for(request.user, patrol_id))


@router.get("/live", response=list[PositionOut], summary="实时位置（5 分钟内有定位的网格员）")
def live(request: HttpRequest) -> Any:
    return [p.__dict__ for p in selectors.live_positions(request.user)]


@router.get("/workers/{worker_id}/track", summary="网格员某日轨迹（GeoJSON）")
def track(request: HttpRequest, worker_id: int, day: date | None = None) -> Any:
    return selectors.day_track(request.user, worker_id, day or timezone.localdate())


@router.get("/days", response=list[DayOut], summary="每日巡查统计")
@paginate(LimitOffsetPagination)
def days(request: HttpRequest, day: date | None = None, worker_id: int | None = None) -> Any:
    return [{"worker_id": d.worker_id, "worker": str(d.worker.user), "day": d.day, "points": d.points,
             "distance_m": d.distance_m, "inside_s": d.inside_s, "morning_inside_s": d.morning_inside_s,
             "afternoon_inside_s": d.afternoon_inside_s, "coverage": d.coverage, "compliant": d.compliant,
             "flags": d.flags} for d in selectors.patrol_days(request.user, day=day, worker_id=worker_id)]


# ---- tasks -------------------------------------------------------------------


@router.get("/tasks", response=list[TaskOut], summary="任务（网格员：本人的；社区及以上：辖区内的）")
@paginate(LimitOffsetPagination)
def list_tasks(request: HttpRequest, status: str = "open", overdue: bool = False, kind: str = "",
               area: str = "") -> Any:
    if status not in ("open", "done", "cancelled", "all"):
        raise InvalidInput("bad_status", "状态应为 open、done、cancelled 或 all", fields={"status": "取值无效"})
    now = timezone.now()
    qs = selectors.tasks_for(request.user, status=None if status == "all" else status, overdue=overdue,
                             kind=kind, area=area, now=now)
    return [task_out(t, now) for t in qs]


@router.post("/tasks/reassign", summary="转派任务（如网格员请假）")
def reassign(request: HttpRequest, payload: ReassignIn) -> Any:
    n = services.reassign_tasks(by=request.user, task_ids=payload.task_ids, to_user_id=payload.to_user,
                                reason=payload.reason)
    return {"reassigned": n}


@router.get("/tasks/{task_id}", response=TaskOut, summary="任务详情")
def get_task(request: HttpRequest, task_id: int) -> Any:
    return task_out(selectors.task_for(request.user, task_id))


@router.post("/tasks/{task_id}/complete", response=TaskOut, summary="办结任务")
def complete_task(request: HttpRequest, task_id: int, payload: CompleteIn) -> Any:
    return task_out(services.complete_task(task_id=task_id, by=request.user, result=payload.result))


# ---- visits ------------------------------------------------------------------


@router.get("/households", response=list[HouseholdOut], summary="需定期走访的户（逾期在前）")
def households(request: HttpRequest) -> Any:
    return [h.__dict__ for h in selectors.households_to_visit(request.user)]


@router.post("/visits", response={201: VisitOut}, summary="记录走访")
def record_visit(request: HttpRequest, payload: VisitIn) -> Any:
    visit = services.record_visit(by=request.user, visit=services.VisitIn(
        household_id=payload.household_id, outcome=payload.outcome, notes=payload.notes,
        person_id=payload.person_id, corrections=payload.corrections, at=payload.at,
        client_id=payload.client_id, task_id=payload.task_id))
    return 201, visit_out(visit)


@router.get("/visits", response=list[VisitOut], summary="走访记录")
@paginate(LimitOffsetPagination)
def list_visits(request: HttpRequest, household_id: int | None = None) -> Any:
    qs = selectors.visits_for(request.user)
    if household_id:
        qs = qs.filter(household_id=household_id)
    return [visit_out(v) for v in qs]


# ---- assessment --------------------------------------------------------------


def _ranked(request: HttpRequest, month: str, level: str) -> tuple[date, list[selectors.Ranked]]:
    if not selectors.oversees(request.user):
        raise OutOfScope("not_allowed", "考核排名仅对社区及以上工作人员开放")
    day = _month(month)
    return day, selectors.ranking(request.user, day, level=level)


def score_out(r: selectors.Ranked) -> dict[str, Any]:
    s = r.score
    missing = set(s.figures.get("missing", []))
    return {"worker_id": s.worker_id, "worker": str(s.worker.user), "grid_code": s.grid_code, "area": r.area,
            "rank": r.rank, "of": r.of, "score": s.score, "figures": s.figures,
            **{p: None if p in missing else getattr(s, p)
               for p in ("patrol", "reports", "visits", "tasks", "verify", "rating")}}


@router.get("/scores", response=list[ScoreOut], summary="网格员月度考核排名")
def scores(request: HttpRequest, month: str = "", level: Literal["community", "street"] = "community") -> Any:
    _, rows = _ranked(request, month, level)
    return [score_out(r) for r in rows]


@router.get("/scores.xlsx", summary="网格员月度考核排名（Excel）")
def scores_xlsx(request: HttpRequest, month: str = "",
                level: Literal["community", "street"] = "community", purpose: str = "") -> HttpResponse:
    day, rows = _ranked(request, month, level)
    ticket = exports.prepare(request.user, kind="workforce.ranking", params={"month": day, "level": level},
                             rows=len(rows), purpose=purpose[:200] or "网格员月度考核排名",
                             fields=selectors.RANKING_FIELDS)
    return download(selectors.ranking_xlsx(rows, month=day, level=level, watermark=ticket.mark),
                    name=f"网格员考核_{day:%Y%m}.xlsx", fallback=f"workers_{day:%Y%m}.xlsx")


@router.post("/scores/compute", summary="重新计算某月考核")
def compute_scores(request: HttpRequest, month: str = "") -> Any:
    if not selectors.oversees(request.user):
        raise OutOfScope("not_allowed", "考核计算仅对社区及以上工作人员开放")
    return {"workers": services.compute_month(_month(month))}


@router.get("/workers/{worker_id}/points", response=list[PointsEntryOut], summary="党员积分明细")
def points(request: HttpRequest, worker_id: int) -> Any:
    _, entries, _ = selectors.ledger(request.user, worker_id)
    return [{"id": e.pk, "at": e.at, "points": e.points, "reason": e.reason} for e in entries]


@router.post("/workers/{worker_id}/points", response={201: PointsEntryOut}, summary="记录党员积分")
def award(request: HttpRequest, worker_id: int, payload: PointsEntryIn) -> Any:
    e: PointsEntry = services.award_points(by=request.user, worker_id=worker_id, points=payload.points,
                                           reason=payload.reason)
    return 201, {"id": e.pk, "at": e.at, "points": e.points, "reason": e.reason}
