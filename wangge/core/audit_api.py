"""The audit log over the API: the same filters and the same readers as the
page (core.selectors.audit_entries_for)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from wangge.core import selectors

router = Router(tags=["audit"])
MAX_LIMIT = 200


class AuditEntryOut(Schema):
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    fields: list[str]
    reason: str


class AuditPage(Schema):
    count: int
    items: list[AuditEntryOut]


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None
    reason: str = ""
    offset: int = 0
    limit: int = 50


@router.get("/entries", response=AuditPage,
            summary="审计日志（最新在前；仅系统管理员和区级工作人员；since/until 为本地日期，含当天）")
def entries(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    filters = selectors.AuditFilters(
        actor=query.actor[:150], action=query.action[:64], object_type=query.object_type[:64],
        object_id=query.object_id[:64], since=query.since, until=query.until, reason=query.reason[:200])
    qs = selectors.audit_entries_for(request.user, filters)
    limit = max(1, min(query.limit, MAX_LIMIT))
    offset = max(0, query.offset)
    return {"count": qs.count(), "items": [
        {"seq": e.seq, "at": e.at, "actor": e.actor_name, "action": e.action, "object_type": e.object_type,
         "object_id": e.object_id, "fields": list(e.fields or []), "reason": e.reason}
        for e in qs[offset:offset + limit]]}
