"""Phone pages: the resident's 随手拍 and progress lookup (public, no login),
and the grid worker's report, own reports and verification (login).

Every page calls services and selectors only. A DomainError is shown in the
form next to the field it is about, with what was typed kept; it never
becomes a 500. The two small JSON endpoints here are public because the
resident's page has no login: the grid outlines for the tap-to-pick map (no
personal data) and the classifier's suggestions (reads only, writes nothing).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wangge.areas.selectors import public_grid_outlines
from wangge.cases import classifying, conf, rules, selectors, services
from wangge.cases.models import Case, Channel, Urgency
from wangge.core.errors import DomainError, NotFound
from wangge.core.pages import not_found_as_404

# The service's field names (DomainError.fields) → where the page shows them.
FIELD_OF = {"description": "description", "lon": "location", "lat": "location",
            "crs": "location", "category": "category", "urgency": "urgency",
            "contact_phone": "contact_phone", "contact_name": "contact_name",
            "rating": "rating"}
TEXT_FIELDS = ("description", "lon", "lat", "crs", "address_text", "category", "urgency",
               "contact_name", "contact_phone")
# Phones' browsers give WGS-84; coordinates copied from Chinese map apps are
# GCJ-02 (高德, 腾讯) or BD-09 (百度), and the service converts them.
CRS_CHOICES = (("wgs84", gettext_lazy("WGS-84（手机定位、GPS）")),
               ("gcj02", gettext_lazy("GCJ-02（高德、腾讯地图）")),
               ("bd09", gettext_lazy("BD-09（百度地图）")))
WORKER_ROLES = frozenset({"grid_worker"})


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _user_or_none(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


def _role(user: Any) -> str:
    return "admin" if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def _require_role(user: Any, roles: frozenset[str]) -> None:
    # As elsewhere (fusion's import page), a page a role may not use answers 404.
    if _role(user) not in roles:
        raise Http404(_("该页面仅供网格员使用"))


def _field_of(exc: DomainError) -> str:
    if exc.code.startswith("photo") or exc.code == "too_many_photos":
        return "photos"
    for key in exc.fields:
        if key in FIELD_OF:
            return FIELD_OF[key]
    return "form"


# --- filing a report (resident and grid worker) ---------------------------------


def typed_report(request: HttpRequest) -> dict[str, str]:
    return {k: request.POST.get(k, "").strip() for k in TEXT_FIELDS}


def _coordinate(text: str) -> float | None:
    return float(text) if text else None


def file_from_form(request: HttpRequest, channel: str, values: dict[str, str]
          ) -> tuple[Case | None, dict[str, str], int]:
    """File the typed report; on a refusal, the errors by field and the status."""
    try:
        lon, lat = _coordinate(values["lon"]), _coordinate(values["lat"])
    except ValueError:
        return None, {"location": _("经纬度须为数字，例如 117.35 和 39.02")}, 422
    report = services.Report(
        description=values["description"], lon=lon, lat=lat, crs=values["crs"] or "wgs84",
        address_text=values["address_text"], category_code=values["category"],
        urgency=values["urgency"] or Urgency.NORMAL, channel=channel,
        contact_name=values["contact_name"], contact_phone=values["contact_phone"],
        photos=request.FILES.getlist("photos"))
    try:
        case = services.file_report(report=report, by=_user_or_none(request),
                                    client=_client(request))
    except DomainError as exc:
        return None, {_field_of(exc): exc.message}, exc.status
    return case, {}, 201


def _form_context(request: HttpRequest, values: dict[str, str], errors: dict[str, str],
                  *, worker: bool) -> dict[str, Any]:
    photos_lost = bool(errors) and bool(request.FILES) and "photos" not in errors
    return {
        "values": values, "errors": errors, "worker": worker, "photos_lost": photos_lost,
        "categories": selectors.categories(), "urgencies": Urgency.choices,
        "crs_choices": CRS_CHOICES, "max_photos": int(conf.get("WANGGE_PHOTOS_PER_STEP")),
        "max_photo_mb": int(conf.get("WANGGE_PHOTO_MAX_BYTES")) // 1048576,
        "area": request.GET.get("area", "")[:15], "js_strings": report_js_strings(),
    }


def report_js_strings() -> dict[str, str]:
    """report.js formats no prose of its own: {name} placeholders are filled there."""
    return {
        "none": _("尚未选择位置"),
        "locating": _("正在获取当前位置…"),
        "in_grid": _("已选位置：{grid}（{lon}, {lat}）"),
        "outside": _("所选位置（{lon}, {lat}）不在任何网格内，提交后将转指挥中心处理"),
        "accuracy": _("定位精度约 {m} 米"),
        "manual": _("已填写坐标（{crs}）：{lon}, {lat}，提交后由系统定位网格"),
        "geo_denied": _("未获得定位权限。请在浏览器设置中允许定位，或在网格图上点选位置。"),
        "geo_unavailable": _("暂时无法获取位置，请在网格图上点选或手动输入经纬度。"),
        "geo_timeout": _("定位超时，请重试，或在网格图上点选位置。"),
        "geo_unsupported": _("此浏览器不支持定位（或页面不是 HTTPS），请在网格图上点选位置。"),
        "map_failed": _("网格图加载失败，请使用当前位置或手动输入经纬度。"),
        "no_grids": _("暂无网格图，请使用当前位置或手动输入经纬度。"),
        "photo_count": _("已选 {n} 张照片"),
        "too_many_photos": _("最多可上传 {max} 张照片，请重新选择"),
        "photo_too_big": _("“{name}”超过 {mb} MB，请换一张"),
        "suggested": _("按描述推荐"),
        "guess": _("{name}（{pct}%）"),
    }


def report_page(request: HttpRequest) -> HttpResponse:
    """居民随手拍: public; anonymous reports are rate-limited by client address."""
    values = {k: "" for k in TEXT_FIELDS}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = typed_report(request)
        values["urgency"] = ""  # residents do not grade urgency; the centre does
        case, errors, status = file_from_form(request, Channel.RESIDENT, values)
        if case is not None:
            return redirect("cases:report_sent", code=case.tracking_code)
    return render(request, "cases/public/report.html",
                  _form_context(request, values, errors, worker=False), status=status)


@not_found_as_404
def report_sent_page(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.public_status(code)
    return render(request, "cases/public/sent.html", {
        "case": found["case"], "state": found["state"],
        "status_url": _status_url(found["case"].tracking_code)})


def _status_url(code: str) -> str:
    return f"{reverse('cases:status')}?{urlencode({'code': code})}"


# --- progress and rating by tracking code ----------------------------------------


def status_page(request: HttpRequest) -> HttpResponse:
    """进度查询: public; a closed case may be rated once."""
    code = (request.POST.get("code") or request.GET.get("code") or "").strip().upper()[:16]
    errors: dict[str, str] = {}
    typed = {"rating": request.POST.get("rating", ""), "comment": request.POST.get("comment", "")}
    status = 200
    if request.method == "POST":
        try:
            rating = int(typed["rating"])
        except ValueError:
            errors["rating"] = _("请选择 1 至 5 颗星")
            status = 422
        else:
            try:
                services.rate_by_tracking_code(tracking_code=code, rating=rating,
                                               comment=typed["comment"][:200])
            except NotFound as exc:
                errors["code"], status = exc.message, exc.status
            except DomainError as exc:
                errors["rating"], status = exc.message, exc.status
            else:
                messages.success(request, _("感谢您的评价！"))
                return redirect(_status_url(code))
    found = None
    if code and "code" not in errors:
        try:
            found = selectors.public_status(code)
        except NotFound as exc:
            errors["code"], status = exc.message, exc.status
    return render(request, "cases/public/status.html", {
        "code": code, "found": found, "errors": errors, "typed": typed,
        "stars": range(5, 0, -1)}, status=status)


# --- public JSON for the report page ----------------------------------------------


@require_POST
def classify_endpoint(request: HttpRequest) -> JsonResponse:
    """The classifier's top three for the typed description. Public, since the
    resident's page has no login; it reads the model and writes nothing."""
    text = request.POST.get("text", "")[:2000]
    guesses = classifying.guess(text) if text.strip() else []
    names = {c.code: c.name for c in selectors.categories()} if guesses else {}
    return JsonResponse([{"code": g.code, "name": names.get(g.code, g.code),
                          "confidence": round(g.confidence, 4)}
                         for g in guesses if g.code in names], safe=False)


@require_GET
def grids_endpoint(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(public_grid_outlines(request.GET.get("area", "")[:15]),
                            content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- grid worker's phone pages ---------------------------------------------------


def _tabs(request: HttpRequest) -> list[dict[str, Any]]:
    role = _role(request.user)
    items = []
    if role in WORKER_ROLES:
        items += [(_("上报问题"), "cases:m_report"), (_("我的上报"), "cases:m_cases")]
    if role in selectors.GRID_ROLES:
        items.append((_("待核查"), "cases:m_verify"))
    return [{"label": label, "url": reverse(name), "current": request.path == reverse(name)}
            for label, name in items]


@login_required
def m_report_page(request: HttpRequest) -> HttpResponse:
    """上报问题: a grid worker's report; location required, urgency graded."""
    _require_role(request.user, WORKER_ROLES)
    values = {k: "" for k in TEXT_FIELDS}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = typed_report(request)
        case, errors, status = file_from_form(request, Channel.GRID_WORKER, values)
        if case is not None:
            messages.success(request, _("已上报：案件编号 %(code)s，当前状态：%(state)s") % {
                "code": case.code, "state": case.get_state_display()})
            return redirect("cases:m_cases")
    context = _form_context(request, values, errors, worker=True)
    return render(request, "cases/mobile/report.html", {**context, "tabs": _tabs(request)},
                  status=status)


def _time_left(case: Case) -> tuple[str, bool]:
    """"剩余 3.5 工作小时" while the department's clock runs; True when overdue."""
    left = selectors.time_left(case)
    if left is None:
        return "", False
    hours = f"{abs(left) / 3600:.1f}"
    if left < 0:
        return _("已超期 %(hours)s 工作小时") % {"hours": hours}, True
    return _("剩余 %(hours)s 工作小时") % {"hours": hours}, False


@login_required
def m_cases_page(request: HttpRequest) -> HttpResponse:
    """我的上报: the worker's own reports, newest first, with the time left."""
    _require_role(request.user, WORKER_ROLES)
    rows = []
    for case in selectors.reported_by(request.user)[:100]:
        left, late = _time_left(case)
        rows.append({"case": case, "left": left, "late": late or case.overdue})
    return render(request, "cases/mobile/cases.html", {"rows": rows, "tabs": _tabs(request)})


VERIFY_STEPS = ("verify", "rework")


@login_required
def m_verify_page(request: HttpRequest) -> HttpResponse:
    """待核查: handled cases of the user's grids; pass (closes) or send back."""
    _require_role(request.user, selectors.GRID_ROLES)
    errors: dict[int, str] = {}
    notes: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        step = request.POST.get("step", "")
        note = request.POST.get("note", "")
        try:
            case_id = int(request.POST.get("case", ""))
        except ValueError:
            case_id = 0
        try:
            if step not in VERIFY_STEPS:
                raise DomainError("unknown_transition", _("请选择“核查通过”或“不通过返工”"))
            done = services.take_step(case_id=case_id, by=request.user, step=step,
                                      given=services.StepInput(
                                          note=note, photos=request.FILES.getlist("photos")))
        except DomainError as exc:
            errors[case_id], notes[case_id], status = exc.message, note, exc.status
        else:
            label = rules.TRANSITIONS[step].label
            messages.success(request, _("案件 %(code)s：%(step)s，当前状态：%(state)s") % {
                "code": done.code, "step": label, "state": done.get_state_display()})
            return redirect("cases:m_verify")
    cases = list(selectors.to_verify(request.user)[:100])
    listed = {c.pk for c in cases}
    rows = [{"case": c, "error": errors.get(c.pk, ""), "note": notes.get(c.pk, "")} for c in cases]
    # A refusal about a case no longer listed (someone else verified it first).
    stray = [message for pk, message in errors.items() if pk not in listed]
    return render(request, "cases/mobile/verify.html", {
        "rows": rows, "stray": stray, "tabs": _tabs(request),
        "max_photos": int(conf.get("WANGGE_PHOTOS_PER_STEP"))}, status=status)


urlpatterns: list[URLPattern] = [
    path("report/", report_page, name="report"),
    path("report/sent/<str:code>/", report_sent_page, name="report_sent"),
    path("report/status/", status_page, name="status"),
    path("report/classify/", classify_endpoint, name="report_classify"),
    path("report/grids.json", grids_endpoint, name="report_grids"),
    path("m/report/", m_report_page, name="m_report"),
    path("m/cases/", m_cases_page, name="m_cases"),
    path("m/verify/", m_verify_page, name="m_verify"),
]
