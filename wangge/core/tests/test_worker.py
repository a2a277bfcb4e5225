from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from wangge.core.worker import reap_stale_tasks

pytestmark = pytest.mark.django_db


def _task(status: str, started_minutes_ago: int | None) -> DBTaskResult:
    started = None if started_minutes_ago is None else (
        timezone.now() - timedelta(minutes=started_minutes_ago))
    return DBTaskResult.objects.create(
        status=status, started_at=started, args_kwargs={"args": [], "kwargs": {}},
        task_path="wangge.core.worker.reap_stale_tasks", backend_name="default",
        queue_name="default", run_after=timezone.now())


def test_stale_running_task_is_requeued_and_fresh_one_left_alone():
    stale = _task("RUNNING", 30)
    fresh = _task("RUNNING", 1)
    done = _task("SUCCESSFUL", 60)
    assert reap_stale_tasks(stale_seconds=600) == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert stale.status == "READY" and stale.started_at is None
    assert fresh.status == "RUNNING" and done.status == "SUCCESSFUL"


def test_housekeeper_runs_ticks_and_reaps_until_stopped(monkeypatch):
    import threading

    from wangge.core import worker

    calls: list[str] = []
    stop = threading.Event()

    def tick() -> None:
        calls.append("tick")
        if calls.count("tick") >= 3:
            stop.set()

    def reap() -> int:
        calls.append("reap")
        raise RuntimeError("database away")  # logged; the thread carries on

    monkeypatch.setattr(worker, "_run_ticks", tick)
    monkeypatch.setattr(worker, "reap_stale_tasks", reap)
    thread = threading.Thread(target=worker._housekeeper, args=(stop, 0.02, 0.01))
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert calls[0] == "tick" and calls.count("tick") == 3 and "reap" in calls
