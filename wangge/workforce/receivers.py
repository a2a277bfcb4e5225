"""Receivers of other apps' signals: the workforce follows cases without the
cases app knowing about it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from wangge.cases.signals import case_moved
from wangge.workforce import services


@receiver(case_moved, dispatch_uid="workforce.case_verification_tasks")
def on_case_moved(sender: Any, case: Any, step: str, by: Any, at: Any, **kwargs: Any) -> None:
    services.case_moved(case, step, by, at)
