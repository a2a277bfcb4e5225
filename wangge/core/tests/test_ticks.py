from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.cli import main
from wangge.core import ticks
from wangge.core.models import TickRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    """An empty tick registry for the test; the apps' own ticks are put back after."""
    monkeypatch.setattr(ticks, "_registry", {})
    calls: list[str] = []

    @ticks.periodic("test.every_minute", every=60)
    def every_minute(now):
        calls.append("minute")
        return {"at": now.isoformat()}

    @ticks.periodic("test.hourly", every=3600)
    def hourly(now):
        calls.append("hour")
        return 1

    return calls


def test_two_processes_with_the_same_now_run_a_tick_once(registry):
    now = timezone.now()
    first = ticks.run_due(now)
    second = ticks.run_due(now)  # another worker, same moment
    assert set(first) == {"test.every_minute", "test.hourly"} and second == {}
    assert registry == ["minute", "hour"]


def test_tick_runs_again_only_after_its_interval(registry):
    now = timezone.now()
    ticks.run_due(now)
    assert ticks.run_due(now + timedelta(seconds=59)) == {}
    assert set(ticks.run_due(now + timedelta(seconds=60))) == {"test.every_minute"}
    assert set(ticks.run_due(now + timedelta(hours=1))) == {"test.every_minute", "test.hourly"}


def test_last_run_survives_a_restart(registry, monkeypatch):
    now = timezone.now()
    ticks.run_due(now)
    # A restarted process knows nothing in memory; the database still does.
    monkeypatch.setattr(ticks, "_registry", dict(ticks._registry))
    assert ticks.run_due(now + timedelta(seconds=30)) == {}
    row = TickRun.objects.get(name="test.every_minute")
    assert row.last_run_at == now and row.last_result == {"at": now.isoformat()}


def test_failing_tick_is_logged_and_others_still_run(registry, caplog):
    @ticks.periodic("test.broken", every=60)
    def broken(now):
        raise RuntimeError("boom")

    results = ticks.run_due()
    assert isinstance(results["test.broken"], RuntimeError)
    assert results["test.hourly"] == 1 and "minute" in registry
    assert "tick test.broken failed" in caplog.text
    assert TickRun.objects.get(name="test.broken").last_error == "RuntimeError: boom"


def test_run_all_ignores_the_interval(registry):
    now = timezone.now()
    ticks.run_due(now)
    assert set(ticks.run_all(now)) == {"test.every_minute", "test.hourly"}
    assert registry == ["minute", "hour", "minute", "hour"]


def test_a_name_belongs_to_one_function(registry):
    with pytest.raises(ValueError, match="already registered"):
        ticks.periodic("test.hourly", every=10)(lambda now: None)


def test_apps_register_their_ticks_at_startup():
    assert ticks.registered()["notify.deliver_pending"].every == 60


def test_cli_tick_runs_due_then_all(registry, capsys):
    assert main(["tick"]) == 0
    out = capsys.readouterr().out
    assert "test.every_minute\t" in out and "test.hourly\t1" in out
    assert main(["tick"]) == 0
    assert "没有到期的定时任务" in capsys.readouterr().out
    assert main(["tick", "--all"]) == 0
    assert registry == ["minute", "hour", "minute", "hour"]


def test_cli_tick_exits_non_zero_when_a_tick_fails(registry, capsys):
    ticks.periodic("test.broken", every=60)(_boom)
    assert main(["tick"]) == 1
    assert "test.broken\t失败：RuntimeError: boom" in capsys.readouterr().out


def _boom(now):
    raise RuntimeError("boom")
