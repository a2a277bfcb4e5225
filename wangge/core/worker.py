"""The `wangge worker` process: django-tasks-db's worker plus a housekeeping thread.

django-tasks-db has no lease: a worker killed with SIGKILL leaves its task
RUNNING for ever and a restarted worker skips it. Every `reap_every` seconds the
housekeeping thread puts RUNNING tasks older than WANGGE_TASK_STALE_SECONDS back
to READY, so they run again; every job must therefore be idempotent.

Every `tick_every` seconds the same thread runs the periodic ticks that are due
(core.ticks.run_due); the database decides which are due, so several worker
processes do not run a tick more often than it asks.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("wangge.worker")

RUNNING = "RUNNING"
READY = "READY"


def reap_stale_tasks(stale_seconds: int | None = None) -> int:
    """Re-queue tasks that have been RUNNING longer than the stale timeout."""
    seconds = settings.WANGGE_TASK_STALE_SECONDS if stale_seconds is None else stale_seconds
    cutoff = timezone.now() - timedelta(seconds=seconds)
    n = DBTaskResult.objects.filter(status=RUNNING, started_at__lt=cutoff).update(
        status=READY, started_at=None)
    if n:
        logger.warning("re-queued %d stale task(s) left RUNNING by a dead worker", n)
    return n


def _run_ticks() -> None:
    from wangge.core import ticks

    ticks.run_due()


@dataclass
class _Chore:
    func: Callable[[], object]
    every: float
    what: str
    last: float


def _housekeeper(stop: threading.Event, reap_every: float, tick_every: float) -> None:
    # run_worker reaped just before starting this thread; ticks run at once.
    chores = [_Chore(_run_ticks, tick_every, "running ticks", float("-inf")),
              _Chore(reap_stale_tasks, reap_every, "reaping stale tasks", time.monotonic())]
    while True:
        for chore in chores:
            if time.monotonic() - chore.last < chore.every:
                continue
            chore.last = time.monotonic()
            try:
                chore.func()
            except Exception:  # keep going: one failed query must not end the thread
                logger.exception("%s failed", chore.what)
            finally:
                close_old_connections()
        wait = min(c.last + c.every for c in chores) - time.monotonic()
        if stop.wait(max(wait, 0.01)):
            return


def run_worker(*, interval: float = 1.0, reap_every: float = 30.0, tick_every: float = 30.0,
               batch: bool = False) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    reap_stale_tasks()
    stop = threading.Event()
    housekeeper = threading.Thread(target=_housekeeper, args=(stop, reap_every, tick_every),
                                   daemon=True, name="wangge-housekeeper")
    housekeeper.start()
    worker = Worker(
        queue_names=["*"], interval=interval, batch=batch, backend_name="default",
        startup_delay=not batch, max_tasks=None,
        worker_id=f"{socket.gethostname()}-{os.getpid()}", excluded_queue_names=[],
    )
    worker.configure_signals()
    try:
        worker.run()
    finally:
        stop.set()
