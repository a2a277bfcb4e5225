"""Rule runs against the database: matches become tasks in the grid worker's
inbox, a second run changes nothing, obsolete tasks are cancelled."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from wangge.core import ticks
from wangge.core.models import AuditEntry, Notification
from wangge.proactive import engine
from wangge.proactive.models import Rule, RuleRun
from wangge.proactive.services import grant_entitlement
from wangge.proactive.tests.helpers import (
    NOT_YET_60,
    NOW,
    TURNING_60,
    TZ,
    first_recorded,
    make_house,
    make_household,
    make_person,
    room,
    tasks,
)
from wangge.testing import addresses as lib
from wangge.testing import city
from wangge.workforce.models import Task, Visit, VisitPolicy
from wangge.workforce.services import complete_task

pytestmark = pytest.mark.django_db


def run(code: str, now: datetime = NOW) -> RuleRun:
    [result] = engine.run_rules(now, [code])
    assert not result.error, result.error
    return result


def test_turning_60_raises_one_task_for_the_grid_worker_and_a_rerun_adds_nothing(world: dict[str, Any],
                                                                                  worker_a: Any) -> None:
    zhang = make_person("张某", id_number=TURNING_60, at=room(3, 2, 201))
    make_person("李某", id_number=NOT_YET_60, at=room(3, 2, 202))
    first = run("elderly_card")
    assert (first.matched, first.opened, first.kept) == (1, 1, 0)
    [task] = tasks("elderly_card")
    assert task.subject_type == "person" and task.subject_id == str(zhang.pk)
    assert task.assignee == worker_a and task.grid_code == city.GRID_A and task.kind == "rule"
    assert task.title == "老年人优待证办理提醒：张某"
    assert task.reason.startswith("张某（身份证出生日期 1966-12-10）将于 2026-12-10 年满 60 周岁，尚未办理老年人优待证")
    assert task.evidence["turns_on"] == "2026-12-10" and task.due_at == NOW + timedelta(days=7)
    second = run("elderly_card", NOW + timedelta(hours=1))
    assert (second.matched, second.opened, second.kept) == (1, 0, 1)
    assert Task.objects.count() == 1
    # One message per run, not one per task.
    assert Notification.objects.filter(recipient=worker_a, key__startswith="proactive:").count() == 1


def test_an_entitlement_cancels_the_open_task_on_the_next_run(world: dict[str, Any], admin_user: Any) -> None:
    zhang = make_person("张某", id_number=TURNING_60, at=room())
    run("elderly_card")
    grant_entitlement(by=admin_user, person_id=zhang.pk, issued_on=date(2026, 11, 21))
    again = run("elderly_card")
    assert (again.matched, again.closed) == (0, 1)
    [task] = tasks("elderly_card", "cancelled")
    assert "已有老年人优待证记录" in task.result
    assert AuditEntry.objects.filter(action="proactive.grant_entitlement", object_id=str(zhang.pk)).exists()


def test_a_task_done_is_not_raised_again_within_the_cooldown(world: dict[str, Any], worker_a: Any) -> None:
    make_person("张某", id_number=TURNING_60, at=room())
    run("elderly_card")
    [task] = tasks("elderly_card")
    complete_task(task_id=task.pk, by=worker_a, result="已告知本人，下周去办理")
    again = run("elderly_card")
    assert (again.matched, again.opened, again.snoozed) == (1, 0, 1)
    assert tasks("elderly_card") == []


def test_people_without_a_grid_are_counted_not_lost(world: dict[str, Any]) -> None:
    make_person("无网格", id_number=TURNING_60, grid="")
    result = run("elderly_card")
    assert (result.matched, result.opened, result.ungridded) == (1, 0, 1)


def test_tenancy_ending_asks_to_re_register_and_a_renewal_is_left_alone(world: dict[str, Any]) -> None:
    from wangge.registry.models import Tenancy

    ending = make_house(room(1, 1, 101), use="rented")
    renewed = make_house(room(1, 1, 102), use="rented")
    tenant = make_person("李四", at=room(1, 1, 101))
    Tenancy.objects.create(house=ending, tenant=tenant, start=date(2025, 11, 24), end=date(2026, 11, 24))
    Tenancy.objects.create(house=renewed, tenant=tenant, start=date(2025, 11, 24), end=date(2026, 11, 24))
    Tenancy.objects.create(house=renewed, tenant=tenant, start=date(2026, 11, 25), end=date(2027, 11, 24))
    assert run("tenancy_ending").opened == 1
    [task] = tasks("tenancy_ending")
    assert task.subject_id == str(ending.pk)
    assert task.reason == ("津塘路100号华明家园1号楼1单元101室的租约将于 2026-11-24 到期（还有 4 天），承租人：李四。"
                           "请核实承租人是否续租或更换，并重新登记。")


def test_special_group_household_not_visited_gets_a_visit_task(world: dict[str, Any]) -> None:
    from wangge.registry.models import PersonTag

    VisitPolicy.objects.update_or_create(tag="elderly_alone", defaults={"every_days": 30})
    alone = make_person("赵六", at=room(2, 1, 101))
    seen = make_person("钱七", at=room(2, 1, 102))
    PersonTag.objects.create(person=alone, tag="elderly_alone")
    PersonTag.objects.create(person=seen, tag="elderly_alone")
    PersonTag.objects.create(person=make_person("过期", at=room(2, 2, 101)), tag="elderly_alone",
                             until=date(2026, 1, 1))
    make_household("H1", room(2, 1, 101), [alone])
    visited = make_household("H2", room(2, 1, 102), [seen])
    make_household("H3", room(2, 2, 101), [])
    Visit.objects.create(worker=world["worker_a"], household=visited, at=NOW - timedelta(days=10),
                         grid_code=city.GRID_A, outcome="met")
    assert run("visit_overdue").opened == 1
    [task] = tasks("visit_overdue")
    assert task.kind == "visit" and task.subject_type == "household"
    assert "赵六（独居老人）" in task.reason and "尚无走访记录" in task.reason


def test_new_resident_in_a_vacant_house_asks_for_a_check(world: dict[str, Any]) -> None:
    empty = make_house(room(2, 2, 201), use="vacant")
    make_house(room(2, 2, 202), use="vacant")
    newcomer = make_person("孙八", at=room(2, 2, 201))
    long_ago = make_person("周九", at=room(2, 2, 202))
    first_recorded(newcomer, datetime(2026, 10, 8, 10, tzinfo=TZ))
    first_recorded(long_ago, datetime(2024, 1, 1, 10, tzinfo=TZ))
    assert run("vacant_new_resident").opened == 1
    [task] = tasks("vacant_new_resident")
    assert task.subject_id == str(empty.pk) and "孙八（2026-10-08 首次登记）" in task.reason


def test_a_house_registered_at_building_level_sees_residents_of_its_rooms(world: dict[str, Any]) -> None:
    building = make_house(lib.building_code(lib.HUAMING, 3), use="vacant")
    flat = make_house(room(3, 1, 201), use="vacant")  # a house inside that house: both are asked about
    first_recorded(make_person("吴十", at=room(3, 1, 201)), datetime(2026, 11, 1, tzinfo=TZ))
    run("vacant_new_resident")
    assert sorted(t.subject_id for t in tasks("vacant_new_resident")) == sorted([str(building.pk), str(flat.pk)])
    assert engine.occupancy([building.pk, flat.pk]) == {building.pk: (1, 0), flat.pk: (1, 0)}


def test_a_bad_parameter_is_written_on_the_run_and_the_other_rules_still_run(world: dict[str, Any]) -> None:
    Rule.objects.filter(code="elderly_card").update(params={"age": "sixty"})
    make_person("张某", id_number=TURNING_60, at=room())
    runs = {r.rule.code: r for r in engine.run_rules(NOW)}
    assert "参数 age（年龄）应为 1 到 120 之间的整数" in runs["elderly_card"].error
    assert all(not r.error for code, r in runs.items() if code != "elderly_card")
    assert len(runs) == 6


def test_the_hourly_tick_runs_only_the_rules_that_are_due(world: dict[str, Any], monkeypatch: Any) -> None:
    # Only this app's tick: the others (classifier training…) are not under test.
    monkeypatch.setattr(ticks, "_registry", {"proactive.rules": ticks.registered()["proactive.rules"]})
    first = engine.run_rules(NOW, due_only=True)
    assert len(first) == 6
    later = engine.run_rules(NOW + timedelta(hours=1), due_only=True)
    # The water and visit rules run hourly, the date-based ones daily.
    assert sorted(r.rule.code for r in later) == ["visit_overdue", "water_spike", "water_zero"]
    # The tick itself: due at NOW, then not again within the hour.
    assert "proactive.rules" in ticks.run_due(NOW + timedelta(days=1))
    assert "proactive.rules" not in ticks.run_due(NOW + timedelta(days=1, minutes=30))


def test_each_run_is_audited(world: dict[str, Any]) -> None:
    make_person("张某", id_number=TURNING_60, at=room())
    run("elderly_card")
    entry = AuditEntry.objects.filter(action="proactive.run_rule", object_id="elderly_card").get()
    assert "新建 1" in entry.reason
    assert AuditEntry.objects.filter(action="raise_tasks").exists()
