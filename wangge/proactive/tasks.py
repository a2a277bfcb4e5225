"""Background entry points: the water rules right after an import, in the
worker rather than in the upload's request."""

from __future__ import annotations

from django_tasks import task


@task()
def run_rules_task(codes: list[str] | None = None) -> list[int]:
    # Idempotent like every run: re-queued after a killed worker, it opens nothing twice.
    from wangge.proactive.engine import run_rules

    return [run.pk for run in run_rules(codes=codes)]
