"""The proactive rules on schedule, run by `wangge worker` (and `wangge tick`).

The tick wakes hourly; each rule then runs only when its own interval
(Rule.every_minutes, set in the admin) has passed since its last run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wangge.core.ticks import periodic


@periodic("proactive.rules", every=3600)
def run_due_rules(now: datetime) -> dict[str, Any]:
    from wangge.proactive.engine import run_rules

    runs = run_rules(now, due_only=True)
    return {run.rule.code: {"matched": run.matched, "opened": run.opened, "closed": run.closed,
                            "error": run.error[:200]} for run in runs}
