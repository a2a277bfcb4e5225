"""The export approval page: a user's own requests and, for approvers, the
requests waiting for them (core.exports)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.core import exports
from wangge.core.errors import DomainError

PAGE_SIZE = 30


@login_required
def exports_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    exports.expire_stale()
    mine = Paginator(exports.requests_of(user), PAGE_SIZE).get_page(request.GET.get("page"))
    approver = exports.can_approve(user)
    return render(request, "core/exports.html", {
        "mine": mine, "approver": approver,
        "pending": list(exports.pending_for(user)[:200]) if approver else [],
        "limit": settings.WANGGE_EXPORT_APPROVAL_ROWS,
        "days": settings.WANGGE_EXPORT_APPROVAL_DAYS})


def _decide(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    reason = request.POST.get("reason", "")[:500]
    try:
        if approve:
            done = exports.approve_request(request_id=pk, by=request.user, reason=reason)
            messages.success(request, _("已批准导出申请 #%(id)s") % {"id": done.pk})
        else:
            done = exports.refuse_request(request_id=pk, by=request.user, reason=reason)
            messages.success(request, _("已拒绝导出申请 #%(id)s") % {"id": done.pk})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exports:list")


@login_required
@require_POST
def approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=True)


@login_required
@require_POST
def refuse_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=False)
