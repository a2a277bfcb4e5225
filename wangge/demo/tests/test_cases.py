"""The demo's case traffic: ten days of a small city played through the real
workflow leave true timelines, late and rated cases, and a queue in every
open state."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings

from wangge.accounts.models import Department, Role, User
from wangge.cases.models import Case, CaseEvent, Channel, RoutingRule, State
from wangge.cases.rules import FINAL
from wangge.core.models import Notification
from wangge.demo import names
from wangge.demo.cases import populate_cases, setup_cases
from wangge.demo.generator import generate_city

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 3, 18, 19, 30, tzinfo=TZ)  # a Wednesday evening
DAYS, PER_DAY = 10, 12
START = END - timedelta(days=DAYS)
OPEN_STATES = {State.REPORTED, State.REGISTERED, State.DISPATCHED, State.RETURNED, State.ACCEPTED,
               State.HANDLED, State.SUSPENDED}


FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def base(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    """One map-only city (areas, addresses, logins) with the catalog, for the
    whole module, rolled back at its end; each test runs in a savepoint."""
    media = tmp_path_factory.mktemp("media")
    with (django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=FAST_HASHING),
          transaction.atomic()):
        generate_city(seed=7, people=1200, registry=False)
        yield {"city": setup_cases(names.DISTRICT_CODE), "media": media}
        transaction.set_rollback(True)


@pytest.fixture
def city(base: dict[str, Any]) -> dict[str, Any]:
    return dict(base["city"])


def play(seed: int = 3) -> Any:
    return populate_cases(seed=seed, days=DAYS, per_day=PER_DAY, end=END)


@pytest.fixture(scope="module")
def played_once(base: dict[str, Any], django_db_blocker: Any) -> Iterator[Any]:
    with (django_db_blocker.unblock(),
          override_settings(MEDIA_ROOT=base["media"], PASSWORD_HASHERS=FAST_HASHING)):
        saved = transaction.savepoint()
        yield play()
        transaction.savepoint_rollback(saved)


@pytest.fixture
def played(played_once: Any) -> Any:
    return played_once


def test_setup_loads_the_catalog_rules_and_a_camera(city):
    assert city["categories"] == city["categories_created"] == 140
    rules = set(RoutingRule.objects.values_list("group", "category__name", "layer", "department__type"))
    assert rules == {("矛盾纠纷", None, "", "governance"), ("安全隐患", None, "police", "police"),
                     ("", "露天烧烤", "", "environment")}


def test_the_newest_cases_wait_in_every_open_state(played):
    # The demo holds cases among its last 60 reports: five to eight days here.
    recent = Case.objects.filter(reported_at__gte=END - timedelta(days=8))
    assert set(recent.values_list("state", flat=True)) >= OPEN_STATES
    assert recent.filter(state=State.ACCEPTED, postpone_until__isnull=False).exists()
    assert Case.objects.filter(state=State.CLOSED).count() > played["cases"] / 3


def test_reports_come_from_every_channel_with_and_without_a_category(played):
    channels = set(Case.objects.values_list("channel", flat=True))
    assert channels == {Channel.GRID_WORKER, Channel.RESIDENT, Channel.HOTLINE, Channel.SENSOR}
    assert played["classified"] > 0 and played["auto_dispatched"] > played["cases"] / 2
    assert Case.objects.filter(reporter__isnull=True, channel=Channel.RESIDENT).exists()


def test_late_cases_are_marked_overdue_before_they_are_handled(played):
    assert played["overdue"] == Case.objects.filter(overdue=True).count() > 0
    late = [c for c in Case.objects.filter(handled_at__isnull=False, handle_due__isnull=False)
            if c.handled_at and c.handle_due and c.handled_at > c.handle_due]
    assert late
    for case in late:
        actions = list(case.events.order_by("at", "id").values_list("action", flat=True))
        assert case.overdue and "overdue" in actions, case.code
        assert actions.index("overdue") < len(actions) - 1 - actions[::-1].index("handle")


def test_some_closed_cases_are_rated_by_their_reporters(played):
    rated = Case.objects.filter(rating__isnull=False)
    assert played["rated"] == rated.count() > 0
    assert set(rated.values_list("state", flat=True)) == {State.CLOSED}
    assert not rated.filter(channel__in=(Channel.GRID_WORKER, Channel.SENSOR)).exists()


def test_inboxes_keep_unread_only_what_is_still_open(played):
    finished = set(Case.objects.filter(state__in=FINAL).values_list("pk", flat=True))
    unread = Notification.objects.filter(read_at__isnull=True, key__startswith="case:")
    assert unread.exists() and Notification.objects.filter(read_at__isnull=False).exists()
    assert not {int(key.split(":")[1]) for key in unread.values_list("key", flat=True)} & finished


def test_every_timeline_is_one_unbroken_chain(played):
    events: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in CaseEvent.objects.order_by("at", "id"):
        events[event.case_id].append(event)
    for case in Case.objects.all():
        chain = events[case.pk]
        assert (chain[0].action, chain[0].from_state, chain[0].to_state) == ("report", "", "reported")
        for before, after in itertools.pairwise(chain):
            assert after.from_state == before.to_state, (case.code, before.action, after.action)
            assert after.at >= before.at
        assert chain[-1].to_state == case.state
        assert all(START <= e.at <= END for e in chain)



def test_no_case_goes_to_a_department_outside_its_area(played):
    areas = dict(Department.objects.values_list("code", "area_code"))
    dispatches = CaseEvent.objects.filter(action="dispatch").select_related("case")
    assert dispatches.count() >= played["cases"] / 2
    for event in dispatches:
        assert event.case.area_code.startswith(areas[event.data["department"]])


def test_every_grid_has_a_worker_who_verifies_its_cases(played):
    workers = set(User.objects.filter(role=Role.GRID_WORKER).values_list("area_code", flat=True))
    grids = set(Case.objects.exclude(grid_code="").values_list("grid_code", flat=True))
    assert grids <= workers
    verified = set(CaseEvent.objects.filter(action="verify", case__outside=False).values_list(
        "actor__role", "case__grid_code", "actor__area_code"))
    assert verified
    assert all(role == Role.GRID_WORKER and grid == area for role, grid, area in verified)


def _fingerprint() -> list[tuple[Any, ...]]:
    return list(Case.objects.order_by("reported_at", "pk").values_list(
        "reported_at", "channel", "state", "category__code", "department__code", "overdue", "rating"))


def test_the_same_seed_plays_the_same_traffic(city):
    runs = []
    for _ in range(2):
        with transaction.atomic():
            stats = play(seed=5)
            runs.append(({k: v for k, v in stats.items() if k != "seconds"}, _fingerprint()))
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    assert runs[0][0]["cases"] > DAYS * PER_DAY / 2
