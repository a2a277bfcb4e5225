"""The process's classifier, trained on the catalog's phrases and the
categories of past cases that people confirmed, and retrained when the
catalog changes or enough new cases have closed."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db.models import Count, Max

from wangge.cases import classify
from wangge.cases.models import Case, Category

# Past cases teach the model the words people really use; the newest are kept
# so a long history does not slow training.
PAST_CASES = 20_000
RETRAIN_AFTER_CASES = 500
# Intake must not pay two queries per report to learn that nothing changed.
CHECK_EVERY_SECONDS = 30.0

_lock = threading.Lock()


@dataclass
class _Cached:
    revision: tuple[object, ...]
    closed: int
    model: classify.Classifier | None
    checked: float = 0.0


_cache: _Cached | None = None


def _revision() -> tuple[object, ...]:
    agg = Category.objects.filter(active=True).aggregate(n=Count("id"), at=Max("updated_at"))
    return (agg["n"], agg["at"])


def _closed_count() -> int:
    return Case.objects.filter(state="closed", category__isnull=False).count()


def training_samples() -> list[tuple[str, str]]:
    samples: list[tuple[str, str]] = []
    for code, name, phrases in Category.objects.filter(active=True).values_list(
            "code", "name", "phrases"):
        samples.append((name, code))
        samples.extend((p.strip(), code) for p in phrases.splitlines() if p.strip())
    past = (Case.objects.filter(state="closed", category__active=True)
            .order_by("-closed_at").values_list("description", "category__code")[:PAST_CASES])
    samples.extend((text, code) for text, code in past if text)
    return samples


def model() -> classify.Classifier | None:
    """The current model, or None while the catalog has fewer than two items."""
    global _cache
    cached = _cache
    if cached is not None and time.monotonic() - cached.checked < CHECK_EVERY_SECONDS:
        return cached.model
    revision = _revision()
    if (cached is not None and cached.revision == revision
            and _closed_count() - cached.closed < RETRAIN_AFTER_CASES):
        cached.checked = time.monotonic()
        return cached.model
    with _lock:
        if _cache is not cached:
            return _cache.model if _cache else None
        closed = _closed_count()
        samples = training_samples()
        try:
            trained: classify.Classifier | None = classify.train(samples)
        except ValueError:
            trained = None
        _cache = _Cached(revision, closed, trained, time.monotonic())
        return trained


@contextmanager
def held() -> Iterator[None]:
    """Train once now and keep that model until the block ends: a simulation
    (the demo) then classifies the same whatever the clock does meanwhile."""
    global CHECK_EVERY_SECONDS
    forget()
    model()
    every, CHECK_EVERY_SECONDS = CHECK_EVERY_SECONDS, math.inf
    try:
        yield
    finally:
        CHECK_EVERY_SECONDS = every
        forget()


def forget() -> None:
    """Drop the cached model (tests, and after the catalog is reloaded)."""
    global _cache
    _cache = None


def guess(text: str, k: int = 3) -> list[classify.Guess]:
    m = model()
    return m.top(text, k) if m is not None else []
