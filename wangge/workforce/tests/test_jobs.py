"""The workforce's periodic ticks do their work when called with a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from wangge.testing import city
from wangge.workforce import jobs, services
from wangge.workforce.models import MonthlyScore, Patrol, PatrolDay


def test_a_patrol_left_running_is_stopped_at_its_last_fix(worker: Any) -> None:
    now = timezone.now()
    patrol = services.start_patrol(by=worker.user, at=now - timedelta(hours=4))
    last = now - timedelta(hours=3)
    services.add_points(by=worker.user, patrol_id=patrol.pk, points=[services.PointIn(last, *city.POINT_A)])
    assert jobs.stop_forgotten_patrols(now) == {"stopped": 1}
    patrol = Patrol.objects.get()
    assert patrol.status == "ended" and patrol.ended_at == last
    assert jobs.stop_forgotten_patrols(now) == {"stopped": 0}


def test_todays_figures_follow_the_workers_who_sent_fixes(worker: Any, worker_c: Any) -> None:
    now = timezone.now()
    patrol = services.start_patrol(by=worker.user, at=now - timedelta(minutes=10))
    services.add_points(by=worker.user, patrol_id=patrol.pk, points=[
        services.PointIn(now - timedelta(minutes=5) + timedelta(seconds=5 * i), city.POINT_A[0] + i * 1e-5,
                         city.POINT_A[1]) for i in range(30)])
    assert jobs.refresh_today(now) == {"workers": 1}
    assert PatrolDay.objects.get().worker == worker


def test_the_months_scores_are_computed(worker: Any, worker_c: Any) -> None:
    jobs.score_month(timezone.now())
    assert MonthlyScore.objects.count() == 2
