"""Imports run in the worker, so a large file does not hold a web request."""

from __future__ import annotations

from django_tasks import task

from wangge.registry.models import Batch, BatchStatus


@task()
def import_batch(batch_id: int) -> None:
    # A re-queued task (the worker died mid-way) finds a finished batch and stops:
    # the import itself is idempotent too, as every row is keyed.
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status == BatchStatus.DONE:
        return
    from wangge.fusion.services import run_import

    run_import(batch)
