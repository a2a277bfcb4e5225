from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wangge.cases import deadlines
from wangge.cases.models import Case, CaseEvent
from wangge.cases.services import StepInput, take_step
from wangge.core.models import Notification
from wangge.testing.cases import make_case

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
# Tuesday 3 June 2025, 09:00: 暴露垃圾 normal is 3 working days, due Friday 17:30.
MONDAY_AFTER = datetime(2025, 6, 9, 9, 30, tzinfo=TZ)
DISPATCHED = datetime(2025, 6, 3, 9, 0, tzinfo=TZ)


def kinds(user: Any) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_warning_comes_before_the_limit_and_only_once(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a, at=DISPATCHED)
    assert case.handle_warn_at is not None
    before = case.handle_warn_at - timedelta(minutes=1)
    assert deadlines.scan(before)["warned"] == 0
    after = case.handle_warn_at + timedelta(minutes=1)
    assert deadlines.scan(after)["warned"] == 1
    assert deadlines.scan(after + timedelta(minutes=5))["warned"] == 0
    assert kinds(chengguan).count("case_due_soon") == 1


def test_overdue_is_marked_once_supervised_and_told_to_the_centre(
        worker_a: Any, chengguan: Any, viewer: Any) -> None:
    case = make_case(worker_a, at=DISPATCHED)
    first = deadlines.scan(MONDAY_AFTER)
    again = deadlines.scan(MONDAY_AFTER + timedelta(minutes=1))
    assert first["overdue"] == 1 and again["overdue"] == 0
    case = Case.objects.get(pk=case.pk)
    assert case.overdue and case.supervised and case.overdue_at == case.handle_due
    assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1
    assert kinds(chengguan).count("case_overdue") == 1
    assert kinds(viewer).count("case_overdue") == 1


def test_not_yet_handled_reminders_repeat_each_interval_but_never_twice(
        worker_a: Any, chengguan: Any) -> None:
    make_case(worker_a, at=DISPATCHED)
    deadlines.scan(datetime(2025, 6, 3, 10, 30, tzinfo=TZ))   # 1.5 working hours: none yet
    assert kinds(chengguan).count("case_reminder") == 0
    deadlines.scan(datetime(2025, 6, 3, 11, 5, tzinfo=TZ))    # first round
    deadlines.scan(datetime(2025, 6, 3, 11, 6, tzinfo=TZ))    # same round again
    assert kinds(chengguan).count("case_reminder") == 1
    deadlines.scan(datetime(2025, 6, 3, 14, 35, tzinfo=TZ))   # 3 h + 1.08 h: second round
    assert kinds(chengguan).count("case_reminder") == 2


def test_acting_stops_the_not_signed_reminders(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a, at=DISPATCHED)
    take_step(case_id=case.pk, by=chengguan, step="accept", at=datetime(2025, 6, 3, 10, 0, tzinfo=TZ))
    deadlines.scan(datetime(2025, 6, 3, 11, 30, tzinfo=TZ))
    assert kinds(chengguan).count("case_reminder") == 0


def test_a_scan_after_a_restart_sends_nothing_twice(worker_a: Any, chengguan: Any, viewer: Any) -> None:
    make_case(worker_a, at=DISPATCHED)
    deadlines.scan(MONDAY_AFTER)
    sent = Notification.objects.count()
    # A worker killed and restarted runs the same scan again on the same cases.
    deadlines.scan(MONDAY_AFTER)
    deadlines.scan(MONDAY_AFTER + timedelta(seconds=30))
    assert Notification.objects.count() == sent


def test_the_grid_worker_is_reminded_to_verify_and_then_told_it_is_late(
        worker_a: Any, outsider: Any, chengguan: Any) -> None:
    case = make_case(worker_a, at=DISPATCHED)
    take_step(case_id=case.pk, by=chengguan, step="accept", at=DISPATCHED + timedelta(hours=1))
    case = take_step(case_id=case.pk, by=chengguan, step="handle", given=StepInput(note="已清运"),
                     at=DISPATCHED + timedelta(hours=2))
    assert case.verify_warn_at is not None and case.verify_due is not None
    assert "case_verify" in kinds(worker_a)
    deadlines.scan(case.verify_warn_at + timedelta(minutes=1))
    assert kinds(worker_a).count("case_verify_soon") == 1
    assert deadlines.scan(case.verify_due + timedelta(minutes=1))["verify_overdue"] == 1
    assert kinds(worker_a).count("case_verify_overdue") == 1
    assert kinds(outsider) == []


def test_the_worker_tick_runs_the_scan(worker_a: Any, chengguan: Any) -> None:
    from wangge.core import ticks

    make_case(worker_a, at=DISPATCHED)
    results = ticks.run_all(MONDAY_AFTER)
    assert results["cases.deadlines"]["overdue"] == 1
