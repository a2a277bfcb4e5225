"""The demo city's grid workers at work, so the workforce pages, the map's
live layer, the task inbox and the assessment show something true.

`populate_workforce` runs after the case demo, whose grid workers it takes
(`wangge1`, `wangge2`, and `wg` + the grid code's last nine digits for the
other grids), and writes, as of `now`:

- a worker profile and primary assignment per grid, about 30 % of them party
  members; in a few grids of the first community a "1+3+N" team (Beichen's
  model): a grid police officer (`minjing1` …), two part-timers (`jianzhi1a`,
  `jianzhi1b` …) and volunteers (`zhiyuan1a` …), all with the demo password;
- a week of patrol tracks ending yesterday, two patrols each working day
  (about 07:30–09:10 and 14:30–16:10) walking among the grid's buildings. A
  fix every 15 seconds: the phone sends one every 5, but a third as many
  keeps the demo quick and changes no figure that matters. About 15 % of
  worker-days fall short (a short patrol, no afternoon round, or a long
  stretch outside the grid) and a few carry a GPS jump. The days' figures
  are derived by the workforce's own `compute_days`;
- 3–5 workers out on patrol right now, their last fix under two minutes
  old. The live layer shows fixes at most five minutes old, so these dots
  fade five minutes after the demo is generated (patrols started from the
  phone take over from there);
- 30 days of visits to the households of the groups with a visit frequency,
  and 2–3 elderly people living alone whose door stayed closed on their last
  visits, filed through `record_visit` so the closed-door alert is the
  platform's own;
- a year of monthly water-meter readings for half the houses, written as
  the water company's CSV (with its mistakes: unplaceable addresses, a reset
  meter, bad lines) with zero use and spikes planted, and imported by the
  water bureau's clerk through the proactive app's import; then every
  proactive rule runs once;
- five weeks of task history: community assignments and weekly runs of the
  date-driven rules, most done by the worker (`complete_task`), some late,
  some still open past their due time;
- this month's and last month's assessment (`compute_month`).

The same seed gives the same workforce, relative to `now`.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import numpy as np
import shapely
import shapely.ops
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from numpy.typing import NDArray
from shapely.geometry import LineString, Point, shape
from shapely.geometry.base import BaseGeometry

from wangge.accounts.models import Department, DepartmentType, Role, User, UserArea
from wangge.addresses.models import Address, AddressLevel
from wangge.areas.models import BASE_LAYER, Area
from wangge.areas.selectors import grid_index
from wangge.cases.models import CaseEvent
from wangge.core import audit
from wangge.core.coords import metres_per_degree
from wangge.core.models import Notification
from wangge.core.notify import mark_read
from wangge.core.workcal import is_workday
from wangge.demo.cases import _grid_workers, person_name
from wangge.demo.noisy import write_department_file
from wangge.demo.registry import files_dir
from wangge.proactive.engine import run_rules
from wangge.proactive.services import import_water_csv
from wangge.registry.models import House, HouseholdMember, Person, PersonTag
from wangge.workforce import services, tracks
from wangge.workforce.models import (
    Assignment,
    Duty,
    Patrol,
    PatrolDay,
    PatrolStatus,
    PointsEntry,
    Task,
    TaskKind,
    TaskStatus,
    TrackPoint,
    Visit,
    VisitOutcome,
    VisitPolicy,
    Worker,
)

Progress = Callable[[str, int, int], None]

PARTY_SHARE = 0.3
# "1+3+N" teams: one per eight grids, at most three, in the first community's grids.
MAX_TEAMS = 3
GRIDS_PER_TEAM = 8
VOLUNTEERS = (2, 3)

PATROL_DAYS = 7  # calendar days ending yesterday; only working days are patrolled
FIX_S = 15
MORNING = (7 * 60 + 30, 100)  # start (minutes after midnight), length (minutes)
AFTERNOON = (14 * 60 + 30, 100)
SHORT_SHARE = 0.15  # worker-days that miss the 一日双巡 standard, in these ways:
SHORT_PLANS = ("outside", "short", "morning_only")
JUMP_SHARE = 0.04  # patrols with one wild GPS fix
WALK_MPS = (0.9, 1.4)
GPS_NOISE_M = 4.0
EDGE_M = 12.0  # waypoints keep this far inside the grid, so GPS noise stays inside too
NEAR_M = 250.0  # open ground worth walking to lies this close to a building
RIDE_MPS = 4.0  # an e-bike, well under the 60 km/h that marks a GPS jump
LIVE = (3, 5)

VISIT_DAYS = 30
OUTCOMES = ((VisitOutcome.MET, 0.85), (VisitOutcome.NOBODY_HOME, 0.12), (VisitOutcome.REFUSED, 0.03))
CLOSED_DOORS = 3  # households planted with a closed door on their last visits

WATER_SHARE = 0.5  # houses with a water account in the company's file
WATER_MONTHS = 12
WATER_ZERO = 0.015  # occupied houses with no water use for the last 2–3 readings
WATER_SPIKE = 0.015
WATER_GARBLED = 0.01

HISTORY_WEEKS = 5
ASSIGNED_PER_WEEK = 1.2  # community assignments per grid per week
DONE_SHARE = 0.78  # of older tasks, done by the worker
LATE_SHARE = 0.15  # of those done, done after the due time


def populate_workforce(*, seed: int, now: datetime | None = None,
                       report: Progress | None = None) -> dict[str, Any]:
    """Write the demo's workforce (see the module docstring); returns counts."""
    progress: Progress = report or (lambda stage, done, total: None)
    now = timezone.localtime(now or timezone.now())
    started = time.perf_counter()
    crew = _crew(seed, now.date(), progress)
    summary: dict[str, Any] = {"workers": len(crew.workers), "primary": len(crew.primary),
                               "party_members": sum(w.party_member for w in crew.workers),
                               "team_users": crew.team_usernames}
    summary["patrols"] = _patrols(seed, crew, now, progress)
    summary["visits"] = _visits(seed, crew, now, progress)
    summary["water"] = _water(seed, now, progress)
    summary["tasks"] = _tasks(seed, crew, now, progress)
    progress("考核", 0, 2)
    this_month = now.date().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    summary["scores"] = {"this_month": services.compute_month(this_month, now=now),
                         "last_month": services.compute_month(last_month, now=now)}
    progress("考核", 2, 2)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


# --- who works where -------------------------------------------------------------


@dataclass
class Crew:
    primary: dict[str, Worker]  # grid code → its primary worker (user loaded)
    workers: list[Worker]
    team_usernames: list[str] = field(default_factory=list)

    def user_of(self, grid: str) -> User | None:
        worker = self.primary.get(grid)
        return worker.user if worker else None


def _crew(seed: int, today: date, progress: Progress) -> Crew:
    rng = random.Random(f"{seed}:workers")
    district = Area.objects.filter(layer_id=BASE_LAYER, level="district").order_by("code").first()
    if district is None:
        raise ValueError("库中没有区级区域，请先生成演示城市")
    users = {u.username: u for u in User.objects.filter(role=Role.GRID_WORKER).order_by("username")}
    # The case demo made one per grid; a city generated without it gets them here.
    by_grid = _grid_workers(district.code, users, rng)
    grids = sorted(by_grid)
    progress("网格员", 0, len(grids))
    team_grids = _team_grids(grids)
    with transaction.atomic():
        Worker.objects.bulk_create([
            Worker(user=by_grid[g], duty=Duty.FULL_TIME, party_member=rng.random() < PARTY_SHARE)
            for g in grids])
        team = _team_users(rng, team_grids)
        Worker.objects.bulk_create([Worker(user=u, duty=duty, party_member=rng.random() < PARTY_SHARE)
                                    for _, u, duty in team])
        workers = {w.user_id: w for w in Worker.objects.select_related("user")}
        since = [rng.randrange(60, 900) for _ in grids]
        Assignment.objects.bulk_create(
            [Assignment(worker=workers[by_grid[g].pk], grid_code=g, primary=True,
                        since=today - timedelta(days=d)) for g, d in zip(grids, since, strict=True)]
            + [Assignment(worker=workers[u.pk], grid_code=g, primary=False,
                          since=today - timedelta(days=rng.randrange(30, 400))) for g, u, _ in team])
        # As services.assign_grid: a grid beyond the user's own area joins their scope.
        UserArea.objects.bulk_create([UserArea(user=u, area_code=g) for g, u, _ in team if u.area_code != g],
                                     ignore_conflicts=True)
        for g in grids:
            # As assign_grid, the primary worker takes the grid's open tasks. The case
            # demo ran before there were profiles, so the verifications it finished
            # have no assignee either: they were this worker's too.
            Task.objects.filter(grid_code=g, assignee__isnull=True).exclude(
                status=TaskStatus.CANCELLED).update(assignee=by_grid[g])
        for w in sorted(workers.values(), key=lambda w: w.pk):
            audit.record(None, "create_worker", "worker", w.pk, fields=["duty", "party_member"],
                         reason="演示城市：网格员")
    progress("网格员", len(grids), len(grids))
    primary = {g: workers[by_grid[g].pk] for g in grids}
    return Crew(primary, sorted(workers.values(), key=lambda w: w.pk), [u.username for _, u, _ in team])


def _team_grids(grids: list[str]) -> list[str]:
    n = min(MAX_TEAMS, max(1, len(grids) // GRIDS_PER_TEAM))
    first_community = grids[0][:12]
    return ([g for g in grids if g.startswith(first_community)] + [g for g in grids
                                                                   if not g.startswith(first_community)])[:n]


def _team_users(rng: random.Random, team_grids: list[str]) -> list[tuple[str, User, str]]:
    """(grid, user, duty) of each "1+3+N" team: the police officer sees the
    community (and gets its closed-door alerts); part-timers are grid workers
    of the grid; volunteers are residents, so they patrol and report without
    seeing the registry."""
    from wangge.demo.generator import DEMO_PASSWORD

    police = Department.objects.filter(type=DepartmentType.POLICE).order_by("code").first()
    hashed = make_password(DEMO_PASSWORD)
    planned: list[tuple[str, User, str]] = []
    for k, grid in enumerate(team_grids, start=1):
        planned.append((grid, User(username=f"minjing{k}", role=Role.POLICE, area_code=grid[:12],
                                   department=police, password=hashed,
                                   display_name=f"网格民警 {person_name(rng)}"), Duty.POLICE))
        for suffix in "ab":
            planned.append((grid, User(username=f"jianzhi{k}{suffix}", role=Role.GRID_WORKER, area_code=grid,
                                       password=hashed, display_name=f"兼职网格员 {person_name(rng)}"),
                            Duty.PART_TIME))
        for suffix in "abc"[:rng.randint(*VOLUNTEERS)]:
            planned.append((grid, User(username=f"zhiyuan{k}{suffix}", role=Role.RESIDENT, area_code="",
                                       password=hashed, display_name=f"平安志愿者 {person_name(rng)}"),
                            Duty.VOLUNTEER))
    User.objects.bulk_create([u for _, u, _ in planned])
    saved = {u.username: u for u in User.objects.filter(username__in=[u.username for _, u, _ in planned])}
    for _, u, _ in planned:
        audit.record(None, "create_user", "user", saved[u.username].pk, fields=["role", "area_code"],
                     reason="演示城市：1+3+N 网格团队")
    return [(g, saved[u.username], duty) for g, u, duty in planned]


# --- patrols ---------------------------------------------------------------------


class Projection:
    """Local metres around the district, where walking is arithmetic."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx, self.ky = metres_per_degree(lat0)

    def to_xy(self, lon: Any, lat: Any) -> tuple[Any, Any]:
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky

    def to_lonlat(self, x: Any, y: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (np.asarray(x, dtype=np.float64) / self.kx + self.lon0,
                np.asarray(y, dtype=np.float64) / self.ky + self.lat0)


@dataclass
class Beat:
    """A grid as a walker sees it: its outline, a margin inside it, the
    buildings to walk past and open ground near them. Only the built-up part
    is patrolled: a small demo city's grids are kilometres across, mostly
    fields, and nobody patrols a field."""

    code: str
    outline: BaseGeometry
    inner: BaseGeometry
    buildings: NDArray[np.float64]  # (n, 2) metres, inside `inner`
    ground: NDArray[np.float64]  # (m, 2) inside `inner`, near the buildings

    @classmethod
    def build(cls, code: str, geometry: dict[str, Any], buildings: NDArray[np.float64], proj: Projection,
              rng: np.random.Generator) -> Beat:
        outline = shapely.transform(shape(geometry), lambda xy: np.column_stack(proj.to_xy(xy[:, 0], xy[:, 1])))
        inner = outline.buffer(-EDGE_M)
        if inner.is_empty or inner.area < 0.2 * outline.area:
            inner = outline.buffer(-2.0)
        shapely.prepare(inner)
        inside = buildings[shapely.contains_xy(inner, buildings[:, 0], buildings[:, 1])] if len(buildings) else buildings
        near = inner if len(inside) == 0 else inner.intersection(shapely.MultiPoint(inside).buffer(NEAR_M))
        if near.is_empty:
            near = inner
        shapely.prepare(near)
        x0, y0, x1, y1 = near.bounds
        pts = np.column_stack((rng.uniform(x0, x1, 2000), rng.uniform(y0, y1, 2000)))
        ground = pts[shapely.contains_xy(near, pts[:, 0], pts[:, 1])][:200]
        if len(ground) == 0:
            c = near.representative_point()
            ground = np.array([[c.x, c.y]])
        return cls(code, outline, inner, inside.reshape(-1, 2), ground)

    def start(self, rng: np.random.Generator) -> NDArray[np.float64]:
        pool = self.buildings if len(self.buildings) else self.ground
        return np.array(pool[rng.integers(len(pool))], dtype=np.float64)

    def next_stop(self, here: NDArray[np.float64], rng: np.random.Generator) -> tuple[NDArray[np.float64], bool]:
        """The nearest of a few drawn stops (a building, or open ground near
        one) that is reachable in a straight line inside the grid; (point,
        is_building). Nearest first makes rounds, not zigzags across the grid."""
        drawn = []
        for _ in range(4):
            building = len(self.buildings) > 0 and rng.random() < 0.6
            pool = self.buildings if building else self.ground
            stop = np.array(pool[rng.integers(len(pool))], dtype=np.float64)
            drawn.append((float(np.hypot(*(stop - here))), building, stop))
        for dist, building, stop in sorted(drawn, key=lambda d: d[0]):
            if dist > 1 and self.inner.contains(LineString([here, stop])):
                return stop, building
        # A concave corner: step to the nearest open ground instead.
        near = self.ground[np.argmin(np.hypot(*(self.ground - here).T))]
        return np.array(near, dtype=np.float64), False

    def outside_point(self, here: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
        """Somewhere 150–400 m beyond the nearest edge of the grid (a market,
        a friend's compound)."""
        _, edge = shapely.ops.nearest_points(Point(here), self.outline.exterior)
        away = np.array([edge.x, edge.y]) - here
        length = float(np.hypot(*away))
        if length < 1:
            angle = rng.uniform(0, 2 * math.pi)
            away, length = np.array([math.cos(angle), math.sin(angle)]), 1.0
        return np.array([edge.x, edge.y]) + away / length * rng.uniform(150, 400)


def walk(beat: Beat, start: NDArray[np.float64], n: int, rng: np.random.Generator,
         detour: tuple[int, int] | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Positions at n fixes FIX_S apart: from stop to stop at walking pace,
    a minute or three at each building's door. `detour` = (first fix, fixes):
    at that fix the worker rides an e-bike out of the grid, stays that many
    fixes, and rides back."""
    xs = np.empty(n)
    ys = np.empty(n)
    here = start.copy()
    stop, at_building = beat.next_stop(here, rng)
    walking = rng.uniform(*WALK_MPS)
    speed = walking
    wait = 0
    leg = "patrol"  # patrol → out → away → back → patrol
    for i in range(n):
        if detour is not None and i == detour[0]:
            leg, stop, speed, wait = "out", beat.outside_point(here, rng), RIDE_MPS, 0
        xs[i], ys[i] = here
        if wait > 0:
            wait -= 1
            continue
        if leg == "away":  # the stay is over
            leg, stop = "back", beat.start(rng)
        step = speed * FIX_S * rng.uniform(0.8, 1.2)
        gap = stop - here
        dist = float(np.hypot(*gap))
        if dist > step:
            here = here + gap / dist * step
            continue
        here = stop.copy()
        if leg == "out":
            leg, wait = "away", detour[1] if detour else 0
            continue
        if leg == "back":
            leg, speed = "patrol", walking
        wait = int(rng.integers(2, 13)) if at_building else 0
        stop, at_building = beat.next_stop(here, rng)
    xs += rng.normal(0, GPS_NOISE_M, n)
    ys += rng.normal(0, GPS_NOISE_M, n)
    return xs, ys


@dataclass
class Round:
    """One patrol as planned: its worker, start and fixes (metres)."""

    worker: Worker
    grid: str
    start: datetime
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    active: bool = False


def _beats(seed: int, grids: Iterable[str], proj: Projection) -> dict[str, Beat]:
    wanted = sorted(grids)
    geometry = dict(Area.objects.filter(layer_id=BASE_LAYER, level="grid", code__in=wanted)
                    .values_list("code", "geometry"))
    doors: dict[str, list[tuple[float | None, float | None]]] = defaultdict(list)
    for code, lon, lat in (Address.objects.filter(level=AddressLevel.BUILDING, grid_code__in=wanted,
                                                  lon__isnull=False, lat__isnull=False)
                           .order_by("code").values_list("grid_code", "lon", "lat")):
        doors[code].append((lon, lat))
    out = {}
    for k, code in enumerate(wanted):
        ll = np.array(doors.get(code, []), dtype=np.float64).reshape(-1, 2)
        xy = np.column_stack(proj.to_xy(ll[:, 0], ll[:, 1])) if len(ll) else ll
        outline = geometry.get(code)
        if outline:
            out[code] = Beat.build(code, outline, xy, proj, np.random.default_rng([seed, 43, k]))
    return out


def _plan_rounds(seed: int, crew: Crew, beats: dict[str, Beat], now: datetime) -> tuple[list[Round], Counter[str]]:
    """Every patrol of the week, and how each worker-day was meant to go."""
    rng = np.random.default_rng([seed, 41])
    tz = timezone.get_current_timezone()
    today = now.date()
    week = [today - timedelta(days=k) for k in range(PATROL_DAYS, 0, -1)]
    days = [d for d in week if is_workday(d)]
    if len(days) < 3:  # a holiday week (春节, 国庆): grids are patrolled on a duty roster every day
        days = week
    slots = [(day, grid) for day in days for grid in sorted(crew.primary) if grid in beats]
    # Drawn as shares of the week, not coin by coin, so even a four-grid test
    # city gets every way of falling short, and a GPS jump or two.
    short = rng.choice(len(slots), size=min(len(slots), max(3, round(SHORT_SHARE * len(slots)))), replace=False)
    plan_of = {int(k): SHORT_PLANS[i % len(SHORT_PLANS)] for i, k in enumerate(short)}
    jumps = set(rng.choice(len(slots), size=min(len(slots), max(2, round(JUMP_SHARE * 2 * len(slots)))),
                           replace=False).tolist())
    rounds: list[Round] = []
    plans: Counter[str] = Counter()
    for k, (day, grid) in enumerate(slots):
        beat, worker = beats[grid], crew.primary[grid]
        plan = plan_of.get(k, "ok")
        plans[plan] += 1
        here = beat.start(rng)
        for which, (start_min, length) in (("morning", MORNING), ("afternoon", AFTERNOON)):
            if plan == "morning_only" and which == "afternoon":
                continue
            minutes = length + rng.uniform(-4, 8)
            if plan == "short" and which == "morning":
                minutes = rng.uniform(45, 75)
            n = int(minutes * 60 / FIX_S)
            detour = None
            if plan == "outside" and which == "afternoon":
                detour = (int(rng.integers(n // 5, n // 3)), int(rng.uniform(34, 48) * 60 / FIX_S))
            x, y = walk(beat, here, n, rng, detour)
            begin = datetime.combine(day, clock(0), tzinfo=tz) + timedelta(minutes=start_min + rng.uniform(-10, 10))
            r = Round(worker, grid, begin, x, y)
            if k in jumps and which == "morning":
                _jump(r, rng)
            rounds.append(r)
            here = np.array([x[-1], y[-1]])
    return rounds, plans


def _jump(r: Round, rng: np.random.Generator) -> None:
    """One fix kilometres away: the phone's GPS lost, then found, itself."""
    i = int(rng.integers(len(r.x) // 4, 3 * len(r.x) // 4))
    angle = rng.uniform(0, 2 * math.pi)
    reach = rng.uniform(1500, 4000)
    r.x[i] += reach * math.cos(angle)
    r.y[i] += reach * math.sin(angle)


def _live_rounds(seed: int, crew: Crew, beats: dict[str, Beat], now: datetime) -> list[Round]:
    """Workers out right now: a patrol started half an hour or so ago whose last
    fix is a few seconds to two minutes old."""
    rng = np.random.default_rng([seed, 47])
    grids = [g for g in sorted(crew.primary) if g in beats]
    if not grids:
        return []
    chosen = rng.choice(len(grids), size=min(len(grids), int(rng.integers(LIVE[0], LIVE[1] + 1))), replace=False)
    out = []
    for k in sorted(chosen.tolist()):
        grid = grids[k]
        last = now - timedelta(seconds=float(rng.uniform(5, 100)))
        n = int(rng.uniform(15, 50) * 60 / FIX_S)
        beat = beats[grid]
        x, y = walk(beat, beat.start(rng), n, rng)
        out.append(Round(crew.primary[grid], grid, last - timedelta(seconds=FIX_S * (n - 1)), x, y, active=True))
    return out


def _patrols(seed: int, crew: Crew, now: datetime, progress: Progress) -> dict[str, Any]:
    if not crew.primary:
        return {}
    lon0, lat0 = Area.objects.filter(layer_id=BASE_LAYER, level="district").values_list(
        "centroid_lon", "centroid_lat").first() or (None, None)
    proj = Projection(lon0 or 117.4, lat0 or 39.1)
    beats = _beats(seed, crew.primary, proj)
    rounds, plans = _plan_rounds(seed, crew, beats, now)
    live = _live_rounds(seed, crew, beats, now)
    everything = rounds + live
    total = len(everything)
    progress("巡查轨迹", 0, total)
    sizes = np.array([len(r.x) for r in everything])
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    x = np.concatenate([r.x for r in everything])
    y = np.concatenate([r.y for r in everything])
    lon, lat = proj.to_lonlat(x, y)
    t = np.concatenate([r.start.timestamp() + FIX_S * np.arange(len(r.x)) for r in everything])
    # Located the way add_points locates: one vectorised pass over every fix.
    index = grid_index()
    found = index.locate_many(lon, lat, layers=[BASE_LAYER], with_nearest=False).hits[BASE_LAYER]
    codes = np.array([*index.layers[BASE_LAYER].codes, ""])  # -1 (outside) picks the trailing ""
    grid = codes[found]
    accuracy = np.round(np.random.default_rng([seed, 53]).uniform(3, 18, len(t)), 1)
    schedules = {g: services.schedule_for(g) for g in sorted(crew.primary)}
    buildings = {g: services.buildings_of([g]) for g in sorted(crew.primary)}
    patrols = []
    for k, r in enumerate(everything):
        lo, hi = bounds[k], bounds[k + 1]
        patrol = Patrol(worker=r.worker, started_at=_utc(t[lo]) - timedelta(seconds=float(FIX_S)),
                        status=PatrolStatus.ACTIVE if r.active else PatrolStatus.ENDED,
                        ended_at=None if r.active else _utc(t[hi - 1]) + timedelta(seconds=float(FIX_S)),
                        points=int(hi - lo))
        if not r.active:
            # What stop_patrol measures, from the same pure functions, without
            # reading back the fixes just written.
            schedule = schedules[r.grid]
            distance, inside_s, flags = tracks.interval_metrics(t[lo:hi], lon[lo:hi], lat[lo:hi],
                                                                grid[lo:hi] == r.grid, schedule)
            patrol.distance_m, patrol.inside_s = round(distance, 1), round(inside_s, 1)
            patrol.coverage = tracks.coverage(lon[lo:hi], lat[lo:hi], *buildings[r.grid], schedule.coverage_m)
            patrol.flags = [f.as_dict() for f in flags]
        patrols.append(patrol)
    with transaction.atomic():
        Patrol.objects.bulk_create(patrols, batch_size=500)
        owner = np.repeat(np.array([p.pk for p in patrols], dtype=np.int64), sizes)
        for start in range(0, len(t), 20000):
            _insert_fixes(owner, t, lon, lat, accuracy, grid, slice(start, start + 20000))
            progress("巡查轨迹", int(np.searchsorted(bounds, start + 20000, side="right")) - 1, total)
        last: dict[int, int] = {}  # worker → their latest fix: the map's dot
        for k, r in enumerate(everything):
            i = int(bounds[k + 1] - 1)
            if r.worker.pk not in last or t[i] > t[last[r.worker.pk]]:
                last[r.worker.pk] = i
        for worker_id, i in last.items():
            Worker.objects.filter(pk=worker_id).update(last_at=_utc(t[i]), last_lon=float(lon[i]),
                                                       last_lat=float(lat[i]), last_grid_code=str(grid[i]))
        audit.record(None, "demo_patrols", "patrol", "", fields=["track"],
                     reason=f"演示城市：{len(patrols)} 次巡查，{len(t)} 个轨迹点")
    progress("巡查轨迹", total, total)
    days = sorted({r.start.date() for r in rounds})
    for i, day in enumerate(days):
        progress("每日巡查统计", i, len(days))
        services.compute_days(day)
    progress("每日巡查统计", len(days), len(days))
    computed = PatrolDay.objects.filter(day__in=days)
    return {"patrols": len(rounds), "points": int(bounds[len(rounds)]), "live": len(live),
            "days": computed.count(), "compliant_days": computed.filter(compliant=True).count(),
            "planned": dict(sorted(plans.items())),
            "speed_flags": sum(1 for p in patrols if any(f["kind"] == "speed" for f in p.flags)),
            "outside_flags": sum(1 for p in patrols if any(f["kind"] == "outside" for f in p.flags))}


def _insert_fixes(owner: NDArray[np.int64], t: NDArray[np.float64], lon: NDArray[np.float64],
                  lat: NDArray[np.float64], accuracy: NDArray[np.float64], grid: NDArray[np.str_], part: slice) -> None:
    """TrackPoint rows straight through the cursor: at a hundred thousand
    fixes the ORM's per-value preparation costs more than the whole walk."""
    meta = TrackPoint._meta
    q = connection.ops.quote_name
    column = {f.name: str(f.column) for f in meta.concrete_fields}
    columns = [column[f] for f in ("patrol", "at", "lon", "lat", "accuracy_m", "grid_code")]
    # Identifiers are quoted model metadata; every value goes as a parameter.
    sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    at = connection.ops.adapt_datetimefield_value
    rows = [(int(o), at(_utc(e)), float(x), float(y), float(a), str(g)) for o, e, x, y, a, g in zip(
        owner[part].tolist(), t[part].tolist(), lon[part].tolist(), lat[part].tolist(), accuracy[part].tolist(),
        grid[part].tolist(), strict=True)]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), tz=UTC)


# --- visits ----------------------------------------------------------------------

_NOTES: dict[str, tuple[str, ...]] = {
    VisitOutcome.MET: ("老人身体状况良好，生活能自理", "了解近期需求，已告知社区助餐服务", "提醒注意用电用气安全",
                       "已帮助预约家庭医生上门随访", "家中整洁，情绪稳定", "询问药品是否充足，已登记需求",
                       "告知高温天气注意防暑", "核实家庭成员联系方式无变化"),
    VisitOutcome.NOBODY_HOME: ("敲门无人应答，已电话联系家属", "无人在家，门上留了联系卡", "敲门无人应答，邻居称外出"),
    VisitOutcome.REFUSED: ("住户表示不需要走访，已做好解释", "住户不便接待，约定改日再访"),
}


@dataclass(frozen=True)
class ToVisit:
    household_id: int
    grid_code: str
    person_id: int
    every_days: int
    alert_after: int | None
    alone: bool
    elderly_alone: bool


def _households_to_visit() -> list[ToVisit]:
    policies = {p.tag: p for p in VisitPolicy.objects.all()}
    tagged: dict[int, list[str]] = defaultdict(list)
    for person_id, tag in PersonTag.objects.filter(tag__in=list(policies)).values_list("person_id", "tag"):
        tagged[person_id].append(tag)
    members: dict[int, list[int]] = defaultdict(list)
    grid_of: dict[int, str] = {}
    rows = (HouseholdMember.objects.filter(household__members__person_id__in=list(tagged))
            .exclude(household__grid_code="").distinct().order_by("household_id", "person_id")
            .values_list("household_id", "person_id", "household__grid_code"))
    for household_id, person_id, grid in rows:
        members[household_id].append(person_id)
        grid_of[household_id] = grid
    out = []
    for household_id, people in sorted(members.items()):
        tags = [(tag, pid) for pid in people for tag in tagged.get(pid, ())]
        if not tags:
            continue
        shortest = min(tags, key=lambda tp: (policies[tp[0]].every_days, tp[0]))
        alerts = [n for t, _ in tags if (n := policies[t].closed_door_alert)]
        out.append(ToVisit(household_id, grid_of[household_id], shortest[1], policies[shortest[0]].every_days,
                           min(alerts) if alerts else None, len(people) == 1,
                           any(t == "elderly_alone" for t, _ in tags)))
    return out


def _visit_time(rng: random.Random, day: date) -> datetime:
    tz = timezone.get_current_timezone()
    minute = rng.choice((rng.randint(9 * 60, 11 * 60 + 30), rng.randint(14 * 60 + 30, 17 * 60)))
    return datetime.combine(day, clock(minute // 60, minute % 60, rng.randint(0, 59)), tzinfo=tz)


def _deal(rng: random.Random, n: int, shares: Sequence[tuple[str, float]]) -> list[str]:
    """n values in these shares, shuffled: dealt rather than drawn one by one,
    so a small city still gets each (every value but the first at least once)."""
    rest = [(value, max(1, round(share * n))) for value, share in shares[1:]]
    out = [shares[0][0]] * max(0, n - sum(k for _, k in rest)) + [v for v, k in rest for _ in range(k)]
    rng.shuffle(out)
    return out[:n]


def _visits(seed: int, crew: Crew, now: datetime, progress: Progress) -> dict[str, Any]:
    rng = random.Random(f"{seed}:visits")
    households = [h for h in _households_to_visit() if h.grid_code in crew.primary]
    planted = _closed_door_households(rng, households)
    progress("走访", 0, len(households))
    today = now.date()
    slots: list[tuple[ToVisit, datetime]] = []
    for h in households:
        if h.household_id in planted:  # seen well before their door stayed shut
            slots.append((h, _visit_time(rng, today - timedelta(days=rng.randint(9, 12)))))
            continue
        slots += [(h, at) for day in _visit_days(rng, h.every_days, today) if (at := _visit_time(rng, day)) < now]
    dealt = iter(_deal(rng, len(slots), OUTCOMES))
    rows: list[Visit] = []
    streak: Counter[int] = Counter()
    for h, at in slots:
        outcome = next(dealt)
        # The platform alerts on N closed doors in a row; the bulk history
        # stays under that, so every alert in the demo is one it raised.
        if h.household_id in planted or (outcome == VisitOutcome.NOBODY_HOME and h.alert_after
                                         and streak[h.household_id] + 1 >= h.alert_after):
            outcome = VisitOutcome.MET
        streak[h.household_id] = streak[h.household_id] + 1 if outcome == VisitOutcome.NOBODY_HOME else 0
        rows.append(Visit(worker=crew.primary[h.grid_code], household_id=h.household_id, person_id=h.person_id,
                          at=at, grid_code=h.grid_code, outcome=outcome, notes=rng.choice(_NOTES[outcome])))
    with transaction.atomic():
        Visit.objects.bulk_create(rows, batch_size=2000)
        party = {w.pk for w in crew.workers if w.party_member}
        PointsEntry.objects.bulk_create(
            [PointsEntry(worker_id=v.worker_id, at=v.at, points=services.POINTS["visit"], reason="入户走访",
                         ref=f"visit:{v.pk}") for v in rows
             if v.worker_id in party and v.outcome == VisitOutcome.MET and v.pk],
            batch_size=2000, ignore_conflicts=True)
        audit.record(None, "demo_visits", "registry.Household", "", fields=["outcome"],
                     reason=f"演示城市：近 {VISIT_DAYS} 天走访 {len(rows)} 次")
    progress("走访", len(households), len(households))
    alerts_before = Notification.objects.filter(key__startswith="closed-door:").count()
    filed = _closed_doors(rng, crew, [h for h in households if h.household_id in planted], now)
    outcomes = Counter(Visit.objects.values_list("outcome", flat=True))
    return {"households": len(households), "visits": sum(outcomes.values()), **dict(sorted(outcomes.items())),
            "closed_door_households": len(planted), "closed_door_visits": filed,
            "closed_door_notifications": Notification.objects.filter(key__startswith="closed-door:").count()
            - alerts_before,
            "closed_door_tasks": Task.objects.filter(source="workforce.closed_door").count()}


def _visit_days(rng: random.Random, every: int, today: date) -> list[date]:
    """Visit days over the last VISIT_DAYS: about every `every` days, on working
    days, with a worker who now and then falls behind."""
    if every >= VISIT_DAYS and rng.random() > 0.8:
        return []
    days: list[date] = []
    back = rng.uniform(0, min(every, VISIT_DAYS))
    while back < VISIT_DAYS:
        day = today - timedelta(days=int(back))
        while not is_workday(day) and day > today - timedelta(days=VISIT_DAYS):
            day -= timedelta(days=1)
        if not days or day != days[-1]:
            days.append(day)
        back += max(1.0, every * rng.uniform(0.8, 1.4 if rng.random() < 0.8 else 2.2))
    return sorted(days)


def _closed_door_households(rng: random.Random, households: list[ToVisit]) -> set[int]:
    """Elderly people living alone, where community staff or a police officer
    would hear of the alert (the first street has both)."""
    watched = {u.area_code for u in User.objects.filter(role__in=(Role.COMMUNITY_STAFF, Role.POLICE),
                                                        is_active=True) if u.area_code}

    def heard(grid: str) -> bool:
        return any(grid[:n] in watched for n in (6, 9, 12, 15))

    alone = [h for h in households if h.elderly_alone and h.alert_after and heard(h.grid_code)]
    best = [h for h in alone if h.alone] or alone
    return {h.household_id for h in rng.sample(best, min(CLOSED_DOORS, len(best)))}


def _closed_doors(rng: random.Random, crew: Crew, households: list[ToVisit], now: datetime) -> int:
    """The last visits of each planted household, filed as the worker files them
    (record_visit accepts visits at most three days late)."""
    filed = 0
    for k, h in enumerate(households):
        user = crew.user_of(h.grid_code)
        if user is None or not h.alert_after:
            continue
        knocks = h.alert_after + (1 if k == 0 else 0)
        for j in range(knocks):
            hours_ago = (knocks - j) * 22 + rng.uniform(0, 4)
            services.record_visit(by=user, visit=services.VisitIn(
                household_id=h.household_id, person_id=h.person_id, outcome=VisitOutcome.NOBODY_HOME,
                notes=rng.choice(_NOTES[VisitOutcome.NOBODY_HOME]), at=now - timedelta(hours=hours_ago)))
            filed += 1
    return filed


# --- water -----------------------------------------------------------------------


WATER_HEADERS = ("用户号", "用水地址", "抄表日期", "本期表底数", "本期用水量")


def _water(seed: int, now: datetime, progress: Progress) -> dict[str, Any]:
    """The water company's file, imported by the water bureau's clerk through
    the import page's own service (it queues the water rules for the worker;
    the demo runs every rule itself afterwards)."""
    clerk = (User.objects.filter(role=Role.DEPARTMENT_STAFF, department__type=DepartmentType.WATER)
             .order_by("username").first()
             or User.objects.filter(role=Role.DISTRICT_STAFF).order_by("username").first())
    progress("用水数据", 0, 2)
    rows, planted = water_rows(seed, now.date(), _houses_for_water())
    path = files_dir() / "water-自来水公司抄表.csv"
    write_department_file(path, WATER_HEADERS, rows, encoding="gb18030")
    progress("用水数据", 1, 2)
    imp = import_water_csv(by=clerk, file_name=path.name, data=path.read_bytes())
    progress("用水数据", 2, 2)
    return {"file": path.name, "rows": len(rows), **planted, "rows_ok": imp.rows_ok, "rows_bad": imp.rows_bad,
            "rows_unmatched": imp.rows_unmatched, "accounts_unplaced": len(imp.unmatched)}


@dataclass(frozen=True)
class HouseForWater:
    house_id: int
    full_name: str
    use: str
    residents: int


def _houses_for_water() -> list[HouseForWater]:
    living = dict(Person.objects.exclude(address__isnull=True).values("address_id")
                  .annotate(n=Count("pk")).values_list("address_id", "n"))
    return [HouseForWater(pk, full, use, living.get(address_id, 0)) for pk, address_id, full, use in
            House.objects.order_by("pk").values_list("pk", "address_id", "address__full_name", "use")]


def water_rows(seed: int, today: date, houses: Sequence[HouseForWater]
               ) -> tuple[list[list[str]], dict[str, int]]:
    """The water company's export: WATER_MONTHS monthly readings per account,
    oldest first, for a share of the houses; planted zero use, spikes, garbled
    addresses and malformed lines. Returns (rows, what was planted)."""
    rng = random.Random(f"{seed}:water")
    np_rng = np.random.default_rng([seed, 59])
    last_read = today.replace(day=20) if today.day >= 21 else (today.replace(day=1) - timedelta(days=1)).replace(day=20)
    months = [_month_back(last_read, k) for k in range(WATER_MONTHS - 1, -1, -1)]
    chosen = [h for h in houses if rng.random() < WATER_SHARE]
    occupied = [h for h in chosen if h.residents > 0 and h.use != "vacant"]
    zero = set(h.house_id for h in rng.sample(occupied, min(len(occupied), max(3, round(WATER_ZERO * len(occupied))))))
    rest = [h for h in occupied if h.house_id not in zero]
    spike = set(h.house_id for h in rng.sample(rest, min(len(rest), max(3, round(WATER_SPIKE * len(occupied))))))
    garbled = set(h.house_id for h in rng.sample(chosen, min(len(chosen), max(3, round(WATER_GARBLED * len(chosen))))))
    reset = next((h.house_id for h in rest if h.house_id not in spike), None)
    rows: list[list[str]] = []
    for n, h in enumerate(chosen):
        account = f"3101{n + 1:07d}"
        address = _garble(rng, h.full_name) if h.house_id in garbled else _company_spelling(rng, h.full_name)
        daily = _daily_use(h, np_rng)
        meter = round(float(np_rng.uniform(50, 2500)), 1)
        zero_from = WATER_MONTHS - rng.choice((2, 3))
        for k, day in enumerate(months):
            if k and h.house_id == reset and k == WATER_MONTHS // 2:
                meter = 0.0  # a new meter starts from zero
            season = 1.0 + 0.18 * math.sin((day.month - 4) / 12 * 2 * math.pi)
            use = 0.0 if k == 0 else max(0.0, daily * 30 * season * float(np_rng.normal(1, 0.08)))
            if h.house_id in zero and k >= zero_from:
                use = 0.0
            if h.house_id in spike and k == WATER_MONTHS - 1:
                use *= rng.uniform(4, 7)
            use = round(use, 1)
            meter = round(meter + use, 1)
            shown = "" if rng.random() < 0.25 or k == 0 or (h.house_id == reset and k == WATER_MONTHS // 2) else f"{use:g}"
            rows.append([account, address, _company_date(rng, day), f"{meter:g}", shown])
    rows += _malformed(rng, months[-1], len(chosen))
    return rows, {"accounts": len(chosen), "planted_zero": len(zero), "planted_spike": len(spike),
                  "planted_garbled": len(garbled), "planted_malformed": 6}


def _month_back(day: date, k: int) -> date:
    month = day.month - k
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 20)


def _daily_use(h: HouseForWater, rng: np.random.Generator) -> float:
    """Tonnes a day: about 0.1 a resident; a trickle for a vacant flat."""
    if h.use == "vacant" or h.residents == 0:
        return float(rng.choice([0.0, 0.0, rng.uniform(0.002, 0.01)]))
    if h.use == "business":
        return float(rng.uniform(0.4, 1.5))
    return float(h.residents * rng.uniform(0.08, 0.13))


def _company_spelling(rng: random.Random, full_name: str) -> str:
    """The water company's own way of writing the standard address."""
    text = full_name
    if rng.random() < 0.5:
        text = text.removeprefix("东丽区")
    if rng.random() < 0.2:
        text = text.replace("号楼", "栋")
    if rng.random() < 0.15:
        text = text.removesuffix("室")
    return text


def _garble(rng: random.Random, full_name: str) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        return f"东丽区{rng.choice(('新立', '金钟', '华明'))}村{rng.randint(200, 999)}号平房"
    if choice == 1:
        return full_name[: max(6, len(full_name) // 3)]  # cut short by an old system's field width
    return ""


def _company_date(rng: random.Random, day: date) -> str:
    return rng.choice((f"{day:%Y-%m-%d}", f"{day:%Y/%m/%d}", f"{day:%Y%m%d}", f"{day.year}/{day.month}/{day.day}"))


def _malformed(rng: random.Random, last: date, n_accounts: int) -> list[list[str]]:
    """A few lines any clerk would recognise: each must come back as an error."""
    some = f"3101{rng.randint(1, max(1, n_accounts)):07d}"
    return [
        [some, "", f"{last.year}-02-30", "1234.5", ""],
        [some, "", f"{last:%Y-%m-%d}", "抄表异常", ""],
        ["", "东丽区张贵庄街道", f"{last:%Y-%m-%d}", "88", "3"],
        ["3.10100E+10", "", f"{last:%Y-%m-%d}", "521", "6"],
        [f"3109{rng.randint(1, 9999999):07d}", "", f"{last:%Y-%m-%d}", "", "-4"],
        [f"3109{rng.randint(1, 9999999):07d}", "", f"{last + timedelta(days=40):%Y-%m-%d}", "100", "5"],
    ]


# --- tasks -----------------------------------------------------------------------

# Community assignments (交办): (source, subject type, title, result when done)
ASSIGNED: tuple[tuple[str, str, str, str], ...] = (
    ("community.corridor_check", "building", "楼道堆物及电动车充电隐患排查", "已逐单元排查，清理楼道堆物，劝离违规充电"),
    ("community.gas_safety", "building", "燃气安全入户宣传", "已入户发放燃气安全告知书，提醒更换老化软管"),
    ("community.flood_leaflets", "building", "汛期安全宣传单发放", "已张贴并发放汛期安全宣传单"),
    ("community.fraud_warning", "building", "反电信诈骗宣传进楼栋", "已在单元门张贴宣传海报，向老人当面讲解"),
    ("community.rental_check", "building", "出租房屋登记信息核查", "已核查出租房屋及承租人信息，更新登记"),
    ("community.vaccination", "building", "通知老年人接种疫苗", "已逐户通知，登记接种意愿"),
)
RULE_RESULTS = {
    "proactive.elderly_card": ("已电话告知本人，指导其线上申请老年人优待证", "已上门告知，家属代为办理",
                               "本人已知晓，表示近期到社区服务站办理"),
    "proactive.tenancy_ending": ("已核实续租，更新租约登记", "承租人已更换，已登记新承租人信息",
                                 "房屋已收回自住，已更新房屋用途"),
}
HISTORY_RULES = ("elderly_card", "tenancy_ending")  # their inputs do not depend on later events


def _tasks(seed: int, crew: Crew, now: datetime, progress: Progress) -> dict[str, Any]:
    rng = random.Random(f"{seed}:tasks")
    _date_case_verifications()
    progress("任务", 0, HISTORY_WEEKS + 2)
    done_by_us = _assigned(rng, crew, now)
    progress("任务", 1, HISTORY_WEEKS + 2)
    for week in range(HISTORY_WEEKS, 0, -1):
        # A weekly run of the rules whose inputs are dates (birthdays, tenancy
        # ends), as of that morning; the worker works off what it raised.
        at = _at(now.date() - timedelta(days=7 * week), 6, 0)
        first = (Task.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        wall = timezone.now()
        run_rules(at, HISTORY_RULES)
        _backdate_run(first, wall, at)
        done_by_us += _work_off(rng, Task.objects.filter(pk__gte=first, status=TaskStatus.OPEN),
                                min(now, at + timedelta(days=7)), now)
        progress("任务", HISTORY_WEEKS - week + 2, HISTORY_WEEKS + 2)
    runs = run_rules(now)
    progress("任务", HISTORY_WEEKS + 2, HISTORY_WEEKS + 2)
    tasks = Task.objects.all()
    return {
        "rule_runs": len(runs),
        "rule_matched": sum(r.matched for r in runs),
        "rule_opened": sum(r.opened for r in runs),
        "rule_errors": [f"{r.rule.code}: {r.error}" for r in runs if r.error],
        "completed": done_by_us,
        "open": tasks.filter(status=TaskStatus.OPEN).count(),
        "overdue": tasks.filter(status=TaskStatus.OPEN, due_at__lt=now).count(),
        "done": tasks.filter(status=TaskStatus.DONE).count(),
        "cancelled": tasks.filter(status=TaskStatus.CANCELLED).count(),
        "by_kind": dict(sorted(Counter(tasks.values_list("kind", flat=True)).items())),
    }


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, clock(hour, minute), tzinfo=timezone.get_current_timezone())


def _backdate_run(first: int, wall: datetime, at: datetime) -> None:
    """A past run's tasks carry the run's time, not the generator's clock; so
    do the tasks it cancelled (close_obsolete stamps the real clock). Its "new
    tasks" messages were read weeks ago, as the case demo's are (read_finished)."""
    Task.objects.filter(pk__gte=first).update(created_at=at)
    Task.objects.filter(status=TaskStatus.CANCELLED, done_at__gte=wall).update(done_at=at)
    told: dict[int, list[int]] = defaultdict(list)
    for pk, recipient in Notification.objects.filter(key__startswith="proactive:", created_at__gte=wall,
                                                     read_at__isnull=True).values_list("pk", "recipient_id"):
        told[recipient].append(pk)
    users = User.objects.in_bulk(list(told))
    for user_id, ids in sorted(told.items()):
        mark_read(by=users[user_id], ids=ids)


def _assigned(rng: random.Random, crew: Crew, now: datetime) -> int:
    """Five weeks of community assignments to each grid's buildings."""
    buildings: dict[str, list[int]] = defaultdict(list)
    for pk, grid in (Address.objects.filter(level=AddressLevel.BUILDING, grid_code__in=list(crew.primary))
                     .order_by("pk").values_list("pk", "grid_code")):
        buildings[grid].append(pk)
    specs: list[tuple[services.TaskSpec, datetime]] = []
    start = now.date() - timedelta(days=7 * HISTORY_WEEKS)
    for grid in sorted(crew.primary):
        if not buildings[grid]:
            continue
        n = max(1, round(rng.gauss(ASSIGNED_PER_WEEK * HISTORY_WEEKS, 1.5)))
        for _ in range(n):
            source, subject_type, title, _done = rng.choice(ASSIGNED)
            day = start + timedelta(days=rng.randrange(7 * HISTORY_WEEKS))
            while not is_workday(day):
                day += timedelta(days=1)
            at = _at(day, rng.randint(8, 10), rng.randrange(60))
            if at >= now:
                continue
            building = rng.choice(buildings[grid])
            specs.append((services.TaskSpec(
                kind=TaskKind.ASSIGNED, source=source, subject_type=subject_type, subject_id=str(building),
                title=title, reason=f"社区交办：{title}，请在期限内完成并反馈", grid_code=grid,
                due_at=at + timedelta(days=rng.choice((3, 5, 7)))), at))
    specs.sort(key=lambda s: s[1])
    first = (Task.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
    services.raise_tasks([s for s, _ in specs], notify_assignees=False)
    made = {(t.source, t.subject_id, t.due_at): t for t in Task.objects.filter(pk__gte=first)}
    for spec, at in specs:
        task = made.get((spec.source, spec.subject_id, spec.due_at))
        if task is not None:
            task.created_at = at
    Task.objects.bulk_update(list(made.values()), ["created_at"], batch_size=500)
    return _work_off(rng, Task.objects.filter(pk__gte=first, status=TaskStatus.OPEN), now, now)


def _work_off(rng: random.Random, tasks: Any, before: datetime, now: datetime) -> int:
    """The assignee does most tasks (through complete_task), mostly on time;
    the rest stay open, and those past their due time are overdue. The done
    time is set back to when the worker did it: complete_task stamps the
    clock of the generator, which replays weeks in one go."""
    results = dict(RULE_RESULTS) | {source: (text,) for source, _, _, text in ASSIGNED}
    mine = [t for t in tasks.select_related("assignee").order_by("pk") if t.assignee is not None]
    # Dealt, not drawn, as the visits' outcomes are.
    done = rng.sample(mine, round(DONE_SHARE * len(mine)))
    late = {t.pk for t in rng.sample(done, round(LATE_SHARE * len(done)))}
    stamped: list[Task] = []
    for task in sorted(done, key=lambda t: t.pk):
        created = timezone.localtime(task.created_at)
        if task.pk in late:
            at = task.due_at + timedelta(hours=rng.uniform(4, 96))
        else:
            at = created + (task.due_at - created) * rng.uniform(0.1, 0.95)
        at = min(at, before - timedelta(minutes=5), now - timedelta(minutes=5))
        if at <= created:
            continue
        services.complete_task(task_id=task.pk, by=task.assignee,
                               result=rng.choice(results.get(task.source, ("已办理完毕",))))
        task.done_at = at
        stamped.append(task)
    Task.objects.bulk_update(stamped, ["done_at"], batch_size=500)
    return len(stamped)


def _date_case_verifications() -> None:
    """The case demo replays 90 days with the steps' own times, but the
    workforce closes a verification task with the real clock (finish_tasks has
    no time); set each one back to the case step that closed it, and its
    start to the handling that raised it, so "on time" means what it says."""
    tasks = list(Task.objects.filter(source=services.CASE_VERIFY_SOURCE).order_by("pk"))
    if not tasks:
        return
    case_ids = sorted({int(t.subject_id) for t in tasks})
    raised: dict[int, list[datetime]] = defaultdict(list)
    closed: dict[int, list[datetime]] = defaultdict(list)
    for part in range(0, len(case_ids), 1000):
        for case_id, action, at in (CaseEvent.objects.filter(case_id__in=case_ids[part:part + 1000])
                                    .filter(Q(action="handle") | Q(action__in=("verify", "rework", "close", "cancel")))
                                    .order_by("case_id", "at", "pk").values_list("case_id", "action", "at")):
            (raised if action == "handle" else closed)[case_id].append(at)
    seen: Counter[int] = Counter()
    for task in tasks:
        case_id = int(task.subject_id)
        k = seen[case_id]
        seen[case_id] += 1
        if k < len(raised[case_id]):
            task.created_at = raised[case_id][k]
        ends = [at for at in closed[case_id] if at >= task.created_at]
        if task.status != TaskStatus.OPEN and ends:
            task.done_at = ends[0]
    Task.objects.bulk_update(tasks, ["created_at", "done_at"], batch_size=500)
