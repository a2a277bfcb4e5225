"""The audit chain's hashing rule, with no Django in it.

An entry's hash is SHA-256 over its canonical JSON and the previous entry's hash.
Changing, removing, inserting or reordering any entry changes a hash that a later
entry (or the chain head) depends on, so `first_break` finds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(
        entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def link_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(canonical(entry))
    return digest.hexdigest()


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def first_break(
    links: Iterable[Link], head_seq: int | None = None, head_hash: str | None = None
) -> Break | None:
    """The first place the chain does not hold, or None when it is whole."""
    expected_prev = GENESIS
    expected_seq = 1
    last_seq = 0
    for link in links:
        if link.seq != expected_seq:
            what = "缺失" if link.seq > expected_seq else "重复或顺序错乱"
            return Break(expected_seq, f"序号 {expected_seq} 处链条{what}（实际为 {link.seq}）")
        if link.prev_hash != expected_prev:
            return Break(link.seq, "前序哈希与上一条记录不符（记录被删除、插入或改动）")
        if link_hash(link.prev_hash, link.payload) != link.hash:
            return Break(link.seq, "记录内容与其哈希不符（记录被改动）")
        expected_prev = link.hash
        expected_seq += 1
        last_seq = link.seq
    if head_seq is not None and head_seq != last_seq:
        return Break(last_seq + 1, f"链头记录到第 {head_seq} 条，日志只到第 {last_seq} 条（末尾被删除）")
    if head_hash is not None and last_seq and head_hash != expected_prev:
        return Break(last_seq, "链头哈希与最后一条记录不符")
    return None
