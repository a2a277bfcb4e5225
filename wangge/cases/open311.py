"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), so existing
third-party 311 apps can file reports into wangge and follow them.

Mounted at /open311/v2/ (wangge/urls.py). Every resource answers in XML (the
spec's required format) and JSON, chosen by the extension:

    GET  discovery.{fmt}                 service discovery document
    GET  services.{fmt}                  the active catalog: service_code = Category.code
    GET  services/{service_code}.{fmt}   service definition (wangge asks no extra attributes)
    POST requests.{fmt}                  file a report (api_key required)
    GET  requests.{fmt}                  public list of requests
    GET  requests/{service_request_id}.{fmt}
    GET  tokens/{token}.{fmt}
    GET  media/{service_request_id}.{ext}  the request's first report photo (media_url)

Decisions a client may care about:

- One jurisdiction per deployment: `jurisdiction_id` is optional; when given
  it must equal the setting WANGGE_OPEN311_JURISDICTION ("dongli.wangge" by
  default), otherwise 404.
- api_key is a wangge API token (accounts.services.issue_token). The case is
  filed on the "open311" channel with the token's user as reporter, so the
  usual intake runs: located, routed and, when certain, dispatched at once. A
  point outside every grid, or a report with only address_string/address_id,
  is accepted and waits for the command centre. address_id is kept as text
  for the centre, not resolved against the address library: that would let
  anyone with a key read coordinates out of the library. email and device_id
  have nowhere to go and are dropped; account_id is echoed back, not kept.
  `media` file uploads (multipart) become report photos; a media_url is not
  fetched (no outbound requests) but appended to the description for the
  centre. Non-standard extras: `crs` (wgs84, gcj02 or bd09) for lat/long
  taken from Chinese maps, `external_id` (or FixMyStreet's
  attribute[fixmystreet_id]) kept as the client's own id.
- service_request_id is the case's tracking code (random, so ids cannot be
  walked), never the row id. The service type is "realtime", so POST returns
  the id at once; tokens/{token} therefore answers for a token equal to a
  tracking code (some clients call it regardless) and 404 otherwise.
- GET requests lists only *public* requests: filed through the public
  channels (Open311 and the residents' 随手拍), registered (立案) by the centre
  or the system, and not rejected. Grid workers', hotline, sensor and rule
  cases are internal and never listed; a report still waiting for the centre
  is not published before someone has had the chance to reject it. Looking a
  request up by its id (requests/{id}, service_request_id=…, tokens/{id})
  works for any case, like the residents' status page: whoever holds the code
  sees its status; description, address, position and photo are shown only
  for the public channels.
- No output carries the reporter's identity or contact (name, phone, account);
  mobile and ID numbers typed into free text are masked.
- status is "open" for every open state, "closed" for closed, rejected and
  cancelled (merged duplicates); status_notes is the latest public step as
  the residents' status page words it. Times are W3C with +08:00.
- Errors are the spec's array of {code, description}; code is wangge's stable
  error code (the spec allows codes more specific than the HTTP status), the
  HTTP status is 403 for a missing or bad api_key, 404 for what does not
  exist, 429 when throttled and 400 for anything else.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import re_path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from wangge.accounts.services import user_for_token
from wangge.cases import rules, selectors, services
from wangge.cases.models import Case, CaseEvent, CasePhoto, Category, Channel, PhotoStage
from wangge.core import identity
from wangge.core.errors import DomainError, InvalidInput, NotFound

DEFAULT_JURISDICTION = "dongli.wangge"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2025-06-01T00:00:00+08:00"
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
MEDIA_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Cases filed here and by residents are meant to be seen; the rest is internal.
PUBLIC_CHANNELS = (Channel.OPEN311, Channel.RESIDENT)
# The spec's response volume: 90 days or 1000 requests, whichever is smaller.
MAX_DAYS = 90
MAX_RESULTS = 1000
# public_status shows the note of these steps to residents; the rest stay internal.
# XML element of each item in a list, by the list's element (the spec's names).
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error",
             "attributes": "attribute", "values": "value", "endpoints": "endpoint",
             "formats": "format"}

_ID_NUMBER = re.compile(r"(?<![0-9Xx])\d{17}[0-9Xx](?![0-9Xx])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Characters XML 1.0 cannot carry at all; ElementTree would write them as they are.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An unencoded "+" of an offset arrives as a space: "2025-06-01T00:00:00 08:00".
_SPACED_OFFSET = re.compile(r"(T[\d:.]+) (\d{2}:?\d{2})$")


def jurisdiction() -> str:
    return str(getattr(settings, "WANGGE_OPEN311_JURISDICTION", DEFAULT_JURISDICTION))


# --- output ----------------------------------------------------------------------


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml_element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_xml_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_xml_element(ITEM_TAGS.get(tag, "item"), item))
    else:
        element.text = _xml_text(value)
    return element


def render(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    """`data` as the spec writes it: JSON as it is, XML under `root`, each list
    item in the element ITEM_TAGS names."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False).encode()
    else:
        fmt = "xml"
        tree = ET.tostring(_xml_element(root, data), encoding="unicode")
        body = ('<?xml version="1.0" encoding="utf-8"?>\n' + tree).encode()
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def render_error(fmt: str, exc: DomainError) -> HttpResponse:
    status = 403 if exc.status == 401 else exc.status
    if status not in (403, 404, 405, 429):
        status = 400
    return render(fmt, "errors", [{"code": exc.code, "description": exc.message}], status)


def _w3c(at: datetime | None) -> str | None:
    return at.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat(timespec="seconds") if at else None


def public_text(text: str) -> str:
    """Free text as the public may read it: ID and mobile numbers masked."""
    text = _ID_NUMBER.sub(lambda m: identity.mask_id_number(m.group()), text)
    return _MOBILE.sub(lambda m: identity.mask_phone(m.group()), text)


# --- views: the frame ----------------------------------------------------------------


View = Callable[..., HttpResponse]


def open311_view(*methods: str) -> Callable[[View], View]:
    """Answer in the requested format, refuse other methods with 405, check the
    jurisdiction, and render every DomainError in the Open311 error format."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def handle(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            try:
                if fmt not in FORMATS:
                    raise NotFound("format_not_supported", f"不支持的格式“{fmt}”，请用 .xml 或 .json")
                if request.method not in allowed:
                    response = render_error(fmt, DomainError(
                        "method_not_allowed", f"此资源不支持 {request.method} 方法", status=405))
                    response["Allow"] = ", ".join(sorted(allowed))
                    return response
                _check_jurisdiction(request)
                response = view(request, fmt, **kwargs)
            except DomainError as exc:
                return render_error(fmt if fmt in FORMATS else "xml", exc)
            if request.method != "POST":
                # Public read-only data: web maps on other sites may read it.
                response["Access-Control-Allow-Origin"] = "*"
            return response

        return csrf_exempt(handle)

    return wrap


def _check_jurisdiction(request: HttpRequest) -> None:
    given = (request.POST.get("jurisdiction_id") if request.method == "POST" else None) \
        or request.GET.get("jurisdiction_id", "")
    if given.strip() and given.strip() != jurisdiction():
        raise NotFound("jurisdiction_not_found",
                       f"未知的 jurisdiction_id“{given.strip()}”：本服务的辖区为 {jurisdiction()}")


# --- services ---------------------------------------------------------------------


def service_out(category: Category) -> dict[str, Any]:
    kind = category.get_kind_display()
    return {
        "service_code": category.code, "service_name": category.name,
        "description": f"{category.group} / {kind}", "metadata": False, "type": "realtime",
        "keywords": ",".join(dict.fromkeys((category.name, category.group, str(kind)))),
        "group": category.group,
    }


@open311_view("GET")
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(fmt, "services", [service_out(c) for c in selectors.categories()])


def _service(code: str) -> Category:
    category = selectors.categories().filter(code=code.strip()).first()
    if category is None:
        raise NotFound("service_not_found", f"没有编码为“{code}”的在用服务类别（service_code）")
    return category


@open311_view("GET")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    category = _service(service_code)
    # Every category files with description and location alone (metadata false).
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": []})


@open311_view("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    endpoint = request.build_absolute_uri(reverse("open311_services", args=["xml"])).removesuffix(
        "services.xml")
    return render(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": str(getattr(settings, "WANGGE_OPEN311_CONTACT", "请联系本平台管理员")),
        "key_service": "查询无需密钥；提交（POST requests）须带 api_key，即平台管理员为接入单位签发的接口令牌。",
        "endpoints": [{"specification": SPECIFICATION, "url": endpoint, "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    })


# --- filing a request -------------------------------------------------------------------


def _field(request: HttpRequest, name: str, limit: int = 200) -> str:
    return str(request.POST.get(name, "")).strip()[:limit]


def _coordinate(request: HttpRequest, name: str) -> float | None:
    raw = _field(request, name, 40)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput("invalid_coordinate", f"{name} 须为十进制度数（WGS-84），收到“{raw}”")
    return value


def _contact_name(first: str, last: str) -> str:
    # Chinese names are written family name first, with no space.
    if (first + last).isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"


def _address_text(request: HttpRequest) -> str:
    parts = [_field(request, "address_string"), _field(request, "address_id", 60)]
    return "；".join(p if i == 0 else f"地址编码 {p}" for i, p in enumerate(parts) if p)


def _description(request: HttpRequest, category: Category) -> str:
    text = str(request.POST.get("description", "")).strip() or category.name
    media_url = _field(request, "media_url", 500)
    if media_url.startswith(("http://", "https://")):
        text = f"{text}\n\n图片链接：{media_url}"
    return text


def _report(request: HttpRequest) -> services.Report:
    code = _field(request, "service_code", 16)
    if not code:
        raise InvalidInput("service_code_required", "缺少 service_code：请先用 GET services 取得服务类别编码")
    category = _service(code)
    lat, lon = _coordinate(request, "lat"), _coordinate(request, "long")
    address = _address_text(request)
    if lat is None and lon is None and not address:
        raise InvalidInput("location_required",
                           "缺少位置：请提供 lat 与 long，或 address_string，或 address_id")
    attributes_id = _field(request, "attribute[fixmystreet_id]", 64)
    return services.Report(
        description=_description(request, category), lon=lon, lat=lat,
        crs=(_field(request, "crs", 10) or "wgs84").lower(), address_text=address,
        category_code=category.code, channel=Channel.OPEN311,
        contact_name=_contact_name(_field(request, "first_name", 25), _field(request, "last_name", 25)),
        contact_phone=_field(request, "phone", 30),
        external_id=_field(request, "external_id", 64) or attributes_id,
        photos=request.FILES.getlist("media"))


def _file(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.content_type not in FORM_TYPES:
        raise InvalidInput("form_encoding_required",
                           "请以 application/x-www-form-urlencoded 或 multipart/form-data 提交（Open311 规范）")
    key = _field(request, "api_key", 200) or request.GET.get("api_key", "").strip()
    if not key:
        raise DomainError("api_key_required", "提交须带 api_key（接口令牌）", status=403)
    user = user_for_token(key)
    if user is None:
        raise DomainError("invalid_api_key", "api_key 无效、已吊销或已过期，无法提交", status=403)
    case = services.file_report(report=_report(request), by=user,
                                client=str(request.META.get("REMOTE_ADDR", "")))
    return render(fmt, "service_requests", [{
        "service_request_id": case.tracking_code, "service_notice": service_notice(case),
        "account_id": _field(request, "account_id", 64) or None,
    }])


# --- reading requests ----------------------------------------------------------------------


def public_requests() -> QuerySet[Case]:
    """The requests anyone may list (see the module docstring)."""
    return (Case.objects.filter(channel__in=PUBLIC_CHANNELS, registered_at__isnull=False)
            .exclude(state=rules.REJECTED).select_related("category", "department"))


def _by_ids(codes: list[str]) -> QuerySet[Case]:
    return Case.objects.filter(tracking_code__in=[c.strip().upper() for c in codes if c.strip()]
                               ).select_related("category", "department")


def service_notice(case: Case) -> str:
    if case.state in (rules.DISPATCHED, rules.ACCEPTED) and case.department_id:
        assert case.department is not None
        due = case.handle_due.astimezone(ZoneInfo(settings.TIME_ZONE)) if case.handle_due else None
        by = f"，处置时限 {due:%Y-%m-%d %H:%M}" if due else ""
        return f"已派遣至{case.department.name}{by}"
    if case.state == rules.REPORTED:
        if case.lon is None:
            return "已收到；未提供坐标，由指挥中心人工定位后受理"
        if case.outside:
            return "已收到；上报位置不在任何网格内，转指挥中心处理"
        return "已收到，等待指挥中心受理"
    return rules.STATE_NAMES.get(case.state, case.state)


def _status_notes(events: list[CaseEvent]) -> str | None:
    for step in reversed(selectors.public_steps(events)):
        if step["action"] != "rate":
            label, note = step["label"], step["note"]
            return public_text(f"{label}：{note}" if note else label)
    return None


def _updated(case: Case, events: list[CaseEvent]) -> datetime:
    if not case.is_open and case.closed_at:
        return case.closed_at
    return max([case.reported_at, *(e.at for e in events)])


def request_out(request: HttpRequest, case: Case, events: list[CaseEvent],
                photo: CasePhoto | None) -> dict[str, Any]:
    shown = case.channel in PUBLIC_CHANNELS
    media = (request.build_absolute_uri(reverse("open311_media", args=[
        case.tracking_code, MEDIA_EXTENSIONS.get(photo.content_type, "jpg")]))
        if photo is not None and shown else None)
    return {
        "service_request_id": case.tracking_code,
        "status": "open" if case.is_open else "closed",
        "status_notes": _status_notes(events),
        "service_name": case.category.name if case.category else None,
        "service_code": case.category.code if case.category else None,
        "description": public_text(case.description) if shown else None,
        "agency_responsible": case.department.name if case.department else None,
        "service_notice": service_notice(case),
        "requested_datetime": _w3c(case.reported_at),
        "updated_datetime": _w3c(_updated(case, events)),
        "expected_datetime": _w3c(case.handle_due),
        "address": (public_text(case.address_text) or None) if shown else None,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat if shown else None,
        "long": case.lon if shown else None,
        "media_url": media,
    }


def requests_out(request: HttpRequest, cases: list[Case]) -> list[dict[str, Any]]:
    """Three queries whatever the number: the cases, their steps, their photos."""
    ids = [c.pk for c in cases]
    events: dict[int, list[CaseEvent]] = {pk: [] for pk in ids}
    for event in (CaseEvent.objects.filter(case_id__in=ids).only("case_id", "at", "action", "note")
                  .order_by("at", "id")):
        events[event.case_id].append(event)
    photos: dict[int, CasePhoto] = {}
    for photo in CasePhoto.objects.filter(case_id__in=ids, stage=PhotoStage.REPORT).order_by("-id"):
        photos[photo.case_id] = photo
    return [request_out(request, c, events[c.pk], photos.get(c.pk)) for c in cases]


def _when(name: str, raw: str, end: bool = False) -> datetime:
    text = _SPACED_OFFSET.sub(r"\1+\2", raw.strip())
    local = ZoneInfo(settings.TIME_ZONE)
    try:
        # A bare date means the whole day; fromisoformat would read it as midnight.
        day: date | None = parse_date(text) if _DAY.match(text) else None
        at = None if day else parse_datetime(text)
    except ValueError:
        at, day = None, None
    if at is None and day is not None:
        at = datetime.combine(day, time.max if end else time.min)
    if at is None:
        raise InvalidInput("invalid_date",
                           f"{name}“{raw}”不是 W3C 日期时间，应如 2025-06-01T00:00:00+08:00")
    return at if timezone.is_aware(at) else at.replace(tzinfo=local)


def _window(request: HttpRequest) -> tuple[datetime, datetime]:
    start_raw, end_raw = request.GET.get("start_date", ""), request.GET.get("end_date", "")
    start = _when("start_date", start_raw) if start_raw.strip() else None
    end = _when("end_date", end_raw, end=True) if end_raw.strip() else None
    span = timedelta(days=MAX_DAYS)
    if start and end:
        if end < start:
            raise InvalidInput("invalid_date_range", "end_date 早于 start_date")
        if end - start > span:
            raise InvalidInput("date_range_too_long", f"start_date 至 end_date 不能超过 {MAX_DAYS} 天")
        return start, end
    if start:
        return start, start + span
    if end:
        return end - span, end
    now = timezone.now()
    return now - span, now


def _listed(request: HttpRequest) -> list[Case]:
    ids = request.GET.get("service_request_id", "").strip()
    if ids:
        # The spec: service_request_id overrides every other argument.
        return list(_by_ids(ids.split(",")[:MAX_RESULTS]).order_by("-reported_at"))
    start, end = _window(request)
    qs = public_requests().filter(reported_at__gte=start, reported_at__lte=end)
    codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
    if codes:
        qs = qs.filter(category__code__in=codes)
    statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise InvalidInput("invalid_status", "status 只能为 open 或 closed（可用逗号同时给出）")
    if statuses == {"open"}:
        qs = qs.filter(state__in=rules.OPEN)
    elif statuses == {"closed"}:
        qs = qs.filter(state__in=rules.FINAL)
    return list(qs.order_by("-reported_at")[:MAX_RESULTS])


@open311_view("GET", "POST")
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _file(request, fmt)
    return render(fmt, "service_requests", requests_out(request, _listed(request)))


def _one(code: str) -> Case:
    case = _by_ids([code]).first()
    if case is None:
        raise NotFound("request_not_found", f"没有编号为“{code}”的服务请求")
    return case


@open311_view("GET")
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    return render(fmt, "service_requests", requests_out(request, [_one(service_request_id)]))


@open311_view("GET")
def token_view(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    case = _by_ids([token]).first()
    if case is None:
        raise NotFound("token_not_found", f"没有令牌为“{token}”的服务请求")
    return render(fmt, "service_requests", [{"service_request_id": case.tracking_code,
                                              "token": token}])


def media(request: HttpRequest, service_request_id: str, ext: str) -> HttpResponseBase:
    """The first report photo of a request whose photo the public may see."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    case = Case.objects.filter(tracking_code=service_request_id.upper(),
                               channel__in=PUBLIC_CHANNELS).first()
    photo = (CasePhoto.objects.filter(case=case, stage=PhotoStage.REPORT).order_by("id").first()
             if case else None)
    if photo is None:
        return HttpResponse("没有该照片", status=404, content_type="text/plain; charset=utf-8")
    photo_response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    photo_response["Access-Control-Allow-Origin"] = "*"
    return photo_response


_FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + _FMT, discovery, name="open311_discovery"),
    re_path(r"^services" + _FMT, services_list, name="open311_services"),
    re_path(r"^services/(?P<service_code>[^/]+?)" + _FMT, service_definition,
            name="open311_service"),
    re_path(r"^requests" + _FMT, requests_view, name="open311_requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+?)" + _FMT, request_detail,
            name="open311_request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + _FMT, token_view, name="open311_token"),
    re_path(r"^media/(?P<service_request_id>[A-Za-z0-9]+)\.(?P<ext>jpg|png|webp)$", media,
            name="open311_media"),
]
