"""Reads on the standard address library, each on behalf of a user.

Every row query starts from `_visible(user)`, which keeps the rows whose grid
lies in the user's scope. The matcher works on the whole library held in
memory (one per process) and is told the scope, so an address outside it is
never returned, listed as a candidate, or allowed to make a visible one look
ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When

from wangge.addresses import normalize, rules
from wangge.addresses.cache import Cached
from wangge.addresses.matcher import AddressIndex, AddressRow, MatchResult
from wangge.addresses.models import Address
from wangge.areas.models import BASE_LAYER, Area
from wangge.core.errors import InvalidInput, NotFound, OutOfScope
from wangge.core.scope import restrict, scope_of

MAX_QUERY_LEN = normalize.MAX_LEN
MAX_SEARCH_LIMIT = 100
# Names stripped from the front of a typed address ("天津市东丽区华明街道…").
_ADMIN_LEVELS = ("city", "district", "street", "community")
# Below compound level the matcher rebuilds full names from the parent's,
# which keeps most of the index's memory out of 400,000 room rows.
_NAMED_LEVELS = frozenset({"road", "door", "compound"})


# --- the process-wide matcher index ---------------------------------------

def _index_rows() -> Iterator[AddressRow]:
    interned: dict[str, str] = {}

    def same(s: str) -> str:
        # Compound, road, grid and small numbers repeat on every room row.
        return interned.setdefault(s, s)

    rows = Address.objects.values_list(
        "code", "level", "parent__code", "full_name", "road", "door_number", "compound",
        "building", "unit", "room", "aliases", "grid_code", "lon", "lat")
    for (code, level, parent, full, road, door, compound, building, unit, room, aliases,
         grid, lon, lat) in rows.iterator(chunk_size=5000):
        yield AddressRow(
            code, level, parent, full if level in _NAMED_LEVELS else "", same(road),
            same(door), same(compound), same(building), same(unit), same(room),
            tuple(a for a in (aliases or ()) if isinstance(a, str)), same(grid), lon, lat)


def _admin_names() -> list[str]:
    return list(Area.objects.filter(layer_id=BASE_LAYER, level__in=_ADMIN_LEVELS)
                .values_list("name", flat=True))


def _build_index() -> AddressIndex:
    return AddressIndex(_index_rows(), _admin_names())


def _revision() -> object:
    addresses = Address.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    areas = Area.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return (addresses["n"], addresses["last"], areas["n"], areas["last"])


address_cache: Cached[AddressIndex] = Cached(_build_index, _revision)


def address_index() -> AddressIndex:
    return address_cache.get()


# --- rows ------------------------------------------------------------------

def _visible(user: Any) -> QuerySet[Address]:
    return restrict(Address.objects.all(), user, code_field="grid_code")


def get_address(user: Any, code: str) -> Address:
    """404 for an unknown code, 403 for one outside the user's scope."""
    address = Address.objects.select_related("parent").filter(code=code).first()
    if address is None:
        raise NotFound("address_not_found", f"地址编码 {code} 不存在")
    if not scope_of(user).covers(address.grid_code):
        raise OutOfScope("out_of_scope", f"地址 {code} 不在您的权限范围内")
    return address


def _level_order() -> Case:
    return Case(*[When(level=lv, then=Value(i)) for i, lv in enumerate(rules.LEVELS)],
                output_field=IntegerField())


def search_addresses(user: Any, q: str, level: str | None = None,
                     parent: str | None = None, limit: int = 20) -> list[Address]:
    """Addresses whose standard name contains the text (in any of the spellings
    the normaliser accepts) or whose code starts with it, coarse levels first."""
    text = (q or "").strip()
    if not text and not parent:
        raise InvalidInput("empty_query", "请输入要查找的地址，或指定上级地址编码",
                           fields={"q": "不能为空"})
    if level and level not in rules.LEVELS:
        raise InvalidInput("invalid_level", f"地址层级 {level!r} 无效，可用：{'、'.join(rules.LEVELS)}",
                           fields={"level": "无效"})
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise InvalidInput("invalid_limit", f"limit 应在 1 到 {MAX_SEARCH_LIMIT} 之间",
                           fields={"limit": "超出范围"})
    qs = _visible(user)
    if parent:
        qs = qs.filter(parent=get_address(user, parent))
    if level:
        qs = qs.filter(level=level)
    if text:
        qs = qs.filter(_text_q(text[:MAX_QUERY_LEN]))
    return list(qs.order_by(_level_order(), "code")[:limit])


def _text_q(text: str) -> Q:
    parsed = normalize.parse(text)
    spellings = {normalize.clean(text), parsed.normalised} - {""}
    q = Q(code__startswith=text.upper()) if text.isascii() else Q(pk__in=[])
    for spelling in spellings:
        q |= Q(full_name__contains=spelling)
    return q


# --- matching --------------------------------------------------------------

@dataclass(frozen=True)
class AddressMatch:
    query: str
    normalised: str
    components: dict[str, str]
    match: Address | None
    confidence: float
    resolved_level: str | None
    message: str
    unmatched: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)


def match_address(user: Any, text: str) -> AddressMatch:
    """The standard address a free-text address most likely means, within the
    user's scope. Outside it the answer is "no match in your scope", the same
    as for an address that does not exist, so nothing leaks."""
    query = (text or "").strip()
    if not query:
        raise InvalidInput("empty_query", "请输入要匹配的地址", fields={"q": "不能为空"})
    if len(query) > MAX_QUERY_LEN:
        raise InvalidInput("query_too_long", f"地址过长（最多 {MAX_QUERY_LEN} 字）",
                           fields={"q": "过长"})
    scope = scope_of(user)
    allow = None if scope.everything else (lambda row: scope.covers(row.grid_code))
    index = address_index()
    parsed, result = index.match_text(query, allow)
    rows = _rows_by_code(user, result)
    match = rows.get(result.match.code) if result.match else None
    candidates = [
        {"code": c.code, "full_name": rows[c.code].full_name, "level": c.level,
         "grid_code": c.grid_code, "score": c.score}
        for c in result.candidates if c.code in rows]
    return AddressMatch(
        query=query, normalised=parsed.normalised, components=parsed.components(),
        match=match, confidence=result.confidence if match else 0.0,
        resolved_level=result.resolved_level if match else None,
        message=_message(parsed.is_empty, match, result, bool(candidates)),
        unmatched=list(result.unmatched) if match else [], candidates=candidates)


def _rows_by_code(user: Any, result: MatchResult) -> dict[str, Address]:
    """The matched rows as stored now, through the scope filter once more: the
    index may be up to two seconds old."""
    codes = [c.code for c in result.candidates]
    if result.match:
        codes.append(result.match.code)
    if not codes:
        return {}
    return {a.code: a for a in _visible(user).filter(code__in=codes)}


def _message(unparsed: bool, match: Address | None, result: MatchResult,
             has_candidates: bool) -> str:
    if unparsed:
        return "未能从输入中识别出地址信息"
    if match is None:
        if has_candidates:
            return "有多个可能的地址，请补充小区、楼栋或门牌信息后再试"
        return "您的权限范围内没有匹配的地址"
    found = f"已匹配到{rules.LEVEL_NAMES[match.level]}：{match.full_name}"
    if result.unmatched:
        missing = "、".join(_unmatched_label(u) for u in result.unmatched)
        return f"{found}；标准地址库中没有：{missing}"
    return found


def _unmatched_label(part: str) -> str:
    """"room 1801" → "户室 1801"."""
    level, _, value = part.partition(" ")
    return f"{rules.LEVEL_NAMES.get(level, level)} {value}"
