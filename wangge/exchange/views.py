"""The exchange's pages: the catalog browser and one catalog (apply, publish,
upload), a new catalog, applications and their decision, grants, gateway
clients, the call log and the statistics screen.

Reads go through selectors and writes through services. A user who may not
browse the exchange gets 403 with the reason; an object outside the reader's
reach answers the same 404 as a missing one. A service's refusal comes back
as its Chinese message on the page it was asked from; it never becomes a 500.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from wangge.accounts.models import Department, Role
from wangge.core.errors import DomainError, InvalidInput, OutOfScope
from wangge.core.pages import not_found_as_404
from wangge.exchange import selectors, services, signing
from wangge.exchange.models import (
    ApplicationStatus,
    Backing,
    Catalog,
    CatalogStatus,
    Endpoint,
    Frequency,
    Grade,
    ItemType,
    Mask,
    ShareClass,
)
from wangge.exchange.sources import registry_fields

PAGE_SIZE = 50
ITEM_ROWS = 12
DAYS = (7, 30, 90)
BOXES = (("mine", gettext_lazy("本部门提出")), ("incoming", gettext_lazy("待本部门审批")))
STATES = (("active", gettext_lazy("生效中")), ("pending", gettext_lazy("未生效")),
          ("expired", pgettext_lazy("grant", "已到期")), ("revoked", pgettext_lazy("grant", "已撤销")))
CALL_STATUSES = (("ok", gettext_lazy("成功")), ("refused", gettext_lazy("被拒绝或失败")))
# The exchange's own tabs, under the top bar (grants and calls have no top-bar entry).
SUBNAV = (("exchange:catalogs", gettext_lazy("数据目录"), ("catalogs", "catalog", "catalog_new")),
          ("exchange:applications", gettext_lazy("共享申请"), ("applications", "application")),
          ("exchange:grants", gettext_lazy("共享授权"), ("grants",)),
          ("exchange:clients", gettext_lazy("接入凭据"), ("clients",)),
          ("exchange:calls", gettext_lazy("调用日志"), ("calls",)),
          ("exchange:stats", gettext_lazy("共享统计"), ("stats",)))
CATALOG_FIELDS = ("code", "name", "description", "share_class", "condition", "frequency", "backing",
                  "owner", "verify_items", "compare_keys")
ITEM_FIELDS = ("key", "name", "source", "type", "sensitivity", "mask", "filterable")
KEY_LIST = re.compile(r"[\s,，、;；]+")


# --- shared -------------------------------------------------------------------


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "forbidden.html", {"message": message}, status=403)


def exchange_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the exchange: only those who may browse it (selectors.BROWSERS)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.may_browse(request.user):
            return _forbidden(request, _("数据共享交换仅供部门和各级工作人员使用。"))
        try:
            return view(request, *args, **kwargs)
        except OutOfScope as exc:
            return _forbidden(request, exc.message)

    return login_required(not_found_as_404(wrapped))


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    match = request.resolver_match
    current = match.url_name if match else ""
    context["subnav"] = [{"url": reverse(name), "label": label, "current": current in names}
                         for name, label, names in SUBNAV]
    return render(request, template, context, status=status)


def _query_without_page(request: HttpRequest) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def _one_of(value: str | None, allowed: Any) -> str:
    value = (value or "").strip()
    return value if value in set(allowed) else ""


def _acts_for_a_department(user: Any) -> bool:
    """Department staff with a department, or an administrator: those the
    services let write (services.speaks_for)."""
    return services.is_admin(user) or (getattr(user, "role", "") == Role.DEPARTMENT_STAFF
                                       and selectors.department_of(user) is not None)


def _departments() -> list[Department]:
    # Administrators act for any department, so they pick one; no selector
    # lists departments, and every department may be picked.
    return list(Department.objects.order_by("code"))


def _picked(departments: list[Department], value: str) -> Department | None:
    return next((d for d in departments if str(d.pk) == value), None)


def _keys(text: str) -> list[str]:
    return [k for k in KEY_LIST.split(text.strip()) if k]


# --- catalogs ---------------------------------------------------------------------


@exchange_page
def catalogs_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    get = request.GET
    q = get.get("q", "").strip()[:50]
    share_class = _one_of(get.get("share_class"), ShareClass.values)
    backing = _one_of(get.get("backing"), Backing.values)
    owner = get.get("owner", "").strip()[:32]
    catalogs = selectors.catalogs_for(user, q, share_class=share_class, owner=owner, backing=backing)
    page = Paginator(catalogs, PAGE_SIZE).get_page(get.get("page"))
    everything = list(selectors.catalogs_for(user))
    owners = sorted({(c.owner.code, c.owner.name) for c in everything})
    # The unsearched list's counts: a search on item names narrows the
    # searched list's item_count to the matching items.
    item_counts: dict[int, int] = {c.pk: getattr(c, "item_count", 0) for c in everything}
    stats = selectors.stats(user, days=30)
    return _page(request, "exchange/catalogs.html", {
        "page": page, "rows": [(c, item_counts.get(c.pk, 0)) for c in page.object_list],
        "q": q, "share_class": share_class, "backing": backing, "owner": owner,
        "owners": owners, "share_classes": ShareClass.choices, "backings": Backing.choices,
        "totals": stats["totals"], "shares": stats["share_classes"],
        "may_create": _acts_for_a_department(user), "query": _query_without_page(request)})


def _apply_departments(user: Any, catalog: Catalog) -> list[Department]:
    """The departments this user may apply for this catalog for."""
    if services.is_admin(user):
        return [d for d in _departments() if d.pk != catalog.owner_id]
    own = selectors.department_of(user)
    if getattr(user, "role", "") == Role.DEPARTMENT_STAFF and own is not None and own.pk != catalog.owner_id:
        return [own]
    return []


@exchange_page
def catalog_page(request: HttpRequest, code: str) -> HttpResponse:
    """One catalog: its items; the apply form for other departments; for the
    owner's staff, publishing, the dataset upload and the grants."""
    user: Any = request.user
    catalog = selectors.catalog_for(user, code)
    items = selectors.items_of(catalog)
    departments = _apply_departments(user, catalog)
    own = selectors.department_of(user)
    today = timezone.localdate()
    typed: dict[str, Any] = {
        "items": [i.key for i in items], "purpose": "", "legal_basis": "",
        "starts": today.isoformat(), "ends": (today + timedelta(days=365)).isoformat(),
        "department": str(own.pk) if own and own in departments else ""}
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        typed = {"items": post.getlist("items"), "purpose": post.get("purpose", "").strip()[:300],
                 "legal_basis": post.get("legal_basis", "").strip()[:300],
                 "starts": post.get("starts", "").strip()[:10], "ends": post.get("ends", "").strip()[:10],
                 "department": post.get("department", "").strip()}
        department = _picked(departments, typed["department"]) if len(departments) > 1 else (
            departments[0] if departments else None)
        starts, ends = _date(typed["starts"]), _date(typed["ends"])
        try:
            if department is None:
                raise OutOfScope("not_an_applicant", _("只有其他部门的工作人员或系统管理员（选择申请部门）可以申请"))
            if starts is None or ends is None:
                raise InvalidInput("bad_dates", _("请填写起始日期和截止日期（YYYY-MM-DD）"))
            application = services.apply_for(
                by=user, department=department, catalog=catalog, items=typed["items"],
                purpose=typed["purpose"], legal_basis=typed["legal_basis"], starts=starts, ends=ends)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            if application.status == ApplicationStatus.PENDING:
                messages.success(request, _("已提交申请，等待%(owner)s审批") % {"owner": catalog.owner.name})
            else:
                messages.success(request, _("无条件共享：申请已自动授权"))
            return redirect("exchange:application", pk=application.pk)
    owner_side = services.speaks_for(user, catalog.owner)
    dataset = catalog.backing == Backing.DATASET
    return _page(request, "exchange/catalog.html", {
        "catalog": catalog, "items": items, "owner_side": owner_side, "dataset": dataset,
        "item_names": {i.key: i.name for i in items},
        "verify_items": [(k, next((i.name for i in items if i.key == k), k)) for k in catalog.verify_items],
        "compare_keys": [(k, next((i.name for i in items if i.key == k), k)) for k in catalog.compare_keys],
        "published": catalog.status == CatalogStatus.PUBLISHED,
        "not_shared": catalog.share_class == ShareClass.NONE,
        "departments": departments, "typed": typed, "error": error,
        # The dataset's last files, read through the catalog the selector returned.
        "uploads": list(catalog.uploads.all()[:5]) if owner_side and dataset else [],
        "grants": [r for r in selectors.grants_for(user) if r.grant.catalog_id == catalog.pk],
        "state_labels": dict(STATES)}, status=status)


@exchange_page
@require_POST
def publish_view(request: HttpRequest, code: str) -> HttpResponse:
    catalog = selectors.catalog_for(request.user, code)
    try:
        services.publish_catalog(catalog=catalog, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已发布目录“%(name)s”") % {"name": catalog.name})
    return redirect("exchange:catalog", code=catalog.code)


@exchange_page
@require_POST
def withdraw_view(request: HttpRequest, code: str) -> HttpResponse:
    catalog = selectors.catalog_for(request.user, code)
    try:
        services.withdraw_catalog(catalog=catalog, by=request.user,
                                  reason=request.POST.get("reason", "").strip()[:300])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已下线目录“%(name)s”") % {"name": catalog.name})
    return redirect("exchange:catalog", code=catalog.code)


@exchange_page
@require_POST
def upload_view(request: HttpRequest, code: str) -> HttpResponse:
    catalog = selectors.catalog_for(request.user, code)
    back = reverse("exchange:catalog", args=[catalog.code]) + "#uploads"
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的 CSV 或 XLSX 文件"))
        return redirect(back)
    try:
        done = services.upload_dataset(catalog=catalog, by=request.user, data=upload.read(),
                                       file_name=upload.name or "dataset.csv")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if done.errors:
            messages.warning(request, _("已导入 %(rows)d 行；%(bad)d 行有误未导入，见下方错误行") % {
                "rows": done.rows, "bad": len(done.errors)})
        else:
            messages.success(request, _("已导入 %(rows)d 行") % {"rows": done.rows})
    return redirect(back)


def _blank_row() -> dict[str, str]:
    return dict.fromkeys(ITEM_FIELDS, "")


def _filterable(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


@exchange_page
def catalog_new_page(request: HttpRequest) -> HttpResponse:
    """编制目录: a draft of the user's department; administrators pick the
    department and may back it with the registry."""
    user: Any = request.user
    if not _acts_for_a_department(user):
        return _forbidden(request, _("只有部门工作人员和系统管理员可以编制数据目录。"))
    admin = services.is_admin(user)
    own = selectors.department_of(user)
    departments = _departments() if admin else [d for d in (own,) if d is not None]
    backings = Backing.choices if admin else [(Backing.DATASET.value, Backing.DATASET.label)]
    typed = dict.fromkeys(CATALOG_FIELDS, "")
    typed.update(share_class=ShareClass.CONDITIONAL, frequency=Frequency.DAILY,
                 backing=Backing.DATASET, owner=str(own.pk) if own else "")
    rows = [_blank_row() for _n in range(ITEM_ROWS)]
    error, fields, status = "", {}, 200
    if request.method == "POST":
        post = request.POST
        typed = {k: post.get(k, "").strip() for k in CATALOG_FIELDS}
        rows = [{k: post.get(f"{k}_{n}", "").strip() for k in ITEM_FIELDS} for n in range(ITEM_ROWS)]
        try:
            owner = _picked(departments, typed["owner"]) if admin else own
            if owner is None:
                raise InvalidInput("owner_required", _("请选择提供部门"), fields={"owner": _("请选择")})
            catalog = services.create_catalog(
                by=user, owner=owner, code=typed["code"], name=typed["name"],
                description=typed["description"][:5000], share_class=typed["share_class"],
                condition=typed["condition"], frequency=typed["frequency"], backing=typed["backing"],
                items=[services.ItemIn(key=r["key"], name=r["name"], source=r["source"], type=r["type"],
                                       sensitivity=r["sensitivity"], mask=r["mask"],
                                       filterable=_filterable(r["filterable"]))
                       for r in rows if r["key"]],
                verify_items=_keys(typed["verify_items"]), compare_keys=_keys(typed["compare_keys"]))
        except DomainError as exc:
            error, fields, status = exc.message, exc.fields, exc.status
        else:
            messages.success(request, _("已创建目录“%(name)s”（草稿）；发布后其他部门才能看到") % {
                "name": catalog.name})
            return redirect("exchange:catalog", code=catalog.code)
    labels = {**dict(ItemType.choices), **dict(Grade.choices), **dict(Mask.choices)}
    registry = [(label, backing, [(key, spec.label, labels.get(spec.type, spec.type),
                                   dict(Grade.choices).get(spec.grade, spec.grade),
                                   labels.get(spec.mask, spec.mask), spec.filterable)
                                  for key, spec in registry_fields(backing).items()])
                for backing, label in Backing.choices if backing != Backing.DATASET] if admin else []
    return _page(request, "exchange/catalog_new.html", {
        "typed": typed, "rows": rows, "error": error, "fields": fields, "admin": admin,
        "departments": departments, "backings": backings, "share_classes": ShareClass.choices,
        "frequencies": Frequency.choices, "types": ItemType.choices, "grades": Grade.choices,
        "masks": Mask.choices, "registry": registry}, status=status)


# --- applications -----------------------------------------------------------------


@exchange_page
def applications_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    get = request.GET
    default = "incoming" if services.is_admin(user) and selectors.department_of(user) is None else "mine"
    box = _one_of(get.get("box"), dict(BOXES)) or default
    status = _one_of(get.get("status"), ApplicationStatus.values)
    page = Paginator(selectors.applications_for(user, box=box, status=status),
                     PAGE_SIZE).get_page(get.get("page"))
    pending = selectors.applications_for(user, box="incoming", status=ApplicationStatus.PENDING).count()
    return _page(request, "exchange/applications.html", {
        "page": page, "box": box, "status": status, "statuses": ApplicationStatus.choices,
        "boxes": [{"value": v, "label": label, "current": v == box,
                   "url": "?" + urlencode({"box": v, **({"status": status} if status else {})})}
                  for v, label in BOXES],
        "pending": pending, "query": urlencode({"box": box, **({"status": status} if status else {})})})


@exchange_page
def application_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One application; the owner's staff decide it item by item: approved
    or not, delivered masked or in full."""
    user: Any = request.user
    application = selectors.application_for(user, pk)
    items = list(application.items.all())
    typed: dict[str, Any] = {"approve": [i.key for i in items],
                             "masked": [i.key for i in items if i.mask != Mask.NONE], "reason": ""}
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        typed = {"approve": post.getlist("approve"), "masked": post.getlist("masked"),
                 "reason": post.get("reason", "").strip()[:300]}
        refuse = post.get("decision") == "refuse"
        try:
            if refuse:
                services.decide_application(application=application, by=user, items=None,
                                            reason=typed["reason"])
            else:
                chosen = {i.key: i.key in typed["masked"] for i in items if i.key in typed["approve"]}
                if not chosen:
                    # An empty approval would be read as a refusal by the service.
                    raise InvalidInput("nothing_approved", _(
                        "请至少勾选一个批准的信息项；全部不批准请点“拒绝”并说明理由"))
                services.decide_application(application=application, by=user, items=chosen,
                                            reason=typed["reason"])
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已拒绝该申请") if refuse else _("已批准，授权即时生效"))
            return redirect("exchange:application", pk=application.pk)
        application = selectors.application_for(user, pk)
    grant = next((r for r in selectors.grants_for(user) if r.grant.application_id == application.pk), None)
    owner_side = services.speaks_for(user, application.catalog.owner)
    return _page(request, "exchange/application.html", {
        "application": application, "items": items, "grant": grant, "typed": typed, "error": error,
        "may_decide": owner_side and application.status == ApplicationStatus.PENDING,
        "state_labels": dict(STATES)}, status=status)


# --- grants -----------------------------------------------------------------------


@exchange_page
def grants_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    state = _one_of(request.GET.get("state"), dict(STATES))
    own = getattr(user, "department_id", None)
    rows = [{"row": r, "received": own is not None and r.grant.department_id == own,
             "given": own is not None and r.grant.catalog.owner_id == own,
             "may_revoke": r.state != "revoked" and services.speaks_for(user, r.grant.catalog.owner)}
            for r in selectors.grants_for(user, state=state)]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(request, "exchange/grants.html", {
        "page": page, "state": state, "states": STATES, "state_labels": dict(STATES),
        "query": _query_without_page(request), "next": request.get_full_path()})


@exchange_page
@require_POST
def revoke_grant_view(request: HttpRequest, pk: int) -> HttpResponse:
    grant = selectors.grant_for(request.user, pk)
    try:
        services.revoke_grant(grant=grant, by=request.user, reason=request.POST.get("reason", "")[:300])
    except DomainError as exc:
        messages.error(request, _("撤销未成功：%(message)s") % {"message": exc.message})
    else:
        messages.success(request, _("已撤销%(department)s对“%(catalog)s”的授权") % {
            "department": grant.department.name, "catalog": grant.catalog.name})
    return redirect(_back(request, reverse("exchange:grants")))


# --- gateway clients --------------------------------------------------------------


def sign_help() -> dict[str, Any]:
    """The "how to sign" box: the headers and the lines of the signed text."""
    return {
        "headers": [(signing.HEADER_KEY, _("接入凭据的 Key（以 wgk_ 开头）")),
                    (signing.HEADER_TIMESTAMP, _("签名时的 Unix 秒数；与服务器时间相差不得超过 %(n)d 秒") % {
                        "n": signing.WINDOW_SECONDS}),
                    (signing.HEADER_NONCE, _("16–64 位字母、数字、- 或 _，每次请求新生成，不得重复使用")),
                    (signing.HEADER_SIGNATURE, _("用 Secret 对待签文本做 HMAC-SHA256，取小写十六进制")),
                    (signing.HEADER_PURPOSE, _("可选：本次调用的用途，记入调用日志"))],
        "lines": [signing.SCHEME, _("请求方法（大写），如 GET"), _("路径，如 /gateway/v1/catalogs/目录编码/rows"),
                  _("查询参数：按名称排序，按 RFC 3986 编码后以 & 连接；没有则为空行"),
                  _("时间戳（同 X-WG-Timestamp）"), _("Nonce（同 X-WG-Nonce）"), _("Key（同 X-WG-Key）"),
                  _("请求体的 SHA-256（十六进制；没有请求体时为空串的 SHA-256）")],
        "endpoints": ["GET  /gateway/v1/catalogs/{code}/rows?item=value&_items=a,b&_limit=100&_after=0",
                      'POST /gateway/v1/catalogs/{code}/verify    {"name": "…", "id_number": "…"}',
                      'POST /gateway/v1/catalogs/{code}/compare   {"key": "id_number", "values": ["…"]}'],
    }


@exchange_page
def clients_page(request: HttpRequest) -> HttpResponse:
    """Gateway credentials; a new client's secret is shown once, on the page
    the creation answers with, and never again."""
    user: Any = request.user
    admin = services.is_admin(user)
    own = selectors.department_of(user)
    may_create = _acts_for_a_department(user)
    departments = _departments() if admin else [d for d in (own,) if d is not None]
    typed = {"name": "", "rate_per_minute": "600", "department": str(own.pk) if own else ""}
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        typed = {"name": post.get("name", "").strip()[:100],
                 "rate_per_minute": post.get("rate_per_minute", "").strip()[:10],
                 "department": post.get("department", "").strip()}
        rate = _int(typed["rate_per_minute"])
        department = _picked(departments, typed["department"]) if admin else own
        try:
            if department is None:
                raise InvalidInput("department_required", _("请选择部门"))
            if rate is None:
                raise InvalidInput("bad_rate", _("每分钟调用上限须为整数"))
            client, secret = services.create_client(by=user, department=department, name=typed["name"],
                                                    rate_per_minute=rate)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            response = _page(request, "exchange/client_created.html", {
                "client": client, "secret": secret, "help": sign_help()}, status=201)
            add_never_cache_headers(response)
            return response
    clients = list(selectors.clients_for(user))
    return _page(request, "exchange/clients.html", {
        "clients": clients, "may_create": may_create, "admin": admin, "departments": departments,
        "typed": typed, "error": error, "help": sign_help(),
        "manageable": {c.pk for c in clients if c.revoked_at is None and services.speaks_for(user, c.department)}},
        status=status)


@exchange_page
@require_POST
def revoke_client_view(request: HttpRequest, pk: int) -> HttpResponse:
    client = selectors.client_for(request.user, pk)
    try:
        services.revoke_client(client=client, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已停用接入凭据 %(key)s") % {"key": client.key_id})
    return redirect("exchange:clients")


# --- calls and statistics -----------------------------------------------------------


@exchange_page
def calls_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    get = request.GET
    typed = {"department": get.get("department", "").strip()[:32], "catalog": get.get("catalog", "").strip()[:32],
             "endpoint": _one_of(get.get("endpoint"), Endpoint.values),
             "status": _one_of(get.get("status"), dict(CALL_STATUSES)),
             "since": get.get("since", "").strip()[:10], "until": get.get("until", "").strip()[:10]}
    since, until = _date(typed["since"]), _date(typed["until"])
    error = ""
    if (typed["since"] and since is None) or (typed["until"] and until is None):
        error = _("日期格式应为 YYYY-MM-DD")
    calls = selectors.calls_for(user, department=typed["department"], catalog=typed["catalog"],
                                endpoint=typed["endpoint"], status=typed["status"], since=since, until=until)
    page = Paginator(calls, PAGE_SIZE).get_page(get.get("page"))
    return _page(request, "exchange/calls.html", {
        "page": page, "typed": typed, "error": error, "endpoints": Endpoint.choices,
        "statuses": CALL_STATUSES, "query": _query_without_page(request)})


def chart_data(stats: dict[str, Any], today: date) -> dict[str, Any]:
    """What exchange_stats.js draws: every day of the period on the axis (days
    without calls as 0), one line per interface; departments' calls split into
    served and refused; catalogs by departments hooked; share-class pies with
    the selector's percentages."""
    days = int(stats["days"])
    by_day = {r["day"]: r for r in stats["per_day"]}
    axis = sorted({(today - timedelta(days=n)).isoformat() for n in range(days + 1)} | set(by_day))
    endpoints = [str(label) for _value, label in Endpoint.choices
                 if any(str(label) in r for r in stats["per_day"])]
    return {
        "days": axis,
        "per_day": [{"name": e, "data": [by_day.get(d, {}).get(e, 0) for d in axis]} for e in endpoints],
        "departments": {"names": [r["department"] for r in stats["per_department"]],
                        "ok": [r["calls"] - r["refused"] for r in stats["per_department"]],
                        "refused": [r["refused"] for r in stats["per_department"]]},
        "ranking": {"names": [f'{r["code"]} {r["name"]}' for r in stats["catalog_ranking"]],
                    "departments": [r["departments"] for r in stats["catalog_ranking"]],
                    "calls": [r["calls"] for r in stats["catalog_ranking"]]},
        "share_classes": [{"name": s["share_class"], "catalogs": s["catalogs"], "items": s["items"],
                           "catalog_share": s["catalog_share"], "item_share": s["item_share"]}
                          for s in stats["share_classes"]],
        "strings": {"ok": _("成功"), "refused": _("被拒绝或失败"), "calls": _("调用次数"),
                    "departments": _("接入部门数"), "catalogs": _("目录"), "items": _("信息项"),
                    "empty": _("暂无数据")},
    }


@exchange_page
def stats_page(request: HttpRequest) -> HttpResponse:
    """共享统计, the big screen: totals and four charts over 7, 30 or 90 days."""
    user: Any = request.user
    days = _int(request.GET.get("days"))
    days = days if days in DAYS else 30
    stats = selectors.stats(user, days=days)
    return _page(request, "exchange/stats.html", {
        "stats": stats, "totals": stats["totals"], "days": days, "day_choices": DAYS,
        "chart": chart_data(stats, timezone.localdate())})


urlpatterns: list[URLPattern] = [
    path("exchange/", catalogs_page, name="catalogs"),
    # Before catalogs/<code>/, so "new" is never read as a catalog code.
    path("exchange/catalogs/new/", catalog_new_page, name="catalog_new"),
    path("exchange/catalogs/<str:code>/", catalog_page, name="catalog"),
    path("exchange/catalogs/<str:code>/publish/", publish_view, name="publish"),
    path("exchange/catalogs/<str:code>/withdraw/", withdraw_view, name="withdraw"),
    path("exchange/catalogs/<str:code>/upload/", upload_view, name="upload"),
    path("exchange/applications/", applications_page, name="applications"),
    path("exchange/applications/<int:pk>/", application_page, name="application"),
    path("exchange/grants/", grants_page, name="grants"),
    path("exchange/grants/<int:pk>/revoke/", revoke_grant_view, name="revoke_grant"),
    path("exchange/clients/", clients_page, name="clients"),
    path("exchange/clients/<int:pk>/revoke/", revoke_client_view, name="revoke_client"),
    path("exchange/calls/", calls_page, name="calls"),
    path("exchange/stats/", stats_page, name="stats"),
]
