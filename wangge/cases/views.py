"""Staff case pages: the centre's queue and supervision, the department's
workbench, the case list and one case with a form per step it may take, the
hotline operator's entry form, the routing tool and the evaluation report.

Every page reads through selectors and writes through `services.take_step`
(the hotline form: `services.file_report`, by way of the phone form's helpers);
a refusal of the workflow comes back as a message on the page it was asked
from, never as an error page. Two reads are still made here: the department
list for the dispatch select (no selector offers it yet) and the queue
filters, which narrow a queryset a selector already scoped to the reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.accounts.models import Department
from wangge.cases import conf, public_views, rules, selectors, services
from wangge.cases.models import Case, Category, Channel, PhotoStage, State, Urgency
from wangge.core.errors import DomainError, NotFound
from wangge.core.masking import Field as MaskField
from wangge.core.masking import needs_purpose
from wangge.core.pages import not_found_as_404, photo_response

PAGE_SIZE = 20
PURPOSES = ("案件办理", "回访核实", "督办催办", "投诉处理")

# Events the system writes that are not steps of the transition table.
EVENT_LABELS = {"report": "上报", "overdue": "处置超期", "verify_overdue": "核查超期",
                "merged_in": "合并重复上报"}
# Steps a centre decides in the queue; the others are on the case page.
CENTRE_STEPS = ("register", "merge", "reject", "dispatch", "approve_postpone", "refuse_postpone")
WORKBENCH_STEPS = ("accept", "return", "handle", "request_postpone")
SUPERVISION_STEPS = ("supervise",)
# Steps that end or undo something: drawn as a secondary action.
DANGER_STEPS = frozenset({"reject", "return", "rework", "cancel", "refuse_postpone", "withdraw"})
# Steps where photos of the work or the check belong (services._photo_stage).
PHOTO_STEPS = frozenset({"handle", "verify", "rework"})
# What a form can ask for; "postpone_pending" and "higher_level" are facts of
# the case, not inputs.
INPUTS = ("category", "department", "duplicate_of", "until", "rating", "note")
QUEUE_STATES = (State.REPORTED, State.REGISTERED, State.RETURNED, State.ACCEPTED)


def _role(user: Any) -> str:
    return "admin" if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def _is_centre(user: Any) -> bool:
    return _role(user) in selectors.CENTRE_ROLES


def _is_department(user: Any) -> bool:
    return _role(user) in selectors.DEPARTMENT_ROLES and bool(getattr(user, "department_id", None))


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "forbidden.html", {"message": message}, status=403)


# --- what a page shows of one case ------------------------------------------------


# What the note means for each step that asks for one.
NOTE_LABELS = {
    "reject": "不予立案的理由", "return": "退回原因（为何不属本部门职责）", "handle": "处置情况",
    "rework": "核查不通过的原因", "request_postpone": "申请延期的理由", "refuse_postpone": "不同意延期的理由",
    "suspend": "挂起原因", "escalate": "上报上级的原因", "cancel": "撤销原因", "supervise": "督办意见",
    "rate": "评价意见",
}


@dataclass
class StepForm:
    name: str
    label: str
    needs: tuple[str, ...]
    danger: bool
    photos: bool
    note_label: str = ""

    @property
    def inline(self) -> bool:
        """A button, with a select or optional photos, fits in a row; a step
        asking for a written reason or a date opens a form of its own."""
        return set(self.needs) <= {"category", "department", "duplicate_of"}


@dataclass
class Row:
    case: Case
    forms: list[StepForm]
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    route_department: str = ""
    route_reason: str = ""
    left: dict[str, Any] | None = None


def _forms(user: Any, case: Case) -> list[StepForm]:
    out = []
    for t in selectors.steps_for(user, case):
        needs = tuple(n for n in INPUTS if n in t.requires)
        out.append(StepForm(t.name, _(t.label), needs, t.name in DANGER_STEPS, t.name in PHOTO_STEPS,
                            _(NOTE_LABELS.get(t.name, "说明"))))
    return out


def _time_left(case: Case, now: datetime) -> dict[str, Any] | None:
    seconds = selectors.time_left(case, now)
    if seconds is None:
        return None
    return {"hours": abs(seconds) / 3600, "past": seconds < 0, "overdue": seconds < 0 or case.overdue,
            "provisional": case.provisional_due, "due": case.handle_due}


class _Context:
    """What several rows share, read once per page: the catalog, the
    departments and the routing answers (one per category and place)."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.now = timezone.now()
        self._categories: dict[str, Category] | None = None
        self._departments: list[Department] | None = None
        self._routes: dict[tuple[Any, ...], tuple[str, str]] = {}

    @property
    def categories(self) -> dict[str, Category]:
        if self._categories is None:
            self._categories = {c.code: c for c in selectors.categories()}
        return self._categories

    def departments_for(self, case: Case) -> list[Department]:
        if self._departments is None:
            self._departments = list(selectors.dispatch_targets(self.user))
        return [d for d in self._departments if case.area_code.startswith(d.area_code or "")]

    def route(self, case: Case) -> tuple[str, str]:
        if case.category is None or case.lon is None or case.lat is None:
            return "", ""
        key = (case.category.code, case.area_code, tuple(sorted(case.layers.items())), case.outside)
        if key not in self._routes:
            try:
                e = selectors.explain_route(self.user, case.category.code, case.lon, case.lat)
            except DomainError:
                self._routes[key] = ("", "")
            else:
                self._routes[key] = (e.department.code if e.department else "", e.reason)
        return self._routes[key]

    def row(self, case: Case, only: Iterable[str] | None = None) -> Row:
        forms = _forms(self.user, case)
        if only is not None:
            order = list(only)
            forms = sorted((f for f in forms if f.name in order), key=lambda f: order.index(f.name))
        row = Row(case, forms, left=_time_left(case, self.now))
        needs = {n for f in forms for n in f.needs}
        if "category" in needs or case.state == State.REPORTED:
            row.suggestions = [
                {"code": code, "name": self.categories[code].name, "percent": round(conf * 100)}
                for code, conf in (case.suggestions or []) if code in self.categories]
        if "department" in needs:
            row.departments = self.departments_for(case)
            row.route_department, row.route_reason = self.route(case)
        return row


def _page(request: HttpRequest, qs: QuerySet[Case]) -> Page:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])


def _narrow(qs: QuerySet[Case], state: str, category: str, overdue: bool) -> QuerySet[Case]:
    # Filters within a queue the selector already scoped to the reader.
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category__code=category)
    if overdue:
        qs = qs.filter(overdue=True)
    return qs


def _state_choices(states: Iterable[str]) -> list[tuple[str, str]]:
    return [(s, _(rules.STATE_NAMES[s])) for s in states]


# --- 案件中心 ------------------------------------------------------------------


@login_required
def centre_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _is_centre(user):
        return _forbidden(request, _("案件中心仅供社区、街道、区级受理派遣中心和指挥中心使用。"))
    may_supervise = _role(user) in selectors.SUPERVISOR_ROLES
    tab = "supervision" if request.GET.get("tab") == "supervision" and may_supervise else "queue"
    state = request.GET.get("state", "")
    state = state if state in QUEUE_STATES or (tab == "supervision" and state in rules.OPEN) else ""
    category = request.GET.get("category", "")[:16]
    overdue = request.GET.get("overdue") == "1"
    base = selectors.supervision_queue(user) if tab == "supervision" else selectors.centre_queue(user)
    page = _page(request, _narrow(base, state, category, overdue))
    ctx = _Context(user)
    only = SUPERVISION_STEPS if tab == "supervision" else CENTRE_STEPS
    rows = [ctx.row(c, only) for c in page.object_list]
    for row in rows:
        # In the queue a merge is offered only where intake found a likely
        # original; any other merge is made from the case page.
        if not row.case.possible_duplicate_id:
            row.forms = [f for f in row.forms if f.name != "merge"]
    return render(request, "cases/centre.html", {
        "tab": tab, "may_supervise": may_supervise, "page": page, "rows": rows,
        "state": state, "category": category, "overdue": overdue,
        "states": _state_choices(sorted(rules.OPEN, key=list(rules.STATE_NAMES).index)
                                 if tab == "supervision" else QUEUE_STATES),
        "categories": list(ctx.categories.values()), "query": _query_without_page(request),
        "next": request.get_full_path()})


# --- 部门工作台 ----------------------------------------------------------------


@login_required
def workbench_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _is_department(user):
        return _forbidden(request, _("部门工作台仅供承办部门的工作人员使用。"))
    page = _page(request, selectors.workbench(user))
    ctx = _Context(user)
    return render(request, "cases/workbench.html", {
        "page": page, "rows": [ctx.row(c, WORKBENCH_STEPS) for c in page.object_list],
        "query": _query_without_page(request), "next": request.get_full_path(),
        "department": getattr(user, "department", None), "now": ctx.now})


# --- 案件列表与详情 -------------------------------------------------------------


@login_required
def list_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    state = request.GET.get("state", "")
    state = state if state in rules.STATE_NAMES else ""
    category = request.GET.get("category", "")[:16]
    overdue = request.GET.get("overdue") == "1"
    q = request.GET.get("q", "").strip()[:50]
    area = request.GET.get("area", "").strip()[:15]
    qs = selectors.cases_for(user, state=state or None, category=category or None,
                             area=area or None, overdue=True if overdue else None, q=q or None)
    page = _page(request, qs)
    return render(request, "cases/list.html", {
        "page": page, "state": state, "category": category, "overdue": overdue, "q": q,
        "area": area, "states": _state_choices(rules.STATE_NAMES),
        "categories": selectors.categories(), "query": _query_without_page(request)})


def _photo_groups(case: Case) -> list[tuple[str, list[Any]]]:
    by_stage: dict[str, list[Any]] = {}
    for p in case.photos.all():
        by_stage.setdefault(p.stage, []).append(p)
    return [(str(label), by_stage[stage]) for stage, label in PhotoStage.choices if stage in by_stage]


def _timeline(user: Any, case: Case) -> list[dict[str, Any]]:
    out = []
    for e in selectors.timeline(user, case):
        t = rules.TRANSITIONS.get(e.action)
        label = t.label if t else EVENT_LABELS.get(e.action, e.action)
        moved = e.to_state and e.to_state != e.from_state
        out.append({"at": e.at, "actor": e.actor_name, "action": e.action, "label": _(label),
                    "state": _(rules.STATE_NAMES.get(e.to_state, e.to_state)) if moved else "",
                    "note": e.note})
    return out


def _map_source(case: Case) -> str:
    """The grids to draw under the case's point: its community's grids, or
    for a point outside every grid, the grids of the district it was sent to."""
    parent = case.grid_code[:12] if case.grid_code else case.area_code
    if not parent or (case.lon is None and not case.grid_code):
        return ""
    return reverse("api:api-root") + "areas/geojson?" + urlencode({"parent": parent, "level": "grid"})


@not_found_as_404
@login_required
def detail_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    purpose = request.GET.get("purpose", "")[:50]
    case = selectors.case_for(user, pk)
    contact = selectors.contact_of(user, case, purpose)
    ctx = _Context(user)
    return render(request, "cases/detail.html", {
        "case": case, "row": ctx.row(case), "contact": contact, "purpose": purpose,
        "categories": list(ctx.categories.values()),
        "purposes": PURPOSES,
        "can_reveal": bool(case.contact_phone) and not contact.full and needs_purpose(user, MaskField.PHONE),
        "timeline": _timeline(user, case), "photos": _photo_groups(case),
        "state_name": _(rules.STATE_NAMES.get(case.state, case.state)),
        "level_name": _(rules.LEVEL_NAMES.get(case.level, case.level)),
        "map_source": _map_source(case), "next": request.path,
        "postpone_pending": case.postpone_until is not None})


def _until(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DomainError("invalid_until", _("延期时间格式不正确，请按“年-月-日 时:分”填写")) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def _rating(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise DomainError("invalid_rating", _("评价须为 1 至 5 分")) from None


def _back(request: HttpRequest, pk: int) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("cases:detail", args=[pk])


@not_found_as_404
@login_required
@require_POST
def step_view(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    transition = rules.TRANSITIONS.get(step)
    if transition is None:
        raise Http404(_("没有这一操作"))
    back = _back(request, pk)
    post = request.POST
    try:
        given = services.StepInput(
            note=post.get("note", "")[:1000], category_code=post.get("category", "")[:16],
            department_code=post.get("department", "")[:32], until=_until(post.get("until", "")),
            rating=_rating(post.get("rating", "")), duplicate_of=post.get("duplicate_of", "").strip()[:32],
            photos=request.FILES.getlist("photos"))
        case = services.take_step(case_id=pk, by=request.user, step=step, given=given)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, f"{_(transition.label)}：{exc.message}")
        return redirect(back)
    messages.success(request, _("已办理“%(step)s”，案件 %(code)s 当前状态：%(state)s") % {
        "step": _(transition.label), "code": case.code,
        "state": _(rules.STATE_NAMES.get(case.state, case.state))})
    return redirect(back)


@not_found_as_404
@login_required
def photo_view(request: HttpRequest, pk: int, photo_id: int) -> FileResponse:
    case = selectors.case_for(request.user, pk)
    return photo_response(next((p for p in case.photos.all() if p.pk == photo_id), None))


# --- 派遣规则与测试工具 ----------------------------------------------------------


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@login_required
def routing_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _is_centre(user):
        return _forbidden(request, _("派遣规则仅供受理派遣中心和指挥中心查看。"))
    category = request.GET.get("category", "")[:16]
    lon, lat = _float(request.GET.get("lon", "")), _float(request.GET.get("lat", ""))
    explanation, error = None, ""
    asked = bool(category or request.GET.get("lon") or request.GET.get("lat"))
    if asked:
        if not category:
            error = _("请选择案件类别")
        elif lon is None or lat is None:
            error = _("请在地图上点选位置，或填写经度和纬度")
        else:
            try:
                explanation = selectors.explain_route(user, category, lon, lat)
            except DomainError as exc:
                error = exc.message
    result = {"explanation": explanation, "error": error, "asked": asked, "lon": lon, "lat": lat}
    if request.headers.get("HX-Request"):
        return render(request, "cases/_route_result.html", result)
    return render(request, "cases/routing.html", {
        **result, "rules": selectors.routing_rules(user), "categories": selectors.categories(),
        "category": category, "is_admin": _role(user) == "admin",
        "grids_source": reverse("api:api-root") + "areas/geojson?level=grid"})


# --- 热线录入 ------------------------------------------------------------------


def _hotline_strings() -> dict[str, str]:
    """report.js's text, for an operator at a desk: the browser's own position
    is the call centre's, not the caller's, so no message offers it."""
    return {**public_views.report_js_strings(),
            "none": _("尚未选择位置（选填：不选则由本中心人工定位）"),
            "map_failed": _("网格图加载失败，请手动输入经纬度。"),
            "no_grids": _("暂无网格图，请手动输入经纬度。")}


@login_required
def hotline_page(request: HttpRequest) -> HttpResponse:
    """热线录入: an operator types a citizen's call; it goes through the same
    intake (and the same field errors) as the phone report form, as channel
    "hotline" with the operator as reporter, so a call without a point lands
    in the operator's own centre queue (services._default_area)."""
    user = request.user
    if not _is_centre(user):
        return _forbidden(request, _("热线录入仅供社区、街道、区级受理派遣中心和指挥中心使用。"))
    values = {k: "" for k in public_views.TEXT_FIELDS}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = public_views.typed_report(request)
        case, errors, status = public_views.file_from_form(request, Channel.HOTLINE, values)
        if case is not None:
            messages.success(request, _(
                "热线工单已录入：案件编号 %(code)s，查询码 %(tracking)s（请告知来电人，"
                "可凭查询码查询办理进度）。当前状态：%(state)s") % {
                "code": case.code, "tracking": case.tracking_code,
                "state": _(rules.STATE_NAMES.get(case.state, case.state))})
            return redirect("cases:detail", pk=case.pk)
    # Callers describe places across the street or community line: the map
    # shows the operator's whole district (all grids for a city-wide admin).
    district = str(getattr(user, "area_code", "") or "")[:6]
    return render(request, "cases/hotline.html", {
        "values": values, "errors": errors,
        "photos_lost": bool(errors) and bool(request.FILES) and "photos" not in errors,
        "categories": selectors.categories(), "urgencies": Urgency.choices,
        "crs_choices": public_views.CRS_CHOICES,
        "max_photos": int(conf.get("WANGGE_PHOTOS_PER_STEP")),
        "max_photo_mb": int(conf.get("WANGGE_PHOTO_MAX_BYTES")) // 1048576,
        "grids_url": reverse("cases:report_grids") + (
            "?" + urlencode({"area": district}) if district else ""),
        "js_strings": _hotline_strings()}, status=status)


# --- 考核评价 ------------------------------------------------------------------


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _evaluation_query(request: HttpRequest) -> tuple[date, date, str]:
    """The period (default: this month so far) and the grouping asked for."""
    from wangge.cases.evaluation import BY_NAMES

    today = timezone.localdate()
    start = _date(request.GET.get("start", "")) or today.replace(day=1)
    end = _date(request.GET.get("end", "")) or today
    by = request.GET.get("by", "department")
    return start, end, by if by in BY_NAMES else "department"


@login_required
def evaluation_page(request: HttpRequest) -> HttpResponse:
    from wangge.cases import evaluation

    user = request.user
    if not _is_centre(user):
        return _forbidden(request, _("考核评价仅供受理派遣中心和指挥中心查看。"))
    start, end, by = _evaluation_query(request)
    error = ""
    try:
        rows = evaluation.evaluate(user, start=start, end=end, by=by)  # type: ignore[arg-type]
    except DomainError as exc:
        error, rows = exc.message, []
    chart = {"names": [r.name for r in rows], "score": [r.score for r in rows],
             "on_time": [None if r.on_time_rate is None else round(r.on_time_rate * 100, 1) for r in rows],
             "labels": {"score": _("综合得分"), "on_time": _("按时结案率（%）")}}
    return render(request, "cases/evaluation.html", {
        "rows": rows, "start": start, "end": end, "by": by, "error": error,
        "groupings": [(k, _("按%(name)s") % {"name": _(v)}) for k, v in evaluation.BY_NAMES.items()],
        "chart": chart, "attribution": _(evaluation.ATTRIBUTION.get(by, "")),
        "period_note": _(evaluation.PERIOD_NOTE),
        "definitions": [(_(d.label), _(d.text)) for d in evaluation.DEFINITIONS],
        "xlsx": reverse("cases:evaluation_xlsx") + "?" + urlencode(
            {"start": start.isoformat(), "end": end.isoformat(), "by": by})})


@login_required
def evaluation_xlsx(request: HttpRequest) -> HttpResponse:
    from wangge.cases import evaluation

    user = request.user
    if not _is_centre(user):
        return _forbidden(request, _("考核评价仅供受理派遣中心和指挥中心查看。"))
    start, end, by = _evaluation_query(request)
    try:
        rows = evaluation.evaluate(user, start=start, end=end, by=by)  # type: ignore[arg-type]
        # Above the export limit this files a request for approval and refuses.
        return evaluation.xlsx_download(rows, start=start, end=end, by=by, user=user,
                                        purpose=request.GET.get("purpose", "")[:200])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("cases:evaluation") + "?" + urlencode(
            {"start": start.isoformat(), "end": end.isoformat(), "by": by}))


urlpatterns: list[URLPattern] = [
    path("cases/", list_page, name="list"),
    path("cases/centre/", centre_page, name="centre"),
    path("cases/workbench/", workbench_page, name="workbench"),
    path("cases/routing/", routing_page, name="routing"),
    path("cases/hotline/", hotline_page, name="hotline"),
    path("cases/evaluation/", evaluation_page, name="evaluation"),
    path("cases/evaluation.xlsx", evaluation_xlsx, name="evaluation_xlsx"),
    path("cases/<int:pk>/", detail_page, name="detail"),
    path("cases/<int:pk>/steps/<str:step>/", step_view, name="step"),
    path("cases/<int:pk>/photos/<int:photo_id>/", photo_view, name="photo"),
]
