"""Core's periodic ticks, run by `wangge worker` (and `wangge tick`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wangge.core.ticks import periodic


@periodic("core.retention", every=24 * 3600)
def purge_expired_data(now: datetime) -> dict[str, Any]:
    from wangge.core import retention

    return retention.run_purgers(now)


@periodic("core.export_expiry", every=3600)
def expire_export_approvals(now: datetime) -> int:
    # The export pages show the status as stored; a download checks the time itself.
    from wangge.core import exports

    return exports.expire_stale(now)
