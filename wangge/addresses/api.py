from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from wangge.addresses import selectors
from wangge.addresses.models import Address

router = Router(tags=["addresses"])

Level = Literal["road", "door", "compound", "building", "unit", "room"]


class AddressOut(Schema):
    code: str
    full_name: str
    level: str
    grid_code: str
    lon: float | None
    lat: float | None


class AddressDetail(AddressOut):
    name: str
    parent_code: str | None
    road: str
    door_number: str
    compound: str
    building: str
    unit: str
    room: str
    aliases: list[str]


class ComponentsOut(Schema):
    road: str = Field(description="街路巷")
    door_number: str = Field(description="门牌号")
    compound: str = Field(description="小区")
    building: str = Field(description="楼栋号")
    unit: str = Field(description="单元号")
    room: str = Field(description="室号")


class CandidateOut(Schema):
    code: str
    full_name: str
    level: str
    grid_code: str
    score: float = Field(description="与输入相符的程度，0–1")


class MatchOut(Schema):
    query: str
    normalised: str = Field(description="规范化后的地址文本")
    components: ComponentsOut
    match: AddressOut | None = Field(description="匹配到的最细一级标准地址；无匹配时为 null")
    confidence: float = Field(description="置信度，0–1")
    resolved_level: Level | None
    unmatched: list[str] = Field(description="标准地址库中找不到的部分，如 \"room 1801\"")
    candidates: list[CandidateOut] = Field(description="有歧义时的候选，或匹配地址的下级")
    message: str


def _address(a: Address) -> dict[str, Any]:
    return {"code": a.code, "full_name": a.full_name, "level": a.level,
            "grid_code": a.grid_code, "lon": a.lon, "lat": a.lat}


@router.get("/match", response=MatchOut, summary="地址匹配",
            description="把自由文本地址（繁简、全半角、中文数字、“3-2-201”等写法均可）"
            "匹配到标准地址库中最细的一级。只在您的权限范围内匹配。")
def match(request: HttpRequest, q: str = "") -> Any:
    m = selectors.match_address(request.user, q)
    return {
        "query": m.query, "normalised": m.normalised, "components": m.components,
        "match": _address(m.match) if m.match else None, "confidence": m.confidence,
        "resolved_level": m.resolved_level, "unmatched": m.unmatched,
        "candidates": m.candidates, "message": m.message,
    }


@router.get("/search", response=list[AddressOut], summary="查找标准地址",
            description="按名称（任意规范写法）或编码前缀查找，粗层级在前；"
            "parent 给出时只在其直接下级中查找。level 可选 road、door、compound、"
            "building、unit、room；limit 为 1–100。")
def search(request: HttpRequest, q: str = "", level: str | None = None,
           parent: str | None = None, limit: int = 20) -> Any:
    # level and limit are checked by the selector, so the refusal is in Chinese.
    rows = selectors.search_addresses(request.user, q, level=level, parent=parent, limit=limit)
    return [_address(a) for a in rows]


@router.get("/{code}", response=AddressDetail, summary="标准地址详情")
def detail(request: HttpRequest, code: str) -> Any:
    a = selectors.get_address(request.user, code)
    return {**_address(a), "name": a.name, "parent_code": a.parent.code if a.parent else None,
            "road": a.road, "door_number": a.door_number, "compound": a.compound,
            "building": a.building, "unit": a.unit, "room": a.room,
            "aliases": [x for x in a.aliases if isinstance(x, str)]}
