"""The demo city's case traffic: weeks of reports walked through the real
workflow, so the centre's queues, the departments' workbenches, the map's case
layer and the evaluation figures show something true.

`setup_cases` loads the patrol catalog, adds a few routing rules that show
what a rule can do, and registers one camera. `populate_cases` then plays
`days` of traffic against the clock of the simulation: every report goes
through `file_report` and every later step through `take_step` (or
`rate_by_tracking_code`) with `at=` the simulated moment, and the deadline scan
runs at simulated times too, so timelines, limits, overdue marks,
notifications and the audit chain are what the platform itself wrote.

Time is working time (conf.working_hours and the official calendar): a report
filed on Friday evening is registered on Monday morning. The simulation is a
single queue of timed events, at most one pending per case, processed in time
order; whatever falls after `end` is simply not done yet, which leaves the
newest cases open. In the last working days, besides, the first case to
reach each open state stays there (nobody has got to it yet), a few more do
too, and the rare paths (a return, a postponement, a suspension) are taken
once, so that every open state — 待受理, 已立案, 已派遣, 已退回, 处置中,
延期待批, 待核查, 已挂起 — has cases in the queues.

Who acts: the street centre (`jiedao`) for its own street, the command centre
(`zhihui`) everywhere else and for cases escalated to the district; the first
staff member of the department a case was dispatched to; the grid worker of
the case's grid for verification (one is created per grid that lacks one,
`wg` + the grid code's last nine digits, with the demo password), or the
centre for a point outside every grid. Hotline calls are filed by the command
centre's operator, who also calls back for the rating.
"""

from __future__ import annotations

import heapq
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from shapely.geometry import Point, shape
from shapely.prepared import prep

from wangge.accounts.models import Department, DepartmentType, Role, User
from wangge.addresses.models import Address
from wangge.areas.models import BASE_LAYER, Area
from wangge.cases import classifying, conf, deadlines, routing, rules, services
from wangge.cases.catalog import ITEMS, Item
from wangge.cases.models import Case, Category, Channel, Device, RoutingRule, State, Urgency
from wangge.cases.services import Report, StepInput
from wangge.core import audit, workcal
from wangge.core.coords import metres_per_degree
from wangge.core.models import Notification
from wangge.core.notify import mark_read
from wangge.demo import population
from wangge.demo.reports import item_weight, report_text

Progress = Callable[[str, int, int], None]

# The default demo: 90 days of about 30 reports a working day (half that at
# weekends) for a district of 20,000 people (26 grids), some 2,300 cases.
# Each case costs about 25 ms in the services (file_report ≈ 7, each of its
# three or four steps ≈ 3.5, its share of the scans ≈ 2.5, on SQLite), so 40 a
# day, the first aim, took 75 s; 30 keeps the demo's case part near a minute.
DAYS = 90
PER_DAY = 30
WEEKEND_SHARE = 0.5


def per_day_for(people: int) -> int:
    """Reports a working day in a city of `people`: PER_DAY for the default
    20,000, in proportion below, and no more above (the run's length grows
    with the reports, not with the city)."""
    return max(2, min(PER_DAY, round(PER_DAY * people / 20_000)))


# Of the reports: who files them.
CHANNELS: tuple[str, ...] = (Channel.GRID_WORKER, Channel.RESIDENT, Channel.HOTLINE, Channel.SENSOR)
CHANNEL_SHARES: tuple[float, ...] = (0.64, 0.19, 0.12, 0.05)
# Chance that the reporter picks a category rather than only describing the
# problem (then the classifier decides); the camera always knows its category.
EXPLICIT_SHARE: dict[str, float] = {Channel.GRID_WORKER: 0.6, Channel.RESIDENT: 0.2,
                                    Channel.HOTLINE: 0.5, Channel.SENSOR: 1.0}
RESIDENT_LOGGED_IN = 0.1  # the demo resident `jumin`; the rest are anonymous
CONTACT_SHARE = 0.5  # anonymous residents who leave a name and phone
OUTSIDE_SHARE = 0.03  # resident and hotline reports from beyond the district's edge
REPEAT_SHARE = 0.05  # resident and hotline reports of something already reported

# The last working days (or reports), in which the first case to reach each
# open state waits there, and a few more besides.
HOLD_DAYS = 3
HOLD_REPORTS = 60
EXTRA_HOLD = 0.08  # chance, at each state, that a case of those days waits there too
HOLDS = ("reported", "registered", "dispatched", "returned", "accepted", "postpone", "handled",
         "suspended")

# Matters that need more than one department: the centre sends them up a level.
COORDINATED = frozenset({"群体性诉求", "征地拆迁纠纷"})

# The camera's analytics know these items (by name, so a catalog edit cannot
# point it at the wrong code).
CAMERA_ITEMS = ("占道经营", "店外经营", "暴露垃圾", "非机动车乱停放", "违章停车", "露天烧烤",
                "道路积水")

# The deadline scan runs once a working day before work (the worker runs it
# every minute; more scans here cost the run a quarter of its time in
# reminders). Late steps land after the first scan past their limit, and a
# step that would still beat the scan runs one first (Simulation.scan_if_due),
# so every late case is marked overdue before anyone acts on it.
SCAN_TIMES = ((8, 50),)


# --- setup -----------------------------------------------------------------------


def setup_cases(district_code: str) -> dict[str, Any]:
    """Catalog, routing rules and a camera for the district; returns counts.
    The camera's key is shown nowhere: the demo files its reports directly."""
    loaded = services.load_catalog(by=None, items=ITEMS, area_code=district_code)
    made = _routing_rules(district_code)
    device, _key = services.register_device(
        by=None, name="津塘路口智能视频探头", kind="camera", area_code=_camera_grid(district_code))
    return {"categories": loaded["total"], "categories_created": loaded["created"],
            "routing_rules": made, "device": device.pk}


def _department(district_code: str, kind: str) -> Department | None:
    return Department.objects.filter(type=kind, area_code=district_code).order_by("code").first()


def _base_codes(district_code: str, level: str) -> list[str]:
    return list(Area.objects.filter(layer_id=BASE_LAYER, level=level,
                                    code__startswith=district_code)
                .order_by("code").values_list("code", flat=True))


def _routing_rules(district_code: str) -> int:
    """Three rules of the three kinds: a group in one street, a group in one
    police beat, one item in one street. Each names a real arrangement."""
    streets = _base_codes(district_code, "street")
    beat = (Area.objects.filter(layer_id="police", code__startswith=district_code)
            .order_by("code").first())
    wanted: list[tuple[dict[str, Any], str, str]] = []
    if streets:
        wanted.append(({"group": "矛盾纠纷", "area_prefix": streets[0]}, DepartmentType.GOVERNANCE,
                       "街道矛盾纠纷统一由综治中心受理调处（“一站式”化解试点）"))
    if beat is not None:
        wanted.append(({"group": "安全隐患", "layer": "police", "layer_code": beat.code},
                       DepartmentType.POLICE,
                       f"{beat.name}：派出所承担辖区消防安全检查，安全隐患由公安分局处置"))
    barbecue = Category.objects.filter(name="露天烧烤").first()
    if barbecue is not None and len(streets) > 1:
        wanted.append(({"category": barbecue, "area_prefix": streets[1]}, DepartmentType.ENVIRONMENT,
                       "大气污染防治重点区域：露天烧烤由生态环境局查处"))
    made = 0
    for match, kind, note in wanted:
        department = _department(district_code, kind)
        if department is None:
            continue
        _, created = RoutingRule.objects.get_or_create(department=department, **match,
                                                       defaults={"note": note})
        made += created
    return made


def _camera_grid(district_code: str) -> str:
    grids = _base_codes(district_code, "grid")
    return grids[0] if grids else district_code


# --- places ----------------------------------------------------------------------


@dataclass(frozen=True)
class Spot:
    lon: float
    lat: float
    address: str = ""


class Places:
    """Where reports come from: standard addresses of a grid (doors and
    compounds for the street, buildings for what happens at home), or a random
    point of the grid when it has no addresses; and points beyond the edge."""

    def __init__(self, district_code: str, rng: random.Random) -> None:
        self.rng = rng
        rows = list(Area.objects.filter(layer_id=BASE_LAYER, level="grid",
                                        code__startswith=district_code)
                    .order_by("code").values_list("code", "geometry", "households"))
        if not rows:
            raise ValueError(f"区域 {district_code} 下没有网格，无法生成案件")
        self.grids = [code for code, _, _ in rows]
        self.weights = [max(households or 0, 1) for _, _, households in rows]
        self.shapes = {code: shape(geometry) for code, geometry, _ in rows}
        district = Area.objects.filter(layer_id=BASE_LAYER, code=district_code).first()
        self.district = (shape(district.geometry) if district and district.geometry
                         else _union(list(self.shapes.values())))
        self.inside = prep(self.district)
        self.street: dict[str, list[Spot]] = defaultdict(list)
        self.home: dict[str, list[Spot]] = defaultdict(list)
        for grid, level, lon, lat, name in (
                Address.objects.filter(level__in=("door", "compound", "building"),
                                       grid_code__startswith=district_code)
                .order_by("code").values_list("grid_code", "level", "lon", "lat", "full_name")):
            if lon is not None and lat is not None:
                (self.home if level == "building" else self.street)[grid].append(
                    Spot(lon, lat, name))

    def grid(self) -> str:
        return self.rng.choices(self.grids, weights=self.weights)[0]

    def spot(self, grid: str, indoor: bool) -> Spot:
        pool = (self.home if indoor else self.street).get(grid) or self.street.get(grid) \
            or self.home.get(grid)
        if pool:
            base = self.rng.choice(pool)
            return jitter(self.rng, base, 0 if indoor else 15)
        return self._point_in(self.shapes[grid])

    def _point_in(self, geom: Any) -> Spot:
        x0, y0, x1, y1 = geom.bounds
        prepared = prep(geom)
        for _ in range(1000):
            lon, lat = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if prepared.contains(Point(lon, lat)):
                return Spot(round(lon, 7), round(lat, 7))
        centre = geom.representative_point()
        return Spot(round(centre.x, 7), round(centre.y, 7))

    def outside(self) -> Spot:
        """A point 0.3–3 km beyond the district's edge (a neighbour's road)."""
        x0, y0, x1, y1 = self.district.bounds
        mx, my = metres_per_degree((y0 + y1) / 2)
        pad_x, pad_y = 3000 / mx, 3000 / my
        for _ in range(1000):
            lon = self.rng.uniform(x0 - pad_x, x1 + pad_x)
            lat = self.rng.uniform(y0 - pad_y, y1 + pad_y)
            point = Point(lon, lat)
            if not self.inside.contains(point) and self.district.distance(point) * mx > 300:
                return Spot(round(lon, 7), round(lat, 7))
        return Spot(round(x1 + pad_x, 7), round(y1 + pad_y, 7))

    def camera_spot(self, grid: str) -> Spot:
        geom = self.shapes.get(grid) or self.district
        centre = geom.representative_point()
        return Spot(round(centre.x, 7), round(centre.y, 7), "津塘路口（视频探头点位）")


def _union(shapes: list[Any]) -> Any:
    from shapely import union_all

    return union_all(shapes)


def jitter(rng: random.Random, spot: Spot, metres: float) -> Spot:
    if metres <= 0:
        return spot
    mx, my = metres_per_degree(spot.lat)
    return Spot(round(spot.lon + rng.uniform(-metres, metres) / mx, 7),
                round(spot.lat + rng.uniform(-metres, metres) / my, 7), spot.address)


# --- who acts -------------------------------------------------------------------


class Cast:
    """The users who take the steps, loaded once: `take_step` reads their scope
    from the objects, so reusing them saves a query per step."""

    def __init__(self, district_code: str, rng: random.Random) -> None:
        users = {u.username: u for u in User.objects.select_related("department").filter(
            is_active=True)}
        centre = users.get("zhihui") or _first(users, Role.COMMAND_CENTRE, district_code)
        if centre is None:
            raise ValueError("演示城市缺少指挥中心账户（zhihui），无法模拟案件流转")
        self.centre: User = centre
        self.street_centre = users.get("jiedao")
        self.resident = users.get("jumin")
        staff = sorted((u for u in users.values() if u.department_id
                        and u.role in (Role.DEPARTMENT_STAFF, Role.POLICE)),
                       key=lambda u: (u.role != Role.DEPARTMENT_STAFF, u.username))
        self.department: dict[int, User] = {}
        for u in staff:
            if u.department_id is not None:
                self.department.setdefault(u.department_id, u)
        self.workers = _grid_workers(district_code, users, rng)

    def centre_for(self, case: Case) -> User:
        street = self.street_centre
        if (street is not None and street.area_code and case.area_code.startswith(street.area_code)
                and rules.level_rank(case.level) <= rules.level_rank("street")):
            return street
        return self.centre

    def verifier(self, case: Case) -> User:
        return self.workers.get(case.grid_code) or self.centre


def _first(users: dict[str, User], role: str, area_code: str) -> User | None:
    return next((u for u in sorted(users.values(), key=lambda u: u.username)
                 if u.role == role and area_code.startswith(u.area_code or "-")), None)


def _grid_workers(district_code: str, users: dict[str, User], rng: random.Random) -> dict[str, User]:
    """The grid worker of every grid: the demo's own where they have one, a
    new login otherwise. Created in one write with one password hash: a
    thousand-grid city would spend a minute hashing the same password."""
    grids = _base_codes(district_code, "grid")
    known = set(grids)
    mine: dict[str, User] = {}
    for u in sorted(users.values(), key=lambda u: u.username):
        if u.role == Role.GRID_WORKER and u.area_code in known:
            mine.setdefault(u.area_code, u)
    missing = [g for g in grids if g not in mine]
    if missing:
        from wangge.demo.generator import DEMO_PASSWORD

        hashed = make_password(DEMO_PASSWORD)
        new = [User(username=f"wg{g[6:]}", role=Role.GRID_WORKER, area_code=g, password=hashed,
                    display_name=f"网格员 {person_name(rng)}") for g in missing]
        User.objects.bulk_create(new)
        for u in User.objects.filter(username__in=[u.username for u in new]).order_by("username"):
            audit.record(None, "create_user", "user", u.pk, fields=["role", "area_code"],
                         reason="演示城市：网格员")
            mine[u.area_code] = u
    return mine


def person_name(rng: random.Random) -> str:
    gender = rng.choice("MF")
    return population.SURNAMES.pick(rng) + population.given_name(rng, gender, rng.randint(1965, 2000))


def phone_number(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17")) + f"{rng.randrange(10**9):09d}"


# --- the reports ----------------------------------------------------------------


@dataclass
class Arrival:
    """One report as it will be filed, drawn before the simulation starts."""

    at: datetime
    channel: str
    item: Item
    text: str
    spot: Spot
    grid: str  # the grid the reporter stood in ("" beyond the edge)
    explicit: bool
    urgency: str
    contact: tuple[str, str] = ("", "")
    client: str = ""
    logged_in: bool = False


def working_days_back(end: datetime, n: int) -> datetime:
    """Midnight starting the n-th working day counted back from `end`'s day."""
    day = timezone.localtime(end).date()
    seen = 0
    while True:
        if workcal.is_workday(day):
            seen += 1
            if seen >= n:
                break
        day -= timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _days(start: datetime, end: datetime) -> Iterator[date]:
    day = timezone.localtime(start).date()
    last = timezone.localtime(end).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


_HOURS: dict[str, tuple[float, float]] = {  # when each channel reports, local hours [from, to)
    Channel.GRID_WORKER: (8.5, 17.75), Channel.RESIDENT: (7.0, 22.5), Channel.HOTLINE: (8.0, 20.0),
    Channel.SENSOR: (6.0, 21.0),
}
_INDOOR_GROUPS = frozenset({"矛盾纠纷", "特殊人群", "疫情防控", "民生服务", "房屋土地"})


def draw_arrivals(rng: random.Random, places: Places, start: datetime, end: datetime,
                  per_day: int, camera: Device | None, camera_grid: str) -> list[Arrival]:
    weights = [item_weight(item) for item in ITEMS]
    camera_items = [i for i in ITEMS if i.name in CAMERA_ITEMS]
    camera_spot = places.camera_spot(camera_grid) if camera is not None else None
    out: list[Arrival] = []
    for day in _days(start, end):
        mean = per_day if workcal.is_workday(day) else per_day * WEEKEND_SHARE
        n = max(0, round(rng.gauss(mean, math.sqrt(mean))))
        for _ in range(n):
            channel = rng.choices(CHANNELS, weights=CHANNEL_SHARES)[0]
            if channel == Channel.SENSOR and camera_spot is None:
                channel = Channel.GRID_WORKER
            lo, hi = _HOURS[channel]
            at = timezone.make_aware(datetime.combine(day, datetime.min.time())
                                     + timedelta(hours=rng.uniform(lo, hi)))
            if not start <= at <= end:
                continue
            out.append(_arrival(rng, places, at, channel, weights, camera_items, camera_spot,
                                camera_grid, out))
    out.sort(key=lambda a: a.at)
    return out


def _arrival(rng: random.Random, places: Places, at: datetime, channel: str,
             weights: list[float], camera_items: list[Item], camera_spot: Spot | None,
             camera_grid: str, before: list[Arrival]) -> Arrival:
    public = channel in (Channel.RESIDENT, Channel.HOTLINE)
    recent = [a for a in before[-80:] if a.grid and timedelta(0) < at - a.at < timedelta(hours=60)]
    if channel == Channel.SENSOR and camera_spot is not None:
        item = rng.choice(camera_items)
        spot, grid = jitter(rng, camera_spot, 20), camera_grid
        text = f"智能视频分析识别到疑似{item.name}，置信度 {rng.uniform(0.82, 0.98):.2f}，请核实处置"
    elif public and recent and rng.random() < REPEAT_SHARE:
        # Someone else reports what is already reported: the intake offers it
        # to the centre as a duplicate.
        first = rng.choice(recent)
        item, grid, spot = first.item, first.grid, jitter(rng, first.spot, 10)
        text = report_text(rng, item)
    elif public and rng.random() < OUTSIDE_SHARE:
        item = rng.choices(ITEMS, weights=weights)[0]
        spot, grid = places.outside(), ""
        text = report_text(rng, item)
    else:
        item = rng.choices(ITEMS, weights=weights)[0]
        grid = places.grid()
        spot = places.spot(grid, item.group in _INDOOR_GROUPS)
        text = report_text(rng, item)
    explicit = rng.random() < EXPLICIT_SHARE[channel]
    urgency = _urgency(rng, item, channel)
    arrival = Arrival(at, channel, item, text, spot, grid, explicit, urgency)
    if channel == Channel.HOTLINE:
        arrival.contact = (person_name(rng), phone_number(rng))
    elif channel == Channel.RESIDENT:
        arrival.logged_in = rng.random() < RESIDENT_LOGGED_IN
        if not arrival.logged_in:
            arrival.client = f"demo-resident-{rng.randrange(5000)}"
            if rng.random() < CONTACT_SHARE:
                arrival.contact = (person_name(rng), phone_number(rng))
    return arrival


def _urgency(rng: random.Random, item: Item, channel: str) -> str:
    if channel in (Channel.RESIDENT, Channel.SENSOR):
        return Urgency.NORMAL
    r = rng.random()
    if item.group == "突发事件":
        return Urgency.EMERGENCY if r < 0.2 else Urgency.URGENT if r < 0.7 else Urgency.NORMAL
    return Urgency.EMERGENCY if r < 0.01 else Urgency.URGENT if r < 0.07 else Urgency.NORMAL


# --- words the actors write -------------------------------------------------------

_FEEDBACK = {
    "市容环境": ("已安排环卫作业人员清理完毕，现场恢复整洁", "已清运处理，并加密该路段保洁频次"),
    "公用设施": ("已维修更换完毕，现场恢复正常使用", "已通知权属单位抢修，现已修复"),
    "道路交通": ("已维修完毕，恢复通行", "已修复并设置警示标志，现场安全"),
    "园林绿化": ("已安排园林养护队修剪补植", "已处置完毕，绿化恢复"),
    "房屋土地": ("已督促物业维修到位", "已联系产权单位整改完毕"),
    "其他设施": ("已维修完毕", "已督促管理单位修复"),
    "宣传广告": ("已清除违规广告", "已责令当事人自行拆除，现场复查已清除"),
    "施工管理": ("已责令施工单位整改，现场已落实覆盖和围挡", "已依法查处并督促整改到位"),
    "突发事件": ("已到场处置，险情已排除", "已抢修完毕，现场恢复正常"),
    "街面秩序": ("已劝离并清理现场", "已依法教育劝导，当事人已自行整改"),
    "其他事件": ("已上门核查并责令整改", "已依法处理，问题已解决"),
    "矛盾纠纷": ("已组织双方调解，达成一致意见", "已上门调处，矛盾已化解"),
    "安全隐患": ("已上门排查，隐患已消除", "已督促整改到位并张贴安全提示"),
    "特殊人群": ("已上门走访，落实帮扶措施", "已纳入重点关注，定期走访"),
    "疫情防控": ("已联系社区卫生服务中心跟进", "已按规定登记并落实健康监测"),
    "民生服务": ("已联系当事人答复并办理", "已协调相关单位解决，当事人表示认可"),
}
_RETURN_NOTES = ("经现场核实不属于本单位职责，请改派", "该事项权属不在我单位，建议派至主管部门",
                 "派遣有误，非本部门管辖范围")
_REWORK_NOTES = ("现场核查仍未处理干净，请返工", "问题仍然存在，请重新处置", "处置不彻底，居民仍有反映")
_SUSPEND_NOTES = ("需等待产权单位确认后处置", "受天气影响暂无法施工，待条件具备后恢复",
                  "涉及多部门协调，待专题会研究")
_POSTPONE_NOTES = ("需采购配件，申请延期", "工程量较大，需协调施工队伍", "需当事人配合，预约上门时间")
_REJECT_NOTES = ("反映内容不属于网格化管理事项，已告知通过相应渠道反映",
                 "信息不全且无法联系上报人核实，不予立案")
_OUTSIDE_NOTES = ("上报位置不在本区范围内，已告知上报人向属地反映",)
_COMMENTS = {5: ("处理很及时，非常满意", "效率很高，点赞", ""), 4: ("处理得不错", ""),
             3: ("解决了，就是有点慢", ""), 2: ("处理太慢了", "只是暂时解决"), 1: ("没有真正解决",)}


# --- the simulation -------------------------------------------------------------


@dataclass
class Sim:
    """What the simulation knows about a case that the case does not say."""

    case_id: int
    arrival: Arrival
    reporter: User | None
    # The case as the last step left it. The scan only sets flags read by
    # nobody here, and a merge into a case changes none of its fields, so this
    # saves reading every case again before each step.
    case: Case
    hold: str = ""
    hurry: bool = False
    planned: bool = False  # handling outcome decided since the last dispatch
    paused: bool = False  # suspended once already
    postponed: bool = False
    returns: dict[int, int] = field(default_factory=dict)  # department → returns
    escalate: bool = False  # returned as needing a higher level's coordination


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    case_id: int = field(compare=False, default=0)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


class Simulation:
    def __init__(self, *, seed: int, district_code: str, start: datetime, end: datetime,
                 per_day: int, report: Progress) -> None:
        self.rng = random.Random(seed)
        self.flow = random.Random(seed + 1)  # decisions, apart from the draws of reports
        self.start, self.end, self.report = start, end, report
        self.hours = conf.working_hours()
        self.places = Places(district_code, self.rng)
        # Its own stream: a second run over the same grids creates no workers
        # and must draw the same reports.
        self.cast = Cast(district_code, random.Random(seed + 2))
        self.camera = Device.objects.filter(kind="camera", area_code__startswith=district_code,
                                            active=True).order_by("pk").first()
        self.arrivals = draw_arrivals(self.rng, self.places, start, end, per_day, self.camera,
                                      self.camera.area_code if self.camera else "")
        # The last working days, or the last HOLD_REPORTS reports if a small
        # city files fewer in that time: enough cases to hold one in each state.
        self.hold_from = working_days_back(end, HOLD_DAYS)
        if len(self.arrivals) >= HOLD_REPORTS:
            self.hold_from = min(self.hold_from, self.arrivals[-HOLD_REPORTS].at)
        self.holds: Counter[str] = Counter()
        self.sims: dict[int, Sim] = {}
        self.queue: list[Event] = []
        self.seq = 0
        self.last_scan = start
        self.stats: Counter[str] = Counter()
        self.categories = {c.code: c for c in Category.objects.all()}
        self.fallback = _department(district_code, DepartmentType.URBAN_MANAGEMENT)
        self.routes: dict[tuple[str, str, tuple[tuple[str, str], ...]], Department | None] = {}

    # -- the queue ---------------------------------------------------------------

    def push(self, at: datetime, kind: str, case_id: int = 0, **data: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, Event(at, self.seq, kind, case_id, data))

    def later(self, at: datetime, hours: float) -> datetime:
        """`hours` of working time after `at`."""
        return workcal.add_working_hours(timezone.localtime(at), max(hours, 0.0), self.hours)

    def left(self, at: datetime, due: datetime | None) -> float:
        """Working hours from `at` to `due` (0 when past or none)."""
        if due is None:
            return 0.0
        return max(workcal.working_seconds_between(timezone.localtime(at), timezone.localtime(due),
                                                   self.hours), 0.0) / 3600

    def run(self) -> Counter[str]:
        for arrival in self.arrivals:
            self.push(arrival.at, "report", arrival=arrival)
        for day in _days(self.start, self.end):
            if workcal.is_workday(day):
                for h, m in SCAN_TIMES:
                    at = timezone.make_aware(datetime.combine(day, datetime.min.time())
                                             + timedelta(hours=h, minutes=m))
                    if self.start <= at <= self.end:
                        self.push(at, "scan")
        self.push(self.end, "scan")
        total_days = max((timezone.localtime(self.end).date()
                          - timezone.localtime(self.start).date()).days, 1)
        day0 = timezone.localtime(self.start).date()
        current: date | None = None
        batch: Any = None
        try:
            while self.queue and self.queue[0].at <= self.end:
                event = heapq.heappop(self.queue)
                day = timezone.localtime(event.at).date()
                if day != current:
                    # One transaction per simulated day: SQLite pays for
                    # commits, not for the savepoints each service opens.
                    if batch is not None:
                        batch.__exit__(None, None, None)
                    batch = transaction.atomic()
                    batch.__enter__()
                    current = day
                    self.report("案件", min((day - day0).days, total_days), total_days)
                self.handle(event)
        except BaseException:
            if batch is not None:
                batch.__exit__(*sys.exc_info())
                batch = None
            raise
        finally:
            if batch is not None:
                batch.__exit__(None, None, None)
        self.report("案件", total_days, total_days)
        return self.stats

    def handle(self, event: Event) -> None:
        if event.kind == "scan":
            self.scan(event.at)
            return
        if event.kind == "report":
            self.file(event.data["arrival"], event.at)
            return
        sim = self.sims[event.case_id]
        getattr(self, f"do_{event.kind}")(sim, event.at, **event.data)

    def scan(self, at: datetime) -> None:
        done = deadlines.scan(at)
        self.last_scan = at
        self.stats["scans"] += 1
        self.stats["marked_overdue"] += done["overdue"]
        self.stats["marked_verify_overdue"] += done["verify_overdue"]

    def past_scan(self, due: datetime | None, when: datetime) -> datetime:
        """A late step lands after the first scan past its limit: the
        department finds the case on its overdue list in the morning and
        finishes it then. (Scanning before each late step instead cost a
        tenth of the run.)"""
        if due is None:
            return when
        day = timezone.localtime(due).date()
        while True:
            if workcal.is_workday(day):
                h, m = SCAN_TIMES[0]
                scan = timezone.make_aware(datetime.combine(day, datetime.min.time())
                                           + timedelta(hours=h, minutes=m))
                if scan > due:
                    return max(when, self.later(scan, self.flow.uniform(0.05, 2.0)))
            day += timedelta(days=1)

    def scan_if_due(self, at: datetime, due: datetime | None) -> None:
        """Before a step taken after a limit: the scan would have marked the
        case by then, so run it, and the timeline says so in the right order."""
        if due is not None and self.last_scan < due <= at:
            self.scan(at)

    def step(self, sim: Sim, by: Any, name: str, at: datetime, **given: Any) -> Case:
        case = services.take_step(case_id=sim.case_id, by=by, step=name, given=StepInput(**given),
                                  at=at)
        self.stats[f"step:{name}"] += 1
        sim.case = case
        return case

    # -- filing ------------------------------------------------------------------

    def file(self, arrival: Arrival, at: datetime) -> None:
        by: User | None = None
        if arrival.channel == Channel.GRID_WORKER:
            by = self.cast.workers.get(arrival.grid) or self.cast.workers.get(
                self._nearest_grid(arrival))
        elif arrival.channel == Channel.HOTLINE:
            by = self.cast.centre
        elif arrival.channel == Channel.RESIDENT and arrival.logged_in:
            by = self.cast.resident
        report = Report(
            description=arrival.text, lon=arrival.spot.lon, lat=arrival.spot.lat,
            address_text=arrival.spot.address, channel=arrival.channel,
            category_code=arrival.item.code if arrival.explicit else "", urgency=arrival.urgency,
            contact_name=arrival.contact[0], contact_phone=arrival.contact[1])
        case = services.file_report(report=report, by=by,
                                    device=self.camera if arrival.channel == Channel.SENSOR else None,
                                    client=arrival.client, at=at)
        sim = Sim(case.pk, arrival, by, case)
        self.sims[case.pk] = sim
        self.stats["cases"] += 1
        self.stats[f"channel:{arrival.channel}"] += 1
        self.stats["auto_dispatched"] += case.state == State.DISPATCHED
        if case.category is not None and not arrival.explicit:
            self.stats["classified"] += 1
            self.stats["classified_right"] += case.category.code == arrival.item.code
        self.plan(sim, case, at)

    def _nearest_grid(self, arrival: Arrival) -> str:
        point = Point(arrival.spot.lon, arrival.spot.lat)
        return min(self.places.grids, key=lambda g: self.places.shapes[g].distance(point))

    def in_window(self, sim: Sim) -> bool:
        return sim.arrival.at >= self.hold_from

    def reserve(self, sim: Sim, hold: str) -> bool:
        """Send this case down the rare path to `hold` (a return, a
        postponement, a suspension) if no case of the last days has taken it."""
        if sim.hold or not self.in_window(sim) or self.holds[hold]:
            return False
        sim.hold, sim.hurry = hold, True
        self.holds[hold] += 1
        return True

    # -- planning: what happens next, and when -----------------------------------

    def plan(self, sim: Sim, case: Case, at: datetime) -> None:
        situation = "postpone" if (case.state == State.ACCEPTED and case.postpone_until) \
            else case.state
        if sim.hold:
            if situation == sim.hold:
                return
        elif self.in_window(sim) and situation in HOLDS and (
                not self.holds[situation] or self.flow.random() < EXTRA_HOLD):
            sim.hold = situation  # nobody has got to it yet
            self.holds[situation] += 1
            return
        pace = 0.3 if sim.hurry else 1.0
        fast = case.urgency != Urgency.NORMAL
        if case.state == State.REPORTED:
            self.push(self.later(at, pace * self.flow.uniform(0.2, 2.5)), "intake", case.pk)
        elif case.state == State.REGISTERED:
            self.push(self.later(at, pace * self.flow.uniform(0.05, 1.0)), "dispatch", case.pk)
        elif case.state == State.RETURNED:
            self.push(self.later(at, pace * self.flow.uniform(0.5, 6.0)), "redispatch", case.pk)
        elif case.state == State.DISPATCHED:
            hours = self.flow.uniform(0.02, 0.3) if fast else (
                self.flow.uniform(2.0, 6.0) if self.flow.random() < 0.1
                else self.flow.uniform(0.1, 1.5))
            self.push(self.later(at, pace * hours), "respond", case.pk)
        elif case.state == State.ACCEPTED:
            self.plan_handling(sim, case, at)
        elif case.state == State.HANDLED:
            self.plan_verifying(sim, case, at)
        elif case.state == State.VERIFIED:
            self.push(self.later(at, self.flow.uniform(0.1, 2.0)), "close", case.pk)
        elif case.state == State.SUSPENDED:
            self.push(self.later(at, self.flow.uniform(7, 35)), "resume", case.pk)
        elif case.state == State.CLOSED:
            self.plan_rating(sim, case, at)

    def plan_handling(self, sim: Sim, case: Case, at: datetime) -> None:
        if case.postpone_until is not None:
            self.push(self.later(at, self.flow.uniform(0.3, 3.0)), "decide_postpone", case.pk)
            return
        limit = self.left(at, case.handle_due) or 7.0
        if not sim.planned and not sim.hold and not self.reserve(sim, "suspended"):
            self.reserve(sim, "postpone")
        if sim.hold == "postpone":
            self.push(self.later(at, 0.2 * limit * self.flow.random()), "postpone", case.pk)
            return
        if sim.hold == "suspended":
            self.push(self.later(at, 0.2 * limit * self.flow.random()), "suspend", case.pk)
            return
        if sim.hold or sim.planned:
            # After a rework, resumption or decided postponement: mostly in time.
            late = not sim.hold and self.flow.random() < 0.08
            self.plan_handle(sim, at, limit, late)
            return
        sim.planned = True
        r = self.flow.random()
        if r < 0.02 and not sim.paused:
            self.push(self.later(at, self.flow.uniform(0.1, 0.5) * limit), "suspend", case.pk)
        elif r < 0.07 and limit >= 7 and not sim.postponed:
            self.push(self.later(at, self.flow.uniform(0.3, 0.7) * limit), "postpone", case.pk)
        else:
            self.plan_handle(sim, at, limit, late=r < 0.19)

    def plan_handle(self, sim: Sim, at: datetime, limit: float, late: bool) -> None:
        if late:
            when = self.past_scan(sim.case.handle_due, self.later(
                at, limit + self.flow.uniform(0.1, 1.0) * max(limit, 3.0)))
            if self.flow.random() < 0.3:
                # The command centre notices it slipping and presses first.
                nudge = self.later(at, self.flow.uniform(0.6, 0.95) * limit)
                self.push(nudge, "supervise", sim.case_id, then=when)
                return
        else:
            share = self.flow.uniform(0.05, 0.3) if sim.hurry else self.flow.uniform(0.1, 0.9)
            when = self.later(at, share * limit)
        self.push(when, "handle", sim.case_id)

    def plan_verifying(self, sim: Sim, case: Case, at: datetime) -> None:
        limit = self.left(at, case.verify_due) or 7.0
        r = self.flow.random()
        if r < 0.05:
            when = self.past_scan(case.verify_due, self.later(
                at, limit + self.flow.uniform(0.1, 1.0) * max(limit, 2.0)))
        else:
            when = self.later(at, self.flow.uniform(0.05, 0.8) * limit)
        rework = self.flow.random() < 0.08 and case.rework_count < 2
        self.push(when, "rework" if rework else "verify", case.pk)

    def plan_rating(self, sim: Sim, case: Case, at: datetime) -> None:
        arrival = sim.arrival
        if arrival.channel == Channel.HOTLINE:
            if self.flow.random() < 0.7:  # the operator calls back
                self.push(self.later(at, self.flow.uniform(1, 14)), "rate", case.pk)
        elif arrival.channel == Channel.RESIDENT:
            share = 0.75 if arrival.logged_in else 0.3
            if self.flow.random() < share:
                self.push(at + timedelta(hours=self.flow.uniform(0.5, 48)), "rate", case.pk)

    # -- the steps ---------------------------------------------------------------

    def true_category(self, sim: Sim) -> Category:
        return self.categories[sim.arrival.item.code]

    def route(self, sim: Sim, case: Case) -> Department | None:
        """Where the centre sends the case for its true category. The rules do
        not change during the run, so each place and category is asked once."""
        layers = case.layers or {}
        key = (sim.arrival.item.code, case.area_code, tuple(sorted(layers.items())))
        if key not in self.routes:
            found = routing.route(self.true_category(sim), case.area_code, layers)
            # No department of the item's type (权属单位 such as the power
            # company): the centre hands it to 城管委, which coordinates owners.
            self.routes[key] = found.department if found is not None else self.fallback
        return self.routes[key]

    def do_intake(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        centre = self.cast.centre_for(case)
        held = bool(sim.hold)
        if case.possible_duplicate_id and not held:
            target = Case.objects.filter(pk=case.possible_duplicate_id).first()
            if target is not None and target.is_open and self.flow.random() < 0.9:
                case = self.step(sim, centre, "merge", at, duplicate_of=target.code)
                return self.plan(sim, case, at)
        r = self.flow.random()
        if not held and case.outside and r < 0.4:
            case = self.step(sim, centre, "reject", at, note=self.flow.choice(_OUTSIDE_NOTES))
        elif not held and case.category_id is None and r < 0.05:
            case = self.step(sim, centre, "reject", at, note=self.flow.choice(_REJECT_NOTES))
        elif not held and r > 0.99:
            case = self.step(sim, centre, "cancel", at, note="经电话核实，问题已由上报人自行解决")
        elif not held and sim.arrival.item.name in COORDINATED and r < 0.6:
            case = self.step(sim, centre, "escalate", at,
                             note="涉及多部门、群体性诉求，提请上级统筹协调")
        else:
            case = self.step(sim, centre, "register", at, category_code=sim.arrival.item.code,
                             note="" if case.category_id else "人工确定类别")
        self.plan(sim, case, at)

    def do_dispatch(self, sim: Sim, at: datetime, note: str = "") -> None:
        case = sim.case
        department = self.route(sim, case)
        if department is None:
            return  # nowhere to send it: it waits in the centre's queue
        case = self.step(sim, self.cast.centre_for(case), "dispatch", at,
                         category_code=sim.arrival.item.code, department_code=department.code,
                         note=note or "人工派遣")
        sim.planned = False
        self.plan(sim, case, at)

    def do_redispatch(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        if (sim.escalate or case.return_count >= 2) and case.level in ("community", "street"):
            sim.escalate = False
            case = self.step(sim, self.cast.centre_for(case), "escalate", at,
                             note="涉及多部门职责，提请上级统筹协调" if case.return_count < 2
                             else "多次派遣均被退回，提请上级协调确定承办部门")
            return self.plan(sim, case, at)
        again = self.route(sim, case)
        note = ("经核实属于贵单位职责，请按时办理" if again and again.pk == case.department_id
                else "已按核实后的类别改派")
        self.do_dispatch(sim, at, note=note)

    def do_respond(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        staff = self.cast.department.get(case.department_id or 0)
        if staff is None:
            return  # a department with no login: the case waits, and the scan reminds
        right = self.route(sim, case)
        wrong = right is not None and right.pk != case.department_id
        returned_here = sim.returns.get(case.department_id or 0, 0)
        coordinate = (not sim.hold and not case.return_count and case.level == "community"
                      and sim.arrival.item.name in COORDINATED and self.flow.random() < 0.6)
        if coordinate:
            # A matter no single department can settle: back to the centre,
            # which sends it up a level (see do_redispatch).
            sim.escalate = True
            sim.returns[case.department_id or 0] = returned_here + 1
            case = self.step(sim, staff, "return", at, note="涉及多个部门职责，需上级统筹协调")
        elif self.reserve(sim, "returned") or sim.hold == "returned" or (
                not sim.hold and not returned_here and (
                    (wrong and self.flow.random() < 0.85) or self.flow.random() < 0.02)):
            sim.returns[case.department_id or 0] = returned_here + 1
            case = self.step(sim, staff, "return", at, note=self.flow.choice(_RETURN_NOTES))
        else:
            case = self.step(sim, staff, "accept", at)
        self.plan(sim, case, at)

    def do_postpone(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        staff = self.cast.department[case.department_id or 0]
        due = timezone.localtime(case.handle_due or at)
        until = workcal.add_working_days(due, self.flow.randint(1, 3), self.hours)
        sim.postponed = True
        case = self.step(sim, staff, "request_postpone", at, until=until,
                         note=self.flow.choice(_POSTPONE_NOTES))
        self.plan(sim, case, at)

    def do_decide_postpone(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        centre = self.cast.centre_for(case)
        if self.flow.random() < 0.8:
            case = self.step(sim, centre, "approve_postpone", at)
        else:
            case = self.step(sim, centre, "refuse_postpone", at, note="理由不充分，请按原时限办结")
        self.plan(sim, case, at)

    def do_suspend(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        sim.paused = True
        case = self.step(sim, self.cast.centre_for(case), "suspend", at,
                         note=self.flow.choice(_SUSPEND_NOTES))
        self.plan(sim, case, at)

    def do_resume(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        case = self.step(sim, self.cast.centre_for(case), "resume", at, note="条件已具备，恢复办理")
        self.plan(sim, case, at)

    def do_supervise(self, sim: Sim, at: datetime, then: datetime) -> None:
        case = sim.case
        if case.state in rules.CLOCK_RUNS:
            self.step(sim, self.cast.centre, "supervise", at, note="临近时限仍未办结，请加快处置")
        self.push(then, "handle", sim.case_id)

    def do_handle(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        self.scan_if_due(at, case.handle_due)
        staff = self.cast.department[case.department_id or 0]
        case = self.step(sim, staff, "handle", at,
                         note=self.flow.choice(_FEEDBACK.get(sim.arrival.item.group,
                                                             ("已处置完毕",))))
        self.plan(sim, case, at)

    def do_verify(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        self.scan_if_due(at, case.verify_due)
        case = self.step(sim, self.cast.verifier(case), "verify", at, note="现场核查，问题已解决")
        self.plan(sim, case, at)

    def do_rework(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        self.scan_if_due(at, case.verify_due)
        case = self.step(sim, self.cast.verifier(case), "rework", at,
                         note=self.flow.choice(_REWORK_NOTES))
        self.plan(sim, case, at)

    def do_close(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        case = self.step(sim, self.cast.centre_for(case), "close", at)
        self.plan(sim, case, at)

    def do_rate(self, sim: Sim, at: datetime) -> None:
        case = sim.case
        rating = self.rating(case)
        comment = self.flow.choice(_COMMENTS[rating])
        if sim.reporter is not None:
            self.step(sim, sim.reporter, "rate", at, rating=rating, note=comment)
        else:
            services.rate_by_tracking_code(tracking_code=case.tracking_code, rating=rating,
                                           comment=comment, at=at)
            self.stats["step:rate"] += 1

    def rating(self, case: Case) -> int:
        weights = (3, 5, 12, 25, 55) if case.closed_on_time else (12, 18, 25, 25, 20)
        if case.rework_count:
            weights = (10, 15, 25, 25, 25)
        return self.flow.choices((1, 2, 3, 4, 5), weights=weights)[0]


# --- entry point ------------------------------------------------------------------


def read_finished(finished: set[int]) -> int:
    """Mark read what people were told about cases that are finished since:
    over weeks they would have opened those, and an inbox of thousands of
    unread dispatches hides the few that matter today. (Notifications carry
    the time they were written, which is now, not the simulated time.)"""
    mine: dict[int, list[int]] = defaultdict(list)
    for pk, recipient, key in Notification.objects.filter(
            key__startswith="case:", read_at__isnull=True).values_list("pk", "recipient_id", "key"):
        if int(key.split(":")[1]) in finished:
            mine[recipient].append(pk)
    users = User.objects.in_bulk(list(mine))
    return sum(mark_read(by=users[uid], ids=ids) for uid, ids in sorted(mine.items()))


def district_of_city() -> str:
    area = Area.objects.filter(layer_id=BASE_LAYER, level="district").order_by("code").first()
    if area is None:
        raise ValueError("库中没有区级区域，请先生成演示城市")
    return area.code


def populate_cases(*, seed: int, days: int = DAYS, per_day: int = PER_DAY,
                   end: datetime | None = None, report: Progress | None = None) -> Counter[str]:
    """Play `days` of case traffic ending at `end` (default: now) in the city's
    district; returns what happened: cases per channel, steps taken by name,
    cases per final state ("state:…"), and overdue and rated counts."""
    progress: Progress = report or (lambda stage, done, total: None)
    end = timezone.localtime(end or timezone.now())
    start = end - timedelta(days=days)
    district = district_of_city()
    started = time.perf_counter()
    first = (Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    with classifying.held():
        sim = Simulation(seed=seed, district_code=district, start=start, end=end, per_day=per_day,
                         report=progress)
        stats = sim.run()
    mine = Case.objects.filter(pk__gte=first)
    stats["notifications_read"] = read_finished(set(mine.filter(state__in=rules.FINAL)
                                                    .values_list("pk", flat=True)))
    for state, n in Counter(mine.values_list("state", flat=True)).items():
        stats[f"state:{state}"] = n
    stats["overdue"] = mine.filter(overdue=True).count()
    stats["rated"] = mine.filter(rating__isnull=False).count()
    stats["open_overdue"] = mine.filter(Q(overdue=True), state__in=rules.OPEN).count()
    stats["held"] = sum(sim.holds.values())
    stats["seconds"] = round(time.perf_counter() - started)
    return stats
