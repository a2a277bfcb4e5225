"""Periodic ticks of the workforce app (run by `wangge worker`, see core.ticks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from wangge.core.ticks import periodic
from wangge.workforce import services
from wangge.workforce.models import Patrol, PatrolStatus, Worker

# A worker whose phone sent a fix this recently may have changed today's figures.
RECENT = timedelta(minutes=20)
# A patrol with no fix for this long was left running: the phone died or the
# worker forgot to stop it.
FORGOTTEN = timedelta(hours=2)


@periodic("workforce.today", every=600)
def refresh_today(now: datetime) -> dict[str, int]:
    active = list(Worker.objects.filter(last_at__gte=now - RECENT).values_list("pk", flat=True))
    if not active:
        return {"workers": 0}
    return {"workers": services.compute_days(timezone.localdate(now), worker_ids=active)}


@periodic("workforce.yesterday", every=6 * 3600)
def settle_yesterday(now: datetime) -> dict[str, int]:
    """Late uploads of yesterday's fixes (an offline phone) count in the end."""
    return {"workers": services.compute_days(timezone.localdate(now) - timedelta(days=1))}


@periodic("workforce.assessment", every=6 * 3600)
def score_month(now: datetime) -> dict[str, int]:
    today = timezone.localdate(now)
    done = {"this_month": services.compute_month(today, now=now)}
    if today.day <= 3:
        done["last_month"] = services.compute_month(today.replace(day=1) - timedelta(days=1), now=now)
    return done


@periodic("workforce.forgotten_patrols", every=900)
def stop_forgotten_patrols(now: datetime) -> dict[str, int]:
    stopped = 0
    for patrol in Patrol.objects.filter(status=PatrolStatus.ACTIVE).select_related("worker__user"):
        last = patrol.track.order_by("-at").values_list("at", flat=True).first() or patrol.started_at
        if last < now - FORGOTTEN:
            services.stop_patrol(by=patrol.worker.user, patrol_id=patrol.pk, at=last)
            stopped += 1
    return {"stopped": stopped}
