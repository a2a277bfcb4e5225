"""Housekeeping of the gateway, run by `wangge worker` (and `wangge tick`)."""

from __future__ import annotations

from datetime import datetime

from wangge.core.ticks import periodic
from wangge.exchange.models import RateWindow


@periodic("exchange.rate_windows", every=3600)
def drop_old_rate_windows(now: datetime) -> dict[str, int]:
    """Rate counters only matter for the current minute; keep an hour for inspection."""
    cutoff = int(now.timestamp() // 60) - 60
    deleted, _ = RateWindow.objects.filter(minute__lt=cutoff).delete()
    return {"deleted": deleted}
