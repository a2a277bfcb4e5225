"""The workforce's writes, each with the refusal a person can act on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from wangge.core.errors import InvalidInput, NotFound, OutOfScope
from wangge.core.models import AuditEntry, Notification
from wangge.testing import city
from wangge.workforce import selectors, services
from wangge.workforce.models import PatrolDay, PointsEntry, Task, TaskStatus, Visit
from wangge.workforce.tests.conftest import local, make_household, spec

# ---- tasks -------------------------------------------------------------------


def test_a_task_goes_to_the_primary_worker_of_its_grid_and_is_raised_once(worker: Any, worker_c: Any) -> None:
    first = services.raise_tasks([spec(city.GRID_A, "1"), spec(city.GRID_C, "2")])
    again = services.raise_tasks([spec(city.GRID_A, "1"), spec(city.GRID_A, "1")])
    assert (first.opened, first.kept) == (2, 0)
    assert (again.opened, again.kept) == (0, 1)
    assert Task.objects.get(subject_id="1").assignee == worker.user
    assert [t.subject_id for t in selectors.tasks_for(worker.user)] == ["1"]
    assert Notification.objects.filter(recipient=worker.user, kind="task").exists()


def test_a_done_task_can_be_raised_again(worker: Any) -> None:
    services.raise_tasks([spec(city.GRID_A, "1")])
    task = Task.objects.get()
    services.complete_task(task_id=task.pk, by=worker.user, result="已上门办理优待证")
    assert services.raise_tasks([spec(city.GRID_A, "1")]).opened == 1


def test_only_the_assignee_or_an_overseer_completes_a_task(worker: Any, worker_c: Any, community_a: Any) -> None:
    services.raise_tasks([spec(city.GRID_A, "1")])
    task = Task.objects.get()
    with pytest.raises(NotFound):
        services.complete_task(task_id=task.pk, by=worker_c.user, result="不是我的")
    with pytest.raises(InvalidInput, match="办理结果"):
        services.complete_task(task_id=task.pk, by=worker.user, result=" ")
    done = services.complete_task(task_id=task.pk, by=community_a, result="社区代办")
    assert done.status == TaskStatus.DONE and done.done_by == community_a
    with pytest.raises(InvalidInput, match="已完成"):
        services.complete_task(task_id=task.pk, by=worker.user, result="再办一次")
    assert AuditEntry.objects.filter(action="complete_task", object_id=str(task.pk)).count() == 1


def test_reassigning_stays_inside_the_callers_scope(worker: Any, worker_c: Any, community_a: Any,
                                                      admin_user: Any) -> None:
    from wangge.accounts.services import create_user

    services.raise_tasks([spec(city.GRID_A, "1"), spec(city.GRID_C, "2")])
    a_task, c_task = Task.objects.get(subject_id="1"), Task.objects.get(subject_id="2")
    stand_in = create_user("stand_in", "pass-stand_in", role="grid_worker", area_code=city.GRID_B)
    with pytest.raises(OutOfScope):
        services.reassign_tasks(by=worker.user, task_ids=[a_task.pk], to_user_id=stand_in.pk, reason="请假")
    with pytest.raises(NotFound, match=str(c_task.pk)):
        services.reassign_tasks(by=community_a, task_ids=[a_task.pk, c_task.pk], to_user_id=stand_in.pk,
                                reason="请假")
    with pytest.raises(NotFound, match="接收任务的网格员"):
        services.reassign_tasks(by=community_a, task_ids=[a_task.pk], to_user_id=worker_c.user.pk, reason="请假")
    assert services.reassign_tasks(by=community_a, task_ids=[a_task.pk], to_user_id=stand_in.pk,
                                   reason="网格员甲病假") == 1
    assert Task.objects.get(pk=a_task.pk).assignee == stand_in
    assert Task.objects.get(pk=c_task.pk).assignee == worker_c.user


def test_overdue_tasks_show_to_community_staff_not_to_other_workers(worker: Any, worker_c: Any,
                                                                     community_a: Any) -> None:
    services.raise_tasks([spec(city.GRID_A, "late", due_in=-2), spec(city.GRID_A, "soon"),
                          spec(city.GRID_C, "other", due_in=-2)])
    assert [t.subject_id for t in selectors.tasks_for(community_a, overdue=True)] == ["late"]
    assert [t.subject_id for t in selectors.tasks_for(worker_c.user)] == ["other"]


def test_obsolete_tasks_are_cancelled_when_the_condition_is_gone(worker: Any) -> None:
    services.raise_tasks([spec(city.GRID_A, "1"), spec(city.GRID_A, "2")])
    assert services.close_obsolete(source="proactive.test", subject_type="person", still=["2"],
                                   result="已办理优待证") == 1
    assert Task.objects.get(subject_id="1").status == TaskStatus.CANCELLED
    assert Task.objects.get(subject_id="2").status == TaskStatus.OPEN


def test_a_task_without_a_worker_waits_unassigned_until_the_grid_gets_one(worker: Any, admin_user: Any) -> None:
    services.raise_tasks([spec(city.GRID_B, "b")])
    assert Task.objects.get().assignee is None
    services.assign_grid(by=admin_user, worker=worker, grid_code=city.GRID_B)
    assert Task.objects.get().assignee == worker.user


# ---- patrols -----------------------------------------------------------------


def _walk(start: Any, minutes: int, lon: float, lat: float, step_s: int = 5) -> list[services.PointIn]:
    """A slow walk east from (lon, lat): about 1.2 m/s."""
    n = minutes * 60 // step_s
    return [services.PointIn(start + timedelta(seconds=i * step_s), lon + i * step_s * 1.2 / 86000, lat)
            for i in range(n)]


def test_points_land_once_in_any_order_and_bad_ones_are_refused_with_reasons(worker: Any) -> None:
    now = timezone.now()
    patrol = services.start_patrol(by=worker.user, client_id="p-1", at=now - timedelta(minutes=30))
    assert services.start_patrol(by=worker.user, client_id="p-1") == patrol
    fixes = _walk(now - timedelta(minutes=20), 10, *city.POINT_A)
    first = services.add_points(by=worker.user, patrol_id=patrol.pk, points=fixes[::-1])
    assert (first.accepted, first.duplicates, first.rejected) == (120, 0, [])
    bad = [services.PointIn(now + timedelta(hours=3), *city.POINT_A),
           services.PointIn(now - timedelta(minutes=1), 200.0, 39.0),
           services.PointIn(now - timedelta(minutes=1), 39.0, 45.0),
           services.PointIn(now - timedelta(days=2), *city.POINT_A)]
    again = services.add_points(by=worker.user, patrol_id=patrol.pk, points=fixes[:50] + bad)
    assert (again.accepted, again.duplicates) == (0, 50)
    reasons = {r["index"]: r["reason"] for r in again.rejected}
    assert "晚于当前时间" in reasons[50] and "经度" in reasons[51] and "中国境内" in reasons[52]
    assert "早于巡查开始" in reasons[53]
    assert again.patrol.points == 120


def test_gcj02_fixes_are_stored_as_wgs84_and_located(worker: Any) -> None:
    from wangge.core.coords import wgs84_to_gcj02

    now = timezone.now()
    patrol = services.start_patrol(by=worker.user, at=now - timedelta(minutes=5))
    gx, gy = wgs84_to_gcj02(np.array([city.POINT_A[0]]), np.array([city.POINT_A[1]]))
    services.add_points(by=worker.user, patrol_id=patrol.pk, crs="gcj02",
                        points=[services.PointIn(now - timedelta(minutes=1), float(gx[0]), float(gy[0]))])
    point = patrol.track.get()
    assert point.lon == pytest.approx(city.POINT_A[0], abs=1e-5)
    assert point.lat == pytest.approx(city.POINT_A[1], abs=1e-5)
    assert point.grid_code == city.GRID_A


def test_another_workers_patrol_is_not_found(worker: Any, worker_c: Any) -> None:
    patrol = services.start_patrol(by=worker.user)
    with pytest.raises(NotFound):
        services.add_points(by=worker_c.user, patrol_id=patrol.pk, points=[])
    with pytest.raises(OutOfScope):
        services.start_patrol(by=_resident())


def _resident() -> Any:
    from wangge.accounts.services import create_user

    return create_user("resident_x", "pass-resident_x", role="resident")


def test_late_points_after_stop_are_kept_and_the_figures_follow(worker: Any) -> None:
    now = timezone.now()
    patrol = services.start_patrol(by=worker.user, at=now - timedelta(minutes=40))
    fixes = _walk(now - timedelta(minutes=35), 30, *city.POINT_A)
    services.add_points(by=worker.user, patrol_id=patrol.pk, points=fixes[:180])
    stopped = services.stop_patrol(by=worker.user, patrol_id=patrol.pk, at=fixes[-1].at)
    inside_before = stopped.inside_s
    late = services.add_points(by=worker.user, patrol_id=patrol.pk, points=fixes[180:])
    assert late.accepted == 180
    assert late.patrol.inside_s == pytest.approx(inside_before * 2 + 5, abs=6)
    assert late.patrol.distance_m > 0


def test_the_live_position_shows_the_newest_fix_only(worker: Any, viewer: Any, worker_c: Any) -> None:
    now = timezone.now()
    patrol = services.start_patrol(by=worker.user, at=now - timedelta(minutes=10))
    services.add_points(by=worker.user, patrol_id=patrol.pk,
                        points=[services.PointIn(now - timedelta(minutes=1), *city.POINT_A)])
    services.add_points(by=worker.user, patrol_id=patrol.pk,
                        points=[services.PointIn(now - timedelta(minutes=8), *city.POINT_B)])
    live = selectors.live_positions(viewer)
    assert [(p.worker_id, p.grid_code, p.patrolling) for p in live] == [(worker.pk, city.GRID_A, True)]
    assert selectors.live_positions(worker_c.user) == []
    assert selectors.live_positions(viewer, now=now + timedelta(minutes=7)) == []


def test_a_day_of_double_patrols_is_compliant_and_a_morning_only_day_is_not(worker: Any, worker_c: Any) -> None:
    day = timezone.localdate() - timedelta(days=1)
    for who, sessions in ((worker, [(7, 0), (14, 0)]), (worker_c, [(7, 0)])):
        for hh, mm in sessions:
            _patrol_at(who, local(day, hh, mm), 100, who is worker)
    assert services.compute_days(day) == 2
    a, c = PatrolDay.objects.get(worker=worker), PatrolDay.objects.get(worker=worker_c)
    assert a.compliant and a.morning_inside_s >= 5400 and a.afternoon_inside_s >= 5400
    assert not c.compliant and c.afternoon_inside_s == 0
    assert a.distance_m > 1000


def _patrol_at(who: Any, start: Any, minutes: int, inside: bool) -> None:
    from wangge.workforce.models import Patrol, TrackPoint

    patrol = Patrol.objects.create(worker=who, started_at=start, status="ended",
                                   ended_at=start + timedelta(minutes=minutes))
    lon, lat = city.POINT_A if who.user.area_code == city.GRID_A else city.POINT_C
    TrackPoint.objects.bulk_create([
        TrackPoint(patrol=patrol, at=p.at, lon=p.lon, lat=p.lat, grid_code=who.user.area_code)
        for p in _walk(start, minutes, lon, lat)])


def test_a_long_stretch_outside_the_grid_is_flagged(worker: Any) -> None:
    from wangge.workforce.models import Patrol, TrackPoint

    day = timezone.localdate() - timedelta(days=1)
    start = local(day, 8)
    patrol = Patrol.objects.create(worker=worker, started_at=start, status="ended")
    fixes = _walk(start, 60, *city.POINT_C)  # grid C is not worker A's
    TrackPoint.objects.bulk_create([TrackPoint(patrol=patrol, at=p.at, lon=p.lon, lat=p.lat,
                                               grid_code=city.GRID_C) for p in fixes])
    services.compute_days(day)
    flags = PatrolDay.objects.get(worker=worker).flags
    assert [f["kind"] for f in flags] == ["outside"]
    assert "连续离开网格" in flags[0]["text"]


# ---- visits ------------------------------------------------------------------


def test_a_visit_to_a_household_of_another_grid_is_refused(worker: Any) -> None:
    other = make_household(city.GRID_C)
    with pytest.raises(NotFound, match="不在您负责的网格内"):
        services.record_visit(by=worker.user, visit=services.VisitIn(household_id=other.pk, outcome="met"))
    assert not Visit.objects.exists()


def test_a_visit_closes_the_visit_task_and_earns_a_party_member_a_point(worker: Any) -> None:
    household = make_household(city.GRID_A, tag="elderly_alone")
    services.raise_tasks([services.TaskSpec(
        kind="visit", source=services.VISIT_SOURCE, subject_type="household", subject_id=str(household.pk),
        title="定期走访", reason="独居老人 7 天未走访", grid_code=city.GRID_A,
        due_at=timezone.now() + timedelta(days=1))])
    visit = services.record_visit(by=worker.user, visit=services.VisitIn(
        household_id=household.pk, outcome="met", notes="身体健康", client_id="v-1"))
    assert services.record_visit(by=worker.user, visit=services.VisitIn(
        household_id=household.pk, outcome="met", client_id="v-1")) == visit
    assert Task.objects.get().status == TaskStatus.DONE
    assert PointsEntry.objects.get(worker=worker).points == 1
    assert AuditEntry.objects.filter(action="record_visit", object_id=str(household.pk)).count() == 1


def test_corrections_land_as_a_grid_form_source_record(worker: Any) -> None:
    household = make_household(city.GRID_A)
    person = household.head
    visit = services.record_visit(by=worker.user, visit=services.VisitIn(
        household_id=household.pk, outcome="met", person_id=person.pk, corrections={"phones": "13912345678"}))
    assert visit.source_record is not None
    assert visit.source_record.source.channel == "grid_form"
    person.refresh_from_db()
    assert "13912345678" in person.phones
    with pytest.raises(InvalidInput, match="不能在走访中更正这些字段"):
        services.record_visit(by=worker.user, visit=services.VisitIn(
            household_id=household.pk, outcome="met", person_id=person.pk,
            corrections={"id_number": "120110194803010011"}))


def test_bad_visits_are_refused_with_reasons(worker: Any) -> None:
    household = make_household(city.GRID_A)
    with pytest.raises(InvalidInput, match="走访结果"):
        services.record_visit(by=worker.user, visit=services.VisitIn(household_id=household.pk, outcome="ok"))
    with pytest.raises(InvalidInput, match="晚于当前时间"):
        services.record_visit(by=worker.user, visit=services.VisitIn(
            household_id=household.pk, outcome="met", at=timezone.now() + timedelta(hours=1)))
    stranger = make_household(city.GRID_A, name="李四")
    with pytest.raises(InvalidInput, match="不是该户成员"):
        services.record_visit(by=worker.user, visit=services.VisitIn(
            household_id=household.pk, outcome="met", person_id=stranger.head_id))


def test_doors_closed_twice_on_an_elderly_person_alone_alert_community_and_police(
        worker: Any, community_a: Any, police_a: Any, viewer: Any) -> None:
    household = make_household(city.GRID_A, tag="elderly_alone")
    now = timezone.now()
    for hours in (30, 2):
        services.record_visit(by=worker.user, visit=services.VisitIn(
            household_id=household.pk, outcome="nobody_home", at=now - timedelta(hours=hours)))
    alerted = set(Notification.objects.filter(kind="alert").values_list("recipient__username", flat=True))
    assert alerted == {"community_a", "police_a"}
    assert Task.objects.get(source="workforce.closed_door").kind == "alert"
    services.record_visit(by=worker.user, visit=services.VisitIn(household_id=household.pk,
                                                                 outcome="nobody_home"))
    assert Notification.objects.filter(kind="alert").count() == 2  # the same streak alerts once


def test_a_closed_door_of_a_household_without_a_policy_raises_nothing(worker: Any, community_a: Any) -> None:
    household = make_household(city.GRID_A, tag="veteran")
    for _ in range(3):
        services.record_visit(by=worker.user, visit=services.VisitIn(household_id=household.pk,
                                                                     outcome="nobody_home"))
    assert not Notification.objects.filter(kind="alert").exists()


# ---- cases -------------------------------------------------------------------


def test_a_handled_case_becomes_a_verification_task_done_by_verifying(worker: Any, chengguan: Any) -> None:
    from wangge.cases.services import StepInput, take_step
    from wangge.testing.cases import make_case

    case = make_case(by=worker.user)
    take_step(case_id=case.pk, by=chengguan, step="accept")
    take_step(case_id=case.pk, by=chengguan, step="handle", given=StepInput(note="已清运"))
    task = Task.objects.get(source="case.verify")
    assert task.assignee == worker.user and task.kind == "case_verify" and "已处置" in task.reason
    take_step(case_id=case.pk, by=worker.user, step="verify", given=StepInput(note="现场已清理干净"))
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


# ---- assessment --------------------------------------------------------------


def test_the_monthly_score_follows_tracks_tasks_and_visits(worker: Any, worker_c: Any) -> None:
    from wangge.workforce.models import MonthlyScore

    today = timezone.localdate()
    services.raise_tasks([spec(city.GRID_A, "done", due_in=-1), spec(city.GRID_A, "late", due_in=-1)])
    Task.objects.filter(subject_id="done").update(status="done", done_at=timezone.now() - timedelta(days=2))
    household = make_household(city.GRID_A, tag="elderly_alone")
    make_household(city.GRID_A, tag="elderly_alone", name="张奶奶")
    services.record_visit(by=worker.user, visit=services.VisitIn(household_id=household.pk, outcome="met"))
    assert services.compute_month(today) == 2
    a = MonthlyScore.objects.get(worker=worker)
    assert a.figures["tasks_due"] == 2 and a.figures["tasks_on_time"] == 1 and a.tasks == 50.0
    assert a.figures["households_due"] == 2 and a.visits == 50.0
    assert "rating" in a.figures["missing"]
    ranked = selectors.ranking(worker.user, today)
    assert [r.score.worker_id for r in ranked] == [worker.pk]


def test_points_are_awarded_only_to_party_members_in_scope(worker: Any, worker_c: Any, community_a: Any) -> None:
    entry = services.award_points(by=community_a, worker_id=worker.pk, points=5, reason="参加志愿服务")
    assert entry.points == 5
    with pytest.raises(NotFound):
        services.award_points(by=community_a, worker_id=worker_c.pk, points=5, reason="参加志愿服务")
    with pytest.raises(OutOfScope):
        services.award_points(by=worker.user, worker_id=worker.pk, points=5, reason="自己加分")
    _, _, balance = selectors.ledger(community_a, worker.pk)
    assert balance == 5
