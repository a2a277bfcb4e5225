"""Every export goes through `prepare`: it enforces the approval rule, keeps a
record of what left the platform and hands out the file's watermark.

    ticket = exports.prepare(request.user, kind="registry.people",
                             params={"q": q, "grid": grid, "tag": tag},
                             rows=len(ids), purpose=purpose, fields=COLUMNS, subjects=ids)
    stamp_workbook(wb, ticket.mark)

The rule: an export of more than WANGGE_EXPORT_APPROVAL_ROWS rows needs an
approved ExportRequest of the same user for the same `kind` and `params` (the
filters, so an approval covers exactly that export), for at most the rows the
approver saw, used once, within WANGGE_EXPORT_APPROVAL_DAYS. Without one,
`prepare` files a pending request (or finds the open one) and raises
ExportNeedsApproval, and no file is made. Approvers are administrators and
district staff (区级工作人员); nobody approves their own request.

Each export writes one ExportLog (with the people in it, for the access
report; see core.export_access) and exactly one audit entry: action "export",
object_type the kind, fields the columns, reason the purpose. Filing, approving
and refusing a request are audited too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from wangge.core import audit, notify
from wangge.core.errors import DomainError, InvalidInput, NotFound, OutOfScope
from wangge.core.models import ExportLog, ExportRequest, ExportStatus, ExportSubject
from wangge.core.xlsx import Watermark

APPROVER_ROLES = frozenset({"admin", "district_staff"})
MIN_PURPOSE = 2
SUBJECT_BATCH = 1000


class ExportNeedsApproval(DomainError):
    """Refused until approved: status 403 (the user may not do this yet; asking
    again will not help, an approver will). `fields` carries request_id, rows
    and limit for programs."""

    status = 403


@dataclass(frozen=True)
class ExportTicket:
    log: ExportLog
    mark: Watermark
    approval: ExportRequest | None = None

    @property
    def id(self) -> int:
        return self.log.pk

    @property
    def watermark(self) -> str:
        """`导出人：网格员甲（worker_a） 导出时间：2026-11-23 14:05:09 编号：12`"""
        return str(self.mark)


# ---- rules ---------------------------------------------------------------------


def approval_limit() -> int:
    return int(settings.WANGGE_EXPORT_APPROVAL_ROWS)


def needs_approval(rows: int, limit: int) -> bool:
    return rows > limit


def can_approve(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        bool(getattr(user, "is_superuser", False)) or getattr(user, "role", "") in APPROVER_ROLES)


def who(user: Any) -> str:
    username = getattr(user, "username", "") or "?"
    name = getattr(user, "display_name", "") or username
    return f"{name}（{username}）"


def canonical_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """The filters as strings, blanks left out: `{"q": ""}` and `{}` are the
    same export, `{"grid": "1201"}` is another."""
    out: dict[str, str] = {}
    for key, value in sorted((params or {}).items()):
        if value is None or value == "" or value == [] or value == ():
            continue
        if isinstance(value, list | tuple | set):
            text = ",".join(sorted(str(v) for v in value))
        else:
            text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        out[str(key)] = text
    return out


def params_key(params: Mapping[str, str]) -> str:
    text = json.dumps(params, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ---- the one entry point ---------------------------------------------------------


def prepare(
    user: Any,
    *,
    kind: str,
    params: Mapping[str, Any] | None,
    rows: int,
    purpose: str,
    fields: Iterable[str] = (),
    subjects: Iterable[int] | None = None,
) -> ExportTicket:
    """Allow (and record) one export of `rows` rows, or refuse it.

    `subjects`: ids of the people in the file, for their access reports.
    Raises InvalidInput (422) without a purpose, and ExportNeedsApproval (403)
    above the limit without a usable approval; nothing is recorded as exported
    then, so the caller must not make the file."""
    purpose = (purpose or "").strip()
    if not getattr(user, "is_authenticated", False):
        raise OutOfScope("export_login_required", "请先登录")
    if len(purpose) < MIN_PURPOSE:
        raise InvalidInput("export_purpose_required", "请填写导出用途（至少 2 个字）",
                           fields={"purpose": "必填"})
    clean = canonical_params(params)
    key = params_key(clean)
    columns = list(dict.fromkeys(str(f) for f in fields))
    limit = approval_limit()
    now = timezone.now()
    approval: ExportRequest | None = None
    if needs_approval(rows, limit):
        approval = _take_approval(user, kind=kind, key=key, rows=rows, now=now)
        if approval is None:
            request, created = _file_request(user, kind=kind, params=clean, key=key, rows=rows,
                                             purpose=purpose, now=now)
            if created:
                message = (f"导出 {rows:,} 行超过 {limit:,} 行，需经审批；"
                           f"已提交申请 #{request.pk}，审批通过后可下载")
            else:
                message = (f"导出 {rows:,} 行超过 {limit:,} 行，需经审批；"
                           f"申请 #{request.pk} 正在等待审批，审批通过后可下载")
            raise ExportNeedsApproval("export_needs_approval", message,
                                      fields={"request_id": request.pk, "rows": rows, "limit": limit})
    with transaction.atomic():
        if approval is not None and not _consume(approval, now):
            # Another download took it between the lookup and here.
            raise ExportNeedsApproval("export_approval_used", f"审批 #{approval.pk} 已被使用，请重新申请",
                                      fields={"request_id": approval.pk, "rows": rows, "limit": limit})
        log = ExportLog.objects.create(user=user, at=now, kind=kind[:64], params=clean, rows=rows,
                                       fields=columns, purpose=purpose[:200], approval=approval)
        if subjects is not None:
            ExportSubject.objects.bulk_create(
                (ExportSubject(export=log, person_id=pid) for pid in dict.fromkeys(subjects)),
                batch_size=SUBJECT_BATCH)
        # The one audit entry of this export; when it consumed an approval this
        # entry is also the record of that use.
        reason = purpose if approval is None else f"{purpose}（审批 #{approval.pk}）"
        audit.record(user, "export", kind, log.pk, fields=columns, reason=reason)
    return ExportTicket(log=log, mark=Watermark(who=who(user), at=now, ref=str(log.pk)),
                        approval=approval)


def _take_approval(user: Any, *, kind: str, key: str, rows: int, now: datetime) -> ExportRequest | None:
    expire_stale(now)
    return (ExportRequest.objects
            .filter(requester=user, kind=kind, params_key=key, status=ExportStatus.APPROVED,
                    expires_at__gt=now, rows__gte=rows)
            .order_by("expires_at", "pk").first())


def _consume(approval: ExportRequest, now: datetime) -> bool:
    # One conditional UPDATE: of two downloads racing for one approval, one wins.
    taken = ExportRequest.objects.filter(
        pk=approval.pk, status=ExportStatus.APPROVED, expires_at__gt=now,
    ).update(status=ExportStatus.USED, used_at=now)
    if taken:
        approval.status, approval.used_at = ExportStatus.USED, now
    return taken == 1


def _file_request(user: Any, *, kind: str, params: dict[str, str], key: str, rows: int,
                  purpose: str, now: datetime) -> tuple[ExportRequest, bool]:
    """The open request for this export, or a new one; the constraint on open
    requests makes two tries at once end with one request."""
    open_ = ExportRequest.objects.filter(requester=user, kind=kind, params_key=key,
                                         status=ExportStatus.PENDING)
    existing = open_.first()
    if existing is not None:
        if existing.rows != rows:
            # The approver decides on what the download would hold now.
            open_.filter(pk=existing.pk).update(rows=rows)
            existing.rows = rows
        return existing, False
    try:
        with transaction.atomic():
            request = ExportRequest.objects.create(
                requester=user, kind=kind[:64], params=params, params_key=key, rows=rows,
                purpose=purpose[:200], created_at=now)
            audit.record(user, "export_request", "core.ExportRequest", request.pk,
                         fields=[kind], reason=purpose)
    except IntegrityError:
        return open_.get(), False
    _tell_approvers(request)
    return request, True


def _tell_approvers(request: ExportRequest) -> None:
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    approvers = (get_user_model().objects.filter(is_active=True)
                 .filter(Q(is_superuser=True) | Q(role__in=APPROVER_ROLES))
                 .exclude(pk=request.requester_id))
    notify.notify(approvers, key=f"export:{request.pk}:pending", kind="export_pending",
                  title=f"导出审批：申请 #{request.pk}（{request.rows:,} 行）",
                  body=f"{who(request.requester)} 申请导出 {request.kind}，用途：{request.purpose}",
                  link="/exports/")


# ---- decisions ---------------------------------------------------------------------


def approve_request(*, request_id: int, by: Any, reason: str = "") -> ExportRequest:
    return _decide(request_id=request_id, by=by, approve=True, reason=reason)


def refuse_request(*, request_id: int, by: Any, reason: str) -> ExportRequest:
    if len((reason or "").strip()) < MIN_PURPOSE:
        raise InvalidInput("export_refusal_reason_required", "拒绝导出申请须填写理由",
                           fields={"reason": "必填"})
    return _decide(request_id=request_id, by=by, approve=False, reason=reason)


def _decide(*, request_id: int, by: Any, approve: bool, reason: str) -> ExportRequest:
    if not can_approve(by):
        raise OutOfScope("export_not_approver", "只有区级工作人员或系统管理员可以审批导出申请")
    reason = (reason or "").strip()
    now = timezone.now()
    expire_stale(now)
    with transaction.atomic():
        request = (ExportRequest.objects.select_for_update()
                   .select_related("requester").filter(pk=request_id).first())
        if request is None:
            raise NotFound("export_request_not_found", "未找到该导出申请")
        if request.requester_id == by.pk:
            raise DomainError("export_self_approval", "不能审批自己提交的导出申请，请由其他审批人处理",
                              status=403)
        if request.status != ExportStatus.PENDING:
            raise DomainError("export_not_pending",
                              f"申请 #{request.pk} {request.get_status_display()}，不能再审批", status=409)
        request.decided_by, request.decided_at = by, now
        request.decision_reason = reason[:500]
        if approve:
            request.status = ExportStatus.APPROVED
            request.expires_at = now + timedelta(days=int(settings.WANGGE_EXPORT_APPROVAL_DAYS))
        else:
            request.status = ExportStatus.REFUSED
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason",
                                    "expires_at"])
        action = "export_approve" if approve else "export_refuse"
        audit.record(by, action, "core.ExportRequest", request.pk, fields=[request.kind],
                     reason=f"{request.rows}行：{reason}" if reason else f"{request.rows}行")
        if approve and request.expires_at is not None:
            until = timezone.localtime(request.expires_at)
            title = f"导出申请 #{request.pk} 已批准"
            body = f"请在 {until:%Y-%m-%d %H:%M} 前以相同条件下载，限下载一次。{reason}"
        else:
            title, body = f"导出申请 #{request.pk} 未获批准", reason
        notify.notify([request.requester], key=f"export:{request.pk}:decided", kind="export_decided",
                      title=title, body=body, link="/exports/")
    return request


def expire_stale(now: datetime | None = None) -> int:
    """Approvals past their time become EXPIRED; returns how many."""
    return ExportRequest.objects.filter(
        status=ExportStatus.APPROVED, expires_at__lte=now or timezone.now(),
    ).update(status=ExportStatus.EXPIRED)


# ---- reads ---------------------------------------------------------------------------


def _visible_requests(user: Any) -> QuerySet[ExportRequest]:
    if not getattr(user, "is_authenticated", False):
        return ExportRequest.objects.none()
    qs = ExportRequest.objects.select_related("requester", "decided_by")
    return qs if can_approve(user) else qs.filter(requester=user)


def requests_of(user: Any) -> QuerySet[ExportRequest]:
    """The user's own requests, newest first."""
    return _visible_requests(user).filter(requester_id=getattr(user, "pk", None))


def pending_for(user: Any) -> QuerySet[ExportRequest]:
    """What this approver may decide: others' open requests, oldest first."""
    if not can_approve(user):
        return ExportRequest.objects.none()
    return (_visible_requests(user).filter(status=ExportStatus.PENDING)
            .exclude(requester_id=user.pk).order_by("created_at", "pk"))


def request_for(user: Any, request_id: int) -> ExportRequest:
    request = _visible_requests(user).filter(pk=request_id).first()
    if request is None:
        raise NotFound("export_request_not_found", "未找到该导出申请")
    return request
