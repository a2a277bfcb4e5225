"""The `wangge worker` process: django-tasks-db's worker plus a reaper.

django-tasks-db has no lease: a worker killed with SIGKILL leaves its task
RUNNING for ever and a restarted worker skips it. The reaper puts RUNNING tasks
older than WANGGE_TASK_STALE_SECONDS back to READY, so they run again; every
job must therefore be idempotent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
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


def _reaper(stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            reap_stale_tasks()
        except Exception:  # keep reaping: one failed query must not end the thread
            logger.exception("reaping stale tasks failed")
        finally:
            close_old_connections()


def run_worker(*, interval: float = 1.0, reap_every: float = 30.0, batch: bool = False) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    reap_stale_tasks()
    stop = threading.Event()
    reaper = threading.Thread(target=_reaper, args=(stop, reap_every), daemon=True)
    reaper.start()
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
