"""Grid workers' pages: the worker's phone (工作台, tasks, visits, patrol) and
the overseers' desk (task supervision, the workers, monthly assessment, party
members' points, one household's visits).

Every page reads through selectors and writes through services. A service's
refusal (DomainError) comes back as its Chinese message on the page it was
asked from, next to the field it is about; it never becomes a 500. A role
that may not use a page gets 403 with the reason; an object outside the
reader's reach gets the same 404 as a missing one.

The few narrowings made here (a household's visits, an ordering for the
pager) act on querysets a selector already scoped to the reader.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.accounts.models import Role
from wangge.cases import conf as case_conf
from wangge.core import exports
from wangge.core.errors import DomainError, NotFound
from wangge.core.pages import not_found_as_404, photo_response
from wangge.core.xlsx import download
from wangge.registry.vocab import RESIDENCE_TYPES
from wangge.workforce import scoring, selectors, services
from wangge.workforce.models import Duty, Task, TaskKind, TaskStatus, VisitOutcome

PAGE_SIZE = 50
LEVELS = (("community", "社区"), ("street", "街道"))
TASK_STATUSES = (("open", "待办"), ("done", "已完成"), ("cancelled", "已撤销"), ("all", "全部"))
# What the evidence of a task calls its parts (proactive rules, case
# verification, closed-door alerts); an unknown key is shown as it is.
EVIDENCE_LABELS = {
    "rule": "规则", "reason": "原因", "case": "案件编号", "feedback": "处置反馈", "visits": "走访记录",
    "age": "年龄", "birth_date": "出生日期", "turns_on": "生日", "days_to_birthday": "距生日天数",
    "days_since": "距上次走访（天）", "last_visit": "上次走访", "every_days": "走访周期（天）",
    "end": "到期日期", "days_to_end": "距到期（天）", "tenancies": "租住记录", "tenants": "租户",
    "people": "人员", "tags": "人群类别", "first_seen": "首次发现", "flag": "标记", "account_no": "户号",
    "residents": "登记居住人数", "periods": "用水记录", "period_start": "起始日期", "period_end": "截止日期",
    "sigma": "偏离程度", "date": "日期", "reading": "读数", "use": "用量", "days": "天数",
    "daily": "日均用量", "meter_reset": "换表", "birth_source": "出生日期来源",
}
# The service's field names (DomainError.fields) → where the visit form shows them.
VISIT_FIELD_OF = {"outcome": "outcome", "person_id": "person", "phones": "phones", "address": "address",
                  "residence_type": "residence_type", "notes": "notes"}
CORRECTIONS = ("phones", "address", "residence_type")
CORRECTION_LABELS = {"phones": "联系电话", "address": "现住址", "residence_type": "人口类型",
                     "ethnicity": "民族", "hukou_area": "户籍地"}


def _role(user: Any) -> str:
    return "admin" if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def _is_worker(user: Any) -> bool:
    return _role(user) == Role.GRID_WORKER


def _may_reassign(user: Any) -> bool:
    return _role(user) in services.SUPERVISING_ROLES


def worker_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the grid worker's phone: others are told whose page it is."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _is_worker(request.user):
            return _phone_message(request, _("该页面仅供网格员使用。"), status=403)
        return view(request, *args, **kwargs)

    return login_required(not_found_as_404(wrapped))


def overseer_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A desk page for those who oversee grid workers (selectors.oversees)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.oversees(request.user):
            return render(request, "forbidden.html", {"message": _(
                "该页面仅供社区、街道、区级工作人员、指挥中心和民警使用。")}, status=403)
        return view(request, *args, **kwargs)

    return login_required(not_found_as_404(wrapped))


def _phone_message(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "workforce/mobile/message.html",
                  {"message": message, "tabs": _tabs(request) if _is_worker(request.user) else []},
                  status=status)


def _tabs(request: HttpRequest) -> list[dict[str, Any]]:
    items = [(_("工作台"), "workforce:m_home"), (_("任务"), "workforce:m_tasks"),
             (_("巡查"), "workforce:m_patrol"), (_("走访"), "workforce:m_visits"),
             (_("上报"), "cases:m_report")]
    out = []
    for label, name in items:
        url = reverse(name)
        current = request.path == url or (name != "workforce:m_home" and request.path.startswith(url))
        out.append({"label": label, "url": url, "current": current})
    return out


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _minutes(seconds: float | None) -> int:
    return round((seconds or 0) / 60)


# --- 工作台 ---------------------------------------------------------------------


@worker_page
def m_home_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    patrol = selectors.active_patrol(user)
    households = selectors.households_to_visit(user, now)
    return render(request, "workforce/mobile/home.html", {
        "tabs": _tabs(request), "counts": selectors.task_counts(user, now),
        "patrol": patrol, "patrol_minutes": _minutes((now - patrol.started_at).total_seconds()) if patrol else 0,
        "households_due": sum(1 for h in households if h.overdue), "households": len(households),
        "today": selectors.patrol_days(user, day=timezone.localdate()).first()})


# --- 任务 -----------------------------------------------------------------------


def _visit_url(task: Task) -> str:
    """The visit form for a task about a household, or "" for other tasks."""
    if task.subject_type != "household" or not task.subject_id.isdigit():
        return ""
    return reverse("workforce:m_visit_new") + "?" + urlencode({"household": task.subject_id, "task": task.pk})


def _task_row(task: Task, now: datetime) -> dict[str, Any]:
    return {"task": task, "overdue": task.status == TaskStatus.OPEN and task.due_at < now,
            "visit_url": _visit_url(task) if task.status == TaskStatus.OPEN else "",
            "verify_url": reverse("cases:m_verify") if task.subject_type == "case" else ""}


@worker_page
def m_tasks_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    tasks = selectors.tasks_for(request.user, now=now)[:200]
    return render(request, "workforce/mobile/tasks.html", {
        "tabs": _tabs(request), "rows": [_task_row(t, now) for t in tasks],
        "counts": selectors.task_counts(request.user, now)})


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{EVIDENCE_LABELS.get(k, k)}：{_shown(v)}" for k, v in value.items())
    return str(value)


def evidence_rows(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """The task's evidence as label/text lines; a list of records (a water
    meter's readings) as a small table."""
    rows: list[dict[str, Any]] = []
    for key, value in (evidence or {}).items():
        label = EVIDENCE_LABELS.get(key, key)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            rows.append({"label": label, "table": {
                "head": [EVIDENCE_LABELS.get(k, k) for k in keys],
                "rows": [[_shown(v.get(k)) for k in keys] for v in value]}})
        else:
            rows.append({"label": label, "text": _shown(value)})
    return rows


@worker_page
def m_task_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    error, result, status = "", "", 200
    if request.method == "POST":
        result = request.POST.get("result", "")[:2000]
        try:
            done = services.complete_task(task_id=pk, by=user, result=result)
        except NotFound:
            raise
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已办结：%(title)s") % {"title": done.title})
            return redirect("workforce:m_tasks")
    task = selectors.task_for(user, pk)
    return render(request, "workforce/mobile/task.html", {
        "tabs": _tabs(request), "row": _task_row(task, timezone.now()), "task": task,
        "evidence": evidence_rows(task.evidence), "error": error, "result": result,
        "household_url": reverse("workforce:household", args=[task.subject_id])
        if task.subject_type == "household" and task.subject_id.isdigit() else ""}, status=status)


# --- 走访 -----------------------------------------------------------------------


@worker_page
def m_visits_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    households = selectors.households_to_visit(user)
    return render(request, "workforce/mobile/visits.html", {
        "tabs": _tabs(request), "households": households,
        "overdue": sum(1 for h in households if h.overdue),
        "recent": selectors.visits_for(user)[:20]})


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _visit_errors(exc: DomainError) -> dict[str, str]:
    if exc.code.startswith("photo") or exc.code == "too_many_photos":
        return {"photos": exc.message}
    if exc.code in ("invalid_answers", "nothing_collected"):
        return {"corrections": exc.message}
    found = {VISIT_FIELD_OF[k]: exc.message for k in exc.fields if k in VISIT_FIELD_OF}
    return found or {"form": exc.message}


@worker_page
def m_visit_new_page(request: HttpRequest) -> HttpResponse:
    """走访登记: a household of the worker's grids, optionally for a task."""
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    household_id, task_id = _int(data.get("household")), _int(data.get("task"))
    if household_id is None:
        return _phone_message(request, _("请从待走访列表或任务中选择要走访的户。"), status=404)
    try:
        household = selectors.household_for(user, household_id)
        task = selectors.task_for(user, task_id) if task_id is not None else None
    except NotFound as exc:
        return _phone_message(request, exc.message, status=404)
    typed = {k: data.get(k, "").strip() for k in ("outcome", "person", "notes", *CORRECTIONS)}
    typed["client_id"] = data.get("client_id", "")[:64] or uuid.uuid4().hex
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            visit = services.record_visit(by=user, visit=services.VisitIn(
                household_id=household.pk, outcome=typed["outcome"], notes=typed["notes"][:2000],
                person_id=_int(typed["person"]), task_id=task.pk if task else None,
                corrections={k: typed[k] for k in CORRECTIONS if typed[k]},
                client_id=typed["client_id"], photos=request.FILES.getlist("photos")))
        except DomainError as exc:
            errors, status = _visit_errors(exc), exc.status
        else:
            messages.success(request, _("已记录走访：%(place)s，%(outcome)s") % {
                "place": household.address.full_name if household.address else household.key,
                "outcome": visit.get_outcome_display()})
            return redirect("workforce:m_visits")
    return render(request, "workforce/mobile/visit_form.html", {
        "tabs": _tabs(request), "household": household, "task": task, "typed": typed, "errors": errors,
        "members": list(household.members.select_related("person")),
        "outcomes": VisitOutcome.choices, "residence_types": list(RESIDENCE_TYPES.values()),
        "photos_lost": bool(errors) and bool(request.FILES) and "photos" not in errors,
        "max_photos": int(case_conf.get("WANGGE_PHOTOS_PER_STEP"))}, status=status)


# --- 巡查 -----------------------------------------------------------------------


def patrol_strings() -> dict[str, str]:
    """patrol.js's text; {name} placeholders are filled there."""
    return {
        "idle": _("未在巡查。点击“开始巡查”后，手机将持续记录您的位置。"),
        "active": _("巡查中：{start} 开始，已 {minutes} 分钟"),
        "stopping": _("正在上传剩余轨迹点并结束巡查…"),
        "ended": _("本次巡查已结束"),
        "pending": _("待上传 {n} 个点"),
        "sent": _("已上传 {accepted} 个点，重复 {duplicates} 个，未接收 {rejected} 个"),
        "points": _("{n} 个"),
        "distance": _("{km} 公里"),
        "inside": _("{minutes} 分钟"),
        "coverage": _("{pct}%"),
        "measuring": _("里程、网格内时长和异常在结束巡查时由系统计算。"),
        "no_flags": _("无"),
        "fix": _("最新定位 {time}，精度约 {m} 米"),
        "waiting_fix": _("正在获取位置…"),
        "geo_denied": _("未获得定位权限，无法记录轨迹。请在浏览器设置中允许本网站使用位置信息。"),
        "geo_unavailable": _("暂时无法获取位置，请到开阔处稍候，系统会继续尝试。"),
        "geo_timeout": _("定位超时，系统会继续尝试。"),
        "geo_unsupported": _("此浏览器不支持定位（或页面不是 HTTPS），无法记录巡查轨迹。"),
        "offline": _("网络不可用：轨迹点已保存在本机，联网后自动上传。"),
        "http_error": _("请求失败（HTTP {status}），稍后自动重试。"),
        "dropped": _("服务器拒收了一批轨迹点：{message}"),
    }


@worker_page
def m_patrol_page(request: HttpRequest) -> HttpResponse:
    return render(request, "workforce/mobile/patrol.html", {
        "tabs": _tabs(request), "api": reverse("api:api-root") + "workforce",
        "js_strings": patrol_strings()})


# --- 任务督办 -------------------------------------------------------------------


def _query_without_page(request: HttpRequest) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])


@overseer_page
def tasks_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    get = request.GET
    status = get.get("status", "open")
    status = status if status in dict(TASK_STATUSES) else "open"
    kind = get.get("kind", "")
    kind = kind if kind in TaskKind.values else ""
    area = "".join(c for c in get.get("area", "") if c.isdigit())[:15]
    # Community staff chase what is late: their list opens on the overdue
    # tasks until they submit the filter themselves ("f").
    overdue = get.get("overdue") == "1" or ("f" not in get and _role(user) == Role.COMMUNITY_STAFF)
    now = timezone.now()
    qs = selectors.tasks_for(user, status=None if status == "all" else status, overdue=overdue,
                             kind=kind, area=area, now=now)
    page = Paginator(qs, PAGE_SIZE).get_page(get.get("page"))
    workers = [w for w in selectors.workers_for(user).order_by("user__area_code", "pk")
               if w.active and w.user.is_active and w.user.role == Role.GRID_WORKER]
    return render(request, "workforce/tasks.html", {
        "page": page, "rows": [_task_row(t, now) for t in page.object_list],
        "status": status, "kind": kind, "area": area, "overdue": overdue,
        "statuses": [(v, _(label)) for v, label in TASK_STATUSES], "kinds": TaskKind.choices,
        "workers": workers, "may_reassign": _may_reassign(user),
        "query": _query_without_page(request), "next": request.get_full_path()})


@overseer_page
@require_POST
def reassign_view(request: HttpRequest) -> HttpResponse:
    back = _back(request, reverse("workforce:tasks"))
    ids = [i for i in (_int(v) for v in request.POST.getlist("task_ids")) if i is not None]
    to_user = _int(request.POST.get("to_user"))
    if not ids:
        messages.error(request, _("请先勾选要转派的任务"))
        return redirect(back)
    if to_user is None:
        messages.error(request, _("请选择接收任务的网格员"))
        return redirect(back)
    try:
        n = services.reassign_tasks(by=request.user, task_ids=ids, to_user_id=to_user,
                                    reason=request.POST.get("reason", "")[:200])
    except DomainError as exc:
        messages.error(request, _("转派未成功：%(message)s") % {"message": exc.message})
        return redirect(back)
    messages.success(request, _("已转派 %(n)d 项任务") % {"n": n})
    return redirect(back)


# --- 网格员考核 -----------------------------------------------------------------


def _month(value: str) -> date | None:
    try:
        return datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        return None


def _assessment_query(request: HttpRequest) -> tuple[date, str, str]:
    """The month (default: this one), the ranking level, and what was wrong
    with the month asked for."""
    data = request.POST if request.method == "POST" else request.GET
    asked = data.get("month", "")
    month = _month(asked) if asked else None
    error = "" if month or not asked else _("月份格式应为 YYYY-MM，例如 2026-11：%(value)s") % {"value": asked[:20]}
    level = data.get("level", "community")
    return month or timezone.localdate().replace(day=1), level if level in dict(LEVELS) else "community", error


def _figure(figures: dict[str, Any], part: str, whole: str) -> str:
    return f"{figures.get(part, 0)}/{figures.get(whole, 0)}"


def _ranking_row(r: selectors.Ranked) -> dict[str, Any]:
    s, f = r.score, r.score.figures
    missing = set(f.get("missing", []))
    ratings = int(f.get("ratings", 0) or 0)
    return {
        "rank": r.rank, "of": r.of, "area": r.area, "worker": s.worker.user, "worker_id": s.worker_id,
        "grid": s.grid_code, "score": s.score,
        "parts": [None if p in missing else getattr(s, p) for p in scoring.PARTS],
        "patrol": _figure(f, "compliant_days", "workdays"), "reports": f.get("valid_reports", 0),
        "report_target": f.get("report_target", 0),
        "visits": _figure(f, "households_visited", "households_due"),
        "tasks": _figure(f, "tasks_on_time", "tasks_due"),
        "verify": _figure(f, "verified_on_time", "verified"),
        "ratings": ratings, "rating_mean": (f.get("rating_sum", 0) / ratings) if ratings else None,
    }


@overseer_page
def assessment_page(request: HttpRequest) -> HttpResponse:
    month, level, error = _assessment_query(request)
    rows = selectors.ranking(request.user, month, level=level)
    query = urlencode({"month": f"{month:%Y-%m}", "level": level})
    return render(request, "workforce/assessment.html", {
        "rows": [_ranking_row(r) for r in rows], "month": month, "level": level, "error": error,
        "levels": [(v, _(label)) for v, label in LEVELS],
        "parts": [_(scoring.PART_NAMES[p]) for p in scoring.PARTS],
        "computed_at": max((r.score.computed_at for r in rows), default=None),
        "xlsx": reverse("workforce:assessment_xlsx") + "?" + query})


@overseer_page
@require_POST
def assessment_compute_view(request: HttpRequest) -> HttpResponse:
    month, level, error = _assessment_query(request)
    if error:
        messages.error(request, error)
    else:
        n = services.compute_month(month)
        messages.success(request, _("已重新计算 %(month)s 的考核：%(n)d 名网格员") % {
            "month": f"{month:%Y-%m}", "n": n})
    return redirect(reverse("workforce:assessment") + "?" + urlencode({"month": f"{month:%Y-%m}",
                                                                       "level": level}))


@overseer_page
def assessment_xlsx(request: HttpRequest) -> HttpResponse:
    month, level, error = _assessment_query(request)
    if error:
        messages.error(request, error)
        return redirect("workforce:assessment")
    rows = selectors.ranking(request.user, month, level=level)
    try:
        ticket = exports.prepare(request.user, kind="workforce.ranking",
                                 params={"month": month, "level": level}, rows=len(rows),
                                 purpose=request.GET.get("purpose", "")[:200] or "网格员月度考核排名",
                                 fields=selectors.RANKING_FIELDS)
    except DomainError as exc:  # above the export limit: a request is filed for approval
        messages.error(request, exc.message)
        return redirect(reverse("workforce:assessment") + "?" + urlencode(
            {"month": f"{month:%Y-%m}", "level": level}))
    return download(selectors.ranking_xlsx(rows, month=month, level=level, watermark=ticket.mark),
                    name=f"网格员考核_{month:%Y%m}.xlsx", fallback=f"workers_{month:%Y%m}.xlsx")


# --- 网格员 ---------------------------------------------------------------------


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@overseer_page
def workers_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    day = _day(request.GET.get("day", "")) or timezone.localdate()
    page = Paginator(selectors.workers_for(user).order_by("user__area_code", "pk"),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    days = {d.worker_id: d for d in selectors.patrol_days(user, day=day)}
    balances = {w.pk: getattr(w, "balance", 0) or 0 for w in selectors.party_members(user)}
    live_since = timezone.now() - selectors.LIVE_WINDOW
    map_url = reverse("dashboard:map")
    rows = []
    for w in page.object_list:
        grids = sorted(w.assignments.all(), key=lambda a: (not a.primary, a.grid_code))
        area = grids[0].grid_code if grids else ""
        rows.append({
            "worker": w, "grids": grids, "day": days.get(w.pk), "balance": balances.get(w.pk),
            "live": w.last_at is not None and w.last_at >= live_since,
            "track_url": map_url + "?" + urlencode(
                {**({"area": area} if area else {}), "worker": w.pk, "day": day.isoformat()}),
        })
    return render(request, "workforce/workers.html", {
        "page": page, "rows": rows, "day": day, "duties": dict(Duty.choices),
        "query": _query_without_page(request)})


@overseer_page
def points_page(request: HttpRequest, pk: int) -> HttpResponse:
    """党员积分: a party member's ledger, and a line written by hand."""
    user = request.user
    typed = {"points": "", "reason": ""}
    error, status = "", 200
    if request.method == "POST":
        typed = {"points": request.POST.get("points", "").strip()[:8],
                 "reason": request.POST.get("reason", "").strip()[:200]}
        points = _int(typed["points"])
        try:
            if points is None:
                raise DomainError("bad_points", _("积分须为整数，例如 5 或 -2"))
            services.award_points(by=user, worker_id=pk, points=points, reason=typed["reason"])
        except NotFound:
            raise
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已记录积分 %(points)+d：%(reason)s") % {
                "points": points, "reason": typed["reason"]})
            return redirect("workforce:points", pk=pk)
    worker, entries, balance = selectors.ledger(user, pk)
    return render(request, "workforce/points.html", {
        "worker": worker, "entries": entries[:200], "balance": balance, "typed": typed,
        "error": error, "may_award": _may_reassign(user)}, status=status)


# --- 一户的走访 -----------------------------------------------------------------


@login_required
@not_found_as_404
def household_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Linked from closed-door alerts: community staff and police look at the
    visits of one household; the household's own grid worker may too."""
    user = request.user
    worker = _is_worker(user)
    if not (worker or selectors.oversees(user)):
        return render(request, "forbidden.html", {"message": _(
            "走访记录仅供网格员、社区及以上工作人员和民警查看。")}, status=403)
    household = selectors.household_for(user, pk)
    visits = (selectors.visits_for(user).filter(household=household)
              .prefetch_related("photos").order_by("-at")[:100])
    rows = [{"visit": v, "photos": list(v.photos.all()),
             "corrections": [(CORRECTION_LABELS.get(k, k), val) for k, val in (v.corrections or {}).items()]}
            for v in visits]
    return render(request, "workforce/household.html", {
        "household": household, "rows": rows, "worker": worker,
        "base": "cases/mobile/base.html" if worker else "base.html",
        "tabs": _tabs(request) if worker else [],
        "members": list(household.members.select_related("person").prefetch_related("person__tags"))})


@login_required
@not_found_as_404
def visit_photo_view(request: HttpRequest, pk: int, photo_id: int) -> FileResponse:
    visit = selectors.visits_for(request.user).filter(pk=pk).prefetch_related("photos").first()
    return photo_response(next((p for p in visit.photos.all() if p.pk == photo_id), None) if visit else None)


urlpatterns: list[URLPattern] = [
    path("m/", m_home_page, name="m_home"),
    path("m/tasks/", m_tasks_page, name="m_tasks"),
    path("m/tasks/<int:pk>/", m_task_page, name="m_task"),
    path("m/visits/", m_visits_page, name="m_visits"),
    path("m/visits/new/", m_visit_new_page, name="m_visit_new"),
    path("m/patrol/", m_patrol_page, name="m_patrol"),
    path("workforce/tasks/", tasks_page, name="tasks"),
    path("workforce/tasks/reassign/", reassign_view, name="reassign"),
    path("workforce/assessment/", assessment_page, name="assessment"),
    path("workforce/assessment/compute/", assessment_compute_view, name="assessment_compute"),
    path("workforce/assessment.xlsx", assessment_xlsx, name="assessment_xlsx"),
    path("workforce/workers/", workers_page, name="workers"),
    path("workforce/workers/<int:pk>/points/", points_page, name="points"),
    path("workforce/households/<int:pk>/", household_page, name="household"),
    path("workforce/visits/<int:pk>/photos/<int:photo_id>/", visit_photo_view, name="visit_photo"),
]
