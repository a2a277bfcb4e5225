"""Every write to a case: filing a report and taking a step of the workflow.

`file_report` locates, classifies, looks for a duplicate and routes a report,
then — when the category is certain, the point is in a grid, no duplicate is
offered and a route exists — registers and dispatches it with no one in
between. `take_step` is the one door for every later step: it asks the
transition table (rules.py) first and writes nothing when it refuses.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from wangge.accounts.models import Department
from wangge.areas.models import BASE_LAYER
from wangge.areas.selectors import grid_index
from wangge.cases import classify, classifying, conf, deadlines, lookups, notices, routing, rules
from wangge.cases.models import (
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    Channel,
    Device,
    Level,
    PhotoStage,
    State,
    Urgency,
)
from wangge.cases.photos import CheckedPhoto, check_photos
from wangge.cases.signals import case_moved
from wangge.core import audit
from wangge.core.coords import coordinate_problem, metres_per_degree
from wangge.core.errors import InvalidInput, NotFound
from wangge.core.identity import IdentityError, parse_phone

TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass
class Report:
    description: str
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    address_text: str = ""
    category_code: str = ""
    urgency: str = Urgency.NORMAL
    channel: str = Channel.GRID_WORKER
    contact_name: str = ""
    contact_phone: str = ""
    external_id: str = ""
    photos: list[Any] = field(default_factory=list)


# --- filing a report -----------------------------------------------------------


def file_report(*, report: Report, by: Any = None, device: Device | None = None,
                client: str = "", at: datetime | None = None) -> Case:
    now = at or timezone.now()
    description = _clean_description(report.description)
    lon, lat = _point(report)
    category = _category(report.category_code)
    urgency = _urgency(report.urgency)
    phone = _phone(report.contact_phone)
    photos = check_photos(report.photos)
    client_key = hashlib.sha256(client.encode()).hexdigest()[:32] if client else ""
    if report.channel == Channel.RESIDENT and by is None:
        _check_rate(client_key, now)

    place = _locate(lon, lat) if lon is not None else Place("", _default_area(by), True, {})
    suggestions: list[classify.Guess] = []
    if category is None:
        suggestions = classifying.guess(f"{description} {report.address_text}".strip())
        category = _confident(suggestions)
    confidence = 1.0 if report.category_code else (suggestions[0].confidence if suggestions else None)

    case = Case(
        tracking_code=_tracking_code(), channel=report.channel, description=description,
        address_text=report.address_text.strip()[:200], category=category,
        category_confidence=confidence,
        suggestions=[[g.code, round(g.confidence, 4)] for g in suggestions],
        urgency=urgency, lon=lon, lat=lat, grid_code=place.grid_code, area_code=place.area_code,
        outside=place.outside, layers=place.layers, level=Level.COMMUNITY,
        reporter=by if getattr(by, "pk", None) else None,
        contact_name=report.contact_name.strip()[:50], contact_phone=phone, device=device,
        external_id=report.external_id[:64], client=client_key, reported_at=now,
    )
    # The case is decided in memory, then written once with its whole timeline:
    # intake is the platform's busiest write.
    with transaction.atomic():
        if category is not None:
            case.possible_duplicate = _possible_duplicate(case)
        _event(case, by, "report", "", State.REPORTED, now, note=_report_note(case, place),
               data={"channel": report.channel})
        if _may_auto_dispatch(case):
            _auto_dispatch(case, now)
        case.save(force_insert=True)
        _flush(case)
        _save_photos(case, photos, PhotoStage.REPORT)
        if case.state != State.DISPATCHED:
            notices.waiting_for_centre(case, new_case=True)
        # Last: appending to the audit chain locks its head until commit, and
        # every intake in every process queues on that lock.
        audit.record(by, "case.report", "case", case.pk,
                     fields=["contact_phone"] if phone else (), reason=report.channel)
    return case


@dataclass(frozen=True)
class Place:
    grid_code: str
    area_code: str
    outside: bool
    layers: dict[str, str]
    nearest: str = ""
    distance_m: float | None = None


def _default_area(by: Any) -> str:
    """Where a report without a point goes: the reporter's own area, else the
    district the platform serves, so some centre always sees it."""
    own = str(getattr(by, "area_code", "") or "")
    if own:
        return own
    configured = str(conf.get("WANGGE_CASE_DEFAULT_AREA") or "")
    if configured:
        return configured
    from wangge.areas.models import Area

    districts = list(Area.objects.filter(level="district", layer_id=BASE_LAYER)
                     .values_list("code", flat=True)[:2])
    return districts[0] if len(districts) == 1 else ""


def _locate(lon: float | None, lat: float | None) -> Place:
    if lon is None or lat is None:
        return Place("", "", True, {})
    index = grid_index()
    result = index.locate_many([lon], [lat], with_nearest=True)
    layers: dict[str, str] = {}
    base_hit = None
    for layer in result.hits:
        hit = index.hit(result, layer, 0)
        if layer == BASE_LAYER:
            base_hit = hit
        elif hit.inside and hit.code:
            layers[layer] = hit.code
    if base_hit is not None and base_hit.inside and base_hit.code:
        return Place(base_hit.code, base_hit.code, False, layers)
    nearest = base_hit.nearest_code if base_hit else None
    # Outside every grid: the district of the nearest grid receives it.
    return Place("", (nearest or "")[:6], True, layers, nearest or "",
                 base_hit.distance_m if base_hit else None)


def _report_note(case: Case, place: Place) -> str:
    if not place.outside:
        return ""
    if case.lon is None:
        return "未提供位置，转指挥中心人工定位"
    far = f"，距最近网格 {place.nearest} 约 {place.distance_m:.0f} 米" if place.distance_m else ""
    return f"上报位置不在任何网格内{far}，转指挥中心处理"


def _clean_description(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("description_required", "请描述发现的问题", fields={"description": "必填"})
    if len(text) > 2000:
        raise InvalidInput("description_too_long", "问题描述不超过 2000 字",
                           fields={"description": "过长"})
    return text


def _point(report: Report) -> tuple[float | None, float | None]:
    if report.lon is None and report.lat is None:
        if report.channel in (Channel.GRID_WORKER, Channel.SENSOR):
            raise InvalidInput("location_required", "请提供问题位置（经纬度）",
                               fields={"lon": "必填", "lat": "必填"})
        return None, None
    if report.lon is None or report.lat is None:
        raise InvalidInput("location_incomplete", "经度和纬度须同时提供", fields={"lon": "", "lat": ""})
    problem = coordinate_problem(report.lon, report.lat)
    if problem:
        raise InvalidInput("invalid_coordinate", problem, fields={"lon": problem, "lat": problem})
    if report.crs not in ("wgs84", "gcj02", "bd09"):
        raise InvalidInput("invalid_crs", "坐标系须为 wgs84、gcj02 或 bd09", fields={"crs": report.crs})
    from wangge.core.coords import to_wgs84

    x, y = to_wgs84([report.lon], [report.lat], report.crs)
    return round(float(x[0]), 7), round(float(y[0]), 7)


def _category(code: str) -> Category | None:
    code = (code or "").strip()
    if not code:
        return None
    category = lookups.category(code)
    if category is None:
        raise InvalidInput("unknown_category", f"没有编码为“{code}”的在用案件类别",
                           fields={"category": code})
    return category


def _urgency(value: str) -> str:
    value = value or Urgency.NORMAL
    if value not in Urgency.values:
        raise InvalidInput("invalid_urgency", "紧急程度须为 normal（一般）、urgent（紧急）或 emergency（特急）",
                           fields={"urgency": value})
    return value


def _phone(value: str) -> str:
    if not (value or "").strip():
        return ""
    try:
        return parse_phone(value)
    except IdentityError as exc:
        raise InvalidInput("invalid_phone", str(exc), fields={"contact_phone": str(exc)}) from None


def _check_rate(client_key: str, now: datetime) -> None:
    most = int(conf.get("WANGGE_RESIDENT_REPORTS_PER_HOUR"))
    if not client_key:
        return
    recent = Case.objects.filter(client=client_key, reported_at__gte=now - timedelta(hours=1)).count()
    if recent >= most:
        raise InvalidInput("too_many_reports", f"提交过于频繁：每小时最多 {most} 条，请稍后再试",
                           status=429)


def _tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


def _confident(guesses: Sequence[classify.Guess]) -> Category | None:
    if not guesses or guesses[0].confidence < classify.CONFIDENCE_THRESHOLD:
        return None
    return lookups.category(guesses[0].code)


def _possible_duplicate(case: Case) -> Case | None:
    if case.lon is None or case.lat is None:
        return None
    metres = float(conf.get("WANGGE_CASE_DUPLICATE_METRES"))
    since = case.reported_at - timedelta(hours=float(conf.get("WANGGE_CASE_DUPLICATE_HOURS")))
    mx, my = metres_per_degree(case.lat)
    dx, dy = metres / mx, metres / my
    near = (Case.objects.filter(category=case.category, reported_at__gte=since,
                                lon__range=(case.lon - dx, case.lon + dx),
                                lat__range=(case.lat - dy, case.lat + dy))
            .exclude(pk=case.pk).exclude(state__in=rules.FINAL)
            .filter(duplicate_of__isnull=True).order_by("reported_at")
            .only("pk", "lon", "lat"))
    for other in near[:20]:
        if other.lon is None or other.lat is None:
            continue
        if ((other.lon - case.lon) * mx) ** 2 + ((other.lat - case.lat) * my) ** 2 <= metres ** 2:
            return other
    return None


def _may_auto_dispatch(case: Case) -> bool:
    return (case.category is not None and not case.outside and case.possible_duplicate is None
            and case.channel in conf.get("WANGGE_CASE_AUTO_CHANNELS"))


def _auto_dispatch(case: Case, now: datetime) -> None:
    assert case.category is not None
    found = routing.route(case.category, case.area_code, case.layers)
    _step_register(case, None, now, "系统自动立案")
    if found is not None:
        _step_dispatch(case, None, now, found.department, found.reason)


# --- taking a step -------------------------------------------------------------


@dataclass
class StepInput:
    note: str = ""
    category_code: str = ""
    urgency: str = ""
    department_code: str = ""
    until: datetime | None = None
    rating: int | None = None
    duplicate_of: str = ""
    photos: list[Any] = field(default_factory=list)


def take_step(*, case_id: int, by: Any, step: str, given: StepInput | None = None,
              at: datetime | None = None) -> Case:
    """Take one step of the workflow on behalf of `by` (None: the system)."""
    given = given or StepInput()
    now = at or timezone.now()
    photos = check_photos(given.photos)
    from wangge.cases.selectors import actor_for, visible_cases

    with transaction.atomic():
        qs = Case.objects.all() if by is None else visible_cases(by)
        case = qs.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound("case_not_found", "未找到该案件，或不在您的权限范围内")
        inputs = _inputs(case, given)
        refusal = rules.refusal(step, actor_for(by, case), rules.Facts(
            case.state, case.level, frozenset(inputs), case.postpone_until is not None,
            case.rating is not None))
        if refusal is not None:
            raise InvalidInput(refusal.code, refusal.message, status=409 if refusal.code in (
                "illegal_transition", "already_rated", "postpone_pending") else 403
                if refusal.code in ("not_allowed", "wrong_level") else 422)
        STEPS[step](case, by, now, given, inputs)
        _save_photos(case, photos, _photo_stage(step))
        case.save()
        audit.record(by, f"case.{step}", "case", case.pk, reason=given.note[:200])
        case_moved.send(sender=Case, case=case, step=step, by=by, at=now)
    return case


def _inputs(case: Case, given: StepInput) -> dict[str, Any]:
    """What the caller provided, resolved and checked, keyed by requirement."""
    out: dict[str, Any] = {}
    if given.note.strip():
        out["note"] = given.note.strip()[:1000]
    if given.category_code:
        out["category"] = _category(given.category_code)
    elif case.category_id:
        out["category"] = case.category
    if given.department_code:
        out["department"] = _department(case, given.department_code)
    if given.until is not None:
        out["until"] = given.until
    if given.rating is not None:
        if not 1 <= given.rating <= 5:
            raise InvalidInput("invalid_rating", "评价须为 1 至 5 分", fields={"rating": given.rating})
        out["rating"] = given.rating
    if given.duplicate_of:
        out["duplicate_of"] = _duplicate_target(case, given.duplicate_of)
    if given.urgency:
        out["urgency"] = _urgency(given.urgency)
    return out


def _department(case: Case, code: str) -> Department:
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise InvalidInput("unknown_department", f"没有编码为“{code}”的部门",
                           fields={"department": code})
    if department.area_code and not case.area_code.startswith(department.area_code):
        raise InvalidInput("department_out_of_area",
                           f"{department.name}不负责该案件所在区域（{case.area_code}），请选择本区域的部门",
                           fields={"department": code}, status=403)
    return department


def _duplicate_target(case: Case, ref: str) -> Case:
    from wangge.cases.models import pk_from_code

    pk = pk_from_code(ref) or (int(ref) if ref.isdigit() else None)
    target = Case.objects.filter(pk=pk).first() if pk else None
    if target is None or target.pk == case.pk or not target.is_open:
        raise InvalidInput("invalid_duplicate", f"案件“{ref}”不存在、已办结或就是本案件，不能合并",
                           fields={"duplicate_of": ref})
    return target


def _photo_stage(step: str) -> str:
    return {"handle": PhotoStage.HANDLE, "verify": PhotoStage.VERIFY,
            "rework": PhotoStage.VERIFY}.get(step, PhotoStage.REPORT)


def _event(case: Case, by: Any, action: str, from_state: str, to_state: str, at: datetime,
           note: str = "", data: dict[str, Any] | None = None) -> None:
    name = (getattr(by, "display_name", "") or getattr(by, "username", "")) if by else "系统"
    event = CaseEvent(case=case, at=at, actor=by if getattr(by, "pk", None) else None,
                      actor_name=name[:150], action=action, from_state=from_state,
                      to_state=to_state, note=note, data=data or {})
    if case.pk is None:
        _unsaved(case).events.append(event)
    else:
        event.save()


@dataclass
class _Unsaved:
    events: list[CaseEvent] = field(default_factory=list)
    after: list[Callable[[], Any]] = field(default_factory=list)


def _unsaved(case: Case) -> _Unsaved:
    pending: _Unsaved | None = getattr(case, "_unsaved", None)
    if pending is None:
        pending = _Unsaved()
        case._unsaved = pending  # type: ignore[attr-defined]
    return pending


def _flush(case: Case) -> None:
    """Write what waited for the case's id: its timeline, then the notices."""
    pending = _unsaved(case)
    CaseEvent.objects.bulk_create(pending.events)
    for then in pending.after:
        then()
    case._unsaved = _Unsaved()  # type: ignore[attr-defined]


def _move(case: Case, by: Any, action: str, to: str, at: datetime, note: str = "",
          data: dict[str, Any] | None = None) -> None:
    before = case.state
    case.state = to
    _event(case, by, action, before, to, at, note, data)


def _step_register(case: Case, by: Any, at: datetime, note: str = "",
                   inputs: dict[str, Any] | None = None) -> None:
    inputs = inputs or {}
    if inputs.get("category") is not None:
        case.category = inputs["category"]
    if inputs.get("urgency"):
        case.urgency = inputs["urgency"]
    case.registered_at = at
    _move(case, by, "register", State.REGISTERED, at, note,
          {"category": case.category.code if case.category else ""})


def _step_dispatch(case: Case, by: Any, at: datetime, department: Department, reason: str) -> None:
    case.department = department
    case.routed_by = reason[:200]
    case.dispatched_at = at
    case.accepted_at = None
    deadlines.start_handling(case, at)
    _move(case, by, "dispatch", State.DISPATCHED, at, reason,
          {"department": department.code, "due": case.handle_due.isoformat() if case.handle_due else ""})
    if case.pk is None:
        _unsaved(case).after.append(lambda: notices.dispatched(case, new_case=True))
    else:
        notices.dispatched(case)


def _register(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    _step_register(case, by, at, inputs.get("note", ""), inputs)
    if case.possible_duplicate_id:
        case.possible_duplicate = None


def _dispatch(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    if inputs.get("category") is not None and case.category_id != inputs["category"].pk:
        case.category = inputs["category"]
    _step_dispatch(case, by, at, inputs["department"], inputs.get("note") or "人工派遣")


def _reject(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.closed_at = at
    _move(case, by, "reject", State.REJECTED, at, inputs["note"])


def _merge(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    target: Case = inputs["duplicate_of"]
    case.duplicate_of = target
    case.possible_duplicate = None
    case.closed_at = at
    _move(case, by, "merge", State.CANCELLED, at, f"与案件 {target.code} 重复，已合并",
          {"duplicate_of": target.pk})
    _event(target, by, "merged_in", target.state, target.state, at,
           f"合并重复上报 {case.code}", {"duplicate": case.pk})


def _return(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.return_count += 1
    deadlines.stop_handling(case)
    _move(case, by, "return", State.RETURNED, at, inputs["note"],
          {"department": case.department.code if case.department else ""})
    notices.waiting_for_centre(case)


def _accept(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.accepted_at = at
    _move(case, by, "accept", State.ACCEPTED, at, inputs.get("note", ""))


def _handle(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.handled_at = at
    case.feedback = inputs["note"]
    case.postpone_until, case.postpone_reason = None, ""
    deadlines.start_verifying(case, at)
    _move(case, by, "handle", State.HANDLED, at, inputs["note"])
    notices.verify_needed(case)


def _verify(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.verified_at = at
    case.verified_on_time = case.verify_due is None or at <= case.verify_due
    _move(case, by, "verify", State.VERIFIED, at, inputs.get("note", ""))
    if conf.get("WANGGE_CASE_CLOSE_ON_VERIFY"):
        _close(case, None, at, given, {"note": "核查通过，自动结案"})


def _rework(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.rework_count += 1
    case.verify_due = case.verify_warn_at = None
    deadlines.start_handling(case, at, keep_overdue=True)
    _move(case, by, "rework", State.ACCEPTED, at, inputs["note"])
    notices.rework(case)


def _close(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.closed_at = at
    case.closed_on_time = bool(case.handled_at and case.handle_due and case.handled_at <= case.handle_due
                               and not case.overdue)
    _move(case, by, "close", State.CLOSED, at, inputs.get("note", ""))


def _request_postpone(case: Case, by: Any, at: datetime, given: StepInput,
                      inputs: dict[str, Any]) -> None:
    until: datetime = inputs["until"]
    if case.handle_due and until <= case.handle_due:
        raise InvalidInput("postpone_not_later", "申请延期到的时间须晚于现有处置时限",
                           fields={"until": until.isoformat()})
    case.postpone_until, case.postpone_reason = until, inputs["note"][:200]
    _event(case, by, "request_postpone", case.state, case.state, at, inputs["note"],
           {"until": until.isoformat()})
    notices.postpone_requested(case)


def _approve_postpone(case: Case, by: Any, at: datetime, given: StepInput,
                      inputs: dict[str, Any]) -> None:
    assert case.postpone_until is not None
    deadlines.extend_handling(case, case.postpone_until)
    _event(case, by, "approve_postpone", case.state, case.state, at, inputs.get("note", ""),
           {"until": case.postpone_until.isoformat()})
    case.postpone_until, case.postpone_reason = None, ""


def _refuse_postpone(case: Case, by: Any, at: datetime, given: StepInput,
                     inputs: dict[str, Any]) -> None:
    _event(case, by, "refuse_postpone", case.state, case.state, at, inputs["note"])
    case.postpone_until, case.postpone_reason = None, ""


def _suspend(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.suspended_from = case.state
    deadlines.pause(case, at)
    _move(case, by, "suspend", State.SUSPENDED, at, inputs["note"])


def _resume(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    back = case.suspended_from or State.REGISTERED
    deadlines.unpause(case, at)
    case.suspended_from = ""
    _move(case, by, "resume", back, at, inputs.get("note", ""))


def _escalate(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    higher = rules.next_level(case.level)
    assert higher is not None
    case.level = higher
    if case.registered_at is None:
        case.registered_at = at
    _move(case, by, "escalate", State.REGISTERED, at, inputs["note"], {"level": higher})
    notices.waiting_for_centre(case)


def _cancel(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.closed_at = at
    deadlines.stop_handling(case)
    _move(case, by, "cancel", State.CANCELLED, at, inputs.get("note", ""))


def _supervise(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.supervised = True
    _event(case, by, "supervise", case.state, case.state, at, inputs["note"])
    notices.supervised(case, inputs["note"], at)


def _rate(case: Case, by: Any, at: datetime, given: StepInput, inputs: dict[str, Any]) -> None:
    case.rating = inputs["rating"]
    case.rating_comment = inputs.get("note", "")[:200]
    _event(case, by, "rate", case.state, case.state, at, case.rating_comment,
           {"rating": case.rating})


STEPS = {
    "register": _register, "reject": _reject, "merge": _merge, "dispatch": _dispatch,
    "return": _return, "accept": _accept, "handle": _handle, "verify": _verify,
    "rework": _rework, "close": _close, "request_postpone": _request_postpone,
    "approve_postpone": _approve_postpone, "refuse_postpone": _refuse_postpone,
    "suspend": _suspend, "resume": _resume, "escalate": _escalate, "cancel": _cancel,
    "withdraw": _cancel, "supervise": _supervise, "rate": _rate,
}


def rate_by_tracking_code(*, tracking_code: str, rating: int, comment: str = "",
                          at: datetime | None = None) -> Case:
    """A resident (possibly anonymous) rates the result with the code they were given."""
    case = Case.objects.filter(tracking_code=tracking_code.strip().upper()).first()
    if case is None:
        raise NotFound("case_not_found", "查询码无效，请核对后重试")
    if case.state != State.CLOSED:
        raise InvalidInput("not_closed", "案件办结后才能评价", status=409)
    if case.rating is not None:
        raise InvalidInput("already_rated", "该案件已评价过", status=409)
    if not 1 <= rating <= 5:
        raise InvalidInput("invalid_rating", "评价须为 1 至 5 分", fields={"rating": rating})
    now = at or timezone.now()
    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, rating__isnull=True).update(
            rating=rating, rating_comment=comment.strip()[:200])
        if not updated:
            raise InvalidInput("already_rated", "该案件已评价过", status=409)
        _event(case, None, "rate", case.state, case.state, now, comment.strip()[:200],
               {"rating": rating, "by": "tracking_code"})
        audit.record(None, "case.rate", "case", case.pk, reason="tracking_code")
    case.refresh_from_db()
    return case


def _save_photos(case: Case, photos: list[CheckedPhoto], stage: str) -> None:
    for p in photos:
        CasePhoto.objects.create(case=case, stage=stage, file=p.as_file(),
                                 content_type=p.content_type, size=len(p.content),
                                 width=p.width, height=p.height)


# --- devices -------------------------------------------------------------------


def register_device(*, by: Any, name: str, kind: str = "camera", area_code: str = "") -> tuple[Device, str]:
    """A new sensor or camera and its key, shown once."""
    key = "dev_" + secrets.token_urlsafe(24)
    device = Device.objects.create(name=name, kind=kind, area_code=area_code,
                                   key_hash=hashlib.sha256(key.encode()).hexdigest(), prefix=key[:10])
    audit.record(by, "case.device.register", "device", device.pk, reason=name)
    return device, key


def device_for_key(key: str) -> Device | None:
    if not key:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    return Device.objects.filter(key_hash=digest, active=True).first()



# --- the catalog ---------------------------------------------------------------


def load_catalog(*, by: Any, items: Sequence[Any], area_code: str = "") -> dict[str, int]:
    """Create or update categories from catalog items (see cases/catalog.py),
    each with the department of its type that serves `area_code` as default.
    What people changed since (limits, phrases) is overwritten: the file is the
    source; edits belong in admin only for a catalog not loaded from a file."""
    for item in items:
        for limit in (*item.limits.values(), item.verify_limit):
            rules.parse_limit(limit)
    departments = {d.type: d for d in Department.objects.filter(
        area_code__in={area_code[:n] for n in range(0, len(area_code) + 1)})}
    existing = {c.code: c for c in Category.objects.all()}
    created = updated = 0
    with transaction.atomic():
        for item in items:
            values = {
                "name": item.name, "kind": item.kind, "group": item.group,
                "department_type": item.department, "default_department": departments.get(item.department),
                "limit_normal": item.limits["normal"], "limit_urgent": item.limits["urgent"],
                "limit_emergency": item.limits["emergency"], "verify_limit": item.verify_limit,
                "phrases": "\n".join(item.phrases), "active": True,
            }
            category = existing.get(item.code)
            if category is None:
                Category.objects.create(code=item.code, **values)
                created += 1
            elif any(getattr(category, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(category, k, v)
                category.save()
                updated += 1
        audit.record(by, "case.catalog.load", "category", "", reason=f"{created} new, {updated} changed")
    classifying.forget()
    lookups.forget()
    return {"created": created, "updated": updated, "total": len(items)}
