"""Writes on the standard address library: one entry at a time with an audit
entry each (`add_address`), or a whole library at once for the demo city and
imports (`bulk_load_addresses`). Both derive components, names and grids
through `rules`, so the two paths write identical rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from wangge.addresses import rules
from wangge.addresses.models import Address
from wangge.addresses.normalize import Components
from wangge.addresses.selectors import address_cache
from wangge.areas.models import BASE_LAYER
from wangge.areas.selectors import grid_index
from wangge.core import audit
from wangge.core.coords import coordinate_problem
from wangge.core.errors import DomainError, InvalidInput, OutOfScope
from wangge.core.scope import ensure_covers, scope_of

AUDITED_FIELDS = ["code", "level", "name", "parent", "grid_code", "lon", "lat", "aliases"]
MAX_PROBLEMS = 50


class AddressLoadRefused(DomainError):
    status = 422

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__(
            "address_load_refused",
            f"标准地址导入被拒绝：{len(problems)} 处问题，未写入任何数据",
            fields={"problems": problems[:MAX_PROBLEMS]},
        )


@dataclass(frozen=True, slots=True)
class _Parent:
    """What a child needs from its parent, without holding model instances."""

    pk: int
    level: str
    comps: Components
    full_name: str
    grid_code: str
    lon: float | None
    lat: float | None


def _parent_of(address: Address) -> _Parent:
    comps = Components(address.road, address.door_number, address.compound,
                       address.building, address.unit, address.room)
    return _Parent(address.pk, address.level, comps, address.full_name, address.grid_code,
                   address.lon, address.lat)


def locate_grids(lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
    """Base-layer grid code of each WGS-84 point, None outside every grid."""
    if not lons:
        return []
    index = grid_index()
    result = index.locate_many(lons, lats, layers=[BASE_LAYER], with_nearest=False)
    hits = result.hits.get(BASE_LAYER)
    if hits is None:
        return [None] * len(lons)
    return [index.code_of(BASE_LAYER, int(k)) for k in hits]


# --- one entry ---------------------------------------------------------------

def add_address(actor: Any, *, level: str, name: str, parent_code: str | None = None,
                lon: float | None = None, lat: float | None = None,
                aliases: Sequence[str] = (), code: str | None = None) -> Address:
    """Add one entry under `parent_code`. Door numbers and compounds need a
    point (WGS-84), which fixes their grid; below them the parent's point and
    grid are inherited unless a point is given. Roads cross grids and have none,
    so only users whose scope is not bounded by area may add them."""
    parent = _existing_parent(parent_code)
    problem = rules.nesting_problem(level, parent.level if parent else None)
    if problem:
        raise InvalidInput("address_bad_nesting", problem, fields={"parent_code": problem})
    comps = rules.components_for(level, name, parent.comps if parent else rules.TOP)
    if not rules.own_component(level, comps):
        raise InvalidInput("address_bad_name", f"无法从“{name}”识别出{rules.LEVEL_NAMES[level]}",
                           fields={"name": "无法识别"})
    lon, lat, grid_code = _place(level, lon, lat, parent)
    _check_scope(actor, level, grid_code)
    full_name = rules.full_name(parent.full_name if parent else "", level, comps)
    _refuse_duplicate(level, comps, parent, grid_code, full_name)
    if code:
        _check_code_free(code)
    with transaction.atomic():
        address = Address.objects.create(
            code=code or _next_code(level, parent_code, grid_code), level=level,
            parent_id=parent.pk if parent else None, name=rules.display_name(level, comps),
            full_name=full_name, lon=lon, lat=lat, grid_code=grid_code,
            aliases=[a.strip() for a in aliases if a.strip()], **comps.components())
        audit.record(actor, "add_address", "address", address.code, fields=AUDITED_FIELDS)
    address_cache.invalidate()
    return address


def _existing_parent(parent_code: str | None) -> _Parent | None:
    if not parent_code:
        return None
    address = Address.objects.filter(code=parent_code).first()
    if address is None:
        raise InvalidInput("parent_not_found", f"上级地址 {parent_code} 不存在",
                           fields={"parent_code": "不存在"})
    return _parent_of(address)


def _place(level: str, lon: float | None, lat: float | None,
           parent: _Parent | None) -> tuple[float | None, float | None, str]:
    if lon is None or lat is None:
        if level == "road":
            return None, None, ""
        if parent is None or not parent.grid_code:
            raise InvalidInput("address_point_required",
                               f"请提供该{rules.LEVEL_NAMES[level]}的经纬度，以便确定所属网格",
                               fields={"lon": "必填", "lat": "必填"})
        return parent.lon, parent.lat, parent.grid_code
    problem = coordinate_problem(lon, lat)
    if problem:
        raise InvalidInput("invalid_coordinate", problem, fields={"point": problem})
    grid = locate_grids([lon], [lat])[0]
    if grid is None:
        raise InvalidInput("address_outside_grids",
                           f"坐标（经度 {lon}，纬度 {lat}）不在任何网格内，无法确定所属网格，请核对坐标",
                           fields={"point": "不在任何网格内"})
    return lon, lat, grid if level != "road" else ""


def _check_scope(actor: Any, level: str, grid_code: str) -> None:
    if actor is None:
        return  # the system itself: imports, the demo generator
    if level == "road":
        if not scope_of(actor).everything:
            raise OutOfScope("out_of_scope", "街路巷跨越多个网格，只有管理员可以新增")
        return
    ensure_covers(actor, grid_code, "该地址所在网格")


def _refuse_duplicate(level: str, comps: Components, parent: _Parent | None, grid_code: str,
                      full_name: str) -> None:
    same = Address.objects.filter(level=level, **comps.components())
    same = same.filter(parent_id=parent.pk) if parent else same.filter(parent__isnull=True)
    if level == "compound" and parent is None:
        same = same.filter(grid_code=grid_code)
    existing = same.values_list("code", flat=True).first()
    if existing:
        raise DomainError("address_exists", f"{full_name} 已存在（编码 {existing}）", status=409)


def _check_code_free(code: str) -> None:
    if len(code) > rules.MAX_CODE_LEN:
        raise InvalidInput("address_code_too_long", f"地址编码最长 {rules.MAX_CODE_LEN} 个字符",
                           fields={"code": "过长"})
    if Address.objects.filter(code=code).exists():
        raise DomainError("address_code_taken", f"地址编码 {code} 已被使用", status=409)


def _next_code(level: str, parent_code: str | None, grid_code: str) -> str:
    siblings = Address.objects.filter(level=level)
    if level == "compound":
        siblings = siblings.filter(code__startswith=f"{grid_code}C")
    elif level != "road":
        siblings = siblings.filter(parent__code=parent_code)
    seq = siblings.count() + 1
    while True:
        code = rules.child_code(level, seq, parent_code=parent_code, grid_code=grid_code)
        if not Address.objects.filter(code=code).exists():
            return code
        seq += 1


# --- a whole library -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _NewRow:
    code: str
    level: str
    parent_pk: int | None
    comps: Components
    full_name: str
    grid_code: str
    lon: float | None
    lat: float | None
    aliases: list[str]


# Written straight through the cursor: the ORM's bulk_create spends most of
# its time preparing each field of each row, ten times the insert itself.
_COLUMNS = ("code", "level", "parent_id", "name", "full_name", "road", "door_number",
            "compound", "building", "unit", "room", "lon", "lat", "grid_code", "aliases",
            "updated_at")


def bulk_load_addresses(rows: Iterable[Mapping[str, Any]], *, actor: Any = None,
                        batch_size: int = 5000) -> int:
    """Write many entries at once; all or nothing. Returns how many.

    Each row is a mapping with
      code         unique, at most 40 characters (see rules.child_code for the
                   scheme add_address uses; any unique code is accepted)
      level        "road" | "door" | "compound" | "building" | "unit" | "room"
      name         "津塘路", "100号", "华明家园", "3号楼", "2单元", "201室"
                   (numbers alone, Chinese numerals, 栋/座… are all accepted)
      parent_code  the parent's code, in this batch or already stored; None at
                   the top (roads, compounds without a door number)
      lon, lat     optional WGS-84 point; rows without one inherit the parent's
      grid_code    optional; when absent the point is located to a grid, and a
                   point outside every grid refuses the batch
      aliases      optional list of other names (compounds: "华明小区")
      prefix       optional administrative names ("东丽区华明街道"): the full
                   name is then the prefix and the standard spelling of all
                   components ("东丽区华明街道津塘路100号") instead of the
                   parent's full name and this level's name; children inherit
                   it through their parent's full name (see rules.full_name)
    Parents are written level by level before their children, in one
    transaction, with one audit entry for the batch.
    """
    by_level = _group(rows)
    parents = _stored_parents(by_level)
    total = 0
    try:
        with transaction.atomic():
            for level in rules.LEVELS:
                written: list[_NewRow] = []
                for chunk in _chunks(by_level.get(level, []), batch_size):
                    written += _write_chunk(level, chunk, parents)
                total += len(written)
                if level != "room" and written:  # rooms are never parents
                    _remember(level, written, parents)
            audit.record(actor, "bulk_load_addresses", "address", "", fields=AUDITED_FIELDS,
                         reason=f"批量导入标准地址 {total} 条")
    except IntegrityError as exc:
        raise AddressLoadRefused([{"code": "", "message": f"地址编码与已有地址重复：{exc}"}]) from exc
    address_cache.invalidate()
    return total


def _group(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    by_level: dict[str, list[Mapping[str, Any]]] = {}
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        code = str(row.get("code") or "")
        level = row.get("level")
        if not code or len(code) > rules.MAX_CODE_LEN:
            problems.append({"code": code, "message": f"第 {i + 1} 行：地址编码为空或超过 40 字符"})
        elif code in seen:
            problems.append({"code": code, "message": f"第 {i + 1} 行：地址编码在本批中重复"})
        elif level not in rules.PARENT_LEVELS:
            problems.append({"code": code, "message": f"第 {i + 1} 行：未知的地址层级 {level!r}"})
        else:
            seen.add(code)
            by_level.setdefault(str(level), []).append(row)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise AddressLoadRefused(problems)
    return by_level


def _stored_parents(by_level: dict[str, list[Mapping[str, Any]]]) -> dict[str, _Parent]:
    """Parents that are already in the table rather than in this batch."""
    in_batch = {str(r["code"]) for rows in by_level.values() for r in rows}
    wanted = {str(r["parent_code"]) for rows in by_level.values() for r in rows
              if r.get("parent_code") and str(r["parent_code"]) not in in_batch}
    found: dict[str, _Parent] = {}
    codes = sorted(wanted)
    for i in range(0, len(codes), 500):
        for address in Address.objects.filter(code__in=codes[i:i + 500]):
            found[address.code] = _parent_of(address)
    return found


def _chunks(rows: list[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _write_chunk(level: str, chunk: list[Mapping[str, Any]],
                 parents: dict[str, _Parent]) -> list[_NewRow]:
    located = _locate_chunk(chunk)
    problems: list[dict[str, str]] = []
    new: list[_NewRow] = []
    for row, grid in zip(chunk, located, strict=True):
        built = _build(level, row, grid, parents)
        if isinstance(built, str):
            problems.append({"code": str(row["code"]), "message": built})
        else:
            new.append(built)
    if problems:
        raise AddressLoadRefused(problems)  # the transaction undoes earlier chunks
    _insert(new)
    return new


def _locate_chunk(chunk: list[Mapping[str, Any]]) -> list[str | None]:
    """Grid of each row that has a point and no grid_code (None otherwise)."""
    todo = [i for i, r in enumerate(chunk)
            if not r.get("grid_code") and r.get("lon") is not None and r.get("lat") is not None]
    out: list[str | None] = [None] * len(chunk)
    grids = locate_grids([float(chunk[i]["lon"]) for i in todo],
                         [float(chunk[i]["lat"]) for i in todo])
    for i, grid in zip(todo, grids, strict=True):
        out[i] = grid or ""  # "" marks "has a point, outside every grid"
    return out


def _build(level: str, row: Mapping[str, Any], located: str | None,
           parents: dict[str, _Parent]) -> _NewRow | str:
    """The row ready to insert, or why it is refused."""
    parent_code = row.get("parent_code") or None
    parent = parents.get(str(parent_code)) if parent_code else None
    if parent_code and parent is None:
        return f"上级地址 {parent_code} 不存在"
    problem = rules.nesting_problem(level, parent.level if parent else None)
    if problem:
        return problem
    name = str(row.get("name") or "")
    comps = rules.components_for(level, name, parent.comps if parent else rules.TOP)
    if not rules.own_component(level, comps):
        return f"无法从“{name}”识别出{rules.LEVEL_NAMES[level]}"
    if located == "":
        return f"坐标（{row.get('lon')}，{row.get('lat')}）不在任何网格内"
    lon, lat = row.get("lon"), row.get("lat")
    if lon is None or lat is None:
        lon, lat = (parent.lon, parent.lat) if parent else (None, None)
    grid = str(row.get("grid_code") or located or (parent.grid_code if parent else ""))
    if level != "road" and not grid:
        return "缺少坐标或所属网格"
    return _NewRow(
        str(row["code"]), level, parent.pk if parent else None, comps,
        rules.full_name(parent.full_name if parent else "", level, comps,
                        prefix=str(row.get("prefix") or "")),
        grid if level != "road" else "", lon, lat, list(row.get("aliases") or []))


def _insert(new: list[_NewRow]) -> None:
    if not new:
        return
    ops = connection.ops
    aliases_field = Address._meta.get_field("aliases")
    no_aliases = aliases_field.get_db_prep_save([], connection)
    stamp = ops.adapt_datetimefield_value(timezone.now())
    table = ops.quote_name(Address._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _COLUMNS)
    # Only quoted model metadata is formatted in; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"  # noqa: S608
    params = [
        (r.code, r.level, r.parent_pk, rules.display_name(r.level, r.comps), r.full_name,
         *r.comps.components().values(), r.lon, r.lat, r.grid_code,
         aliases_field.get_db_prep_save(r.aliases, connection) if r.aliases else no_aliases,
         stamp)
        for r in new]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _remember(level: str, written: list[_NewRow], parents: dict[str, _Parent]) -> None:
    """Make this level's new rows available as parents of the next levels."""
    pks = dict(Address.objects.filter(level=level).values_list("code", "pk"))
    for r in written:
        parents[r.code] = _Parent(pks[r.code], r.level, r.comps, r.full_name, r.grid_code,
                                  r.lon, r.lat)
