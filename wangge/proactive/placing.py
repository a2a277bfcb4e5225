"""Where a water account is: its address text → a standard address (the
addresses app's matcher) → the house at that address, or the one house below
it, or the house of the nearest address above it.

Pure module: works on the matcher's in-memory AddressIndex and a set of the
address codes that carry a house; `services` asks the database for that set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wangge.addresses.matcher import AddressIndex, MatchResult

# Below this the matcher's answer is a guess: the account stays unplaced, with
# the candidate named in its note. The same bar fusion sets for rooms.
LINK_CONFIDENCE = 0.8
# A building has a few hundred rooms at most; past this a text that named only
# a compound is not worth walking.
MAX_BELOW = 2000
LEVEL_NAMES = {"road": "街路巷", "door": "门牌", "compound": "小区", "building": "楼栋", "unit": "单元",
               "room": "户室"}


@dataclass(frozen=True)
class Located:
    text: str
    result: MatchResult
    ancestors: tuple[str, ...] = ()  # nearest first
    below: tuple[str, ...] = ()

    @property
    def code(self) -> str | None:
        return self.result.match.code if self.result.match else None

    def codes(self) -> Iterable[str]:
        if self.code:
            yield self.code
        yield from self.ancestors
        yield from self.below


@dataclass(frozen=True)
class Placement:
    address_code: str | None
    house_address_code: str | None
    grid_code: str
    note: str


def locate(index: AddressIndex, text: str) -> Located:
    if not text.strip():
        return Located(text, MatchResult(None))
    _, result = index.match_text(text)
    if result.match is None or result.confidence < LINK_CONFIDENCE:
        return Located(text, result)
    code = result.match.code
    ancestors: list[str] = []
    row = index.get(code)
    while row is not None and row.parent_code:
        ancestors.append(row.parent_code)
        row = index.get(row.parent_code)
    below: list[str] = []
    frontier = index.children(code)
    while frontier and len(below) < MAX_BELOW:
        below.extend(frontier)
        frontier = [c for parent in frontier for c in index.children(parent)]
    return Located(text, result, tuple(ancestors), tuple(below[:MAX_BELOW]))


def place(found: Located, houses: set[str]) -> Placement:
    """`houses`: the codes among found.codes() that carry a house."""
    result = found.result
    if not found.text.strip():
        return Placement(None, None, "", "文件中没有该户的用水地址，无法关联房屋")
    if result.match is None:
        close = "；".join(c.full_name for c in result.candidates[:3])
        hint = f"，可能是：{close}" if close else ""
        return Placement(None, None, "", f"地址“{found.text}”在标准地址库中找不到{hint}；请核对地址后重新导入")
    match = result.match
    full = result.full_name or match.full_name
    if result.confidence < LINK_CONFIDENCE:
        return Placement(None, None, "", f"地址“{found.text}”与标准地址“{full}”不够相近"
                                         f"（相似度 {result.confidence:.2f}），未关联；请核对地址")
    missing = "、".join(_label(u) for u in result.unmatched)
    gap = f"标准地址库中没有{missing}，" if missing else ""
    if match.code in houses:
        return Placement(match.code, match.code, match.grid_code, f"{gap}已关联房屋：{full}" if gap else "")
    below = [c for c in found.below if c in houses]
    level = LEVEL_NAMES.get(match.level, match.level)
    if len(below) == 1:
        return Placement(match.code, below[0], match.grid_code,
                         f"{gap}地址只匹配到{level}“{full}”，其下只有一套房屋，已关联")
    if len(below) > 1:
        return Placement(match.code, None, match.grid_code,
                         f"{gap}地址只匹配到{level}“{full}”，其下有 {len(below)} 套房屋，无法确定是哪一套；"
                         "请在地址中写明楼栋、单元和室号")
    above = next((c for c in found.ancestors if c in houses), None)
    if above is not None:
        return Placement(match.code, above, match.grid_code, f"{gap}“{full}”没有登记房屋，已关联上级地址的房屋")
    return Placement(match.code, None, match.grid_code, f"{gap}已匹配标准地址“{full}”，但该地址没有登记房屋")


def _label(part: str) -> str:
    level, _, value = part.partition(" ")
    return f"{LEVEL_NAMES.get(level, level)}{value}"
