"""Retention (core.retention): the daily tick deletes only what is past its
period, audits each deletion, marks finished measures purged, and does
nothing more when run again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from wangge.core import retention, ticks
from wangge.core.models import AuditEntry, Notification, TemporaryMeasure

KEEP_DAYS = 30


# ---- the rule (no database) -------------------------------------------------------------


@pytest.mark.parametrize(("end", "today", "expired"), [
    (None, date(2030, 1, 1), False),  # still running
    (date(2026, 6, 30), date(2026, 7, 30), False),  # the last day kept
    (date(2026, 6, 30), date(2026, 7, 31), True),
    (date(2026, 6, 30), date(2026, 6, 30), False),
])
def test_a_measures_data_goes_after_its_retention_days(end: date | None, today: date, expired: bool) -> None:
    assert retention.measure_expired(end, 30, today) is expired


def test_the_tick_runs_daily() -> None:
    tick = ticks.registered()["core.retention"]
    assert tick.every == 24 * 3600


# ---- the run ------------------------------------------------------------------------------


@pytest.fixture
def purgers(monkeypatch: pytest.MonkeyPatch) -> dict[str, retention.Purger]:
    """The registry for one test: the app's purgers, and what the test adds."""
    table = dict(retention._purgers)
    monkeypatch.setattr(retention, "_purgers", table)
    return table


def purge_old_notifications(now: datetime) -> int:
    deleted, _ = Notification.objects.filter(created_at__lt=now - timedelta(days=KEEP_DAYS)).delete()
    return deleted


def notice(user: Any, key: str, at: datetime) -> Notification:
    return Notification.objects.create(recipient=user, kind="test", title=key, key=key, created_at=at,
                                       batch=uuid.uuid4())


def purges() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="purge").order_by("seq"))


def measure(code: str, *, end: date | None, days: int = 30, start: date = date(2026, 1, 1)) -> TemporaryMeasure:
    return TemporaryMeasure.objects.create(code=code, name=f"措施{code}", purpose="疫情防控排查",
                                           start=start, end=end, retention_days=days)


@pytest.mark.django_db
def test_the_tick_deletes_only_what_is_past_its_period_and_audits_it(
        purgers: dict[str, retention.Purger], worker_a: Any) -> None:
    now = timezone.now()
    retention.register("test.notifications", purge_old_notifications, model="core.Notification",
                       rule=f"通知保存 {KEEP_DAYS} 天")
    old = [notice(worker_a, f"old-{i}", now - timedelta(days=KEEP_DAYS + 1 + i)) for i in range(3)]
    kept = notice(worker_a, "recent", now - timedelta(days=KEEP_DAYS - 1))

    result = ticks.registered()["core.retention"].func(now)
    assert result["test.notifications"] == 3
    assert list(Notification.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Notification.objects.filter(pk__in=[n.pk for n in old]).exists()
    (entry,) = purges()
    assert (entry.action, entry.object_type, entry.fields, entry.actor_id) == (
        "purge", "test.notifications", ["core.Notification"], None)
    assert entry.reason == f"删除 3 行：通知保存 {KEEP_DAYS} 天"

    # Again, the same day or the next: nothing left to delete, nothing audited.
    for later in (now, now + timedelta(days=1)):
        again = retention.run_purgers(later)
        assert again["test.notifications"] == 0
    assert len(purges()) == 1 and Notification.objects.count() == 1


@pytest.mark.django_db
def test_finished_measures_are_marked_purged_once(purgers: dict[str, retention.Purger],
                                                  small_city: None) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    done = measure("EP-1", end=today - timedelta(days=31))
    recent = measure("EP-2", end=today - timedelta(days=10))
    running = measure("EP-3", end=None, start=today - timedelta(days=100))
    short = measure("EP-4", end=today - timedelta(days=3), days=2)

    assert sorted(retention.run_purgers(now)["measures"]) == ["EP-1", "EP-4"]
    for m in (done, recent, running, short):
        m.refresh_from_db()
    assert done.purged_at == now and short.purged_at == now
    assert recent.purged_at is None and running.purged_at is None
    assert sorted(e.object_id for e in purges() if e.object_type == "core.TemporaryMeasure") == ["EP-1", "EP-4"]

    assert retention.run_purgers(now + timedelta(hours=1))["measures"] == []
    assert len(purges()) == 2


@pytest.mark.django_db
def test_a_broken_purger_keeps_the_others_running_and_measures_unmarked(
        purgers: dict[str, retention.Purger], worker_a: Any) -> None:
    now = timezone.now()
    notice(worker_a, "old", now - timedelta(days=KEEP_DAYS + 5))
    ended = measure("EP-9", end=timezone.localdate(now) - timedelta(days=60))

    def broken(now: datetime) -> int:
        raise RuntimeError("disk full")

    retention.register("test.broken", broken, model="test.Thing", measure_bound=True)
    retention.register("test.notifications", purge_old_notifications, model="core.Notification")
    result = retention.run_purgers(now)
    assert result["test.broken"] == "RuntimeError: disk full"
    assert result["test.notifications"] == 1 and not Notification.objects.exists()
    # A measure-bound purger failed: the measure's data may still be there.
    assert result["measures"] == []
    ended.refresh_from_db()
    assert ended.purged_at is None


def test_a_name_is_registered_once(purgers: dict[str, retention.Purger]) -> None:
    retention.register("test.notifications", purge_old_notifications)
    retention.register("test.notifications", purge_old_notifications)  # the same function again: fine
    with pytest.raises(ValueError, match="already registered"):
        retention.register("test.notifications", lambda now: 0)


# ---- measure-bound data ------------------------------------------------------------------
# No app attaches data to a measure yet (the epidemic module will), so the test
# makes a table of its own for the length of one test.


@pytest.fixture
def probe_model() -> Iterator[type]:
    from django.apps import apps
    from django.db import connection, models

    class MeasureProbe(models.Model):
        measure = models.ForeignKey(TemporaryMeasure, on_delete=models.CASCADE, related_name="+")
        note = models.CharField(max_length=20)

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return self.note

    with connection.schema_editor() as editor:
        editor.create_model(MeasureProbe)
    try:
        yield MeasureProbe
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(MeasureProbe)
        del apps.all_models["core"]["measureprobe"]
        apps.clear_cache()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_measure_models_rows_go_with_their_measure(purgers: dict[str, retention.Purger],
                                                     probe_model: Any) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    done = measure("EP-1", end=today - timedelta(days=31))
    running = measure("EP-2", end=None)
    for m, n in ((done, 3), (running, 2)):
        probe_model.objects.bulk_create([probe_model(measure=m, note=str(i)) for i in range(n)])
    retention.register_measure_model(probe_model)

    result = retention.run_purgers(now)
    assert result["measure:core.MeasureProbe"] == 3 and result["measures"] == ["EP-1"]
    assert list(probe_model.objects.values_list("measure__code", flat=True).distinct()) == ["EP-2"]
    entry = next(e for e in purges() if e.object_type == "measure:core.MeasureProbe")
    assert entry.fields == ["core.MeasureProbe"] and entry.reason.startswith("删除 3 行：临时措施结束后")

    assert retention.run_purgers(now)["measure:core.MeasureProbe"] == 0
    assert len(purges()) == 2  # the rows, and the measure marked purged
