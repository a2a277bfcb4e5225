"""The exchange gateway: signed calls from other departments' systems.

    GET  /gateway/v1/catalogs/{code}/rows?item=value&_items=a,b&_limit=100&_after=0
    POST /gateway/v1/catalogs/{code}/verify    {"name": "…", "id_number": "…"}
    POST /gateway/v1/catalogs/{code}/compare   {"key": "id_number", "values": ["…"]}

Each call is checked in this order, and the first refusal answers: signature
(exchange.signing), client in service, rate, catalog published, a grant in
force for the client's department, every item asked for or filtered on
granted. Rows are bounded by the grant's area and masked as it says. Every
call, refused ones included, leaves exactly one CallLog row, written in the
same statement that claims the nonce, so a replay is found even when two
copies arrive at once.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from wangge.core.bulk import insert_in_one_statement, insert_returning_pk
from wangge.exchange import masks, rules, signing
from wangge.exchange.models import (
    CallLog,
    CallSubject,
    Catalog,
    CatalogItem,
    CatalogStatus,
    Client,
    Endpoint,
    Grant,
    GrantItem,
    ItemType,
    RateWindow,
)
from wangge.exchange.sources import Filter, normalise, source_for

logger = logging.getLogger("wangge.exchange")

PREFIX = "/gateway/v1/"
ROUTE = re.compile(r"^/gateway/v1/catalogs/(?P<code>[A-Za-z0-9][A-Za-z0-9_-]{1,31})/(?P<op>rows|verify|compare)$")
OPS = {"rows": (Endpoint.QUERY, "GET"), "verify": (Endpoint.VERIFY, "POST"),
       "compare": (Endpoint.COMPARE, "POST")}
CLIENT_TTL = 10.0
MAX_BODY = 2 * 1024 * 1024
MAX_VALUE = 200


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass(frozen=True)
class KnownClient:
    key_id: str
    pk: int
    department_id: int
    secret: str
    rate: int
    revoked: bool
    fetched: float


@dataclass
class Call:
    method: str
    path: str
    started: float
    endpoint: str = Endpoint.OTHER
    key_id: str = ""
    client: KnownClient | None = None
    nonce: str | None = None
    catalog_id: int | None = None
    grant_id: int | None = None
    items: list[str] = field(default_factory=list)
    rows: int = 0
    purpose: str = ""
    subject_id: int | None = None
    subjects: list[int] = field(default_factory=list)


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


# --- clients ------------------------------------------------------------------

_clients: dict[str, KnownClient] = {}


def forget_client(key_id: str) -> None:
    _clients.pop(key_id, None)
    _tokens.pop(key_id, None)


def _client(key_id: str) -> KnownClient | None:
    """The client behind a key, remembered for a few seconds: a revocation
    reaches every process within CLIENT_TTL."""
    known = _clients.get(key_id)
    now = time.monotonic()
    if known is not None and now - known.fetched < CLIENT_TTL:
        return known
    row = Client.objects.filter(key_id=key_id).values_list("pk", "department_id", "salt",
                                                            "rate_per_minute", "revoked_at").first()
    if row is None:
        _clients.pop(key_id, None)
        return None
    pk, department_id, salt, rate, revoked_at = row
    known = KnownClient(key_id, pk, department_id, signing.derive_secret(settings.SECRET_KEY, key_id, salt),
                        rate, revoked_at is not None, now)
    _clients[key_id] = known
    return known


def _authenticate(call: Call, query: str, body: bytes, headers: dict[str, str], now: float) -> KnownClient:
    key_id = headers.get(signing.HEADER_KEY, "")
    call.key_id = key_id[:64]
    sig = headers.get(signing.HEADER_SIGNATURE, "")
    timestamp = headers.get(signing.HEADER_TIMESTAMP, "")
    nonce = headers.get(signing.HEADER_NONCE, "")
    try:
        signing.check_shape(key_id, timestamp, nonce, sig, now=now)
        client = _client(key_id)
        if client is None:
            raise signing.SignatureError("unknown_key", "Key 不存在或已停用")
        call.client = client
        signing.check(client.secret, call.method, call.path, query, body, timestamp, nonce, key_id, sig)
    except signing.SignatureError as exc:
        raise Refused(401, exc.code, exc.message) from None
    call.nonce = nonce
    if client.revoked:
        raise Refused(401, "client_revoked", "该接入凭据已停用，请联系数据提供部门")
    return client


@dataclass
class _Tokens:
    minute: int = -1
    left: int = 0


_tokens: dict[str, _Tokens] = {}
_tokens_lock = threading.Lock()


def _chunk(rate: int) -> int:
    # Small limits are counted call by call; large ones in chunks, so that a
    # busy client does not make every call update one hot row.
    return max(1, min(50, rate // 40))


def _within_rate(client: KnownClient, now: float) -> None:
    """At most `rate` calls per minute per client across every process: each
    process takes calls from the minute's shared count in chunks and spends
    them locally. Chunks a process does not spend are lost, so a client may
    get somewhat fewer calls than its limit in a minute, never more."""
    minute = int(now // 60)
    with _tokens_lock:
        mine = _tokens.setdefault(client.key_id, _Tokens())
        if mine.minute == minute and mine.left > 0:
            mine.left -= 1
            return
        taken = _take(client, minute, _chunk(client.rate))
        mine.minute, mine.left = minute, taken - 1
    if taken <= 0:
        wait = 60 - int(now) % 60
        raise Refused(429, "rate_limited", f"调用过于频繁：每分钟上限 {client.rate} 次，请 {wait} 秒后再试",
                      {"Retry-After": str(wait)})


def _take(client: KnownClient, minute: int, chunk: int) -> int:
    """Take up to `chunk` calls from the shared count; how many were taken."""
    windows = RateWindow.objects.filter(client_id=client.pk, minute=minute)
    for attempt in range(2):
        for size in dict.fromkeys((chunk, 1)):
            if windows.filter(calls__lte=client.rate - size).update(calls=F("calls") + size):
                return size
        if attempt == 0:
            # The minute's first call here: open its row (another process may
            # have just done so; the insert is then skipped) and take again.
            RateWindow.objects.bulk_create([RateWindow(client_id=client.pk, minute=minute, calls=0)],
                                           ignore_conflicts=True)
    return 0


# --- catalog and grant ----------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    grant_id: int
    area: str
    purpose: str
    items: dict[str, tuple[CatalogItem, bool]]  # key → (item, masked)


GRANT_TTL = 5.0
_access: dict[tuple[str, int, date], tuple[float, Catalog, Granted]] = {}


def forget_grants() -> None:
    """Drop this process's remembered catalogs and grants (after a decision,
    a revocation or a withdrawal); other processes follow within GRANT_TTL."""
    _access.clear()


def _catalog_and_grant(code: str, department_id: int, today: date) -> tuple[Catalog, Granted]:
    """The published catalog and the department's grants in force on it,
    remembered for a few seconds: most calls then cost no query for them."""
    key = (code, department_id, today)
    now = time.monotonic()
    known = _access.get(key)
    if known is not None and now - known[0] < GRANT_TTL:
        return known[1], known[2]
    catalog = _catalog(code)
    granted = _granted(catalog, department_id, today)
    if len(_access) > 10_000:
        _access.clear()
    _access[key] = (now, catalog, granted)
    return catalog, granted


def _catalog(code: str) -> Catalog:
    catalog = Catalog.objects.filter(code=code, status=CatalogStatus.PUBLISHED).first()
    if catalog is None:
        raise Refused(404, "catalog_not_found", f"目录 {code} 不存在或未发布")
    return catalog


def _granted(catalog: Catalog, department_id: int, today: date) -> Granted:
    """The grants in force for the department, merged: an item is delivered
    in full only if some grant says so."""
    rows = list(GrantItem.objects.filter(
        grant__catalog=catalog, grant__department_id=department_id, grant__revoked_at__isnull=True,
        grant__starts__lte=today, grant__ends__gte=today).select_related("item", "grant")
        .order_by("grant_id"))
    if not rows:
        raise _why_no_grant(catalog, department_id, today)
    items: dict[str, tuple[CatalogItem, bool]] = {}
    for row in rows:
        row.item.catalog = catalog
        masked = row.masked and items.get(row.item.key, (row.item, True))[1]
        items[row.item.key] = (row.item, masked)
    first = rows[0].grant
    return Granted(first.pk, first.area_code, first.purpose, items)


def _why_no_grant(catalog: Catalog, department_id: int, today: date) -> Refused:
    latest = Grant.objects.filter(catalog=catalog, department_id=department_id).order_by("-ends").first()
    if latest is None:
        return Refused(403, "no_grant", f"本部门没有目录“{catalog.name}”的共享授权，请先在目录中提出申请")
    state = rules.grant_state(latest.starts, latest.ends, latest.revoked_at is not None, today)
    if state == "revoked":
        return Refused(403, "grant_revoked", f"目录“{catalog.name}”的授权已被撤销：{latest.revoke_reason}")
    if state == "pending":
        return Refused(403, "grant_not_started", f"目录“{catalog.name}”的授权自 {latest.starts} 起生效")
    return Refused(403, "grant_expired", f"目录“{catalog.name}”的授权已于 {latest.ends} 到期，请重新申请")


def _require_items(granted: Granted, keys: list[str], doing: str) -> None:
    missing = [k for k in keys if k not in granted.items]
    if missing:
        raise Refused(403, "item_not_granted", f"未获授权的信息项不能{doing}：{'、'.join(missing)}")


def _shown(granted: Granted, keys: list[str], row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        item, masked = granted.items[key]
        value = row.get(item.source if item.catalog.backing != "dataset" else item.key)
        out[key] = masks.apply(item.mask, value) if masked else value
    return out


# --- the three operations -------------------------------------------------------


def _query(call: Call, catalog: Catalog, granted: Granted, query: str) -> dict[str, Any]:
    keys = list(granted.items)
    limit, after = rules.DEFAULT_PAGE, 0
    filters: list[Filter] = []
    seen: set[str] = set()
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in seen:
            raise Refused(400, "repeated_parameter", f"参数 {name} 只能出现一次")
        seen.add(name)
        if len(value) > MAX_VALUE:
            raise Refused(400, "value_too_long", f"参数 {name} 过长")
        if name == "_limit":
            limit = _int(name, value, 1, rules.MAX_PAGE)
        elif name == "_after":
            after = _int(name, value, 0, 2**62)
        elif name == "_items":
            keys = [k for k in value.split(",") if k]
            _require_items(granted, keys, "查询")
        elif name.startswith("_"):
            raise Refused(400, "unknown_parameter", f"未知参数 {name}；可用 _items、_limit、_after 和已授权的可查询信息项")
        else:
            filters.append(_filter(granted, name, value))
    call.items = keys
    source = source_for(catalog)
    wanted = {granted.items[k][0].source for k in keys}
    page = source.page(catalog, granted.area, filters, after, limit, wanted)
    call.rows = len(page)
    if source.about_people:
        call.subjects = [pk for pk, _ in page]
    return {"catalog": catalog.code, "items": keys,
            "rows": [_shown(granted, keys, row) for _, row in page],
            "next": str(page[-1][0]) if len(page) == limit else None}


def _int(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise Refused(400, "bad_parameter", f"参数 {name} 应为 {low}–{high} 的整数")
    return int(value)


def _filter(granted: Granted, key: str, value: str) -> Filter:
    _require_items(granted, [key], "作查询条件")
    item, _ = granted.items[key]
    if not item.filterable:
        raise Refused(400, "not_filterable", f"信息项 {key} 不能作查询条件")
    field_name = item.source if item.catalog.backing != "dataset" else item.key
    text = normalise(item.type, field_name, value)
    if not text:
        raise Refused(400, "empty_filter", f"查询条件 {key} 不能为空")
    return Filter(field_name, text, prefix=item.type == ItemType.AREA)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "bad_json", "请求体应为 UTF-8 编码的 JSON 对象") from None
    if not isinstance(data, dict):
        raise Refused(400, "bad_json", "请求体应为 JSON 对象")
    return data


def _verify(call: Call, catalog: Catalog, granted: Granted, body: bytes) -> dict[str, Any]:
    wanted = list(catalog.verify_items)
    if not wanted:
        raise Refused(404, "no_verification", f"目录“{catalog.name}”不提供核验")
    data = _json(body)
    if sorted(data) != sorted(wanted):
        raise Refused(400, "verify_fields", f"核验须且只须提供：{'、'.join(wanted)}")
    _require_items(granted, wanted, "用于核验")
    call.items = wanted
    values: dict[str, str] = {}
    for key in wanted:
        item, _ = granted.items[key]
        raw = data[key]
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_VALUE:
            raise Refused(400, "bad_value", f"{item.name}应为非空文本")
        field_name = item.source if catalog.backing != "dataset" else item.key
        values[field_name] = normalise(item.type, field_name, raw)
    source = source_for(catalog)
    pk = source.verify(catalog, granted.area, values)
    if pk is not None and source.about_people:
        call.subject_id = pk
    return {"match": pk is not None}


def _csv_values(catalog: Catalog, granted: Granted, body: bytes) -> dict[str, Any]:
    """A department's list as it keeps it: one value per line, the first
    column, keyed on the catalog's first comparison key."""
    key = catalog.compare_keys[0] if catalog.compare_keys else ""
    lines = body.decode("utf-8-sig", "replace").splitlines()
    values = [ln.split(",")[0].strip() for ln in lines if ln.strip()]
    header = {key, granted.items[key][0].name} if key in granted.items else {key}
    if values and values[0] in header:  # a header row, as spreadsheets export it
        values = values[1:]
    return {"key": key, "values": values}


def _compare(call: Call, catalog: Catalog, granted: Granted, body: bytes,
             content_type: str) -> dict[str, Any]:
    if content_type.startswith("text/csv") or content_type.startswith("text/plain"):
        # A department's list as it keeps it: one value per line, the first column.
        data: dict[str, Any] = _csv_values(catalog, granted, body)
    else:
        data = _json(body)
    key = data.get("key")
    values = data.get("values")
    if not isinstance(key, str) or key not in catalog.compare_keys:
        raise Refused(400, "bad_compare_key", f"比对键应为：{'、'.join(catalog.compare_keys) or '（该目录不提供比对）'}")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Refused(400, "bad_values", "values 应为文本列表")
    if len(values) > rules.MAX_COMPARE_VALUES:
        raise Refused(413, "too_many_values", f"一次最多比对 {rules.MAX_COMPARE_VALUES} 条，请分批提交")
    keys = [k for k in data.get("items", list(granted.items)) if isinstance(k, str)]
    _require_items(granted, [key, *keys], "比对或返回")
    call.items = list(dict.fromkeys([key, *keys]))
    item, _ = granted.items[key]
    field_name = item.source if catalog.backing != "dataset" else item.key
    normal = {v: normalise(item.type, field_name, v[:MAX_VALUE]) for v in values}
    found = source_for(catalog).compare(catalog, granted.area, field_name,
                                        [n for n in set(normal.values()) if n])
    results = []
    for value in values:
        hit = found.get(normal[value]) or found.get(value)
        results.append({"value": value, "found": hit is not None,
                        **({"row": _shown(granted, keys, hit[1])} if hit else {})})
    hits = {hit[0] for hit in found.values()}
    call.rows = len(hits)
    if source_for(catalog).about_people:
        call.subjects = sorted(hits)
    return {"catalog": catalog.code, "key": key, "items": keys, "results": results,
            "found": sum(r["found"] for r in results), "missing": sum(not r["found"] for r in results)}


# --- the whole call ---------------------------------------------------------------


def handle(method: str, path: str, query: str, body: bytes, headers: dict[str, str], *,
           content_type: str = "application/json", now: float | None = None) -> Reply:
    """Serve one gateway request and log it; never raises for a client's mistake."""
    call = Call(method=method.upper(), path=path, started=time.perf_counter())
    clock = time.time() if now is None else now
    try:
        status, payload, extra = 200, _serve(call, query, body, headers, content_type, clock), {}
        code = ""
    except Refused as refusal:
        status, code, extra = refusal.status, refusal.code, refusal.headers
        payload = {"code": refusal.code, "message": refusal.message}
    except Exception:
        logger.exception("gateway call failed: %s %s", method, path)
        status, code, extra = 500, "server_error", {}
        payload = {"code": code, "message": "服务器内部错误，已记录，请稍后重试"}
    if not _log(call, status, code):
        status, code = 409, "replayed"
        payload = {"code": code, "message": "该请求已处理过（Nonce 重复），请用新的 Nonce 重新签名"}
        call.nonce, call.subjects, call.subject_id, call.rows = None, [], None, 0
        _log(call, status, code)
    return Reply(status, payload, extra)


def _serve(call: Call, query: str, body: bytes, headers: dict[str, str], content_type: str,
           now: float) -> dict[str, Any]:
    match = ROUTE.match(call.path)
    if match:
        call.endpoint, expected = OPS[match["op"]]
    if len(body) > MAX_BODY:
        raise Refused(413, "body_too_large", "请求体过大（上限 2 MB）")
    client = _authenticate(call, query, body, headers, now)
    if not match:
        raise Refused(404, "no_such_endpoint", "接口不存在；见 /gateway/v1/ 文档")
    if call.method != expected:
        raise Refused(405, "method_not_allowed", f"该接口只接受 {expected}")
    _within_rate(client, now)
    catalog, granted = _catalog_and_grant(match["code"], client.department_id, timezone.localdate())
    call.catalog_id = catalog.pk
    call.grant_id = granted.grant_id
    call.purpose = (headers.get(signing.HEADER_PURPOSE, "").strip() or granted.purpose)[:300]
    if call.endpoint == Endpoint.QUERY:
        return _query(call, catalog, granted, query)
    if call.endpoint == Endpoint.VERIFY:
        return _verify(call, catalog, granted, body)
    return _compare(call, catalog, granted, body, content_type)


def _log(call: Call, status: int, error: str) -> bool:
    """Write the call's row; False when its nonce was already used (a replay)."""
    values = {
        "at": timezone.now(), "client_id": call.client.pk if call.client else None,
        "key_id": call.key_id, "department_id": call.client.department_id if call.client else None,
        "endpoint": call.endpoint, "method": call.method[:8], "path": call.path[:300],
        "catalog_id": call.catalog_id, "grant_id": call.grant_id, "items": call.items,
        "rows": call.rows, "purpose": call.purpose,
        "latency_ms": round((time.perf_counter() - call.started) * 1000, 3),
        "status": status, "error": error, "nonce": call.nonce, "subject_id": call.subject_id,
    }
    pk = insert_returning_pk(CallLog, values, skip_conflict=call.nonce is not None)
    if pk is None:
        return False
    if call.subjects:
        insert_in_one_statement(CallSubject, ["call_id", "person_id"], [(pk, p) for p in call.subjects])
    return True
