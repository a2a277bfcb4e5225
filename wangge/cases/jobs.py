"""The cases app's periodic work, run by `wangge worker` (and `wangge tick`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wangge.cases import deadlines
from wangge.core.ticks import periodic


@periodic("cases.deadlines", every=60)
def scan_deadlines(now: datetime) -> dict[str, int]:
    return deadlines.scan(now)


@periodic("cases.classifier", every=3600)
def refresh_classifier(now: datetime) -> Any:
    # Retraining happens in each web process on its own; this keeps the worker's
    # copy fresh for reports filed by data rules.
    from wangge.cases import classifying

    model = classifying.model()
    return {"codes": len(model.codes) if model else 0}
