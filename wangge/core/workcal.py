"""Working time: case limits count working hours and working days, not clock time.

Official holidays and make-up working days come from `chinese-calendar`. Past
the years it knows (it is updated each winter when the State Council publishes
the next year), weekdays count as working days and `known_year` says so, so a
caller can show that a deadline is provisional instead of failing.

Pure module: no Django. Times are timezone-aware datetimes; the calendar is
read in the zone of the start time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def known_year(year: int) -> bool:
    """The holidays of this year are published and known to the calendar."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _default_periods() -> tuple[tuple[time, time], ...]:
    return ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))


@dataclass(frozen=True)
class WorkingHours:
    """The working periods of a working day, in order, not overlapping."""

    periods: tuple[tuple[time, time], ...] = field(default_factory=_default_periods)

    def __post_init__(self) -> None:
        last = time(0, 0)
        for start, end in self.periods:
            if not (last <= start < end):
                raise ValueError("工作时段须按时间先后排列、不重叠，且每段开始早于结束")
            last = end

    @property
    def hours_per_day(self) -> float:
        return sum(_seconds(start, end) for start, end in self.periods) / 3600


DEFAULT_HOURS = WorkingHours()


def _seconds(start: time, end: time) -> float:
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)).total_seconds()


def _spans(start: datetime, hours: WorkingHours) -> Iterator[tuple[datetime, datetime]]:
    """Working spans from `start` on, clipped to start, day after day."""
    day = start.date()
    tz = start.tzinfo
    while True:
        if is_workday(day):
            for a, b in hours.periods:
                span_start = datetime.combine(day, a, tzinfo=tz)
                span_end = datetime.combine(day, b, tzinfo=tz)
                if span_end > start:
                    yield max(span_start, start), span_end
        day += timedelta(days=1)


# Ten years of holidays: a limit that needs longer is a mistake in the catalog.
MAX_DAYS = 3660


def add_working_hours(start: datetime, hours: float, working: WorkingHours = DEFAULT_HOURS) -> datetime:
    """The moment `hours` of working time after `start`. A report that arrives
    after hours starts counting at the next working period."""
    if hours < 0:
        raise ValueError("时限不能为负")
    left = hours * 3600
    for span_start, span_end in _spans(start, working):
        length = (span_end - span_start).total_seconds()
        if left <= length:
            return span_start + timedelta(seconds=left)
        left -= length
        if (span_start.date() - start.date()).days > MAX_DAYS:
            break
    raise ValueError("时限过长")


def add_working_days(start: datetime, days: int, working: WorkingHours = DEFAULT_HOURS) -> datetime:
    """The end of the working day `days` working days after `start`'s day: a
    limit of 1 working day for a report on a Friday afternoon ends at the close
    of Monday (or of the first working day after a holiday)."""
    if days < 0:
        raise ValueError("时限不能为负")
    day = start.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
        if (day - start.date()).days > MAX_DAYS:
            raise ValueError("时限过长")
    close = working.periods[-1][1]
    return datetime.combine(day, close, tzinfo=start.tzinfo)


def working_seconds_between(a: datetime, b: datetime, working: WorkingHours = DEFAULT_HOURS) -> float:
    """Working time from a to b (negative when b is before a): how long a case
    really took, or how much working time is left before its limit."""
    if b < a:
        return -working_seconds_between(b, a, working)
    total = 0.0
    for span_start, span_end in _spans(a, working):
        if span_start >= b:
            break
        total += (min(span_end, b) - span_start).total_seconds()
    return total
