"""Data kept only as long as its purpose lasts (数据保留期限).

Apps register purgers, usually from their AppConfig.ready:

    # wangge/epidemic/apps.py
    retention.register_measure_model(Screening)          # rows with a `measure` FK
    retention.register("epidemic.codes", purge_codes, model="epidemic.HealthCode",
                       rule="健康码记录保存 14 天")

A purger is `purge(now) -> int`: it deletes what is past its retention and
returns how many rows went. The daily `core.retention` tick (core.jobs) runs
them all through `run_purgers`, writes one audit entry (action "purge") per
purger that deleted something, and marks the temporary measures whose data is
now gone. Purgers must be idempotent: a second run the same day finds nothing.
Export logs are not purged: they are part of each person's access record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from wangge.core import audit
from wangge.core.models import TemporaryMeasure

logger = logging.getLogger("wangge.retention")

Purge = Callable[[datetime], int]


@dataclass(frozen=True)
class Purger:
    name: str
    purge: Purge
    model: str  # what it deletes, for the audit entry: "epidemic.Screening"
    rule: str  # the rule in words, for the audit entry
    measure_bound: bool = False


_purgers: dict[str, Purger] = {}


def register(name: str, purge: Purge, *, model: str = "", rule: str = "",
             measure_bound: bool = False) -> Purge:
    """Add (or, from the same function, replace) the purger called `name`."""
    old = _purgers.get(name)
    if old is not None and _origin(old.purge) != _origin(purge):
        raise ValueError(f"purger {name!r} is already registered by {_origin(old.purge)}")
    _purgers[name] = Purger(name, purge, model or name, rule, measure_bound)
    return purge


def _origin(func: Purge) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"


def registered() -> dict[str, Purger]:
    return dict(sorted(_purgers.items()))


# ---- temporary measures ------------------------------------------------------


def measure_expired(end: date | None, retention_days: int, today: date) -> bool:
    """A measure's data goes once `retention_days` full days have passed since
    it ended: ended 6-30 with 30 days, it is kept through 7-30 and goes on 7-31."""
    return end is not None and today > end + timedelta(days=retention_days)


def expired_measures(now: datetime) -> list[TemporaryMeasure]:
    today = timezone.localdate(now)
    # Few rows (one per campaign): the per-row retention is checked here.
    return [m for m in TemporaryMeasure.objects.filter(end__isnull=False)
            if measure_expired(m.end, m.retention_days, today)]


def register_measure_model(model: type[models.Model], measure_field: str = "measure") -> Purge:
    """Delete `model`'s rows whose measure (`measure_field`, a foreign key to
    TemporaryMeasure) is past its retention."""
    label = model._meta.label

    def purge(now: datetime) -> int:
        ids = [m.pk for m in expired_measures(now)]
        if not ids:
            return 0
        deleted, _ = model._default_manager.filter(**{f"{measure_field}__in": ids}).delete()
        return deleted

    return register(f"measure:{label}", purge, model=label,
                    rule="临时措施结束后超过保留天数的数据", measure_bound=True)


# ---- the run ---------------------------------------------------------------------


def run_purgers(now: datetime | None = None) -> dict[str, Any]:
    """Run every purger; returns {name: rows deleted (or the error)} and
    "measures": the codes of the measures marked purged by this run."""
    now = now or timezone.now()
    results: dict[str, Any] = {}
    measure_failures = 0
    for purger in registered().values():
        try:
            with transaction.atomic():
                count = int(purger.purge(now))
                if count:
                    audit.record(None, "purge", purger.name, fields=[purger.model],
                                 reason=f"删除 {count} 行：{purger.rule}"[:500])
        except Exception as exc:  # one broken purger must not keep the others' data
            logger.exception("purger %s failed", purger.name)
            results[purger.name] = f"{type(exc).__name__}: {exc}"
            measure_failures += purger.measure_bound
            continue
        results[purger.name] = count
    # Only when every measure-bound purger went through is a measure's data gone.
    results["measures"] = [] if measure_failures else _mark_purged(now)
    return results


def _mark_purged(now: datetime) -> list[str]:
    marked = []
    for measure in expired_measures(now):
        if measure.purged_at is not None:
            continue
        with transaction.atomic():
            if TemporaryMeasure.objects.filter(pk=measure.pk, purged_at__isnull=True).update(
                    purged_at=now) != 1:
                continue
            audit.record(None, "purge", "core.TemporaryMeasure", measure.code,
                         reason=(f"临时措施“{measure.name}”于 {measure.end:%Y-%m-%d} 结束，"
                                 f"保留 {measure.retention_days} 天期满，相关数据已清除")[:500])
        marked.append(measure.code)
    return marked
