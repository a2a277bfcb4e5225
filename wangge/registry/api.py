"""People over the API: the same selectors as the pages, so the same scope,
masks and audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from wangge.registry import selectors

router = Router(tags=["registry"])
MAX_LIMIT = 200


class PersonOut(Schema):
    pk: int
    name: str
    id_number: str
    gender: str
    age: int | None
    phone: str
    address: str
    grid_code: str
    tags: list[str]


class PeoplePage(Schema):
    count: int
    items: list[PersonOut]


class PeopleQuery(Schema):
    q: str = ""
    grid: str = ""
    tag: str = ""
    offset: int = 0
    limit: int = 50


class PersonDetailOut(Schema):
    person: PersonOut
    former_names: list[str]
    birth_date: str
    ethnicity: str
    hukou_area: str
    residence_type: str
    phones: list[str]
    employer: str
    revealed: list[str]
    provenance: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    households: list[dict[str, Any]]


@router.get("/people", response=PeoplePage, summary="实有人口（按权限范围、脱敏）")
def people(request: HttpRequest, query: Query[PeopleQuery]) -> dict[str, Any]:
    qs = selectors.search_people(request.user, query.q[:50], grid=query.grid[:15], tag=query.tag)
    limit = max(1, min(query.limit, MAX_LIMIT))
    offset = max(0, query.offset)
    page = list(qs.select_related("address")[offset:offset + limit])
    return {"count": qs.count(), "items": selectors.person_rows(request.user, page)}


class RevealIn(Schema):
    field: Literal["id_number", "phone", "sensitive_tag"]
    reason: str


class RevealOut(Schema):
    field: str
    value: str  # the first of `values`, or "" (an ID number has one)
    values: list[str]


class AccessOut(Schema):
    at: datetime
    who: str
    channel: str
    fields: list[str]
    purpose: str
    ref: str


class AccessQuery(Schema):
    since: datetime | None = None
    until: datetime | None = None


@router.get("/people/{pk}", response=PersonDetailOut, summary="人员详情（查看即记入审计；purpose 为查看完整信息的事由）")
def person(request: HttpRequest, pk: int, purpose: str = "") -> dict[str, Any]:
    detail = selectors.get_person(request.user, pk, purpose=purpose[:50])
    return {**detail.__dict__, "person": detail.row}


@router.post("/people/{pk}/reveal", response=RevealOut,
             summary="查看人员某一字段的完整信息（须填写事由，至少2个字；记入审计）")
def reveal(request: HttpRequest, pk: int, payload: RevealIn) -> dict[str, Any]:
    revealed = selectors.reveal_for(request.user, pk, field=payload.field, reason=payload.reason[:200])
    return {"field": revealed.field, "value": revealed.values[0] if revealed.values else "",
            "values": revealed.values}


@router.get("/people/{pk}/access-report", response=list[AccessOut],
            summary="人员访问记录：谁在何时因何查看或获取了此人的信息（查阅本身也记入审计）")
def access_report(request: HttpRequest, pk: int, query: Query[AccessQuery]) -> list[dict[str, Any]]:
    rows = selectors.access_report_for(request.user, pk, since=query.since, until=query.until)
    return [{"at": a.at, "who": a.who, "channel": a.channel, "fields": list(a.fields),
             "purpose": a.purpose, "ref": a.ref} for a in rows]
