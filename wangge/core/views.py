"""The audit log page: filters over the hash-chained log, and a check of the
chain on request (it reads the whole log)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from wangge.core import audit, selectors

PAGE_SIZE = 50


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def filters_from(params: dict[str, str]) -> selectors.AuditFilters:
    return selectors.AuditFilters(
        actor=params.get("actor", "")[:150], action=params.get("action", "")[:64],
        object_type=params.get("object_type", "")[:64], object_id=params.get("object_id", "")[:64],
        since=_day(params.get("from", "")), until=_day(params.get("to", "")),
        reason=params.get("reason", "")[:200])


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.may_read_audit(user):
        return render(request, "forbidden.html", {"message": _("审计日志仅供系统管理员和区级工作人员查看。")},
                      status=403)
    get = request.GET
    filters = filters_from(get.dict())
    page = Paginator(selectors.audit_entries_for(user, filters), PAGE_SIZE).get_page(get.get("page"))
    chain: dict[str, object] | None = None
    if get.get("verify") == "1":
        broken = audit.verify()
        chain = {"intact": broken is None, "seq": broken.seq if broken else None,
                 "reason": broken.reason if broken else "", "head": audit.head()}
    return render(request, "core/audit.html", {
        "page": page, "f": filters, "chain": chain,
        "query": urlencode([(k, v) for k, v in get.items() if k not in ("page", "verify") and v])})
