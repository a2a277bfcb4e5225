"""Every write of the proactive app: importing a water company's readings
(and placing its accounts at houses), recording entitlements, editing and
running the rules. The rule runs themselves are in `engine`.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from wangge.accounts.models import Role
from wangge.addresses.models import Address
from wangge.addresses.selectors import address_index
from wangge.core import audit
from wangge.core.bulk import update_rows
from wangge.core.errors import DomainError, InvalidInput, NotFound, OutOfScope
from wangge.fusion import reading
from wangge.proactive import engine, feeds, placing, rules
from wangge.proactive.models import (
    Entitlement,
    EntitlementKind,
    Rule,
    RuleRun,
    WaterAccount,
    WaterImport,
    WaterReading,
)
from wangge.registry.models import House, Person

IMPORT_ROLES = frozenset({Role.ADMIN, Role.DISTRICT_STAFF, Role.STREET_STAFF, Role.COMMUNITY_STAFF,
                          Role.DEPARTMENT_STAFF})
RUN_ROLES = frozenset({Role.ADMIN, Role.DISTRICT_STAFF})
WATER_RULES = ("water_zero", "water_spike")
MAX_BYTES = 50 * 1024 * 1024
# Errors, warnings and unmatched accounts kept on the import (the counts are exact).
MAX_LISTED = 1000
# How far back a stored reading is read to judge the first reading in a file.
LOOKBACK_DAYS = 120
CHUNK = 1000


def _role(user: Any) -> str:
    return Role.ADMIN if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def may_import(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _role(user) in IMPORT_ROLES


def may_run(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _role(user) in RUN_ROLES


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- water readings ------------------------------------------------------------


def import_water_csv(*, by: Any, file_name: str, data: bytes) -> WaterImport:
    """Land a water company's file: every good row is stored (a second import
    of the same rows changes nothing), every bad row is reported with its line
    and reason, and every account is kept, placed at a house when its address
    matches one. Runs the water rules in the worker after commit."""
    if not may_import(by):
        raise OutOfScope("not_allowed", "只有管理员、区/街道/社区工作人员和部门工作人员可以导入用水数据")
    if not data:
        raise InvalidInput("water_file_empty", "文件为空", fields={"file": "为空"})
    if len(data) > MAX_BYTES:
        raise InvalidInput("water_file_too_big", f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请拆分后分批导入",
                           fields={"file": "过大"})
    table = _read(data)
    try:
        mapping = feeds.map_columns(table.columns)
    except feeds.FeedError as exc:
        raise InvalidInput("water_columns_missing", str(exc), fields={"file": "缺少必需的列"}) from exc
    good, bad = feeds.parse_rows(table.rows, mapping, today=timezone.localdate())
    with transaction.atomic():
        accounts, new_accounts = _accounts_for(good)
        stored = _store_readings(good, accounts)
        imp = _record(by, file_name[:255] or "water.csv", hashlib.sha256(data).hexdigest(), good, bad,
                      accounts, new_accounts, stored, has_address="address" in mapping)
        audit.record(by, "proactive.import_water", "water_import", imp.pk,
                     fields=["reading", "use", "house", "address"],
                     reason=f"{imp.file_name}：入库 {imp.rows_ok} 行，错误 {imp.rows_bad} 行，"
                            f"未关联房屋 {imp.rows_unmatched} 行")
        if imp.rows_ok:
            transaction.on_commit(_queue_water_rules)
    return imp


def _queue_water_rules() -> None:
    from wangge.proactive.tasks import run_rules_task

    run_rules_task.enqueue(codes=list(WATER_RULES))


def _read(data: bytes) -> reading.Table:
    # The fusion reader takes a path: it sniffs CSV from XLSX by content, and
    # handles UTF-8 (with or without BOM), GB18030 and Excel's quirks.
    with tempfile.TemporaryDirectory(prefix="water-") as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        try:
            return reading.read_table(path, max_bytes=MAX_BYTES)
        except reading.ReadError as exc:
            raise InvalidInput("water_file_unreadable", str(exc), fields={"file": "无法读取"}) from exc


@dataclass
class _Account:
    pk: int
    house_id: int | None
    address_text: str
    note: str


def _accounts_for(rows: Sequence[feeds.MeterRow]) -> tuple[dict[str, _Account], int]:
    """account number → its row, creating new accounts and placing those that
    have no house yet (the address library may have grown since)."""
    texts: dict[str, str] = {}
    for r in rows:
        if r.address and not texts.get(r.account):
            texts[r.account] = r.address
        texts.setdefault(r.account, "")
    numbers = sorted(texts)
    existing: dict[str, WaterAccount] = {}
    for part in _chunks(numbers):
        existing.update({a.account_no: a for a in WaterAccount.objects.filter(account_no__in=part)})
    to_place = {no: texts[no] or (existing[no].address_text if no in existing else "")
                for no in numbers if no not in existing or existing[no].house_id is None}
    placed = _place(to_place)
    new: list[WaterAccount] = []
    changed: list[WaterAccount] = []
    for no, text in to_place.items():
        where, address_pk, house_pk = placed[no]
        account = existing.get(no) or WaterAccount(account_no=no)
        account.address_text = text[:300]
        account.address_id, account.house_id = address_pk, house_pk
        account.grid_code, account.match_note = where.grid_code, where.note[:300]
        (changed if account.pk else new).append(account)
    WaterAccount.objects.bulk_create(new, batch_size=2000)
    stamp = timezone.now()
    for account in changed:
        account.updated_at = stamp
    update_rows(changed, ["address_text", "address", "house", "grid_code", "match_note", "updated_at"])
    out: dict[str, _Account] = {}
    created = {a.account_no: a for a in new}
    if new and any(a.pk is None for a in new):  # a backend that does not return ids
        for part in _chunks([a.account_no for a in new]):
            created.update({a.account_no: a for a in WaterAccount.objects.filter(account_no__in=part)})
    for no in numbers:
        a = created.get(no) or existing[no]
        out[no] = _Account(a.pk, a.house_id, a.address_text, a.match_note)
    return out, len(new)


def _place(texts: dict[str, str]) -> dict[str, tuple[placing.Placement, int | None, int | None]]:
    """account number → (placement, address pk, house pk)."""
    if not texts:
        return {}
    index = address_index()
    located_by_text = {text: placing.locate(index, text) for text in set(texts.values())}
    codes = sorted({c for found in located_by_text.values() for c in found.codes()})
    house_of: dict[str, int] = {}
    for part in _chunks(codes):
        house_of.update(dict(House.objects.filter(address__code__in=part).values_list("address__code", "pk")))
    houses = set(house_of)
    placements = {text: placing.place(found, houses) for text, found in located_by_text.items()}
    wanted = sorted({p.address_code for p in placements.values() if p.address_code})
    address_pk: dict[str, int] = {}
    for part in _chunks(wanted):
        address_pk.update(dict(Address.objects.filter(code__in=part).values_list("code", "pk")))
    out = {}
    for no, text in texts.items():
        p = placements[text]
        out[no] = (p, address_pk.get(p.address_code or ""),
                   house_of.get(p.house_address_code) if p.house_address_code else None)
    return out


@dataclass
class _Stored:
    inserted: int
    updated: int
    unchanged: int
    warnings: list[feeds.RowIssue]


def _store_readings(rows: Sequence[feeds.MeterRow], accounts: dict[str, _Account]) -> _Stored:
    """Upsert by (account, date). A value the file leaves empty keeps what was
    stored, so a file of readings does not wipe the use another file gave."""
    if not rows:
        return _Stored(0, 0, 0, [])
    lo = min(r.day for r in rows) - timedelta(days=LOOKBACK_DAYS)
    hi = max(r.day for r in rows)
    ids = sorted({accounts[r.account].pk for r in rows})
    stored: dict[tuple[int, date], tuple[float | None, float | None]] = {}
    for part in _chunks(ids):
        for account_id, day, value, use in WaterReading.objects.filter(
                account_id__in=part, date__range=(lo, hi)).values_list("account_id", "date", "reading", "use"):
            stored[(account_id, day)] = (value, use)
    merged = dict(stored)
    objs: list[WaterReading] = []
    inserted = updated = unchanged = 0
    for r in rows:
        key = (accounts[r.account].pk, r.day)
        old = stored.get(key)
        value = r.reading if r.reading is not None else (old[0] if old else None)
        use = r.use if r.use is not None else (old[1] if old else None)
        merged[key] = (value, use)
        if old == (value, use):
            unchanged += 1
            continue
        inserted += old is None
        updated += old is not None
        objs.append(WaterReading(account_id=key[0], date=r.day, reading=value, use=use))
    WaterReading.objects.bulk_create(objs, batch_size=2000, update_conflicts=True,
                                     unique_fields=["account", "date"], update_fields=["reading", "use"])
    return _Stored(inserted, updated, unchanged, _reset_warnings(rows, accounts, merged))


def _reset_warnings(rows: Sequence[feeds.MeterRow], accounts: dict[str, _Account],
                    merged: dict[tuple[int, date], tuple[float | None, float | None]]) -> list[feeds.RowIssue]:
    """A reading below the one before it: a new or reset meter. Such a period
    has no use figure and is left out of the water rules, never a spike."""
    by_account: dict[int, list[tuple[date, float]]] = defaultdict(list)
    for (account_id, day), (value, _) in merged.items():
        if value is not None:
            by_account[account_id].append((day, value))
    for series in by_account.values():
        series.sort()
    out: list[feeds.RowIssue] = []
    for r in rows:
        if r.reading is None or r.use is not None:
            continue
        series = by_account[accounts[r.account].pk]
        earlier = [(d, v) for d, v in series if d < r.day]
        if earlier and r.reading < earlier[-1][1]:
            day, value = earlier[-1]
            out.append(feeds.RowIssue(r.line, f"用水户 {r.account} 的表底数 {r.reading:g} 小于上次（{day}）的 "
                                              f"{value:g}，可能已换表或表计归零；本期用水量无法计算，不参与异常判断"))
    return out


def _record(by: Any, file_name: str, sha256: str, good: Sequence[feeds.MeterRow], bad: Sequence[feeds.RowIssue],
            accounts: dict[str, _Account], new_accounts: int, stored: _Stored, *, has_address: bool) -> WaterImport:
    homeless = {no for no, a in accounts.items() if a.house_id is None}
    unmatched = [{"account_no": no, "address_text": accounts[no].address_text, "note": accounts[no].note}
                 for no in sorted(homeless)]
    notes = []
    if not good and not bad:
        notes.append("文件没有数据行")
    if good:
        notes.append(f"入库 {len(good)} 行：新增 {stored.inserted} 行，更新 {stored.updated} 行，"
                     f"与已有记录相同 {stored.unchanged} 行")
    if new_accounts:
        notes.append(f"新用水户 {new_accounts} 户")
    if homeless:
        notes.append(f"{len(homeless)} 个用水户未关联到房屋（读数已保存），见下方列表")
    if not has_address:
        notes.append("文件没有地址列，新用水户无法关联房屋")
    if len(bad) > MAX_LISTED:
        notes.append(f"错误行共 {len(bad)} 行，只列出前 {MAX_LISTED} 行")
    same = WaterImport.objects.filter(sha256=sha256).order_by("pk").values_list("pk", flat=True).first()
    if same:
        notes.append(f"与第 {same} 次导入的文件内容相同")
    return WaterImport.objects.create(
        file_name=file_name, sha256=sha256, by=by if getattr(by, "pk", None) else None,
        rows_ok=len(good), rows_bad=len(bad), rows_unmatched=sum(1 for r in good if r.account in homeless),
        accounts_new=new_accounts, errors=[b.as_dict() for b in bad[:MAX_LISTED]],
        warnings=[w.as_dict() for w in stored.warnings[:MAX_LISTED]], unmatched=unmatched[:MAX_LISTED],
        message="；".join(notes))


# --- entitlements -----------------------------------------------------------------


def grant_entitlement(*, by: Any, person_id: int, kind: str = EntitlementKind.ELDERLY_CARD,
                      issued_on: date | None = None, note: str = "") -> Entitlement:
    """Record that a person holds a benefit; the rules stop asking about it and
    the next run cancels the open task."""
    if kind not in EntitlementKind.values:
        raise InvalidInput("bad_entitlement", f"未知的待遇类别：{kind}", fields={"kind": "取值无效"})
    if not Person.objects.filter(pk=person_id).exists():
        raise NotFound("person_not_found", f"人员 {person_id} 不存在")
    with transaction.atomic():
        entitlement, _ = Entitlement.objects.update_or_create(
            person_id=person_id, kind=kind, defaults={"issued_on": issued_on, "note": note[:200]})
        audit.record(by, "proactive.grant_entitlement", "person", person_id, fields=["entitlements"], reason=kind)
    return entitlement


# --- rules ----------------------------------------------------------------------------


def record_rule_change(*, by: Any, rule: Rule, fields: Iterable[str]) -> None:
    """The admin saved a rule: its new parameters take effect on the next run."""
    audit.record(by, "proactive.edit_rule", "rule", rule.code, fields=list(fields),
                 reason=f"启用={rule.enabled}；参数={rule.params}；间隔={rule.every_minutes}分钟"[:500])


def run_rule_now(*, by: Any, code: str) -> RuleRun:
    if not may_run(by):
        raise OutOfScope("not_allowed", "只有区级工作人员和管理员可以手动运行规则")
    if code not in rules.CATALOGUE:
        raise NotFound("rule_not_found", f"没有编码为 {code} 的规则")
    rule = engine.ensure_rules()[code]
    if not rule.enabled:
        raise DomainError("rule_disabled", f"规则“{rule.name}”已停用；请先在系统管理中启用", status=409)
    return engine.run_rules(codes=[code], by=by)[0]
