"""Water company files: which column is which, and each row's values.

Pure module (no Django). Files are read into cells by `wangge.fusion.reading`
(encodings, delimiters, Excel oddities); this module maps their headers and
parses the cells, and says in Chinese what is wrong with a row, so the clerk
can find and fix it by its line number.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

FIELDS = ("account", "address", "date", "reading", "use")
FIELD_LABELS = {"account": "用水户号", "address": "用水地址", "date": "抄表日期", "reading": "表底数",
                "use": "用水量"}
SPELLINGS: dict[str, tuple[str, ...]] = {
    "account": ("账号", "户号", "用户号", "用水户号", "水表户号", "客户号", "客户编号", "用户编号", "户号编码",
                "account", "accountno", "accountnumber", "acct", "customerno"),
    "address": ("地址", "用水地址", "用户地址", "装表地址", "水表地址", "住址", "address", "addr"),
    "date": ("抄表日期", "日期", "抄表时间", "读表日期", "抄见日期", "date", "readingdate", "readdate"),
    "reading": ("读数", "表底数", "本期读数", "本期表底数", "本期表底", "止码", "本期止码", "表读数",
                "reading", "meterreading", "readingvalue"),
    "use": ("用水量", "水量", "本期用水量", "本期水量", "用量", "实用水量", "抄见水量",
            "use", "usage", "consumption", "volume"),
}
MAX_ACCOUNT = 40
MAX_ADDRESS = 300
EARLIEST = date(1990, 1, 1)

_BRACKETS = re.compile(r"[（(\[【].*?[)）\]】]")
_HEADER_NOISE = re.compile(r"[\s_\-:：/]+")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE][+-]?\d+")
_UNIT = re.compile(r"(吨|m3|m³|立方米|方)$", re.IGNORECASE)


class FeedError(ValueError):
    """The whole file cannot be read as meter readings; the message says why."""


def header_key(text: str) -> str:
    """"抄表日期（年/月/日）" → "抄表日期", "Reading_Date" → "readingdate"."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _BRACKETS.sub("", text)
    return _HEADER_NOISE.sub("", text).lower()


_BY_KEY = {header_key(s): name for name, spellings in SPELLINGS.items() for s in spellings}


def map_columns(columns: Sequence[str]) -> dict[str, str]:
    """field → the file's column. Refuses a file that lacks the account, the date,
    or both reading and use, naming the spellings it accepts."""
    mapping: dict[str, str] = {}
    for column in columns:
        name = _BY_KEY.get(header_key(column))
        if name and name not in mapping:
            mapping[name] = column
    missing = [f for f in ("account", "date") if f not in mapping]
    if "reading" not in mapping and "use" not in mapping:
        missing.append("reading")
    if missing:
        wanted = "；".join(
            f"{FIELD_LABELS[f] if f != 'reading' else '表底数或用水量'}（可写作 "
            f"{'、'.join(_spellings(f))}）" for f in missing)
        found = "、".join(columns) or "无"
        raise FeedError(f"文件缺少必需的列：{wanted}。文件中的列为：{found}")
    return mapping


def _spellings(field: str) -> list[str]:
    if field == "reading":
        return ["表底数", "读数", "用水量", "水量", "reading", "use"]
    names = SPELLINGS[field]
    return [*[s for s in names if not s.isascii()][:4], next(s for s in names if s.isascii())]


def parse_date(text: str, *, today: date) -> date:
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        raise ValueError("抄表日期为空")
    value = _TIME_TAIL.sub("", raw).strip()
    m = _DATE.fullmatch(value) or _COMPACT.fullmatch(value)
    if m is None:
        if value.isdigit() and 20000 <= int(value) <= 80000:
            raise ValueError(f"抄表日期“{raw}”是Excel的日期序号；请把该列设为日期格式（如 2026-01-31）后重新导出")
        raise ValueError(f"抄表日期“{raw}”无法识别；请写成 2026-01-31、2026/1/31 或 20260131")
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"抄表日期“{raw}”不是有效日期") from None
    if day > today + timedelta(days=1):
        raise ValueError(f"抄表日期 {day} 晚于今天，请核对")
    if day < EARLIEST:
        raise ValueError(f"抄表日期 {day} 过早，请核对")
    return day


def parse_amount(text: str, label: str) -> float | None:
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return None
    value = _UNIT.sub("", raw.replace(",", "").replace(" ", "")).strip()
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{label}“{raw}”不是数字") from None
    if not math.isfinite(number):
        raise ValueError(f"{label}“{raw}”不是数字")
    if number < 0:
        raise ValueError(f"{label}不能为负数：{raw}")
    return number


def parse_account(text: str) -> str:
    raw = unicodedata.normalize("NFKC", text or "").strip()
    value = re.sub(r"\s+", "", raw)
    if not value:
        raise ValueError("用水户号为空")
    if _SCIENTIFIC.fullmatch(value):
        raise ValueError(f"用水户号“{raw}”被Excel转成了科学计数法，末尾数字已丢失；"
                         "请把该列设为文本格式后重新导出")
    if len(value) > MAX_ACCOUNT:
        raise ValueError(f"用水户号过长（最多 {MAX_ACCOUNT} 个字符）：{raw}")
    return value


@dataclass(frozen=True)
class MeterRow:
    line: int
    account: str
    address: str
    day: date
    reading: float | None
    use: float | None


@dataclass(frozen=True)
class RowIssue:
    line: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


def parse_rows(rows: Iterable[Any], mapping: Mapping[str, str], *, today: date
               ) -> tuple[list[MeterRow], list[RowIssue]]:
    """The good rows, and each bad one with its line and every reason found.
    The same account and date twice is an error on the second line: which of
    the two readings is right only the clerk can say."""
    good: list[MeterRow] = []
    bad: list[RowIssue] = []
    seen: dict[tuple[str, date], int] = {}

    def cell(values: Mapping[str, str], name: str) -> str:
        column = mapping.get(name)
        return values.get(column, "") if column else ""

    for row in rows:
        reasons = list(row.problems)
        account = day = None
        reading = use = None
        try:
            account = parse_account(cell(row.values, "account"))
        except ValueError as exc:
            reasons.append(str(exc))
        try:
            day = parse_date(cell(row.values, "date"), today=today)
        except ValueError as exc:
            reasons.append(str(exc))
        try:
            reading = parse_amount(cell(row.values, "reading"), "表底数")
        except ValueError as exc:
            reasons.append(str(exc))
        try:
            use = parse_amount(cell(row.values, "use"), "用水量")
        except ValueError as exc:
            reasons.append(str(exc))
        if reading is None and use is None and not any("表底数" in r or "用水量" in r for r in reasons):
            reasons.append("表底数和用水量都为空")
        address = unicodedata.normalize("NFKC", cell(row.values, "address")).strip()
        if len(address) > MAX_ADDRESS:
            reasons.append(f"用水地址过长（最多 {MAX_ADDRESS} 个字）")
        if account is not None and day is not None and not reasons:
            earlier = seen.get((account, day))
            if earlier is not None:
                reasons.append(f"与第 {earlier} 行重复（同一用水户号、同一抄表日期）")
            else:
                seen[(account, day)] = row.line
        if reasons or account is None or day is None:
            bad.append(RowIssue(row.line, "；".join(reasons)))
            continue
        good.append(MeterRow(row.line, account, address, day, reading, use))
    return good, bad
