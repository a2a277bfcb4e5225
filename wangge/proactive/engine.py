"""Running the proactive rules: load what each rule needs set-wise, ask the
pure rule (rules.py), and turn its matches into tasks in the inbox of the
grid's worker.

Loading never goes row by row: each rule reads with a few queries filtered on
indexed columns (a birth-date range, a tenancy end range, the houses marked
vacant), and the water rules read the readings of the window as arrays.
A run is idempotent: `raise_tasks` leaves an open task alone, a task done
within the rule's cooldown is not raised again, and `close_obsolete` cancels
the open tasks whose subject no longer matches.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, Max, Min, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone

from wangge.addresses.models import Address
from wangge.core import audit
from wangge.core.bulk import insert_values
from wangge.core.notify import notify
from wangge.proactive import rules
from wangge.proactive.models import (
    Entitlement,
    EntitlementKind,
    FlagKind,
    Rule,
    RuleRun,
    WaterAccount,
    WaterFlag,
    WaterReading,
)
from wangge.registry.models import (
    House,
    Household,
    HouseholdMember,
    Person,
    PersonTag,
    SourceRecord,
    Tenancy,
)
from wangge.workforce.models import Task, TaskStatus, Visit, VisitPolicy
from wangge.workforce.services import TaskSpec, close_obsolete, raise_tasks

logger = logging.getLogger("wangge.proactive")

CHUNK = 1000  # ids per IN list: well under SQLite's variable limit
# The tick runs hourly; a rule due every 60 minutes must not slip an hour
# because the tick came a few seconds early.
DUE_SLACK = timedelta(minutes=1)
# Why an open task was cancelled, per rule: the worker sees it in the task.
CLOSE_RESULT = {
    "elderly_card": "已有老年人优待证记录，或已过提醒期，任务自动撤销",
    "tenancy_ending": "已登记新的租约，或房屋用途已变更，任务自动撤销",
    "visit_overdue": "已有走访记录，或人员已不在需走访人群中，任务自动撤销",
    "vacant_new_resident": "房屋用途或人员登记已更新，任务自动撤销",
    "water_zero": "最新抄表已有用水，或房屋已无人登记居住，任务自动撤销",
    "water_spike": "最新一期用水已恢复正常，任务自动撤销",
}
FLAG_OF_RULE = {"water_zero": FlagKind.ZERO, "water_spike": FlagKind.SPIKE}

T = TypeVar("T")


@dataclass
class Context:
    now: datetime
    today: date
    params: dict[str, Any]
    # Shared by the rules of one run (both water rules read the same readings).
    cache: dict[Any, Any] = field(default_factory=dict)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _in(ids: Iterable[int]) -> Iterator[Any]:
    """What to put after `__in=` to select rows by many ids: on PostgreSQL one
    array parameter (a statement of thousands of placeholders costs more to
    build, quote and parse than to run), elsewhere lists of CHUNK ids."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    if connection.vendor == "postgresql":
        yield RawSQL("SELECT unnest(%s::bigint[])", (wanted,))
        return
    yield from _chunks(wanted)


# --- loading -----------------------------------------------------------------


def _elderly_card(ctx: Context) -> list[rules.Match]:
    p = ctx.params
    lo, hi = rules.birth_window(ctx.today, age=p["age"], days_ahead=p["days_ahead"],
                                days_after=p["days_after"])
    lo_s, hi_s = lo.strftime("%Y%m%d"), hi.strftime("%Y%m%d")
    # Birth dates on the golden record use the index; birth dates inside ID
    # numbers (people registered without one) are read off the number in SQL.
    qs = Person.objects.annotate(
        _id_len=Length("id_number"), _id18=Substr("id_number", 7, 8),
        _id15=Concat(Value("19"), Substr("id_number", 7, 6), output_field=CharField()),
    ).filter(Q(birth_date__range=(lo, hi)) | Q(_id_len=18, _id18__range=(lo_s, hi_s))
             | Q(_id_len=15, _id15__range=(lo_s, hi_s)))
    people = [rules.PersonRow(*row) for row in
              qs.values_list("pk", "name", "birth_date", "id_number", "grid_code")]
    holders: set[int] = set()
    cards = Entitlement.objects.filter(kind=EntitlementKind.ELDERLY_CARD)
    for part in _in(p.id for p in people):
        holders.update(cards.filter(person_id__in=part).values_list("person_id", flat=True))
    return rules.elderly_card(people, holders, ctx.today, **p)


def _tenancy_ending(ctx: Context) -> list[rules.Match]:
    p = ctx.params
    window = Tenancy.objects.filter(end__range=(ctx.today - timedelta(days=p["days_after"]),
                                                ctx.today + timedelta(days=p["days_ahead"])))
    rows = (Tenancy.objects.filter(house_id__in=Subquery(window.values("house_id")))
            .values_list("pk", "house_id", "tenant__name", "start", "end", "house__grid_code", "house__use",
                         "house__address__full_name"))
    return rules.tenancy_ending([rules.TenancyRow(*r) for r in rows], ctx.today, **p)


def _visit_overdue(ctx: Context) -> list[rules.Match]:
    policies = dict(VisitPolicy.objects.values_list("tag", "every_days"))
    if not policies:
        return []
    today = ctx.today
    tags = PersonTag.objects.filter(
        Q(since__isnull=True) | Q(since__lte=today), Q(until__isnull=True) | Q(until__gte=today),
        tag__in=list(policies))
    tags_of: dict[int, list[str]] = defaultdict(list)
    for person_id, tag in tags.values_list("person_id", "tag"):
        tags_of[person_id].append(tag)
    members = HouseholdMember.objects.filter(person_id__in=Subquery(tags.values("person_id")))
    rows = members.values_list("household_id", "household__key", "household__address__full_name",
                               "household__grid_code", "person_id", "person__name")
    tagged = [rules.TaggedMember(hh, _household_label(key, full), grid, pid, name, tag)
              for hh, key, full, grid, pid, name in rows for tag in tags_of.get(pid, ())]
    visits = (Visit.objects.filter(household_id__in=Subquery(members.values("household_id")))
              .values("household_id").annotate(last=Max("at")).values_list("household_id", "last"))
    last = {hh: timezone.localtime(at).date() for hh, at in visits}
    return rules.visit_overdue(tagged, policies, last, today)


def _household_label(key: str, full_name: str | None) -> str:
    return f"{full_name}（户号 {key}）" if full_name else f"户号 {key}"


def _vacant_new_resident(ctx: Context) -> list[rules.Match]:
    p = ctx.params
    vacant = House.objects.filter(use="vacant")
    houses = list(vacant.values_list("pk", "address_id", "grid_code", "address__full_name"))
    roots = {addr: pk for pk, addr, _, _ in houses}
    people = residents(roots, vacant.values("address_id"))
    first: dict[int, date] = {}
    records = SourceRecord.objects.values("person_id").annotate(first=Min("collected_at"))
    for part in _in(pid for _, pid, _ in people):
        for pid, at in records.filter(person_id__in=part).values_list("person_id", "first"):
            first[pid] = timezone.localtime(at).date()
    return rules.vacant_newcomers(
        [rules.VacantHouse(pk, grid, full or f"房屋 {pk}") for pk, _, grid, full in houses],
        [rules.Resident(house, pid, name, first.get(pid)) for house, pid, name in people],
        ctx.today, **p)


def below(roots: dict[int, T], roots_qs: QuerySet[Any] | None = None) -> dict[int, list[T]]:
    """Each root address and every address beneath one → the values of the
    roots at or above it (a house registered for a whole building and one for
    a room in it both cover the room). One query per level; the first goes
    through `roots_qs` (the roots' ids as a subquery) when given. Rooms, the
    usual roots, have no children."""
    owners: dict[int, list[T]] = {a: [v] for a, v in roots.items()}
    frontier = list(roots)
    parts: Iterable[Any] = [Subquery(roots_qs)] if roots_qs is not None else _in(frontier)
    while frontier:
        nxt: list[int] = []
        for part in parts:
            for pk, parent in Address.objects.filter(parent_id__in=part).values_list("pk", "parent_id"):
                mine = owners.setdefault(pk, [])
                added = [v for v in owners.get(parent, ()) if v not in mine]
                if added:
                    mine.extend(added)
                    nxt.append(pk)
        frontier = nxt
        parts = _in(frontier)
    return owners


def residents(roots: dict[int, T], roots_qs: QuerySet[Any] | None = None) -> list[tuple[T, int, str]]:
    """(root value, person id, name) for everyone registered at a root address
    or beneath it."""
    owners = below(roots, roots_qs)
    people = Person.objects.values_list("pk", "name", "address_id")
    groups: list[Any] = [Subquery(roots_qs)] if roots_qs is not None else list(_in(roots))
    groups += list(_in(a for a in owners if a not in roots))
    return [(value, pid, name) for group in groups
            for pid, name, addr in people.filter(address_id__in=group) for value in owners.get(addr, ())]


# --- water -----------------------------------------------------------------------


def _day_sql(column: str) -> str | None:
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    if connection.vendor == "sqlite":
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"
    return None


def load_readings(since: date) -> rules.WaterSeries:
    """Every reading on or after `since`, as arrays: one query, no model objects."""
    if connection.vendor == "postgresql":
        return _packed_readings(since)
    q = connection.ops.quote_name
    day = _day_sql(q("date"))
    columns = ", ".join([q("account_id"), day or q("date"), q("reading"), q("use")])
    # Identifiers are quoted model metadata; the date is a parameter.
    sql = f"SELECT {columns} FROM {q(WaterReading._meta.db_table)} WHERE {q('date')} >= %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [since])
        rows = cursor.fetchall()
    if not rows:
        return rules.WaterSeries.build([], [], [], [])
    account, days, reading, use = zip(*rows, strict=True)
    if day is None:
        days = tuple(rules.day_number(d) for d in days)
    return rules.WaterSeries.build(
        np.fromiter(account, dtype=np.int64, count=len(rows)), np.fromiter(days, dtype=np.int64, count=len(rows)),
        np.array(reading, dtype=np.float64), np.array(use, dtype=np.float64))


def _packed_readings(since: date) -> rules.WaterSeries:
    """PostgreSQL packs each column into one bytea of big-endian binary values
    and numpy reads them as they are: a row at a time through the driver costs
    about 3 µs, four aggregates over the same scan well under one. The four
    aggregates of one query see the rows in the same order."""
    import psycopg

    q = connection.ops.quote_name
    sql = (f"SELECT count(*), string_agg(int8send({q('account_id')}), ''), "  # noqa: S608
           f"string_agg(int4send({q('date')} - DATE '1970-01-01'), ''), "
           f"string_agg(float8send(COALESCE({q('reading')}, 'NaN')), ''), "
           f"string_agg(float8send(COALESCE({q('use')}, 'NaN')), '') "
           f"FROM {q(WaterReading._meta.db_table)} WHERE {q('date')} >= %s")
    connection.ensure_connection()
    # Django's cursors bind client-side, which cannot return binary results.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [since], binary=True)
        row = cursor.fetchone()
    if row is None or not row[0]:
        return rules.WaterSeries.build([], [], [], [])
    _, account, day, reading, use = row
    return rules.WaterSeries.build(
        np.frombuffer(account, dtype=">i8").astype(np.int64), np.frombuffer(day, dtype=">i4").astype(np.int64),
        np.frombuffer(reading, dtype=">f8").astype(np.float64), np.frombuffer(use, dtype=">f8").astype(np.float64))


def _periods(ctx: Context) -> rules.WaterPeriods:
    since = ctx.today - timedelta(days=int(ctx.params["history_days"]))
    key = ("water", since)
    if key not in ctx.cache:
        ctx.cache[key] = rules.derive(load_readings(since))
    periods: rules.WaterPeriods = ctx.cache[key]
    return periods


def _since_day(ctx: Context) -> int:
    return rules.day_number(ctx.today - timedelta(days=int(ctx.params["recent_days"])))


def account_infos(ids: Iterable[int]) -> dict[int, rules.AccountInfo]:
    """Three plain lookups by primary key: joining accounts to houses and both
    to addresses made PostgreSQL scan whole tables for a few thousand rows."""
    accounts: list[tuple[int, str, str, int | None, int | None, str]] = []
    for part in _in(ids):
        accounts += WaterAccount.objects.filter(pk__in=part).values_list(
            "pk", "account_no", "grid_code", "house_id", "address_id", "address_text")
    houses: dict[int, tuple[int, str]] = {}
    for part in _in(a[3] for a in accounts if a[3] is not None):
        houses.update({pk: (addr, use) for pk, addr, use in
                       House.objects.filter(pk__in=part).values_list("pk", "address_id", "use")})
    wanted = {a[4] for a in accounts if a[4] is not None} | {h[0] for h in houses.values()}
    names: dict[int, str] = {}
    for part in _in(wanted):
        names.update(dict(Address.objects.filter(pk__in=part).values_list("pk", "full_name")))
    out: dict[int, rules.AccountInfo] = {}
    for pk, no, grid, house, address, text in accounts:
        house_address, use = houses.get(house, (None, "")) if house is not None else (None, "")
        label = names.get(house_address or 0) or names.get(address or 0) or text or f"用水户 {no}"
        out[pk] = rules.AccountInfo(pk, no, grid, house, label, use or "")
    return out


def occupancy(house_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """house → (people, households) registered at its address or below."""
    roots: dict[int, int] = {}
    for part in _in(house_ids):
        roots.update(dict(House.objects.filter(pk__in=part).values_list("address_id", "pk")))
    owners = below(roots)
    people: dict[int, int] = defaultdict(int)
    households: dict[int, int] = defaultdict(int)
    for part in _in(owners):
        for addr, n in (Person.objects.filter(address_id__in=part).values("address_id")
                        .annotate(n=Count("pk")).values_list("address_id", "n")):
            for house in owners[addr]:
                people[house] += n
        for addr, n in (Household.objects.filter(address_id__in=part).values("address_id")
                        .annotate(n=Count("pk")).values_list("address_id", "n")):
            for house in owners[addr]:
                households[house] += n
    return {h: (people[h], households[h]) for h in roots.values()}


def _water_zero(ctx: Context) -> list[rules.Match]:
    periods = _periods(ctx)
    runs = rules.zero_runs(periods, n_days=ctx.params["n_days"], since_day=_since_day(ctx))
    # Empty houses run at zero all year: drop them before reading anything else.
    lived: set[int] = set()
    for part in _in(r.account for r in runs):
        lived.update(WaterAccount.objects.filter(pk__in=part, house__isnull=False).exclude(house__use="vacant")
                     .values_list("pk", flat=True))
    runs = [r for r in runs if r.account in lived]
    accounts = account_infos(r.account for r in runs)
    houses = [a.house_id for a in accounts.values() if a.house_id is not None and a.house_use != "vacant"]
    return rules.zero_matches(runs, periods, accounts, occupancy(houses))


def _water_spike(ctx: Context) -> list[rules.Match]:
    p = ctx.params
    periods = _periods(ctx)
    found = rules.spikes(periods, sigma=p["sigma"], min_history=p["min_history"], min_std=p["min_std"],
                         since_day=_since_day(ctx))
    return rules.spike_matches(found, periods, account_infos(s.account for s in found), sigma=p["sigma"])


EVALUATORS: dict[str, Callable[[Context], list[rules.Match]]] = {
    "elderly_card": _elderly_card,
    "tenancy_ending": _tenancy_ending,
    "visit_overdue": _visit_overdue,
    "vacant_new_resident": _vacant_new_resident,
    "water_zero": _water_zero,
    "water_spike": _water_spike,
}


def evaluate(code: str, now: datetime | None = None, params: dict[str, Any] | None = None,
             cache: dict[Any, Any] | None = None) -> list[rules.Match]:
    """The rule's matches now, writing nothing (the benchmark and tests)."""
    now = now or timezone.now()
    definition = rules.CATALOGUE[code]
    ctx = Context(now, timezone.localdate(now), rules.effective_params(definition, params),
                  cache if cache is not None else {})
    return EVALUATORS[code](ctx)


# --- running -----------------------------------------------------------------------


def ensure_rules() -> dict[str, Rule]:
    """The built-in rules' rows, created with their defaults when missing."""
    Rule.objects.bulk_create(
        [Rule(code=d.code, name=d.name, description=d.description, every_minutes=d.every_minutes, params={})
         for d in rules.CATALOGUE.values()], ignore_conflicts=True)
    return {r.code: r for r in Rule.objects.filter(code__in=list(rules.CATALOGUE))}


def is_due(rule: Rule, now: datetime) -> bool:
    return rule.last_run_at is None or rule.last_run_at <= now - timedelta(minutes=rule.every_minutes) + DUE_SLACK


def run_rules(now: datetime | None = None, codes: Iterable[str] | None = None, *, by: Any = None,
              due_only: bool = False) -> list[RuleRun]:
    """Run the enabled rules (those named by `codes`, else all; with `due_only`,
    those whose interval has passed). One rule's failure is written on its run
    and the others still run. The workers hear once per run how many new tasks
    they got, not once per rule."""
    now = now or timezone.now()
    wall = timezone.now()
    rows = ensure_rules()
    wanted = list(codes) if codes is not None else list(rules.CATALOGUE)
    ctx_cache: dict[Any, Any] = {}
    runs: list[RuleRun] = []
    for code in wanted:
        rule = rows.get(code)
        if rule is None or not rule.enabled or (due_only and not is_due(rule, now)):
            continue
        runs.append(_run_one(rule, now, by, ctx_cache))
    _tell_workers(runs, wall)
    return runs


def _run_one(rule: Rule, now: datetime, by: Any, cache: dict[Any, Any]) -> RuleRun:
    definition = rules.CATALOGUE[rule.code]
    run = RuleRun.objects.create(rule=rule, started_at=timezone.now(), by=by if getattr(by, "pk", None) else None)
    start = time.perf_counter()
    try:
        if connection.in_atomic_block:
            # Inside a transaction (a test, the shell): a savepoint keeps one
            # rule's database error from spoiling the others.
            with transaction.atomic():
                _apply(rule, definition, run, now, by, cache)
        else:
            _apply(rule, definition, run, now, by, cache)
    except rules.ParamError as exc:
        run.error = f"参数有误，本次未运行：{exc}"
    except Exception as exc:
        logger.exception("proactive rule %s failed", rule.code)
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
    run.finished_at = timezone.now()
    run.seconds = round(time.perf_counter() - start, 3)
    run.save()
    Rule.objects.filter(pk=rule.pk).update(last_run_at=now)
    rule.last_run_at = now
    audit.record(by, "proactive.run_rule", "rule", rule.code, fields=["tasks"],
                 reason=run.error[:200] if run.error else
                 f"命中 {run.matched}，新建 {run.opened}，保留 {run.kept}，撤销 {run.closed}")
    return run


def _apply(rule: Rule, definition: rules.RuleDef, run: RuleRun, now: datetime, by: Any,
           cache: dict[Any, Any]) -> None:
    params = rules.effective_params(definition, rule.params)
    ctx = Context(now, timezone.localdate(now), params, cache)
    matches = EVALUATORS[rule.code](ctx)
    gridded = [m for m in matches if m.grid_code]
    cooling = _cooling(definition, now, int(params["cooldown_days"]))
    due = now + timedelta(days=int(params["due_days"]))
    specs = [TaskSpec(kind=definition.kind, source=definition.source, subject_type=m.subject_type,
                      subject_id=str(m.subject_id), title=f"{definition.title}：{m.who}"[:200],
                      reason=m.reason, grid_code=m.grid_code, due_at=due,
                      evidence={"rule": rule.code, **m.evidence})
             for m in gridded if str(m.subject_id) not in cooling]
    raised = raise_tasks(specs, by=by, notify_assignees=False)
    if rule.code in FLAG_OF_RULE:
        write_flags(FLAG_OF_RULE[rule.code], matches)
    closed = close_obsolete(source=definition.source, subject_type=definition.subject_type,
                            still=[str(m.subject_id) for m in matches], result=CLOSE_RESULT[rule.code])
    run.matched, run.opened, run.kept, run.closed = len(matches), raised.opened, raised.kept, closed
    run.snoozed = len(gridded) - len(specs)
    run.ungridded = len(matches) - len(gridded)


def _cooling(definition: rules.RuleDef, now: datetime, days: int) -> set[str]:
    """Subjects whose task was done within the cooldown: the worker has just
    been there, and the data may not have caught up yet."""
    if days <= 0:
        return set()
    return set(Task.objects.filter(source=definition.source, subject_type=definition.subject_type,
                                   status=TaskStatus.DONE, done_at__gte=now - timedelta(days=days))
               .values_list("subject_id", flat=True))


def write_flags(kind: str, matches: Sequence[rules.Match]) -> int:
    """A flag per match, once per (account, kind, period end): later runs find
    theirs and write nothing. New flags go in with one prepared statement; the
    ORM's bulk insert spends seconds quoting thousands of JSON documents."""
    existing: set[tuple[int, date]] = set()
    for part in _in(m.subject_id for m in matches):
        existing.update(WaterFlag.objects.filter(kind=kind, account_id__in=part)
                        .values_list("account_id", "period_end"))
    now = timezone.now()
    rows = [(m.subject_id, kind, date.fromisoformat(m.evidence["period_start"]),
             date.fromisoformat(m.evidence["period_end"]), {**m.evidence, "reason": m.reason}, now)
            for m in matches if (m.subject_id, date.fromisoformat(m.evidence["period_end"])) not in existing]
    fields = ("account_id", "kind", "period_start", "period_end", "evidence", "created_at")
    try:
        with transaction.atomic():
            insert_values(WaterFlag, fields, rows)
    except IntegrityError:  # a run elsewhere wrote some of them meanwhile
        WaterFlag.objects.bulk_create([WaterFlag(**dict(zip(fields, r, strict=True))) for r in rows],
                                      batch_size=2000, ignore_conflicts=True)
    return len(rows)


def _tell_workers(runs: Sequence[RuleRun], since: datetime) -> None:
    if not any(r.opened for r in runs):
        return
    sources = [rules.CATALOGUE[r.rule.code].source for r in runs if r.opened]
    counts = (Task.objects.filter(source__in=sources, status=TaskStatus.OPEN, created_at__gte=since,
                                  assignee__isnull=False)
              .values("assignee_id").annotate(n=Count("pk")).values_list("assignee_id", "n"))
    by_count: dict[int, list[int]] = defaultdict(list)
    for user_id, n in counts:
        by_count[n].append(user_id)
    stamp = since.strftime("%Y%m%d%H%M%S%f")
    users = _users(uid for ids in by_count.values() for uid in ids)
    for n, ids in by_count.items():
        notify([users[i] for i in ids if i in users], key=f"proactive:{stamp}:{n}", kind="task",
               title=f"主动服务规则为您生成 {n} 项新任务", body="请在任务中查看原因并按期办理", link="/m/tasks/")


def _users(ids: Iterable[int]) -> dict[int, Any]:
    from django.contrib.auth import get_user_model

    wanted = sorted(set(ids))
    out: dict[int, Any] = {}
    for part in _in(wanted):
        out.update({u.pk: u for u in get_user_model().objects.filter(pk__in=part).only("pk")})
    return out
