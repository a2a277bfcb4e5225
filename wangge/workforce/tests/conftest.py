"""Workers, households and helpers the workforce tests share."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from wangge.testing import city


@pytest.fixture
def worker(worker_a: Any, admin_user: Any) -> Any:
    from wangge.workforce import services

    return services.create_worker(by=admin_user, user=worker_a, grids=[city.GRID_A], party_member=True)


@pytest.fixture
def worker_c(outsider: Any, admin_user: Any) -> Any:
    from wangge.workforce import services

    return services.create_worker(by=admin_user, user=outsider, grids=[city.GRID_C])


@pytest.fixture
def community_a(small_city: None) -> Any:
    from wangge.accounts.services import create_user

    return create_user("community_a", "pass-community_a", role="community_staff",
                       area_code=city.COMMUNITY_WEST, display_name="社区戊")


@pytest.fixture
def police_a(small_city: None) -> Any:
    from wangge.accounts.services import create_user

    return create_user("police_a", "pass-police_a", role="police", area_code=city.STREET_WEST,
                       display_name="民警己")


def make_household(grid: str, *, tag: str = "", name: str = "王大爷", key: str = "") -> Any:
    from wangge.registry.models import Household, HouseholdMember, Person, PersonTag

    person = Person.objects.create(name=name, grid_code=grid, birth_date=datetime(1948, 3, 1).date())
    household = Household.objects.create(key=key or f"H-{grid}-{person.pk}", grid_code=grid, head=person)
    HouseholdMember.objects.create(household=household, person=person, relation="head")
    if tag:
        PersonTag.objects.create(person=person, tag=tag)
    return household


def spec(grid: str, subject: str, *, source: str = "proactive.test", due_in: float = 24.0) -> Any:
    from wangge.workforce.models import TaskKind
    from wangge.workforce.services import TaskSpec

    return TaskSpec(kind=TaskKind.RULE, source=source, subject_type="person", subject_id=subject,
                    title=f"走访 {subject}", reason=f"{subject} 将于下月年满 60 周岁，尚未办理老年人优待证",
                    grid_code=grid, due_at=timezone.now() + timedelta(hours=due_in))


def local(day: Any, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hh, mm, ss))
