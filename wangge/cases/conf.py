"""The cases app's settings, each overridable in Django settings by the same
name; the defaults are what a district centre would start with."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.conf import settings

from wangge.core.workcal import WorkingHours

DEFAULTS: dict[str, Any] = {
    # Reports of these channels are registered and dispatched by the system when
    # the category is certain, the point is in a grid and a route exists.
    "WANGGE_CASE_AUTO_CHANNELS": ("grid_worker", "resident", "hotline", "sensor", "rule", "open311"),
    # A report of the same category this close (metres) and this recent (hours)
    # to an open case is offered to the centre as a duplicate.
    "WANGGE_CASE_DUPLICATE_METRES": 50.0,
    "WANGGE_CASE_DUPLICATE_HOURS": 72.0,
    # "Not yet handled" reminders repeat after this much working time.
    "WANGGE_CASE_REMIND_EVERY_HOURS": 2.0,
    # Verification passing closes the case at once (the centre need not click).
    "WANGGE_CASE_CLOSE_ON_VERIFY": True,
    "WANGGE_RESIDENT_REPORTS_PER_HOUR": 10,
    # Where a report with no point and no reporter's area goes (a district
    # code); empty: the one district in the area table, if there is one.
    "WANGGE_CASE_DEFAULT_AREA": "",
    # Open311: the jurisdiction this server answers for.
    "WANGGE_OPEN311_JURISDICTION": "dongli.wangge",
    "WANGGE_PHOTO_MAX_BYTES": 8 * 1024 * 1024,
    "WANGGE_PHOTOS_PER_STEP": 6,
    # "09:00-12:00,13:30-17:30"
    "WANGGE_WORKING_HOURS": "09:00-12:00,13:30-17:30",
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def working_hours() -> WorkingHours:
    return parse_hours(str(get("WANGGE_WORKING_HOURS")))


def parse_hours(text: str) -> WorkingHours:
    periods = []
    for part in text.split(","):
        start, _, end = part.strip().partition("-")
        periods.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return WorkingHours(tuple(periods))
