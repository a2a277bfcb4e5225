"""The demo's workforce: every grid staffed, a week of patrols with days that
pass and days that fall short, workers out right now, visits with a
closed-door alert, water flags and rule tasks with their reasons, older tasks
done or overdue, and a month's score for everyone.

One small city is generated for the whole module (about 20 s) inside a
transaction that is rolled back at the end; each test runs in a savepoint.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from wangge.accounts.models import Role, User, UserArea
from wangge.areas.models import Area
from wangge.core.models import Notification
from wangge.demo.generator import generate_city
from wangge.demo.workforce import HouseForWater, water_rows
from wangge.proactive.models import FlagKind, WaterAccount, WaterFlag, WaterImport
from wangge.workforce import selectors
from wangge.workforce.models import (
    Assignment,
    Duty,
    MonthlyScore,
    Patrol,
    PatrolDay,
    PatrolStatus,
    Task,
    TaskStatus,
    TrackPoint,
    Visit,
    VisitOutcome,
    Worker,
)

pytestmark = pytest.mark.django_db

PEOPLE = 400


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    media = tmp_path_factory.mktemp("media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast),
          transaction.atomic()):
        summary = generate_city(seed=5, people=PEOPLE)
        yield summary["workforce"]
        transaction.set_rollback(True)


def test_every_grid_has_one_primary_worker_and_the_teams_have_their_roles(demo):
    grids = set(Area.objects.filter(layer_id="base", level="grid").values_list("code", flat=True))
    primary = Counter(Assignment.objects.filter(primary=True).values_list("grid_code", flat=True))
    assert set(primary) == grids and set(primary.values()) == {1}
    assert all(a.worker.duty == Duty.FULL_TIME and a.worker.user.area_code == a.grid_code
               for a in Assignment.objects.filter(primary=True).select_related("worker__user"))
    assert demo["workers"] == Worker.objects.count() == len(grids) + len(demo["team_users"])
    team = {u.username: u for u in User.objects.filter(username__in=demo["team_users"])}
    assert team["minjing1"].role == Role.POLICE and team["minjing1"].worker.duty == Duty.POLICE
    assert team["jianzhi1a"].worker.duty == Duty.PART_TIME and team["zhiyuan1a"].worker.duty == Duty.VOLUNTEER
    assert not Assignment.objects.filter(worker__user__in=team.values(), primary=True).exists()
    # As assign_grid: a grid outside the user's own area joins their scope.
    for user in team.values():
        grid = user.worker.assignments.get().grid_code
        assert user.area_code == grid or UserArea.objects.filter(user=user, area_code=grid).exists()
    assert 0 < demo["party_members"] < demo["workers"]


def test_a_week_of_patrols_has_days_that_pass_and_days_that_fall_short(demo):
    days = PatrolDay.objects.all()
    assert days.filter(compliant=True).count() > days.filter(compliant=False).count() > 0
    yesterday = timezone.localdate() - timedelta(days=1)
    assert max(days.values_list("day", flat=True)) <= yesterday
    assert demo["patrols"]["planned"].keys() >= {"ok", "short", "morning_only", "outside"}
    kinds = {f["kind"] for d in days for f in d.flags}
    assert kinds == {"speed", "outside"}
    ended = Patrol.objects.filter(status=PatrolStatus.ENDED)
    assert ended.count() == demo["patrols"]["patrols"] and not ended.filter(ended_at__isnull=True).exists()
    assert all(p.points > 100 and p.distance_m > 1000 and p.coverage is not None for p in ended)
    # Fixes are located like uploaded ones, and a compliant day is spent in one's own grid.
    good = days.filter(compliant=True).first()
    assert good is not None
    grid = good.worker.assignments.get(primary=True).grid_code
    own = TrackPoint.objects.filter(patrol__worker=good.worker, at__date=good.day)
    assert own.filter(grid_code=grid).count() > 0.95 * own.count()


def test_a_few_workers_are_out_on_patrol_right_now(demo):
    zhihui = User.objects.get(username="zhihui")
    live = selectors.live_positions(zhihui)
    assert 3 <= len(live) <= 5 and all(p.patrolling for p in live)
    assert Patrol.objects.filter(status=PatrolStatus.ACTIVE).count() == len(live)
    assert all(timezone.now() - p.at < timedelta(minutes=5) for p in live)


def test_visits_and_a_closed_door_alert_the_platform_raised(demo):
    outcomes = Counter(Visit.objects.values_list("outcome", flat=True))
    assert outcomes[VisitOutcome.MET] > outcomes[VisitOutcome.NOBODY_HOME] > 0 and outcomes[VisitOutcome.REFUSED] > 0
    assert not Visit.objects.exclude(grid_code=F("household__grid_code")).exists()
    alerts = Notification.objects.filter(key__startswith="closed-door:").select_related("recipient")
    assert alerts.exists()
    assert {a.recipient.role for a in alerts} <= {Role.COMMUNITY_STAFF, Role.POLICE}
    task = Task.objects.filter(source="workforce.closed_door").first()
    assert task is not None and task.assignee is not None and "无人应门" in task.reason
    last = list(Visit.objects.filter(household_id=int(task.subject_id)).order_by("-at")
                .values_list("outcome", flat=True)[:2])
    assert last == [VisitOutcome.NOBODY_HOME, VisitOutcome.NOBODY_HOME]


def test_the_water_file_went_through_the_import_and_the_rules_flagged_it(demo):
    imp = WaterImport.objects.get()
    assert imp.rows_bad == demo["water"]["planted_malformed"] and imp.rows_ok > 0
    assert imp.unmatched and WaterAccount.objects.filter(house__isnull=True).exists()
    assert WaterFlag.objects.filter(kind=FlagKind.ZERO).exists()
    assert WaterFlag.objects.filter(kind=FlagKind.SPIKE).exists()
    zero = Task.objects.filter(source="proactive.water_zero").first()
    assert zero is not None and zero.assignee is not None and "用水量为 0" in zero.reason
    assert demo["tasks"]["rule_opened"] > 0 and not demo["tasks"]["rule_errors"]
    assert all(t.reason.strip() for t in Task.objects.filter(source__startswith="proactive."))


def test_older_tasks_are_mostly_done_some_late_some_overdue(demo):
    now = timezone.now()
    done = Task.objects.filter(status=TaskStatus.DONE, kind__in=("assigned", "rule"))
    assert done.count() > 0 and not done.exclude(done_by=F("assignee")).exists()
    assert not done.filter(done_at__gt=now).exists() and not done.filter(done_at__lt=F("created_at")).exists()
    assert done.filter(done_at__lte=F("due_at")).count() > done.filter(done_at__gt=F("due_at")).count()
    assert Task.objects.filter(status=TaskStatus.OPEN, due_at__lt=now).exists()
    # The case demo's verifications carry the times of their case steps.
    verified = Task.objects.filter(source="case.verify", status=TaskStatus.DONE)
    assert verified.exists() and verified.filter(done_at__lt=now - timedelta(days=1)).exists()


def test_every_grids_worker_has_a_score_this_month_and_last(demo):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    workers = Worker.objects.filter(assignments__primary=True).distinct().count()
    for month in (this_month, last_month):
        assert MonthlyScore.objects.filter(month=month).count() == workers
    # The week of patrols lies in one month or the other (both, at a month's turn).
    assert MonthlyScore.objects.filter(patrol__gt=0).exists()


def _houses(n: int) -> list[HouseForWater]:
    rng = random.Random(1)
    return [HouseForWater(i, f"东丽区张贵庄街道津塘路{i}号{i % 7 + 1}号楼{i % 3 + 1}单元{i % 9 + 1}01室",
                          rng.choice(("own", "own", "rented", "vacant")), rng.randint(0, 4)) for i in range(1, n + 1)]


def test_the_water_file_is_the_same_for_a_seed_and_plants_its_anomalies():
    today = date(2026, 3, 18)
    rows, planted = water_rows(3, today, _houses(300))
    assert (rows, planted) == water_rows(3, today, _houses(300))
    assert rows != water_rows(4, today, _houses(300))[0]
    assert planted["planted_zero"] >= 3 and planted["planted_spike"] >= 3 and planted["planted_garbled"] >= 3
    per_account = Counter(r[0] for r in rows)
    assert sum(1 for n in per_account.values() if n >= 12) == planted["accounts"]


def test_the_ranking_agrees_with_the_tracks_and_the_tasks(demo):
    """Each worker's figures are the counts a person would make from the patrol
    days and the task list themselves."""
    from wangge.workforce.services import month_bounds

    today = timezone.localdate()
    month = today.replace(day=1)
    start, end = month_bounds(month)
    admin = User.objects.create(username="checker", role=Role.ADMIN)
    ranked = selectors.ranking(admin, month)
    assert ranked and all(r.rank >= 1 for r in ranked)
    for r in ranked:
        s, f = r.score, r.score.figures
        compliant = PatrolDay.objects.filter(worker=s.worker, compliant=True, day__gte=month,
                                             day__lt=today).count()
        due = Task.objects.filter(assignee=s.worker.user, due_at__gte=start,
                                  due_at__lt=min(end, timezone.now())).exclude(status=TaskStatus.CANCELLED)
        on_time = due.filter(status=TaskStatus.DONE, done_at__lte=F("due_at")).count()
        assert (f["compliant_days"], f["tasks_due"], f["tasks_on_time"]) == (compliant, due.count(), on_time)
    scores = [r.score.score for r in ranked if r.area == ranked[0].area]
    assert scores == sorted(scores, reverse=True)


# --- the demo's data exchange rides on the same city ---------------------------------


def test_the_demo_exchange_shows_a_grant_of_two_items_used_through_the_gateway(demo):
    import json

    from wangge.core.access import access_report
    from wangge.exchange import gateway, services, signing
    from wangge.exchange import selectors as exchange_selectors
    from wangge.exchange.models import Catalog, Client, Grant, ShareClass

    population = Catalog.objects.get(name="人口基础信息")
    assert population.share_class == ShareClass.CONDITIONAL and population.owner.type == "police"
    grant = Grant.objects.get(catalog=population, department__type="civil_affairs")
    assert {(gi.item.key, gi.masked) for gi in grant.grant_items.select_related("item")} == {
        ("name", False), ("id_number", True)}
    client = Client.objects.get(department=grant.department)
    path = f"/gateway/v1/catalogs/{population.code}/rows"
    headers = signing.sign_headers(client.key_id, services.client_secret(client), "GET", path, "_limit=5")
    reply = gateway.handle("GET", path, "_limit=5", b"", headers)
    assert reply.status == 200, reply.body
    rows = reply.body["rows"]
    assert rows and all(set(r) == {"name", "id_number"} and "*" in r["id_number"] for r in rows)
    admin = User.objects.get(username="admin")
    stats = exchange_selectors.stats(admin, days=30)
    assert any(d["department"] == grant.department.name and d["calls"] > 500 for d in stats["per_department"])
    assert len(stats["per_day"]) > 15  # the demo's calls are spread over the month
    person = json.loads(json.dumps(reply.body))["rows"][0]["name"]
    from wangge.registry.models import Person

    pid = Person.objects.filter(name=person).order_by("pk").values_list("pk", flat=True)[0]
    assert any(a.channel == "gateway" and grant.department.name in a.who for a in access_report(pid))
    # Health's application waits for the police's data clerk.
    gongan = User.objects.get(username="gongan")
    assert exchange_selectors.applications_for(gongan, box="incoming", status="pending").count() == 1
