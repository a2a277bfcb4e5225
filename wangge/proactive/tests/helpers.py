"""Test data for the proactive app on the tiny city and its address library
(wangge/testing/city.py, addresses.py): houses, people, households and water
files, each with sensible defaults."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from wangge.testing import addresses as lib
from wangge.testing import city
from wangge.testing.registry import make_id

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
TODAY = NOW.date()
# Turns 60 on 2026-12-10, twenty days after NOW (the issue's own example).
TURNING_60 = make_id("12011019661210123")
# Turns 60 in March 2027: outside the 30-day window.
NOT_YET_60 = make_id("12011019670301123")
WATER_HEADER = ["用水户号", "用水地址", "抄表日期", "表底数", "用水量"]


def room(building: int = 1, unit: int = 1, number: int = 101, compound: str = lib.HUAMING) -> str:
    return lib.room_code(compound, building, unit, number)


def address(code: str) -> Any:
    from wangge.addresses.models import Address

    return Address.objects.get(code=code)


def make_house(code: str | None = None, use: str = "own") -> Any:
    from wangge.registry.models import House

    a = address(code or room())
    return House.objects.create(address=a, grid_code=a.grid_code, use=use)


def make_person(name: str = "王伟", *, id_number: str | None = None, birth_date: date | None = None,
                at: str | None = None, grid: str = city.GRID_A) -> Any:
    from wangge.registry.models import Person

    a = address(at) if at else None
    return Person.objects.create(name=name, id_number=id_number, birth_date=birth_date, address=a,
                                 grid_code=a.grid_code if a else grid)


def make_household(key: str, at: str, people: list[Any]) -> Any:
    from wangge.registry.models import Household, HouseholdMember

    a = address(at)
    household = Household.objects.create(key=key, address=a, grid_code=a.grid_code,
                                         head=people[0] if people else None)
    for i, p in enumerate(people):
        HouseholdMember.objects.create(household=household, person=p, relation="head" if i == 0 else "child")
    return household


def first_recorded(person: Any, at: datetime) -> Any:
    from wangge.registry.models import Channel, Source, SourceRecord

    source, _ = Source.objects.get_or_create(code="grid", defaults={"name": "网格员采集",
                                                                     "channel": Channel.GRID_FORM})
    return SourceRecord.objects.create(source=source, kind="person", record_key=f"p{person.pk}-{at:%Y%m%d}",
                                       raw={}, values={}, fingerprint=f"{person.pk}{at:%Y%m%d}",
                                       collected_at=at, person=person)


def make_worker(user: Any, grid: str) -> Any:
    from wangge.workforce.models import Assignment, Worker

    worker, _ = Worker.objects.get_or_create(user=user)
    Assignment.objects.get_or_create(worker=worker, grid_code=grid, defaults={"primary": True})
    return worker


def tasks(source: str, status: str = "open") -> list[Any]:
    from wangge.workforce.models import Task

    return list(Task.objects.filter(source=f"proactive.{source}", status=status).order_by("pk"))


def water_csv(rows: list[list[Any]], header: list[str] | None = None, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or WATER_HEADER)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode(encoding)


def monthly(account: str, address_text: str, uses: Sequence[float | None], *, first: date = date(2025, 11, 30),
            readings: bool = False) -> list[list[Any]]:
    """One row per month end from `first`, with the use (or, with readings=True,
    the cumulative meter reading instead)."""
    rows: list[list[Any]] = []
    total = 1000.0
    y, m = first.year, first.month
    for use in uses:
        day = _month_end(y, m)
        if use is not None:
            total += use
        rows.append([account, address_text, day.isoformat(), f"{total:g}" if readings else "",
                     "" if readings else ("" if use is None else f"{use:g}")])
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return rows


def _month_end(y: int, m: int) -> date:
    nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)
