"""The signed-in user's own notifications over the API (see core.notify)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from wangge.core import notify

router = Router(tags=["inbox"])
MAX_LIMIT = 200


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class InboxPage(Schema):
    count: int
    unread: int
    items: list[NotificationOut]


class InboxQuery(Schema):
    unread: bool = False
    offset: int = 0
    limit: int = 50


class ReadIn(Schema):
    ids: list[int] | None = None  # None or absent: all of them


class ReadOut(Schema):
    marked: int
    unread: int


@router.get("", response=InboxPage, summary="我的通知（最新在前；unread=true 只看未读）")
def inbox(request: HttpRequest, query: Query[InboxQuery]) -> dict[str, Any]:
    qs = notify.inbox_for(request.user, unread=query.unread)
    limit = max(1, min(query.limit, MAX_LIMIT))
    offset = max(0, query.offset)
    return {"count": qs.count(), "unread": notify.unread_count(request.user),
            "items": list(qs[offset:offset + limit])}


@router.post("/read", response=ReadOut, summary="标为已读：{\"ids\": [...]}；不给 ids 则全部标为已读")
def read(request: HttpRequest, payload: ReadIn) -> dict[str, int]:
    marked = notify.mark_read(by=request.user, ids=payload.ids)
    return {"marked": marked, "unread": notify.unread_count(request.user)}
