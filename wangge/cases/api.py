from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import APIKeyHeader

from wangge.cases import classifying, evaluation, rules, selectors, services
from wangge.cases.models import Case, Channel
from wangge.core.errors import InvalidInput

router = Router(tags=["cases"])

CrsName = Literal["wgs84", "gcj02", "bd09"]
UrgencyName = Literal["normal", "urgent", "emergency"]

# What each role files as: staff entering a call file it as the hotline.
CHANNEL_OF_ROLE = {"grid_worker": Channel.GRID_WORKER, "resident": Channel.RESIDENT}


class DeviceKey(APIKeyHeader):
    param_name = "X-Device-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return services.device_for_key(key or "")


class CategoryOut(Schema):
    code: str
    name: str
    kind: str
    group: str
    limit_normal: str
    limit_urgent: str
    limit_emergency: str
    verify_limit: str


class ReportIn(Schema):
    description: str = Field(..., max_length=2000, description="问题描述")
    lon: float | None = Field(None, description="经度")
    lat: float | None = Field(None, description="纬度")
    crs: CrsName = Field("wgs84", description="坐标系：wgs84、gcj02（手机与国内地图）、bd09")
    address: str = Field("", max_length=200)
    category: str = Field("", description="类别编码；不填则按描述自动分类")
    urgency: UrgencyName = "normal"
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    external_id: str = Field("", max_length=64)


class Guess(Schema):
    code: str
    name: str
    confidence: float


class CaseOut(Schema):
    id: int
    code: str
    tracking_code: str
    channel: str
    state: str
    state_name: str
    level: str
    description: str
    address: str
    category: str | None
    category_name: str | None
    category_confidence: float | None
    suggestions: list[list[Any]]
    urgency: str
    lon: float | None
    lat: float | None
    grid_code: str
    area_code: str
    outside: bool
    layers: dict[str, str]
    department: str | None
    department_name: str | None
    routed_by: str
    possible_duplicate: int | None
    reported_at: datetime
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    handle_due: datetime | None
    verify_due: datetime | None
    provisional_due: bool
    overdue: bool
    supervised: bool
    rework_count: int
    return_count: int
    rating: int | None


class EventOut(Schema):
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str
    data: dict[str, Any]


class StepOut(Schema):
    name: str
    label: str
    requires: list[str]


class CaseDetail(CaseOut):
    feedback: str
    contact_name: str
    contact_phone: str
    timeline: list[EventOut]
    steps: list[StepOut]
    photos: list[dict[str, Any]]


class StepIn(Schema):
    note: str = Field("", max_length=1000)
    category: str = ""
    urgency: UrgencyName | Literal[""] = ""
    department: str = Field("", description="派遣时的部门编码")
    until: datetime | None = Field(None, description="申请延期到的时间")
    rating: int | None = Field(None, ge=1, le=5)
    duplicate_of: str = Field("", description="合并时，重复的原案件编号")


def case_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk, "code": case.code, "tracking_code": case.tracking_code,
        "channel": case.channel, "state": case.state,
        "state_name": rules.STATE_NAMES.get(case.state, case.state), "level": case.level,
        "description": case.description, "address": case.address_text,
        "category": case.category.code if case.category else None,
        "category_name": case.category.name if case.category else None,
        "category_confidence": case.category_confidence, "suggestions": case.suggestions,
        "urgency": case.urgency, "lon": case.lon, "lat": case.lat, "grid_code": case.grid_code,
        "area_code": case.area_code, "outside": case.outside, "layers": case.layers,
        "department": case.department.code if case.department else None,
        "department_name": case.department.name if case.department else None,
        "routed_by": case.routed_by, "possible_duplicate": case.possible_duplicate_id,
        "reported_at": case.reported_at, "dispatched_at": case.dispatched_at,
        "handled_at": case.handled_at, "closed_at": case.closed_at, "handle_due": case.handle_due,
        "verify_due": case.verify_due, "provisional_due": case.provisional_due,
        "overdue": case.overdue, "supervised": case.supervised, "rework_count": case.rework_count,
        "return_count": case.return_count, "rating": case.rating,
    }


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _report(payload: ReportIn, channel: str, photos: list[Any] | None = None) -> services.Report:
    return services.Report(
        description=payload.description, lon=payload.lon, lat=payload.lat, crs=payload.crs,
        address_text=payload.address, category_code=payload.category, urgency=payload.urgency,
        channel=channel, contact_name=payload.contact_name, contact_phone=payload.contact_phone,
        external_id=payload.external_id, photos=photos or [])


def _channel_for(user: Any) -> str:
    return CHANNEL_OF_ROLE.get(getattr(user, "role", ""), Channel.HOTLINE)


@router.get("/categories", response=list[CategoryOut], summary="案件类别目录")
def list_categories(request: HttpRequest) -> Any:
    return list(selectors.categories())


class ClassifyIn(Schema):
    text: str = Field(..., max_length=2000)


@router.post("/classify", response=list[Guess], summary="按描述推荐类别（前三）")
def classify_text(request: HttpRequest, payload: ClassifyIn) -> Any:
    names = dict(selectors.categories().values_list("code", "name"))
    return [{"code": g.code, "name": names.get(g.code, g.code), "confidence": round(g.confidence, 4)}
            for g in classifying.guess(payload.text)]


@router.post("", response={201: CaseOut}, summary="上报问题（JSON）",
             description="网格员上报为网格员渠道，居民为随手拍，其他工作人员代录为热线渠道。"
             "不填类别时按描述自动分类；类别确定、位置在网格内且有派遣规则时系统自动立案并派遣。")
def file_report(request: HttpRequest, payload: ReportIn) -> Any:
    case = services.file_report(report=_report(payload, _channel_for(request.user)), by=request.user,
                                client=_client(request))
    return 201, case_out(case)


@router.post("/upload", response={201: CaseOut}, summary="上报问题（表单与照片）")
def file_report_with_photos(request: HttpRequest, payload: Form[ReportIn],
                            photos: list[UploadedFile] = File(None)) -> Any:  # noqa: B008
    case = services.file_report(report=_report(payload, _channel_for(request.user), photos or []),
                                by=request.user, client=_client(request))
    return 201, case_out(case)


@router.post("/device", response={201: CaseOut}, auth=DeviceKey(), summary="感知设备上报",
             description="摄像头、传感器以 X-Device-Key 头携带设备密钥上报。")
def file_device_report(request: HttpRequest, payload: ReportIn) -> Any:
    device = request.auth  # type: ignore[attr-defined]
    case = services.file_report(report=_report(payload, Channel.SENSOR), device=device,
                                client=f"device:{device.pk}")
    return 201, case_out(case)


@router.get("", response=list[CaseOut], summary="案件列表（本人权限范围内）")
@paginate(LimitOffsetPagination)
def list_cases(request: HttpRequest, state: str | None = None, category: str | None = None,
               area: str | None = None, overdue: bool | None = None,
               q: str | None = Query(None, max_length=100)) -> Any:
    return [case_out(c) for c in selectors.cases_for(request.user, state=state, category=category,
                                                      area=area, overdue=overdue, q=q)]


@router.get("/routing/explain", summary="派遣规则测试：某点某类别会派给谁")
def explain_route(request: HttpRequest, category: str, lon: float, lat: float,
                  crs: CrsName = "wgs84") -> dict[str, Any]:
    e = selectors.explain_route(request.user, category, lon, lat, crs)
    return {
        "category": e.category.code, "grid_code": e.grid_code, "area_code": e.area_code,
        "outside": e.outside, "layers": e.layers,
        "department": e.department.code if e.department else None,
        "department_name": e.department.name if e.department else None, "reason": e.reason,
        "rules": [{"id": c.rule.pk, "rule": str(c.rule), "matches": c.matches, "why_not": c.why_not,
                   "rank": list(c.rank)} for c in e.candidates],
    }


@router.get("/public/{tracking_code}", auth=None, summary="按查询码查进度（居民）")
def public_status(request: HttpRequest, tracking_code: str) -> dict[str, Any]:
    s = selectors.public_status(tracking_code)
    case = s["case"]
    return {"tracking_code": case.tracking_code, "state": case.state, "state_name": s["state"],
            "category_name": case.category.name if case.category else None,
            "reported_at": case.reported_at, "closed_at": case.closed_at, "rating": case.rating,
            "can_rate": s["can_rate"],
            "steps": [{"at": st["at"], "label": st["label"], "note": st["note"]} for st in s["steps"]]}


class RatingIn(Schema):
    rating: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=200)


@router.post("/public/{tracking_code}/rating", auth=None, summary="评价（居民，凭查询码）")
def rate_case(request: HttpRequest, tracking_code: str, payload: RatingIn) -> dict[str, Any]:
    case = services.rate_by_tracking_code(tracking_code=tracking_code, rating=payload.rating,
                                          comment=payload.comment)
    return {"tracking_code": case.tracking_code, "rating": case.rating}


# --- 考核评价 -------------------------------------------------------------------
# Appended below the case routes; the imports stay with the endpoints that use them.


class EvaluationRowOut(Schema):
    key: str
    name: str
    reports: int
    valid: int
    registered: int
    dispatched: int
    due: int
    closed: int
    closed_on_time: int
    on_time_rate: float | None
    overdue: int
    rework: int
    rework_rate: float | None
    returns: int
    mean_handling_hours: float | None
    verified: int
    verified_on_time: int
    verify_on_time_rate: float | None
    rated: int
    satisfaction: float | None
    score: float | None
    rank: int | None


class DefinitionOut(Schema):
    field: str
    label: str
    definition: str


class EvaluationOut(Schema):
    title: str
    start: date
    end: date
    by: str
    attribution: str
    period_note: str
    weights: dict[str, float]
    definitions: list[DefinitionOut]
    rows: list[EvaluationRowOut]


EvaluationBy = Literal["department", "street", "community", "grid", "worker"]
_EVALUATION_HELP = ("start、end 为北京时间的日期（含首尾两日），期间不超过 366 天；"
                    "by 取 department（部门）、street（街道）、community（社区）、grid（网格）"
                    "或 worker（网格员）。只统计本人权限范围内的案件。")


@router.get("/evaluation", response=EvaluationOut, summary="考核评价",
            description=_EVALUATION_HELP)
def case_evaluation(request: HttpRequest, start: date, end: date,
                    by: EvaluationBy = "department") -> Any:
    rows = evaluation.evaluate(request.user, start=start, end=end, by=by)
    return {
        "title": evaluation.title_for(by), "start": start, "end": end, "by": by,
        "attribution": evaluation.ATTRIBUTION[by], "period_note": evaluation.PERIOD_NOTE,
        "weights": evaluation.SCORE_WEIGHTS,
        "definitions": [{"field": d.field, "label": d.label, "definition": d.text}
                        for d in evaluation.DEFINITIONS],
        "rows": [asdict(r) for r in rows],
    }


@router.get("/evaluation.xlsx", summary="考核评价导出（Excel）", description=_EVALUATION_HELP)
def case_evaluation_xlsx(request: HttpRequest, start: date, end: date,
                         by: EvaluationBy = "department", purpose: str = "") -> HttpResponse:
    rows = evaluation.evaluate(request.user, start=start, end=end, by=by)
    return evaluation.xlsx_download(rows, start=start, end=end, by=by, user=request.user,
                                    purpose=purpose[:200])


@router.get("/{case_id}", response=CaseDetail, summary="案件详情与流转记录")
def case_detail(request: HttpRequest, case_id: str, purpose: str = "") -> Any:
    case = selectors.case_for(request.user, case_id)
    contact = selectors.contact_of(request.user, case, purpose)
    return {
        **case_out(case), "feedback": case.feedback, "contact_name": contact.name,
        "contact_phone": contact.phone,
        "timeline": [{"at": e.at, "actor": e.actor_name, "action": e.action,
                      "from_state": e.from_state, "to_state": e.to_state, "note": e.note,
                      "data": e.data} for e in selectors.timeline(request.user, case)],
        "steps": [{"name": t.name, "label": t.label, "requires": list(t.requires)}
                  for t in selectors.steps_for(request.user, case)],
        "photos": [{"stage": p.stage, "url": p.file.url, "width": p.width, "height": p.height}
                   for p in case.photos.all()],
    }


@router.post("/{case_id}/steps/{step}", response=CaseOut, summary="办理一步",
             description="step 取值：" + "、".join(f"{t.name}（{t.label}）"
                                                  for t in rules.TRANSITIONS.values()))
def take_step(request: HttpRequest, case_id: str, step: str, payload: StepIn) -> Any:
    return _take_step(request, case_id, step, payload, [])


def _take_step(request: HttpRequest, case_id: str, step: str, payload: StepIn,
               photos: list[Any]) -> dict[str, Any]:
    if step not in rules.TRANSITIONS:
        raise InvalidInput("unknown_transition", f"没有“{step}”这一操作", status=404)
    case = selectors.case_for(request.user, case_id)
    done = services.take_step(case_id=case.pk, by=request.user, step=step, given=services.StepInput(
        note=payload.note, category_code=payload.category, urgency=payload.urgency,
        department_code=payload.department, until=payload.until, rating=payload.rating,
        duplicate_of=payload.duplicate_of, photos=photos))
    return case_out(selectors.case_for(request.user, done.pk))


@router.post("/{case_id}/steps/{step}/upload", response=CaseOut, summary="办理一步（表单与照片）",
             description="处置反馈、核查时附照片用此接口（multipart）。")
def take_step_with_photos(request: HttpRequest, case_id: str, step: str, payload: Form[StepIn],
                          photos: list[UploadedFile] = File(None)) -> Any:  # noqa: B008
    return _take_step(request, case_id, step, payload, photos or [])
