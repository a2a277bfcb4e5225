"""Working-time limits around the 2026 National Day holiday (Oct 1–7 off,
Sat Oct 10 a make-up working day) and the Mid-Autumn Festival (Fri Sep 25)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.core import workcal
from wangge.core.workcal import WorkingHours

TZ = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def test_holidays_and_make_up_days():
    assert not workcal.is_workday(date(2026, 10, 1))
    assert not workcal.is_workday(date(2026, 9, 25)), "Mid-Autumn Festival"
    assert workcal.is_workday(date(2026, 10, 10)), "a Saturday made a working day"
    assert not workcal.is_workday(date(2026, 10, 11))


def test_hours_limit_skips_the_national_day_week():
    # Reported on Wed Sep 30 at 16:30; 4 working hours: 1 h that day, 3 h on Thu Oct 8.
    assert workcal.add_working_hours(at(2026, 9, 30, 16, 30), 4) == at(2026, 10, 8, 12, 0)


def test_hours_limit_starts_at_the_next_period_after_hours_and_skips_lunch():
    assert workcal.add_working_hours(at(2026, 11, 20, 20, 0), 1) == at(2026, 11, 23, 10, 0)
    assert workcal.add_working_hours(at(2026, 11, 23, 11, 30), 1) == at(2026, 11, 23, 14, 0)


def test_days_limit_ends_at_close_of_the_nth_working_day():
    assert workcal.add_working_days(at(2026, 9, 30, 10, 0), 1) == at(2026, 10, 8, 17, 30)
    assert workcal.add_working_days(at(2026, 10, 9, 10, 0), 1) == at(2026, 10, 10, 17, 30)
    assert workcal.add_working_days(at(2026, 10, 9, 10, 0), 2) == at(2026, 10, 12, 17, 30)


def test_working_seconds_between_counts_only_working_periods():
    assert workcal.working_seconds_between(at(2026, 9, 30, 17, 0), at(2026, 10, 8, 10, 0)) == 1.5 * 3600
    assert workcal.working_seconds_between(at(2026, 10, 8, 10, 0), at(2026, 9, 30, 17, 0)) == -1.5 * 3600


def test_years_without_published_holidays_fall_back_to_weekdays():
    assert not workcal.known_year(2030)
    assert workcal.is_workday(date(2030, 1, 7)) and not workcal.is_workday(date(2030, 1, 5))
    assert workcal.known_year(2026)


def test_working_hours_are_configurable_and_checked():
    night = WorkingHours(((time(8, 0), time(20, 0)),))
    assert night.hours_per_day == 12
    assert workcal.add_working_hours(at(2026, 11, 23, 19, 0), 2, night) == at(2026, 11, 24, 9, 0)
    with pytest.raises(ValueError, match="不重叠"):
        WorkingHours(((time(9, 0), time(12, 0)), (time(11, 0), time(13, 0))))
    with pytest.raises(ValueError):
        workcal.add_working_hours(at(2026, 11, 23, 9, 0), -1)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)),
       st.floats(min_value=0, max_value=200))
def test_adding_hours_and_measuring_them_agree(start, hours):
    start = start.replace(tzinfo=TZ)
    due = workcal.add_working_hours(start, hours)
    assert due >= start
    assert abs(workcal.working_seconds_between(start, due) - hours * 3600) < 1e-3
    assert due - start >= timedelta(hours=hours) - timedelta(milliseconds=1), "working time never outruns the clock"
