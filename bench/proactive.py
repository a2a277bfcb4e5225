"""Proactive rules over a district: every built-in rule, end to end (loading,
matching, task writes, water flags), against a straightforward per-row
Python anchor measured in the same run on the same database.

The district is generated directly with bulk writes (fixed seed): people with
valid ID numbers (some with only the ID, some with neither, some with a bad
check digit), one household per lived-in house, houses with their addresses
(compound → building → room), tenancies (some renewed), special-group tags
with visits (some overdue, some never visited), elderly cards, source records,
a primary grid worker per grid, and twelve monthly water readings per house
(half as use, half as cumulative meter readings) with planted anomalies: zero
use in lived-in houses, spikes, meter resets, empty houses at zero.

Figures (JSON lines, bench/common.py):
  proactive.run_rules_seconds   first run of all rules, tasks written; anchor:
                                the per-row Python evaluation of the same rules
                                (every row of every table through the ORM, each
                                condition checked row by row, no writes)
  proactive.rerun_seconds       the same run again: nothing new to open
  proactive.<rule>.seconds      each rule inside the first run
The anchor's matches must equal the engine's, rule by rule, or the run fails.

    python -m bench.proactive                 # 1,000,000 people, 300,000 houses
    python -m bench.proactive --quick         # 20,000 people, 6,000 houses
    python -m bench.proactive --sqlite        # a temporary SQLite file instead

PostgreSQL: BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/wangge_bench_proactive (dropped and created
by this script; never the test database).
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import emit, machine

SEED = 20261123
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wangge_bench_proactive"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
TODAY = NOW.date()
DISTRICT = "120110"
ROOMS_PER_GRID = 270
ROOMS_PER_BUILDING = 30
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文建国志红海燕"
TAGGED_SHARE = 0.04
POLICY_TAGS_EXTRA = ("veteran",)  # a tag no visit policy names


# --- database ------------------------------------------------------------------


def prepare_database(args: argparse.Namespace) -> str:
    if args.sqlite:
        folder = tempfile.mkdtemp(prefix="bench-proactive-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    else:
        import psycopg

        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
        name = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url.split("://", 1)[0]


def load(model: Any, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Bulk-write plain tuples: COPY on PostgreSQL, executemany elsewhere."""
    from django.db import connection

    from wangge.core.bulk import insert_values

    meta = model._meta
    if connection.vendor != "postgresql":
        n = 0
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 20000:
                n += insert_values(model, fields, batch)
                batch = []
        return n + insert_values(model, fields, batch)
    model_fields = [next(f for f in meta.concrete_fields if f.attname == name) for name in fields]
    columns = [f.column for f in model_fields]
    # COPY's text format takes JSON as text; the other path adapts per field.
    as_json = [i for i, f in enumerate(model_fields) if f.get_internal_type() == "JSONField"]
    q = connection.ops.quote_name
    sql = f"COPY {q(meta.db_table)} ({', '.join(q(c) for c in columns)}) FROM STDIN"
    n = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            if as_json:
                row = list(row)
                for i in as_json:
                    row[i] = json.dumps(row[i], ensure_ascii=False)
            copy.write_row(row)
            n += 1
    return n


def ids_by(model: Any, key: str, **filters: Any) -> dict[Any, int]:
    return dict(model.objects.filter(**filters).values_list(key, "pk").iterator(chunk_size=50000))


# --- the district -------------------------------------------------------------------


def id_number(birth: date, seq: int, rng: random.Random, bad: bool = False) -> str:
    from wangge.core.identity import id_check_char

    body = f"{DISTRICT}{birth:%Y%m%d}{seq:03d}"
    check = id_check_char(body)
    if bad:
        check = "0" if check != "0" else "1"
    return body + check


def grid_code(i: int) -> str:
    return f"{DISTRICT}{i // 100 + 1:03d}{i // 10 % 10 + 1:03d}{i % 10 + 1:03d}"


def month_ends(first: date, n: int) -> list[date]:
    out = []
    y, m = first.year, first.month
    for _ in range(n):
        nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        out.append(nxt - timedelta(days=1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def generate(n_people: int, n_houses: int, seed: int) -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from wangge.addresses.models import Address
    from wangge.proactive.models import Entitlement, WaterAccount, WaterReading
    from wangge.proactive.rules import nth_birthday
    from wangge.registry.models import (
        House,
        Household,
        HouseholdMember,
        Person,
        PersonTag,
        Source,
        SourceRecord,
        Tenancy,
    )
    from wangge.workforce.models import Assignment, Visit, VisitPolicy, Worker

    rng = random.Random(seed)
    stamp = NOW
    n_grids = max(2, math.ceil(n_houses / ROOMS_PER_GRID))
    grids = [grid_code(i) for i in range(n_grids)]
    counts: dict[str, int] = {"grids": n_grids}

    clock = [time.perf_counter()]

    def stage(name: str) -> None:
        now = time.perf_counter()
        print(f"#   {name}: {now - clock[0]:.1f}s", file=sys.stderr, flush=True)
        clock[0] = now

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A bulk load of rows consistent by construction: skip the deferred
            # foreign-key checks, millions of them queued until commit.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        # Grid workers: one primary worker per grid, who gets its tasks.
        User = get_user_model()
        unusable = "!"  # no login: these workers only receive tasks
        User.objects.bulk_create([User(username=f"w{i:05d}", password=unusable, role="grid_worker", area_code=g,
                                       display_name=f"网格员{i}") for i, g in enumerate(grids)], batch_size=2000)
        users = ids_by(User, "username", role="grid_worker")
        Worker.objects.bulk_create([Worker(user_id=users[f"w{i:05d}"]) for i in range(n_grids)], batch_size=2000)
        workers = dict(Worker.objects.values_list("user_id", "pk"))
        worker_of_grid = {g: workers[users[f"w{i:05d}"]] for i, g in enumerate(grids)}
        Assignment.objects.bulk_create([Assignment(worker_id=worker_of_grid[g], grid_code=g, primary=True)
                                        for g in grids], batch_size=2000)

        # Addresses: a compound per grid, buildings of 30 rooms, a house per room.
        addr_fields = ("code", "level", "parent_id", "name", "full_name", "road", "door_number", "compound",
                       "building", "unit", "room", "lon", "lat", "grid_code", "aliases", "updated_at")
        compounds: list[tuple[Any, ...]] = [(f"{g}C0001", "compound", None, f"幸福{i}小区", f"东丽区幸福{i}小区", "", "", f"幸福{i}小区",
                      "", "", "", None, None, g, [], stamp) for i, g in enumerate(grids)]
        load(Address, addr_fields, compounds)
        compound_pk = ids_by(Address, "code", level="compound")
        rooms: list[tuple[str, str, str]] = []  # (room code, grid, full name)
        buildings: list[tuple[Any, ...]] = []
        for i, g in enumerate(grids):
            n_here = min(ROOMS_PER_GRID, n_houses - i * ROOMS_PER_GRID)
            for b in range(math.ceil(n_here / ROOMS_PER_BUILDING)):
                code = f"{g}C0001B{b + 1:03d}"
                buildings.append((code, "building", compound_pk[f"{g}C0001"], f"{b + 1}号楼",
                                  f"东丽区幸福{i}小区{b + 1}号楼", "", "", f"幸福{i}小区", str(b + 1), "", "",
                                  None, None, g, [], stamp))
                for r in range(min(ROOMS_PER_BUILDING, n_here - b * ROOMS_PER_BUILDING)):
                    number = (r // 4 + 1) * 100 + r % 4 + 1
                    rooms.append((f"{code}H{number:04d}", g, f"东丽区幸福{i}小区{b + 1}号楼{number}室"))
        load(Address, addr_fields, buildings)
        building_pk = ids_by(Address, "code", level="building")
        load(Address, addr_fields, ((code, "room", building_pk[code[:-5]], name[-4:], name, "", "", "", "", "",
                                     code[-4:], None, None, g, [], stamp) for code, g, name in rooms))
        room_pk = ids_by(Address, "code", level="room")
        counts["addresses"] = len(compounds) + len(buildings) + len(rooms)

        uses = rng.choices(["own", "rented", "vacant", "business"], weights=[70, 15, 10, 5], k=len(rooms))
        stage("addresses")
        load(House, ("address_id", "grid_code", "use"),
             ((room_pk[code], g, use) for (code, g, _), use in zip(rooms, uses, strict=True)))
        house_of_room = ids_by(House, "address_id")
        houses = [(house_of_room[room_pk[code]], room_pk[code], g, use)
                  for (code, g, _), use in zip(rooms, uses, strict=True)]
        counts["houses"] = len(houses)

        # People: households in lived-in houses; a few newcomers in vacant ones.
        lived = [h for h in houses if h[3] in ("own", "rented")]
        vacant = [h for h in houses if h[3] == "vacant"]
        newcomer_houses = rng.sample(vacant, k=max(1, len(vacant) // 25))
        people: list[tuple[Any, ...]] = []  # (name, id, birth, addr, grid, household index or -1, recorded)
        per_day: dict[date, int] = defaultdict(int)
        households: list[tuple[int, str]] = []  # (addr, grid)
        n_lived_people = n_people - len(newcomer_houses)
        households += [(addr, g) for _, addr, g, _ in lived]
        sizes = [1] * len(households)
        for _ in range(max(0, n_lived_people - len(households))):
            sizes[rng.randrange(len(households))] += 1

        def person(addr: int, g: str, hh: int, recorded: datetime) -> tuple[Any, ...]:
            age_days = rng.randrange(0, 95 * 365)
            birth = TODAY - timedelta(days=age_days)
            per_day[birth] += 1
            kind = rng.random()
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            if kind < 0.10:  # only the ID number
                return (name, id_number(birth, per_day[birth], rng), None, addr, g, hh, recorded)
            if kind < 0.11:  # neither: the rule cannot tell the age
                return (name, None, None, addr, g, hh, recorded)
            if kind < 0.115:  # a wrong check digit: the registered date counts
                return (name, id_number(birth, per_day[birth], rng, bad=True), birth, addr, g, hh, recorded)
            return (name, id_number(birth, per_day[birth], rng), birth, addr, g, hh, recorded)

        for hh, ((addr, g), size) in enumerate(zip(households, sizes, strict=True)):
            for _ in range(size):
                people.append(person(addr, g, hh, NOW - timedelta(days=rng.randrange(200, 3 * 365))))
        for i, (_, addr, g, _) in enumerate(newcomer_houses):
            recent = i % 2 == 0
            people.append(person(addr, g, -1, NOW - timedelta(days=rng.randrange(1, 60) if recent
                                                                else rng.randrange(400, 900))))
        stage("houses, people made")
        load(Person, ("name", "id_number", "birth_date", "address_id", "grid_code", "former_names", "phones",
                      "gender", "ethnicity", "hukou_area", "residence_type", "address_text", "updated_at"),
             ((p[0], p[1], p[2], p[3], p[4], [], [], "", "", "", "", "", stamp) for p in people))
        person_pks = list(Person.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=50000))
        counts["people"] = len(person_pks)

        stage("people")
        load(Household, ("key", "address_id", "grid_code"),
             ((f"H{i:08d}", addr, g) for i, (addr, g) in enumerate(households)))
        household_pks = list(Household.objects.order_by("pk").values_list("pk", flat=True))
        counts["households"] = len(household_pks)
        load(HouseholdMember, ("household_id", "person_id", "relation"),
             ((household_pks[p[5]], pk, "other") for p, pk in zip(people, person_pks, strict=True) if p[5] >= 0))

        stage("households")
        source = Source.objects.create(code="grid", name="网格员采集", channel="grid_form")
        load(SourceRecord, ("source_id", "kind", "record_key", "raw", "values", "warnings", "fingerprint",
                            "collected_at", "address_candidates", "grid_code", "superseded", "person_id",
                            "link_status"),
             ((source.pk, "person", f"p{pk}", {}, {}, [], f"f{pk}", p[6], [], p[4], False, pk, "linked")
              for p, pk in zip(people, person_pks, strict=True)))

        stage("source records")
        # Elderly cards: most people past 60 hold one, some about to turn 60 already do.
        def has_card(birth: date | None) -> bool:
            if birth is None:
                return False
            turns = nth_birthday(birth, 60)
            if turns <= TODAY - timedelta(days=30):
                return rng.random() < 0.9
            return (turns - TODAY).days <= 60 and rng.random() < 0.3

        cards = [(pk, "elderly_card", "") for p, pk in zip(people, person_pks, strict=True)
                 if has_card(p[2] or _birth_in(p[1]))]
        counts["entitlements"] = load(Entitlement, ("person_id", "kind", "note"), cards)

        stage("cards")
        # Special groups and their visits.
        policies = dict(VisitPolicy.objects.values_list("tag", "every_days"))
        tag_names = [*policies, *POLICY_TAGS_EXTRA]
        tags = []
        tagged_households: dict[int, int] = {}
        for p, pk in zip(people, person_pks, strict=True):
            if rng.random() >= TAGGED_SHARE:
                continue
            tag = rng.choice(tag_names)
            until = TODAY - timedelta(days=rng.randrange(1, 300)) if rng.random() < 0.1 else None
            tags.append((pk, tag, until))
            if p[5] >= 0 and tag in policies and until is None:
                hh = household_pks[p[5]]
                tagged_households[hh] = min(policies[tag], tagged_households.get(hh, 10**6))
        counts["tags"] = load(PersonTag, ("person_id", "tag", "until"), tags)
        hh_grid = {household_pks[i]: g for i, (_, g) in enumerate(households)}
        visits: list[tuple[Any, ...]] = []
        for hh, every in tagged_households.items():
            roll = rng.random()
            if roll < 0.15:
                continue  # never visited
            ago = rng.randrange(0, every) if roll < 0.85 else rng.randrange(every + 2, every + 200)
            for extra in range(rng.randrange(1, 3)):
                at = NOW - timedelta(days=ago + extra * every, hours=rng.randrange(0, 8))
                visits.append((worker_of_grid[hh_grid[hh]], hh, at, hh_grid[hh], "met", "", {}, ""))
        counts["visits"] = load(Visit, ("worker_id", "household_id", "at", "grid_code", "outcome", "notes",
                                        "corrections", "client_id"), visits)

        # Tenancies: rented houses, ends spread over two years, a quarter renewed;
        # some owner-occupied houses keep an old lease that must not count.
        person_at: dict[int, int] = {}
        for p, pk in zip(people, person_pks, strict=True):
            person_at.setdefault(p[3], pk)
        tenancies = []
        for house_id, addr, _, use in houses:
            if use not in ("rented", "own") or (use == "own" and rng.random() > 0.05):
                continue
            tenant = person_at.get(addr)
            if tenant is None:
                continue
            end = TODAY + timedelta(days=rng.randrange(-365, 365))
            tenancies.append((house_id, tenant, end - timedelta(days=365), end))
            if use == "rented" and rng.random() < 0.25:
                tenancies.append((house_id, tenant, end + timedelta(days=1), end + timedelta(days=366)))
        counts["tenancies"] = load(Tenancy, ("house_id", "tenant_id", "start", "end"), tenancies)

        stage("tags, visits, tenancies")
        # Water: an account per house and twelve month-end readings.
        load(WaterAccount, ("account_no", "address_id", "address_text", "house_id", "grid_code", "match_note",
                            "updated_at"),
             ((f"W{i:08d}", addr, "", house_id, g, "", stamp) for i, (house_id, addr, g, _) in enumerate(houses)))
        account_of_house = ids_by(WaterAccount, "house_id")
        ends = month_ends(date(2025, 11, 1), 12)
        counts["readings"] = load(WaterReading, ("account_id", "date", "reading", "use"),
                                  _readings(houses, account_of_house, ends, rng))
        stage("water")
    stage("commit")
    if connection.vendor == "postgresql":
        # As a live database would be: statistics current, hint bits set and
        # the visibility map built, so the timed run does not pay for the load.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        stage("vacuum")
    return counts


def _birth_in(number: str | None) -> date | None:
    if not number:
        return None
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _readings(houses: Sequence[tuple[int, int, str, str]], account_of_house: dict[int, int],
              ends: list[date], rng: random.Random) -> Iterator[tuple[int, date, float | None, float | None]]:
    days = [(ends[0] - date(2025, 10, 31)).days] + [(b - a).days for a, b in itertools.pairwise(ends)]
    for house_id, _, _, use in houses:
        account = account_of_house[house_id]
        cumulative = account % 2 == 1  # half the company sends meter readings only
        base = 0.0 if use == "vacant" else rng.lognormvariate(math.log(0.8 if use == "business" else 0.3), 0.4)
        uses = [base * d * max(0.0, rng.gauss(1, 0.08)) for d in days]
        roll = rng.random()
        if use in ("own", "rented") and roll < 0.01:
            uses[-2:] = [0.0, 0.0]  # nobody has used water for two months
        elif use in ("own", "rented") and roll < 0.015:
            uses[-1] = 0.0
        elif roll < 0.025:
            uses[-1] *= 4  # a leak, or many more people
        total = rng.uniform(100, 5000)
        reset_at = rng.randrange(2, 12) if cumulative and rng.random() < 0.002 else -1
        for k, (day, u) in enumerate(zip(ends, uses, strict=True)):
            total += u
            if k == reset_at:
                total = u  # a new meter starts from zero
            u = round(u, 2)
            yield (account, day, round(total, 2), None) if cumulative else (account, day, None, u)


# --- the anchor: every row through Python ---------------------------------------------


def anchor(now: datetime) -> dict[str, set[tuple[str, int]]]:
    """The same rules the obvious way: read every row of every table the rules
    use, and decide each subject in plain Python, row by row."""
    from django.utils import timezone

    from wangge.addresses.models import Address
    from wangge.proactive import rules
    from wangge.proactive.models import Entitlement, WaterAccount, WaterReading
    from wangge.registry.models import (
        House,
        Household,
        HouseholdMember,
        Person,
        PersonTag,
        SourceRecord,
        Tenancy,
    )
    from wangge.workforce.models import Visit, VisitPolicy

    today = timezone.localdate(now)
    p = {code: rules.effective_params(d, {}) for code, d in rules.CATALOGUE.items()}
    out: dict[str, set[tuple[str, int]]] = {code: set() for code in rules.CATALOGUE}

    def every(qs: Any, *fields: str) -> Iterator[Any]:
        return qs.values_list(*fields).iterator(chunk_size=20000)

    # Turning 60 without a card.
    c = p["elderly_card"]
    holders = {pid for (pid,) in every(Entitlement.objects.filter(kind="elderly_card"), "person_id")}
    people_at: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pid, name, birth, number, addr in every(Person.objects.all(), "pk", "name", "birth_date", "id_number",
                                                "address_id"):
        if addr is not None:
            people_at[addr].append((pid, name))
        if pid in holders:
            continue
        born = rules.birth_of(birth, number)
        if born is None:
            continue
        delta = (rules.nth_birthday(born[0], c["age"]) - today).days
        if -c["days_after"] <= delta <= c["days_ahead"]:
            out["elderly_card"].add(("person", pid))

    # Tenancy ending.
    c = p["tenancy_ending"]
    use_of: dict[int, str] = {}
    house_at: dict[int, int] = {}
    for hid, addr, use in every(House.objects.all(), "pk", "address_id", "use"):
        use_of[hid] = use
        house_at[addr] = hid
    leases: dict[int, list[date | None]] = defaultdict(list)
    for hid, end in every(Tenancy.objects.all(), "house_id", "end"):
        leases[hid].append(end)
    horizon = today + timedelta(days=c["days_ahead"])
    for hid, ends in leases.items():
        if use_of[hid] in ("vacant", "own") or any(e is None or e > horizon for e in ends):
            continue
        if any(today - timedelta(days=c["days_after"]) <= e <= horizon for e in ends if e is not None):
            out["tenancy_ending"].add(("house", hid))

    # Special groups not visited.
    policies = dict(VisitPolicy.objects.values_list("tag", "every_days"))
    tags_of: dict[int, list[str]] = defaultdict(list)
    for pid, tag, since, until in every(PersonTag.objects.all(), "person_id", "tag", "since", "until"):
        if tag in policies and (since is None or since <= today) and (until is None or until >= today):
            tags_of[pid].append(tag)
    period: dict[int, int] = {}
    for hh, pid in every(HouseholdMember.objects.all(), "household_id", "person_id"):
        for tag in tags_of.get(pid, ()):
            period[hh] = min(policies[tag], period.get(hh, 10**9))
    last: dict[int, date] = {}
    for hh, at in every(Visit.objects.all(), "household_id", "at"):
        d = timezone.localtime(at).date()
        if hh not in last or d > last[hh]:
            last[hh] = d
    for hh, days in period.items():
        if hh not in last or (today - last[hh]).days > days:
            out["visit_overdue"].add(("household", hh))

    # Somebody new in a vacant house: walk up from each person's address.
    c = p["vacant_new_resident"]
    parent = dict(every(Address.objects.all(), "pk", "parent_id"))
    first: dict[int, date] = {}
    for pid, at in every(SourceRecord.objects.filter(person__isnull=False), "person_id", "collected_at"):
        d = timezone.localtime(at).date()
        if pid not in first or d < first[pid]:
            first[pid] = d
    since = today - timedelta(days=c["days"])

    def houses_above(addr: int | None) -> Iterator[int]:
        while addr is not None:
            if addr in house_at:
                yield house_at[addr]
            addr = parent.get(addr)

    for addr, residents in people_at.items():
        for hid in houses_above(addr):
            if use_of[hid] == "vacant" and any(since <= first.get(pid, date.min) <= today for pid, _ in residents):
                out["vacant_new_resident"].add(("house", hid))

    # Water: each account's readings, in order, one at a time.
    households_at: dict[int, int] = defaultdict(int)
    for (addr,) in every(Household.objects.filter(address__isnull=False), "address_id"):
        households_at[addr] += 1
    occupied: set[int] = set()
    for addr in set(people_at) | set(households_at):
        occupied.update(houses_above(addr))
    house_of = dict(every(WaterAccount.objects.all(), "pk", "house_id"))
    z, s = p["water_zero"], p["water_spike"]
    recent = today - timedelta(days=z["recent_days"])
    current: int | None = None
    rows: list[tuple[date, float | None, float | None]] = []

    def judge(account: int, readings: list[tuple[date, float | None, float | None]]) -> None:
        periods: list[tuple[date, float | None, int | None]] = []  # (date, use, days)
        for i, (d, reading, use) in enumerate(readings):
            if i == 0:
                periods.append((d, None, None))
                continue
            prev_d, prev_reading, _ = readings[i - 1]
            if use is None and reading is not None and prev_reading is not None and reading >= prev_reading:
                use = reading - prev_reading
            periods.append((d, use, (d - prev_d).days))
        if periods[-1][0] < recent:
            return
        run_days = 0
        k = len(periods) - 1
        while k > 0:
            _, use, n = periods[k]
            if use is None or use > rules.ZERO_USE:
                break
            run_days += n or 0
            k -= 1
        house = house_of.get(account)
        if run_days >= z["n_days"] and house is not None and use_of[house] != "vacant" and house in occupied:
            out["water_zero"].add(("water_account", account))
        daily = [u / n for _, u, n in periods if u is not None and n]
        _, latest_use, latest_n = periods[-1]
        if latest_use is None or not latest_n or len(periods) < 2:
            return
        latest = latest_use / latest_n
        history = daily[:-1]
        if len(history) < s["min_history"] or latest <= rules.ZERO_USE:
            return
        mean = statistics.fmean(history)
        std = statistics.stdev(history) if len(history) > 1 else 0.0
        if abs(latest - mean) / max(std, s["min_std"]) > s["sigma"]:
            out["water_spike"].add(("water_account", account))

    since_day = today - timedelta(days=s["history_days"])
    for account, d, reading, use in every(WaterReading.objects.filter(date__gte=since_day)
                                          .order_by("account_id", "date"), "account_id", "date", "reading", "use"):
        if account != current:
            if current is not None:
                judge(current, rows)
            current, rows = account, []
        rows.append((d, reading, use))
    if current is not None:
        judge(current, rows)
    return out


# --- the run ------------------------------------------------------------------------------


def engine_matches(now: datetime) -> dict[str, set[tuple[str, int]]]:
    from wangge.proactive import engine, rules

    cache: dict[Any, Any] = {}
    return {code: {m.key for m in engine.evaluate(code, now, cache=cache)} for code in rules.CATALOGUE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--houses", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true", help="20,000 people, 6,000 houses")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file, not PostgreSQL")
    args = parser.parse_args()
    if args.quick:
        args.people, args.houses = 20_000, 6_000
    print(json.dumps({"bench": "proactive", **machine(), "seed": args.seed, "people": args.people,
                      "houses": args.houses}), flush=True)
    try:
        engine_name = prepare_database(args)
    except Exception as exc:  # no PostgreSQL on this machine: say so, as bench.cases does
        if args.sqlite or type(exc).__module__.split(".")[0] != "psycopg":
            raise
        print(json.dumps({"skipped": "proactive", "reason": str(exc)[:200], "hint": "--sqlite"}), flush=True)
        return

    from wangge.proactive import engine
    from wangge.workforce.models import Task

    start = time.perf_counter()
    counts = generate(args.people, args.houses, args.seed)
    print(f"# generated in {time.perf_counter() - start:.1f}s: {json.dumps(counts)}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    runs = engine.run_rules(NOW)
    first = time.perf_counter() - start
    errors = {r.rule.code: r.error for r in runs if r.error}
    if errors:
        raise SystemExit(f"rule errors: {errors}")
    start = time.perf_counter()
    again = engine.run_rules(NOW)
    rerun = time.perf_counter() - start

    start = time.perf_counter()
    expected = anchor(NOW)
    anchor_s = time.perf_counter() - start
    got = engine_matches(NOW)
    for code in expected:
        if got[code] != expected[code]:
            missing, extra = expected[code] - got[code], got[code] - expected[code]
            raise SystemExit(f"{code}: engine and anchor disagree: {len(missing)} missing "
                             f"{sorted(missing)[:5]}, {len(extra)} extra {sorted(extra)[:5]}")

    size: dict[str, Any] = {"people": counts["people"], "houses": counts["houses"],
                            "readings": counts["readings"], "database": engine_name}
    emit("proactive.run_rules_seconds", first, "s", anchor="per-row Python over every row (no writes)",
         anchor_value=anchor_s, higher_is_better=False, tasks_opened=sum(r.opened for r in runs),
         matched=sum(r.matched for r in runs), **size)
    emit("proactive.rerun_seconds", rerun, "s", higher_is_better=False,
         opened=sum(r.opened for r in again), kept=sum(r.kept for r in again), **size)
    for r in runs:
        emit(f"proactive.{r.rule.code}.seconds", r.seconds, "s", higher_is_better=False, matched=r.matched,
             opened=r.opened, anchor_matched=len(expected[r.rule.code]))
    emit("proactive.open_tasks", Task.objects.filter(status="open").count(), "tasks",
         matches_equal_anchor=True, generated=counts)


if __name__ == "__main__":
    main()
