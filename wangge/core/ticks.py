"""Periodic ticks: small functions the worker runs every so often.

An app registers its ticks in a module of its own, imported from its
AppConfig.ready so that every process knows them:

    # wangge/cases/jobs.py
    @periodic("cases.deadlines", every=60)
    def scan_deadlines(now: datetime) -> dict[str, int]:
        ...

    # wangge/cases/apps.py
    def ready(self) -> None:
        from wangge.cases import jobs  # noqa: F401 - registers the ticks

`wangge worker` calls run_due() from its housekeeping thread (core.worker);
`wangge tick` calls it once, for cron or by hand. When each tick last ran is
kept in TickRun, and a run is claimed with one conditional UPDATE, so any
number of worker processes, and restarts, run a tick at most once per `every`
seconds. A tick is handed the time it was due (`now`) and must be idempotent:
a process may die half-way through one, and the next run does it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger("wangge.ticks")

TickFunc = Callable[[datetime], Any]
F = TypeVar("F", bound=TickFunc)


@dataclass(frozen=True)
class Tick:
    name: str
    every: float  # seconds
    func: TickFunc


_registry: dict[str, Tick] = {}


def periodic(name: str, every: float) -> Callable[[F], F]:
    """Register `f(now)` to run at most once every `every` seconds; returns f unchanged."""
    if every <= 0:
        raise ValueError(f"tick {name!r}: every must be positive")

    def register(func: F) -> F:
        old = _registry.get(name)
        if old is not None and _origin(old.func) != _origin(func):
            raise ValueError(f"tick {name!r} is already registered by {_origin(old.func)}")
        _registry[name] = Tick(name, float(every), func)
        return func

    return register


def _origin(func: TickFunc) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"


def registered() -> dict[str, Tick]:
    return dict(sorted(_registry.items()))


def run_due(now: datetime | None = None) -> dict[str, Any]:
    """Run every tick whose interval has passed since its last run anywhere.

    Returns {name: result} for the ticks this call ran; a tick that raised has
    its exception as the result (it is logged, and the others still run).
    """
    now = now or timezone.now()
    _ensure_rows()
    results: dict[str, Any] = {}
    for tick in registered().values():
        if _claim(tick, now):
            results[tick.name] = _run(tick, now)
    return results


def run_all(now: datetime | None = None) -> dict[str, Any]:
    """Run every tick now, due or not (the CLI's --all, and tests)."""
    from wangge.core.models import TickRun

    now = now or timezone.now()
    _ensure_rows()
    results: dict[str, Any] = {}
    for tick in registered().values():
        TickRun.objects.filter(name=tick.name).update(last_run_at=now)
        results[tick.name] = _run(tick, now)
    return results


def _ensure_rows() -> None:
    from wangge.core.models import TickRun

    # ignore_conflicts: two processes starting together both try to insert.
    TickRun.objects.bulk_create([TickRun(name=name) for name in _registry], ignore_conflicts=True)


def _claim(tick: Tick, now: datetime) -> bool:
    from wangge.core.models import TickRun

    # One UPDATE … WHERE: of two processes with the same `now`, the second finds
    # last_run_at already moved and updates nothing. PostgreSQL re-checks the
    # WHERE after waiting for the first one's row lock; SQLite serialises writers.
    due = Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - timedelta(seconds=tick.every))
    return TickRun.objects.filter(due, name=tick.name).update(last_run_at=now) == 1


def _run(tick: Tick, now: datetime) -> Any:
    from wangge.core.models import TickRun

    error = ""
    try:
        if connection.in_atomic_block:
            # Called inside a transaction (a test, a management shell): a savepoint
            # keeps one tick's database error from breaking the others. Outside
            # one, ticks autocommit, so a long tick does not hold SQLite's lock.
            with transaction.atomic():
                result = tick.func(now)
        else:
            result = tick.func(now)
    except Exception as exc:  # one broken tick must not stop the others
        logger.exception("tick %s failed", tick.name)
        result, error = exc, f"{type(exc).__name__}: {exc}"
    TickRun.objects.filter(name=tick.name).update(
        last_finished_at=timezone.now(), last_error=error[:2000],
        last_result=None if error else _jsonable(result))
    return result


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return repr(value)
