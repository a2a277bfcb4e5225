"""The proactive rules as pure functions: plain rows and numpy arrays in,
matches out, each with the sentence that tells the grid worker why.

No Django here (STYLE.md): `engine` loads what a rule needs set-wise and turns
matches into tasks; the tests and the benchmark's anchor call these directly.
Days in the water arrays are integers counted from 1970-01-01.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from wangge.core.identity import IdentityError, parse_id_number
from wangge.registry import vocab

EPOCH = date(1970, 1, 1)
# Use at or below this (tonnes) counts as none: meters report to 0.01 at best.
ZERO_USE = 1e-6
# Periods shown to the worker in a water task's evidence.
EVIDENCE_PERIODS = 12


# --- the catalogue ------------------------------------------------------------


class ParamError(ValueError):
    """A rule parameter an administrator set out of range; the message says which."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    label: str
    default: float
    lo: float
    hi: float
    integer: bool = True

    def check(self, value: object) -> float:
        number: float
        if isinstance(value, bool) or not isinstance(value, int | float):
            number = math.nan
        else:
            number = float(value)
        whole = not self.integer or number.is_integer()
        if not (math.isfinite(number) and whole and self.lo <= number <= self.hi):
            kind = "整数" if self.integer else "数"
            raise ParamError(f"参数 {self.name}（{self.label}）应为 {self.lo:g} 到 {self.hi:g} 之间的{kind}，"
                             f"现为 {value!r}")
        return int(number) if self.integer else number


@dataclass(frozen=True)
class RuleDef:
    code: str
    name: str
    title: str  # the task's title, before "：" and who it is about
    kind: str  # workforce TaskKind
    subject_type: str
    description: str
    params: tuple[ParamSpec, ...]
    every_minutes: int = 60

    @property
    def source(self) -> str:
        return f"proactive.{self.code}"

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}


def _common(due: int, cooldown: int) -> tuple[ParamSpec, ...]:
    return (ParamSpec("due_days", "办理期限（天）", due, 1, 90),
            ParamSpec("cooldown_days", "任务办结后多少天内不再提醒", cooldown, 0, 365))


_WATER_WINDOW = (ParamSpec("history_days", "读取多少天内的抄表记录", 400, 60, 1100),
                 ParamSpec("recent_days", "最近一次抄表须在多少天内", 92, 1, 400))

CATALOGUE: dict[str, RuleDef] = {r.code: r for r in (
    RuleDef("elderly_card", "年满60周岁未办老年人优待证", "老年人优待证办理提醒", "rule", "person",
            "出生日期取自身份证号（无有效身份证号时取登记的出生日期），在提醒窗口内年满规定年龄、"
            "且没有老年人优待证记录的人员，提醒网格员告知本人申请办理。",
            (ParamSpec("age", "年龄", 60, 1, 120), ParamSpec("days_ahead", "提前多少天提醒", 30, 0, 366),
             ParamSpec("days_after", "满龄后多少天内仍提醒", 30, 0, 366), *_common(7, 30)), 1440),
    RuleDef("tenancy_ending", "租约到期重新登记承租人", "出租房屋承租人重新登记", "rule", "house",
            "租约即将到期或已到期、且该房屋没有登记新的租约的出租房屋，提醒网格员核实承租人是否续租或更换并重新登记。"
            "已登记为空置或自住的房屋不再提醒。",
            (ParamSpec("days_ahead", "到期前多少天提醒", 7, 0, 90),
             ParamSpec("days_after", "到期后多少天内仍提醒", 30, 0, 366), *_common(3, 30)), 1440),
    RuleDef("visit_overdue", "特殊人群走访超期", "特殊人群定期走访", "visit", "household",
            "户内有走访频次表所列人群（标签在有效期内）的户，超过走访周期没有走访记录（从未走访也算）时提醒走访；"
            "一户有多类人员时按周期最短的一类计算。",
            _common(3, 7), 60),
    RuleDef("vacant_new_resident", "空置房屋新登记居住人员", "空置房屋新登记人员核查", "rule", "house",
            "登记为空置的房屋，其地址（或其下级地址）上有近期首次登记的人员时，提醒网格员核实房屋用途和居住情况。"
            "首次登记时间取该人员最早一条来源记录的采集时间。",
            (ParamSpec("days", "多少天内首次登记算新登记", 90, 1, 366), *_common(7, 30)), 1440),
    RuleDef("water_zero", "有人居住的房屋长期零用水", "长期零用水上门探访", "utility", "water_account",
            "非空置、且有登记居住人员的房屋，连续多期抄表用水量为零、覆盖天数达到规定时，提醒网格员上门探望"
            "（独居老人等可能发生意外）。",
            (ParamSpec("n_days", "连续零用水天数", 30, 7, 366), *_WATER_WINDOW, *_common(2, 30)), 60),
    RuleDef("water_spike", "用水量异常波动", "用水异常上门核查", "utility", "water_account",
            "最近一期日均用水量偏离该户自身历史日均用水量超过规定倍数的标准差时，提醒网格员上门核查"
            "（漏水、居住人数变化、群租等）。用水降为零的情形由“长期零用水”规则判断。",
            (ParamSpec("sigma", "偏离多少个标准差", 3, 0.5, 20, integer=False),
             ParamSpec("min_history", "至少需要多少期历史读数", 6, 2, 120),
             ParamSpec("min_std", "标准差下限（吨/天）", 0.05, 0.001, 10, integer=False),
             *_WATER_WINDOW, *_common(3, 30)), 60),
)}


def effective_params(rule: RuleDef, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The defaults overlaid with what an administrator set; an unknown name or
    a value out of range raises ParamError."""
    stored = stored or {}
    if not isinstance(stored, Mapping):
        raise ParamError("参数应为 JSON 对象，例如 {\"age\": 60}")
    known = {p.name: p for p in rule.params}
    unknown = sorted(set(stored) - set(known))
    if unknown:
        raise ParamError(f"规则 {rule.code} 没有参数 {'、'.join(unknown)}；可用参数：{'、'.join(known)}")
    return {name: spec.check(stored.get(name, spec.default)) for name, spec in known.items()}


# --- what every rule returns ---------------------------------------------------


@dataclass(frozen=True)
class Match:
    subject_type: str
    subject_id: int
    grid_code: str
    who: str  # appended to the rule's title: a name, an address, an account
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.subject_type, self.subject_id)


def _days(n: int) -> str:
    return f"{n} 天"


# --- turning 60 without an elderly card ---------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str
    birth_date: date | None
    id_number: str | None
    grid_code: str


def birth_of(birth_date: date | None, id_number: str | None) -> tuple[date, str] | None:
    """Birth date and where it came from: a valid ID number first (what the card
    office checks), else the registered date; None without either."""
    if id_number:
        try:
            return parse_id_number(id_number).birth_date, "身份证"
        except IdentityError:
            pass
    if birth_date is not None:
        return birth_date, "登记"
    return None


def nth_birthday(born: date, years: int) -> date:
    """The day one turns `years`; born on 29 February, 1 March in common years."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def birth_window(today: date, *, age: int, days_ahead: int, days_after: int) -> tuple[date, date]:
    """Birth dates that may turn `age` inside the window, one day wider on each
    side (29 February); the rule itself decides exactly."""
    def back(d: date) -> date:
        try:
            return d.replace(year=d.year - age)
        except ValueError:
            return date(d.year - age, 2, 28)
    return (back(today - timedelta(days=days_after)) - timedelta(days=1),
            back(today + timedelta(days=days_ahead)) + timedelta(days=1))


def elderly_card(people: Iterable[PersonRow], holders: set[int] | frozenset[int], today: date, *,
                 age: int, days_ahead: int, days_after: int, **_: Any) -> list[Match]:
    out: list[Match] = []
    for p in people:
        if p.id in holders:
            continue
        born = birth_of(p.birth_date, p.id_number)
        if born is None:
            continue
        birth, source = born
        turns = nth_birthday(birth, age)
        delta = (turns - today).days
        if not -days_after <= delta <= days_ahead:
            continue
        when = (f"将于 {turns} 年满 {age} 周岁" if delta > 0 else
                f"今天（{turns}）年满 {age} 周岁" if delta == 0 else f"已于 {turns} 年满 {age} 周岁")
        out.append(Match(
            "person", p.id, p.grid_code, p.name,
            f"{p.name}（{source}出生日期 {birth}）{when}，尚未办理老年人优待证。请联系本人或家属，告知可申请办理。",
            {"birth_date": birth.isoformat(), "birth_source": source, "turns_on": turns.isoformat(),
             "age": age, "days_to_birthday": delta}))
    return out


# --- tenancy ending ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TenancyRow:
    id: int
    house_id: int
    tenant: str
    start: date
    end: date | None
    grid_code: str
    house_use: str
    house_label: str


# A house the owner lives in or that stands empty has no tenant to re-register.
NOT_LET = frozenset({"vacant", "own"})


def tenancy_ending(rows: Iterable[TenancyRow], today: date, *, days_ahead: int, days_after: int,
                   **_: Any) -> list[Match]:
    """`rows`: every tenancy of each house that has one ending in the window,
    so that a lease already renewed (a tenancy running past the window) is seen."""
    horizon = today + timedelta(days=days_ahead)
    by_house: dict[int, list[TenancyRow]] = defaultdict(list)
    for r in rows:
        by_house[r.house_id].append(r)
    out: list[Match] = []
    for house_id, group in by_house.items():
        first = group[0]
        if first.house_use in NOT_LET:
            continue
        if any(r.end is None or r.end > horizon for r in group):
            continue  # renewed, or a new tenant already registered
        ending = [r for r in group if r.end is not None and r.end >= today - timedelta(days=days_after)]
        if not ending:
            continue
        end = max(r.end for r in ending if r.end is not None)
        delta = (end - today).days
        names = "、".join(sorted({r.tenant for r in ending}))
        when = (f"将于 {end} 到期（还有 {_days(delta)}）" if delta > 0 else
                f"今天（{end}）到期" if delta == 0 else f"已于 {end} 到期（已过 {_days(-delta)}），且没有登记新的租约")
        out.append(Match(
            "house", house_id, first.grid_code, first.house_label,
            f"{first.house_label}的租约{when}，承租人：{names}。请核实承租人是否续租或更换，并重新登记。",
            {"end": end.isoformat(), "days_to_end": delta, "tenants": sorted({r.tenant for r in ending}),
             "tenancies": sorted(r.id for r in ending)}))
    return out


# --- special groups not visited -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaggedMember:
    household_id: int
    household_label: str
    grid_code: str
    person_id: int
    person_name: str
    tag: str


def tag_label(tag: str) -> str:
    """Sensitive groups (mental health, corrections…) are named in a task only
    as 特殊人群: a task is read by more roles than the person's record."""
    if tag in vocab.SENSITIVE_TAGS:
        return "特殊人群"
    return vocab.TAGS.get(tag, tag)


def visit_overdue(members: Iterable[TaggedMember], policies: Mapping[str, int],
                  last_visit: Mapping[int, date], today: date, **_: Any) -> list[Match]:
    by_household: dict[int, list[TaggedMember]] = defaultdict(list)
    for m in members:
        if m.tag in policies:
            by_household[m.household_id].append(m)
    out: list[Match] = []
    for household_id, group in by_household.items():
        every = min(policies[m.tag] for m in group)
        last = last_visit.get(household_id)
        since = (today - last).days if last is not None else None
        if since is not None and since <= every:
            continue
        first = group[0]
        people: dict[int, tuple[str, set[str]]] = {}
        for m in group:
            people.setdefault(m.person_id, (m.person_name, set()))[1].add(tag_label(m.tag))
        listed = "；".join(f"{name}（{'、'.join(sorted(labels))}）"
                          for name, labels in sorted(people.values()))
        seen = f"上次走访为 {last}，已 {_days(since)}未走访" if since is not None else "尚无走访记录"
        out.append(Match(
            "household", household_id, first.grid_code, first.household_label,
            f"{first.household_label}有需定期走访的人员：{listed}，按规定每 {every} 天至少走访一次；{seen}。请尽快上门走访。",
            {"every_days": every, "last_visit": last.isoformat() if last else None,
             "days_since": since, "people": sorted(people), "tags": sorted({m.tag for m in group})}))
    return out


# --- somebody new in a house marked empty -----------------------------------------------


@dataclass(frozen=True, slots=True)
class VacantHouse:
    id: int
    grid_code: str
    label: str


@dataclass(frozen=True, slots=True)
class Resident:
    house_id: int
    person_id: int
    name: str
    first_seen: date | None


def vacant_newcomers(houses: Iterable[VacantHouse], residents: Iterable[Resident], today: date, *,
                     days: int, **_: Any) -> list[Match]:
    since = today - timedelta(days=days)
    newcomers: dict[int, list[Resident]] = defaultdict(list)
    for r in residents:
        if r.first_seen is not None and since <= r.first_seen <= today:
            newcomers[r.house_id].append(r)
    out: list[Match] = []
    for house in houses:
        found = sorted(newcomers.get(house.id, ()), key=lambda r: (r.first_seen or since, r.person_id),
                       reverse=True)
        if not found:
            continue
        listed = "、".join(f"{r.name}（{r.first_seen} 首次登记）" for r in found[:5])
        more = f"等 {len(found)} 人" if len(found) > 5 else ""
        out.append(Match(
            "house", house.id, house.grid_code, house.label,
            f"{house.label}登记为空置房屋，但近 {days} 天有人员新登记居住于此：{listed}{more}。"
            "请上门核实房屋使用和居住情况，并更新房屋用途。",
            {"people": [r.person_id for r in found], "first_seen": [str(r.first_seen) for r in found],
             "days": days}))
    return out


# --- water use ---------------------------------------------------------------------------


def day_number(d: date) -> int:
    return (d - EPOCH).days


def day_date(n: int | np.integer[Any]) -> date:
    return EPOCH + timedelta(days=int(n))


@dataclass
class WaterSeries:
    """Readings of many accounts, sorted by (account, day); NaN where a value is
    missing. `use` is what the file gave; `derive` fills the rest."""

    account: np.ndarray
    day: np.ndarray
    reading: np.ndarray
    use: np.ndarray

    @classmethod
    def build(cls, account: Sequence[int] | np.ndarray, day: Sequence[int] | np.ndarray,
              reading: Sequence[float] | np.ndarray, use: Sequence[float] | np.ndarray) -> WaterSeries:
        a = np.asarray(account, dtype=np.int64)
        d = np.asarray(day, dtype=np.int64)
        order = np.lexsort((d, a))
        return cls(a[order], d[order], np.asarray(reading, dtype=np.float64)[order],
                   np.asarray(use, dtype=np.float64)[order])

    def __len__(self) -> int:
        return len(self.account)


@dataclass
class WaterPeriods:
    """Per reading: the use since the previous reading of the same account
    (given or derived), the days since it and the daily use; NaN when unknown
    (an account's first reading, a meter reset)."""

    series: WaterSeries
    use: np.ndarray
    days: np.ndarray
    daily: np.ndarray
    reset: np.ndarray  # the reading went down: a new or reset meter
    same: np.ndarray  # the previous row is the same account
    last: np.ndarray  # the account's latest reading
    group: np.ndarray  # account ordinal of each row
    group_start: np.ndarray  # first row of each account


def derive(series: WaterSeries) -> WaterPeriods:
    account, day, reading = series.account, series.day, series.reading
    n = len(account)
    same = np.zeros(n, dtype=bool)
    last = np.ones(n, dtype=bool)
    if n:
        same[1:] = account[1:] == account[:-1]
        last[:-1] = ~same[1:]
    prev_reading = np.full(n, np.nan)
    prev_day = np.zeros(n, dtype=np.int64)
    if n:
        prev_reading[1:] = reading[:-1]
        prev_day[1:] = day[:-1]
    with np.errstate(invalid="ignore"):
        diff = reading - prev_reading
        use = series.use.copy()
        need = np.isnan(use) & same & ~np.isnan(diff)
        reset = need & (diff < 0)
        fill = need & (diff >= 0)
        use[fill] = diff[fill]
        use[use < 0] = np.nan  # a negative "use" in a file is no use figure at all
        days = np.where(same, day - prev_day, 0)
        daily = np.full(n, np.nan)
        ok = same & (days > 0) & np.isfinite(use)
        daily[ok] = use[ok] / days[ok]
    group = np.cumsum(~same) - 1
    return WaterPeriods(series, use, days, daily, reset, same, last, group, np.flatnonzero(~same))


@dataclass(frozen=True)
class ZeroRun:
    account: int
    start_day: int  # the reading before the first zero period
    end_day: int
    periods: int
    end_index: int


def zero_runs(p: WaterPeriods, *, n_days: int, since_day: int) -> list[ZeroRun]:
    """Accounts whose latest readings are zero use, back to back, covering at
    least n_days. An account's first reading (its period unknown) and a period
    of unknown use break a run, so it never counts days it cannot vouch for."""
    n = len(p.use)
    if not n:
        return []
    zero = np.isfinite(p.use) & (p.use <= ZERO_USE)
    breaker = ~p.same | ~zero
    idx = np.arange(n)
    last_breaker = np.maximum.accumulate(np.where(breaker, idx, -1))
    ends = np.flatnonzero(p.last)
    b = last_breaker[ends]
    day = p.series.day
    span = day[ends] - day[b]
    hit = (b < ends) & (span >= n_days) & (day[ends] >= since_day)
    return [ZeroRun(int(p.series.account[e]), int(day[s]), int(day[e]), int(e - s), int(e))
            for e, s in zip(ends[hit], b[hit], strict=True)]


@dataclass(frozen=True)
class Spike:
    account: int
    start_day: int
    end_day: int
    latest_use: float
    latest_daily: float
    mean: float
    std: float
    z: float
    history: int
    end_index: int


def spikes(p: WaterPeriods, *, sigma: float, min_history: int, min_std: float,
           since_day: int) -> list[Spike]:
    """Accounts whose latest daily use departs from their own earlier daily uses
    by more than sigma standard deviations (sample std, floored at min_std).
    A latest use of zero is left to the zero-use rule."""
    n = len(p.use)
    if not n:
        return []
    ends = np.flatnonzero(p.last)
    groups = len(ends)
    earlier = np.isfinite(p.daily) & ~p.last
    g = p.group[earlier]
    values = p.daily[earlier]
    count = np.bincount(g, minlength=groups).astype(np.float64)
    total = np.bincount(g, weights=values, minlength=groups)
    squares = np.bincount(g, weights=values * values, minlength=groups)
    latest = p.daily[ends]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        var = (squares - count * mean * mean) / (count - 1)
        std = np.sqrt(np.clip(var, 0, None))
        scale = np.maximum(np.nan_to_num(std, nan=0.0), max(min_std, 1e-9))
        z = (latest - mean) / scale
        hit = ((count >= min_history) & np.isfinite(latest) & (latest > ZERO_USE)
               & (np.abs(z) > sigma) & (p.series.day[ends] >= since_day))
    out = []
    for k in np.flatnonzero(hit):
        e = ends[k]
        out.append(Spike(int(p.series.account[e]), int(p.series.day[e - 1]), int(p.series.day[e]),
                         float(p.use[e]), float(latest[k]), float(mean[k]), float(std[k]), float(z[k]),
                         int(count[k]), int(e)))
    return out


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    account_no: str
    grid_code: str
    house_id: int | None
    label: str  # the standard address, else the address text
    house_use: str


def _r(x: float, nd: int = 3) -> float | None:
    return round(float(x), nd) if math.isfinite(x) else None


PERIOD_COLUMNS = ("date", "reading", "use", "days", "daily", "meter_reset")


def period_evidence(p: WaterPeriods, end_index: int) -> dict[str, Any]:
    """The account's last readings, oldest first, as a small table: {columns,
    rows}. Rows rather than one object per reading keep a task's evidence
    short, and thousands of tasks are written per run."""
    start = int(p.group_start[p.group[end_index]])
    window = slice(max(start, end_index - EVIDENCE_PERIODS + 1), end_index + 1)
    s = p.series
    columns = zip(s.day[window].tolist(), s.reading[window].tolist(), p.use[window].tolist(),
                  p.days[window].tolist(), p.daily[window].tolist(), p.reset[window].tolist(), strict=True)
    return {"columns": list(PERIOD_COLUMNS),
            "rows": [[day_date(d).isoformat(), _r(r), _r(u), n or None, _r(x), reset]
                     for d, r, u, n, x, reset in columns]}


def zero_matches(runs: Iterable[ZeroRun], p: WaterPeriods, accounts: Mapping[int, AccountInfo],
                 residents: Mapping[int, tuple[int, int]], **_: Any) -> list[Match]:
    """`residents`: house id → (people, households) registered at its address or
    below. Only an occupied house (not vacant, somebody registered) is flagged."""
    out: list[Match] = []
    for run in runs:
        info = accounts.get(run.account)
        if info is None or info.house_id is None or info.house_use == "vacant":
            continue
        people, households = residents.get(info.house_id, (0, 0))
        if people <= 0 and households <= 0:
            continue
        start, end = day_date(run.start_day), day_date(run.end_day)
        days = run.end_day - run.start_day
        use = vocab.HOUSE_USES.get(info.house_use, "") or "未注明用途"
        living = f"有 {people} 名登记居住人员" if people else f"有 {households} 户登记在此"
        out.append(Match(
            "water_account", info.id, info.grid_code, f"{info.label}（户号 {info.account_no}）",
            f"用水户 {info.account_no}（{info.label}）自 {start} 至 {end} 共 {days} 天、连续 {run.periods} 期"
            f"抄表用水量为 0；该房屋登记为{use}，{living}。请上门探望，确认住户是否安好。",
            {"flag": "zero", "account_no": info.account_no, "period_start": start.isoformat(),
             "period_end": end.isoformat(), "days": days, "zero_periods": run.periods,
             "residents": people, "households": households, "periods": period_evidence(p, run.end_index)}))
    return out


def spike_matches(found: Iterable[Spike], p: WaterPeriods, accounts: Mapping[int, AccountInfo],
                  *, sigma: float, **_: Any) -> list[Match]:
    out: list[Match] = []
    for s in found:
        info = accounts.get(s.account)
        if info is None:
            continue
        start, end = day_date(s.start_day), day_date(s.end_day)
        direction = "高于" if s.z > 0 else "低于"
        out.append(Match(
            "water_account", info.id, info.grid_code, f"{info.label}（户号 {info.account_no}）",
            f"用水户 {info.account_no}（{info.label}）{start} 至 {end} 日均用水 {s.latest_daily:.2f} 吨，"
            f"{direction}该户此前 {s.history} 期的日均 {s.mean:.2f} 吨（标准差 {s.std:.2f}），"
            f"偏离 {abs(s.z):.1f} 个标准差（阈值 {sigma:g}）。请上门核查是否漏水、居住人数变化或房屋用途改变。",
            {"flag": "spike", "account_no": info.account_no, "period_start": start.isoformat(),
             "period_end": end.isoformat(), "latest_use": _r(s.latest_use), "latest": _r(s.latest_daily, 4),
             "mean": _r(s.mean, 4), "std": _r(s.std, 4), "z": _r(s.z, 2), "history": s.history,
             "sigma": sigma, "periods": period_evidence(p, s.end_index)}))
    return out
