"""Write the demo city into an empty database.

`generate_city` builds the map (wangge.demo.geometry), imports it through the
same `import_areas` a real district's GeoJSON goes through, then adds the
departments, the standard addresses (through `bulk_load_addresses`, as an
import would), the household counts and one login per role. The same seed
gives the same city. It refuses to run over existing areas: the CLI's
`wangge demo` calls it only on an empty database, and a second city on top of
a first would mix two maps.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from django.db import transaction
from shapely.geometry import shape

from wangge.accounts.models import Department, DepartmentType, Role, User
from wangge.accounts.services import create_user
from wangge.addresses.services import bulk_load_addresses
from wangge.areas.models import Area
from wangge.areas.services import import_areas, recount_households
from wangge.core import audit
from wangge.core.errors import DomainError
from wangge.demo import names
from wangge.demo.addressbook import AddressRow, DoorBook, GridSpec, Planner, road_rows
from wangge.demo.geometry import (
    apportion,
    build_district,
    build_roads,
    feature_collection,
    grids_for_people,
    road_count,
)

Progress = Callable[[str, int, int], None]

# Printed on the CLI banner for anyone trying the demo; not a secret.
DEMO_PASSWORD = "demo12345"  # noqa: S105
GRIDS_PER_CHUNK = 40  # about 12,000 rooms held in memory and loaded at a time

# (code suffix, name, type). Codes look like 120110-GA.
DEPARTMENTS: tuple[tuple[str, str, DepartmentType], ...] = (
    ("GA", "东丽公安分局", DepartmentType.POLICE),
    ("MZ", "东丽区民政局", DepartmentType.CIVIL_AFFAIRS),
    ("WJ", "东丽区卫健委", DepartmentType.HEALTH),
    ("RS", "东丽区人社局", DepartmentType.HUMAN_RESOURCES),
    ("ZJ", "东丽区住建委", DepartmentType.HOUSING),
    ("CG", "东丽区城市管理委", DepartmentType.URBAN_MANAGEMENT),
    ("SJ", "东丽区市场监管局", DepartmentType.MARKET),
    ("YJ", "东丽区应急局", DepartmentType.EMERGENCY),
    ("HB", "东丽区生态环境局", DepartmentType.ENVIRONMENT),
    ("SW", "东丽区水务局", DepartmentType.WATER),
    ("JT", "东丽区交通局", DepartmentType.TRANSPORT),
    ("SF", "东丽区司法局", DepartmentType.JUSTICE),
    ("JY", "东丽区教育局", DepartmentType.EDUCATION),
    ("ZZ", "东丽区委政法委（综治中心）", DepartmentType.GOVERNANCE),
)

# (username, role, where: admin|district|street1|community1|grid1|grid_street2|none,
#  department type or None, display name)
_USERS: tuple[tuple[str, Role, str, DepartmentType | None, str], ...] = (
    ("admin", Role.ADMIN, "none", None, "系统管理员"),
    ("zhihui", Role.COMMAND_CENTRE, "district", DepartmentType.GOVERNANCE, "指挥中心值班员"),
    ("quji", Role.DISTRICT_STAFF, "district", None, "区网格中心 刘敏"),
    ("jiedao", Role.STREET_STAFF, "street1", None, "街道网格站 王建华"),
    ("shequ", Role.COMMUNITY_STAFF, "community1", None, "社区书记 张荣"),
    ("wangge1", Role.GRID_WORKER, "grid1", None, "网格员 陈坤"),
    ("wangge2", Role.GRID_WORKER, "grid_street2", None, "网格员 李娜"),
    ("chengguan", Role.DEPARTMENT_STAFF, "district", DepartmentType.URBAN_MANAGEMENT,
     "城管队员 赵强"),
    # One clerk per department, so every department's workbench has someone to
    # sign for the demo's cases (the catalog sends cases to all of them).
    ("shuiwu", Role.DEPARTMENT_STAFF, "district", DepartmentType.WATER, "水务局 马俊"),
    ("zhujian", Role.DEPARTMENT_STAFF, "district", DepartmentType.HOUSING, "住建委 高峰"),
    ("yingji", Role.DEPARTMENT_STAFF, "district", DepartmentType.EMERGENCY, "应急局 郑磊"),
    ("huanbao", Role.DEPARTMENT_STAFF, "district", DepartmentType.ENVIRONMENT, "生态环境局 林静"),
    ("shijian", Role.DEPARTMENT_STAFF, "district", DepartmentType.MARKET, "市场监管局 许文"),
    ("minzheng", Role.DEPARTMENT_STAFF, "district", DepartmentType.CIVIL_AFFAIRS, "民政局 何芳"),
    ("weijian", Role.DEPARTMENT_STAFF, "district", DepartmentType.HEALTH, "卫健委 宋佳"),
    ("renshe", Role.DEPARTMENT_STAFF, "district", DepartmentType.HUMAN_RESOURCES, "人社局 韩冰"),
    ("jiaotong", Role.DEPARTMENT_STAFF, "district", DepartmentType.TRANSPORT, "交通局 冯毅"),
    ("sifa", Role.DEPARTMENT_STAFF, "district", DepartmentType.JUSTICE, "司法局 曹颖"),
    ("jiaoyu", Role.DEPARTMENT_STAFF, "district", DepartmentType.EDUCATION, "教育局 邓琳"),
    ("zongzhi", Role.DEPARTMENT_STAFF, "district", DepartmentType.GOVERNANCE, "综治中心 彭亮"),
    ("gongan", Role.DEPARTMENT_STAFF, "district", DepartmentType.POLICE, "公安分局数据管理员 吕宁"),
    ("minjing", Role.POLICE, "street1", DepartmentType.POLICE, "社区民警 孙涛"),
    ("jumin", Role.RESIDENT, "none", None, "居民 周丽"),
)

# For the CLI's login banner: (username, role label, scope). Plain strings, so
# the banner needs no translation machinery.
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    ("admin", "系统管理员", "全部区域、用户与配置"),
    ("zhihui", "指挥中心", "东丽区全区（一张图大屏）"),
    ("quji", "区级工作人员", "东丽区全区"),
    ("jiedao", "街道工作人员", f"{names.STREETS[0]}"),
    ("shequ", "社区工作人员", f"{names.STREETS[0]}第一个社区"),
    ("wangge1", "网格员", f"{names.STREETS[0]}第一个网格"),
    ("wangge2", "网格员", f"{names.STREETS[1]}第一个网格"),
    ("chengguan", "部门工作人员", "东丽区城市管理委（全区）"),
    ("shuiwu", "部门工作人员", "东丽区水务局（全区）"),
    ("zhujian", "部门工作人员", "东丽区住建委（全区）"),
    ("yingji", "部门工作人员", "东丽区应急局（全区）"),
    ("huanbao", "部门工作人员", "东丽区生态环境局（全区）"),
    ("shijian", "部门工作人员", "东丽区市场监管局（全区）"),
    ("minzheng", "部门工作人员", "东丽区民政局（全区）"),
    ("weijian", "部门工作人员", "东丽区卫健委（全区）"),
    ("renshe", "部门工作人员", "东丽区人社局（全区）"),
    ("jiaotong", "部门工作人员", "东丽区交通局（全区）"),
    ("sifa", "部门工作人员", "东丽区司法局（全区）"),
    ("jiaoyu", "部门工作人员", "东丽区教育局（全区）"),
    ("zongzhi", "部门工作人员", "区委政法委综治中心（全区）"),
    ("gongan", "部门工作人员", "东丽公安分局（全区，审批人口信息共享申请）"),
    ("minjing", "民警", f"东丽公安分局 · {names.STREETS[0]}"),
    ("jumin", "居民", "无负责区域（随手拍、查进度、评价）"),
]


class CityExists(DomainError):
    status = 409


def city_exists() -> bool:
    return Area.objects.exists()


def generate_city(*, seed: int = 2026, people: int = 20000, registry: bool = True,
                  cases: bool | None = None, workforce: bool | None = None,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Write a whole demo district for about `people` residents; returns counts.

    `cases` plays 90 days of case traffic through the case workflow (see
    wangge.demo.cases). By default it follows `registry`: a city without the
    registry is the map-only city `--no-registry` promises (areas, grids,
    addresses and the demo logins, nothing else). `workforce` (by default
    following `cases`) puts the grid workers to work: patrols, visits, water
    readings, rule tasks and the assessment (see wangge.demo.workforce)."""
    if city_exists():
        raise CityExists("city_exists", "数据库中已有区域数据，演示城市只能生成在空库中")
    report: Progress = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    n_grids = grids_for_people(people)
    features = build_district(seed, n_grids)
    with transaction.atomic():
        _import_areas(features, report)
        departments = _create_departments()
        targets = _household_targets(features, people)
        counts = _write_addresses(seed, features, targets, n_grids, report)
        report("户数汇总", 0, 1)
        recount_households(targets)
        report("户数汇总", 1, 1)
        users = _create_users(features, departments, report)
        audit.record(None, "generate_demo_city", "area", names.DISTRICT_CODE,
                     reason=f"演示城市：种子 {seed}，约 {people} 人，{n_grids} 个网格")
    summary = _summary(seed, people, features, counts, len(departments), len(users), started)
    if registry:
        from wangge.demo.registry import populate_registry

        summary["registry"] = populate_registry(seed=seed, people=people, progress=report)
        summary["seconds"] = round(time.perf_counter() - started, 1)
    with_cases = registry if cases is None else cases
    if with_cases:
        summary["cases"] = _cases(seed, people, report)
        summary["seconds"] = round(time.perf_counter() - started, 1)
    if with_cases if workforce is None else workforce:
        from wangge.demo.workforce import populate_workforce

        summary["workforce"] = populate_workforce(seed=seed, report=report)
        summary["seconds"] = round(time.perf_counter() - started, 1)
    if with_cases:
        from wangge.demo.exchange import populate_exchange

        report("数据共享", 0, 1)
        summary["exchange"] = populate_exchange(seed=seed)
        report("数据共享", 1, 1)
        summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _cases(seed: int, people: int, report: Progress) -> dict[str, Any]:
    from wangge.demo.cases import per_day_for, populate_cases, setup_cases

    report("案件准备", 0, 1)
    setup = setup_cases(names.DISTRICT_CODE)
    report("案件准备", 1, 1)
    stats = populate_cases(seed=seed, per_day=per_day_for(people), report=report)
    return {**setup, "cases": stats["cases"], "overdue": stats["overdue"], "rated": stats["rated"],
            "states": {k.removeprefix("state:"): v for k, v in sorted(stats.items())
                       if k.startswith("state:")},
            "seconds": stats["seconds"]}


def _import_areas(features: list[dict[str, Any]], report: Progress) -> None:
    total = len(features)
    done = itertools.count(1)

    def tick(_: int = 1) -> None:
        n = next(done)
        if n % 50 == 0 or n == total:
            report("区域", n, total)

    report("区域", 0, total)
    import_areas(None, feature_collection(features), progress=tick)


def _create_departments() -> dict[str, Department]:
    rows = [Department(code=f"{names.DISTRICT_CODE}-{suffix}", name=name, type=kind,
                       area_code=names.DISTRICT_CODE)
            for suffix, name, kind in DEPARTMENTS]
    Department.objects.bulk_create(rows)
    return {d.type: d for d in Department.objects.filter(area_code=names.DISTRICT_CODE)}


def _base(features: list[dict[str, Any]], level: str) -> list[dict[str, Any]]:
    return [f["properties"] for f in features
            if f["properties"]["layer"] == "base" and f["properties"]["level"] == level]


def _household_targets(features: list[dict[str, Any]], people: int) -> dict[str, int]:
    """Rooms per grid: the grids' 250–350 spread, scaled so the district holds
    people / 2.6 households in all."""
    grids = _base(features, "grid")
    total = max(len(grids), round(people / 2.6))
    shares = apportion(total, [g["households"] for g in grids])
    return {g["code"]: n for g, n in zip(grids, shares, strict=True)}


def _grid_specs(features: list[dict[str, Any]], targets: dict[str, int]) -> list[GridSpec]:
    streets = {p["code"]: p["name"] for p in _base(features, "street")}
    return [
        GridSpec(f["properties"]["code"], streets[f["properties"]["code"][:9]],
                 shape(f["geometry"]), targets[f["properties"]["code"]])
        for f in features
        if f["properties"]["layer"] == "base" and f["properties"]["level"] == "grid"
    ]


def _write_addresses(seed: int, features: list[dict[str, Any]], targets: dict[str, int],
                     n_grids: int, report: Progress) -> Counter[str]:
    roads = build_roads(seed, road_count(n_grids))
    planner = Planner(
        rng=random.Random(seed),
        np_rng=np.random.default_rng([seed, 5]),
        doors=DoorBook(roads),
        compound_names=names.name_stream(random.Random(seed + 1), names.COMPOUND_STEMS,
                                         names.COMPOUND_ENDINGS),
    )
    counts = _load(road_rows(roads))
    grids = _grid_specs(features, targets)
    total = sum(targets.values())
    report("地址", 0, total)
    for chunk in _chunks(grids, GRIDS_PER_CHUNK):
        counts += _load([row for g in chunk for row in planner.grid_rows(g)])
        report("地址", counts["room"], total)
    return counts


def _chunks(items: list[GridSpec], size: int) -> Iterator[list[GridSpec]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _load(rows: list[AddressRow]) -> Counter[str]:
    """Rows through the address library's one bulk write path: a transaction
    and an audit entry per call; the roads of the first call are stored
    parents of the door numbers in later ones."""
    bulk_load_addresses(rows)
    return Counter(row["level"] for row in rows)


def _scopes(features: list[dict[str, Any]]) -> dict[str, str]:
    streets = [p["code"] for p in _base(features, "street")]
    communities = [p["code"] for p in _base(features, "community")]
    grids = [p["code"] for p in _base(features, "grid")]
    return {
        "none": "",
        "district": names.DISTRICT_CODE,
        "street1": streets[0],
        "community1": communities[0],
        "grid1": grids[0],
        "grid_street2": next(g for g in grids if g.startswith(streets[1])),
    }


def _create_users(features: list[dict[str, Any]], departments: dict[str, Department],
                  report: Progress) -> list[User]:
    scopes = _scopes(features)
    users = []
    for i, (username, role, where, dept, display) in enumerate(_USERS, start=1):
        users.append(create_user(
            username, DEMO_PASSWORD, role=role, area_code=scopes[where],
            department=departments[dept] if dept else None, display_name=display))
        report("账户", i, len(_USERS))
    return users


def _summary(seed: int, people: int, features: list[dict[str, Any]], counts: Counter[str],
             n_departments: int, n_users: int, started: float) -> dict[str, Any]:
    levels = Counter((f["properties"]["layer"], f["properties"]["level"]) for f in features)
    return {
        "seed": seed,
        "people": people,
        "district": names.DISTRICT_CODE,
        "streets": levels[("base", "street")],
        "communities": levels[("base", "community")],
        "grids": levels[("base", "grid")],
        "police_beats": levels[("police", "grid")],
        "fire_zones": levels[("fire", "grid")],
        "traffic_zones": levels[("traffic", "grid")],
        "departments": n_departments,
        "roads": counts["road"],
        "doors": counts["door"],
        "compounds": counts["compound"],
        "buildings": counts["building"],
        "units": counts["unit"],
        "rooms": counts["room"],
        "households": counts["room"],
        "users": n_users,
        "seconds": round(time.perf_counter() - started, 1),
    }
