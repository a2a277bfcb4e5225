"""Export requests over the API: one's own, the ones waiting for an approver,
and the decisions (core.exports). Requests are filed by the exports themselves:
a download above the limit answers 403 `export_needs_approval` with the
request's id in `fields.request_id`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from wangge.core import exports
from wangge.core.errors import OutOfScope

router = Router(tags=["exports"])
MAX_ITEMS = 200


class ExportRequestOut(Schema):
    id: int
    requester: str
    kind: str
    params: dict[str, str]
    rows: int
    purpose: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str
    created_at: datetime
    used_at: datetime | None
    expires_at: datetime | None


class DecisionIn(Schema):
    reason: str = Field("", max_length=500)


class RefusalIn(Schema):
    reason: str = Field(..., min_length=2, max_length=500)


def request_out(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "requester": r.requester.username, "kind": r.kind, "params": r.params,
            "rows": r.rows, "purpose": r.purpose, "status": r.status,
            "decided_by": r.decided_by.username if r.decided_by else None,
            "decided_at": r.decided_at, "decision_reason": r.decision_reason,
            "created_at": r.created_at, "used_at": r.used_at, "expires_at": r.expires_at}


@router.get("", response=list[ExportRequestOut], summary="我的导出申请（最新在前）")
def my_requests(request: HttpRequest) -> list[dict[str, Any]]:
    exports.expire_stale()
    return [request_out(r) for r in exports.requests_of(request.user)[:MAX_ITEMS]]


@router.get("/pending", response=list[ExportRequestOut], summary="待我审批的导出申请（仅审批人）")
def pending(request: HttpRequest) -> list[dict[str, Any]]:
    if not exports.can_approve(request.user):
        raise OutOfScope("export_not_approver", "只有区级工作人员或系统管理员可以审批导出申请")
    return [request_out(r) for r in exports.pending_for(request.user)[:MAX_ITEMS]]


@router.post("/{request_id}/approve", response=ExportRequestOut, summary="批准导出申请")
def approve(request: HttpRequest, request_id: int, payload: DecisionIn) -> dict[str, Any]:
    done = exports.approve_request(request_id=request_id, by=request.user, reason=payload.reason)
    return request_out(done)


@router.post("/{request_id}/refuse", response=ExportRequestOut, summary="拒绝导出申请（须填理由）")
def refuse(request: HttpRequest, request_id: int, payload: RefusalIn) -> dict[str, Any]:
    done = exports.refuse_request(request_id=request_id, by=request.user, reason=payload.reason)
    return request_out(done)
