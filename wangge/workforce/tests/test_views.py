"""The workforce pages through Django's test client on the tiny city: the grid
worker's phone pages, the overseers' desk pages, who may open which, and the
writes each page makes through the services."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wangge.testing import city
from wangge.testing.cases import png_bytes
from wangge.workforce import services
from wangge.workforce.models import (
    MonthlyScore,
    PatrolDay,
    PointsEntry,
    Task,
    TaskKind,
    TaskStatus,
    Visit,
)
from wangge.workforce.tests.conftest import make_household

pytestmark = [
    # WhiteNoise only notes that nothing was collected into STATIC_ROOT.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

WORKER_PAGES = ("workforce:m_home", "workforce:m_tasks", "workforce:m_visits", "workforce:m_patrol")
STAFF_PAGES = ("workforce:tasks", "workforce:workers", "workforce:assessment")
# Session, user, scope, the page's reads (8 and 10 queries when written) and
# the top bar's unread count; none of them grows with the rows.
QUERY_CEILING = 12
REASON = "独居老人王大爷已 9 天未走访（走访周期 7 天），请尽快上门看望"


def html_of(response: Any) -> str:
    return str(response.content.decode())


def logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def visit_task(household: Any, *, due_in: timedelta = timedelta(days=1), title: str = "走访独居老人王大爷") -> Task:
    services.raise_tasks([services.TaskSpec(
        kind=TaskKind.VISIT, source=services.VISIT_SOURCE, subject_type="household",
        subject_id=str(household.pk), title=title, reason=REASON, grid_code=household.grid_code,
        due_at=timezone.now() + due_in, evidence={"days_since": 9, "every_days": 7, "tags": ["独居老人"]})],
        notify_assignees=False)
    return Task.objects.get(subject_type="household", subject_id=str(household.pk), status=TaskStatus.OPEN)


@pytest.fixture
def resident(small_city: None) -> Any:
    from wangge.accounts.services import create_user

    return create_user("resident", "pass-resident", role="resident", display_name="居民")


@pytest.fixture
def worker_b(small_city: None, admin_user: Any) -> Any:
    from wangge.accounts.services import create_user

    user = create_user("worker_b", "pass-worker_b", role="grid_worker", area_code=city.GRID_B,
                       display_name="网格员乙")
    return services.create_worker(by=admin_user, user=user, grids=[city.GRID_B])


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


# --- who may open which page ------------------------------------------------------


@pytest.mark.parametrize("name", [*WORKER_PAGES, *STAFF_PAGES])
def test_anonymous_is_sent_to_login(client: Client, small_city: None, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_grid_worker_lands_on_their_phone_workbench(client: Client, worker: Any) -> None:
    assert logged_in(client, worker.user).get("/")["Location"] == reverse("workforce:m_home")
    html = html_of(client.get(reverse("dashboard:map")))
    for name in ("workforce:m_home", "workforce:m_tasks", "workforce:m_patrol", "workforce:m_visits"):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("workforce:tasks")}"' not in html


def test_overseers_find_the_workforce_pages_in_the_navigation(client: Client, community_a: Any) -> None:
    from wangge.accounts.navigation import items_for

    names = [i.url_name for i in items_for(community_a)]
    assert {"workforce:tasks", "workforce:workers", "workforce:assessment"} <= set(names)
    assert "workforce:m_home" not in names


@pytest.mark.parametrize("name", WORKER_PAGES)
def test_worker_pages_render_for_the_worker(client: Client, worker: Any, name: str) -> None:
    response = logged_in(client, worker.user).get(reverse(name))
    assert response.status_code == 200
    assert 'class="m-tabs"' in html_of(response)


@pytest.mark.parametrize("name", WORKER_PAGES)
def test_worker_pages_refuse_other_roles(client: Client, resident: Any, street_admin: Any, chengguan: Any,
                                        name: str) -> None:
    for user in (resident, street_admin, chengguan):
        response = logged_in(client, user).get(reverse(name))
        assert response.status_code == 403
        assert "仅供网格员使用" in html_of(response)


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_render_for_overseers(client: Client, worker: Any, street_admin: Any, community_a: Any,
                                          viewer: Any, police_a: Any, name: str) -> None:
    for user in (street_admin, community_a, viewer, police_a):
        assert logged_in(client, user).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_refuse_workers_residents_and_departments(client: Client, worker: Any, resident: Any,
                                                             chengguan: Any, name: str) -> None:
    for user in (worker.user, resident, chengguan):
        response = logged_in(client, user).get(reverse(name))
        assert response.status_code == 403
        assert 'id="forbidden"' in html_of(response)


# --- the worker's tasks -------------------------------------------------------------


def test_the_home_page_counts_open_and_overdue_tasks(client: Client, worker: Any) -> None:
    visit_task(make_household(city.GRID_A, tag="elderly_alone"))
    visit_task(make_household(city.GRID_A, name="李奶奶"), due_in=timedelta(hours=-2), title="走访李奶奶")
    html = html_of(logged_in(client, worker.user).get(reverse("workforce:m_home")))
    assert '<strong>2</strong><span>待办任务</span>' in html
    assert '<strong>1</strong><span>已逾期</span>' in html
    assert "开始巡查" in html and f'href="{reverse("cases:m_report")}"' in html


def test_the_task_list_says_why_and_marks_the_overdue(client: Client, worker: Any, worker_c: Any) -> None:
    household = make_household(city.GRID_A, tag="elderly_alone")
    task = visit_task(household)
    late = visit_task(make_household(city.GRID_A, name="李奶奶"), due_in=timedelta(hours=-2), title="走访李奶奶")
    theirs = visit_task(make_household(city.GRID_C, name="赵六"), title="走访赵六")
    html = html_of(logged_in(client, worker.user).get(reverse("workforce:m_tasks")))
    assert REASON in html and "走访独居老人王大爷" in html
    assert f'class="m-card wf-task late" id="task-{late.pk}"' in html
    assert f'class="m-card wf-task" id="task-{task.pk}"' in html
    # A visit task leads to the visit form for its household, carrying the task.
    assert f"{reverse('workforce:m_visit_new')}?household={household.pk}&amp;task={task.pk}" in html
    assert "走访赵六" not in html and f"task-{theirs.pk}" not in html


def test_a_task_page_shows_the_reason_and_evidence(client: Client, worker: Any) -> None:
    task = visit_task(make_household(city.GRID_A, tag="elderly_alone"))
    html = html_of(logged_in(client, worker.user).get(reverse("workforce:m_task", args=[task.pk])))
    assert REASON in html
    assert "距上次走访（天）" in html and "独居老人" in html
    assert 'id="complete-form"' in html


def test_completing_a_task_records_the_result(client: Client, worker: Any) -> None:
    task = visit_task(make_household(city.GRID_A, tag="elderly_alone"))
    client = logged_in(client, worker.user)
    url = reverse("workforce:m_task", args=[task.pk])

    refused = client.post(url, {"result": " "})
    assert refused.status_code == 422 and "请填写办理结果" in html_of(refused)

    done = client.post(url, {"result": "已电话联系，老人住院中，出院后上门"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("workforce:m_tasks")
    assert "已办结：走访独居老人王大爷" in html_of(done)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.done_by == worker.user
    html = html_of(client.get(url))
    assert "已电话联系，老人住院中，出院后上门" in html and 'id="complete-form"' not in html


def test_another_workers_task_is_not_found(client: Client, worker: Any, worker_c: Any) -> None:
    theirs = visit_task(make_household(city.GRID_C, name="赵六"))
    client = logged_in(client, worker.user)
    assert client.get(reverse("workforce:m_task", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("workforce:m_task", args=[theirs.pk]), {"result": "代办"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == TaskStatus.OPEN


# --- visits -----------------------------------------------------------------------


def test_households_to_visit_come_overdue_first(client: Client, worker: Any) -> None:
    make_household(city.GRID_A, tag="elderly_alone", name="王大爷")
    make_household(city.GRID_A, name="不需要走访的")
    html = html_of(logged_in(client, worker.user).get(reverse("workforce:m_visits")))
    assert "王大爷" in html and "独居老人" in html and "尚未走访过" in html
    assert "不需要走访的" not in html


def test_the_visit_form_files_a_visit_with_a_photo_and_a_correction(
        client: Client, worker: Any, media: Path) -> None:
    household = make_household(city.GRID_A, tag="elderly_alone")
    task = visit_task(household)
    person = household.head
    client = logged_in(client, worker.user)
    url = reverse("workforce:m_visit_new")
    form = client.get(url, {"household": household.pk, "task": task.pk})
    assert form.status_code == 200
    html = html_of(form)
    assert f'<option value="{person.pk}"' in html and "见到本人" in html and REASON in html

    photo = SimpleUploadedFile("door.png", png_bytes((32, 24)), content_type="image/png")
    done = client.post(url, {
        "household": household.pk, "task": task.pk, "client_id": "c-1", "outcome": "met",
        "person": person.pk, "notes": "老人身体不错，已提醒注意用电安全", "phones": "13812345678",
        "photos": [photo]}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("workforce:m_visits")
    assert "已记录走访" in html_of(done)
    visit = Visit.objects.get()
    assert visit.worker == worker and visit.household == household and visit.person == person
    assert visit.outcome == "met" and visit.photos.count() == 1
    assert visit.corrections == {"phones": "13812345678"} and visit.source_record is not None
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    # Party members earn a point for a visit that met the person.
    assert PointsEntry.objects.filter(worker=worker, ref=f"visit:{visit.pk}").exists()
    assert "老人身体不错" in html_of(client.get(reverse("workforce:m_visits")))


def test_the_visit_form_shows_the_services_refusal_next_to_the_field(client: Client, worker: Any) -> None:
    household = make_household(city.GRID_A, tag="elderly_alone")
    client = logged_in(client, worker.user)
    missing = client.post(reverse("workforce:m_visit_new"), {"household": household.pk, "notes": "记下的话"})
    assert missing.status_code == 422
    html = html_of(missing)
    assert 'id="err-outcome"' in html and "走访结果应为" in html
    assert "记下的话" in html  # what was typed stays
    # A correction needs the person it is about.
    nobody = client.post(reverse("workforce:m_visit_new"), {
        "household": household.pk, "outcome": "met", "phones": "13812345678"})
    assert nobody.status_code == 422 and 'id="err-person"' in html_of(nobody)
    assert not Visit.objects.exists()


def test_the_visit_form_refuses_a_household_of_another_grid(client: Client, worker: Any, worker_c: Any) -> None:
    theirs = make_household(city.GRID_C, tag="elderly_alone", name="赵六")
    client = logged_in(client, worker.user)
    page = client.get(reverse("workforce:m_visit_new"), {"household": theirs.pk})
    assert page.status_code == 404
    assert f"户 {theirs.pk} 不存在，或不在您负责的网格内" in html_of(page)
    posted = client.post(reverse("workforce:m_visit_new"), {"household": theirs.pk, "outcome": "met"})
    assert posted.status_code == 404 and "不在您负责的网格内" in html_of(posted)
    assert not Visit.objects.exists()


def test_a_households_visits_are_shown_to_overseers_and_its_worker(
        client: Client, worker: Any, worker_c: Any, community_a: Any, chengguan: Any, media: Path) -> None:
    household = make_household(city.GRID_A, tag="elderly_alone")
    visit = services.record_visit(by=worker.user, visit=services.VisitIn(
        household_id=household.pk, outcome="nobody_home", notes="敲门无人应答",
        photos=[SimpleUploadedFile("door.png", png_bytes(), content_type="image/png")]))
    url = reverse("workforce:household", args=[household.pk])
    for user in (community_a, worker.user):
        html = html_of(logged_in(client, user).get(url))
        assert "敲门无人应答" in html and "无人在家" in html
    photo = visit.photos.get()
    shown = logged_in(client, community_a).get(reverse("workforce:visit_photo", args=[visit.pk, photo.pk]))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert logged_in(client, worker_c.user).get(url).status_code == 404
    assert logged_in(client, chengguan).get(url).status_code == 403


# --- the overseers' desk --------------------------------------------------------------


def test_reassigning_tasks_within_scope(client: Client, worker: Any, worker_b: Any, community_a: Any) -> None:
    task = visit_task(make_household(city.GRID_A, tag="elderly_alone"))
    client = logged_in(client, community_a)
    page = html_of(client.get(reverse("workforce:tasks"), {"f": "1"}))
    assert REASON in page and f'value="{worker_b.user.pk}"' in page
    done = client.post(reverse("workforce:reassign"), {
        "task_ids": [task.pk], "to_user": worker_b.user.pk, "reason": "网格员甲病假一周",
        "next": reverse("workforce:tasks") + "?f=1"}, follow=True)
    assert "已转派 1 项任务" in html_of(done)
    task.refresh_from_db()
    assert task.assignee == worker_b.user


def test_reassigning_refuses_what_lies_outside_the_scope(
        client: Client, worker: Any, worker_b: Any, worker_c: Any, community_a: Any) -> None:
    ours = visit_task(make_household(city.GRID_A, tag="elderly_alone"))
    theirs = visit_task(make_household(city.GRID_C, name="赵六"))
    client = logged_in(client, community_a)
    to_outsider = client.post(reverse("workforce:reassign"), {
        "task_ids": [ours.pk], "to_user": worker_c.user.pk, "reason": "请假"}, follow=True)
    assert "接收任务的网格员不存在或不在您的权限范围内" in html_of(to_outsider)
    their_task = client.post(reverse("workforce:reassign"), {
        "task_ids": [theirs.pk], "to_user": worker_b.user.pk, "reason": "请假"}, follow=True)
    assert f"任务 {theirs.pk} 不存在、已办结或不在您的权限范围内" in html_of(their_task)
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.assignee == worker.user and theirs.assignee == worker_c.user
    # The grid worker cannot reassign at all: the page is not theirs.
    assert logged_in(client, worker.user).post(reverse("workforce:reassign"), {
        "task_ids": [ours.pk], "to_user": worker_b.user.pk, "reason": "请假"}).status_code == 403


def test_community_staff_land_on_the_overdue_tasks(client: Client, worker: Any, community_a: Any,
                                                   street_admin: Any) -> None:
    visit_task(make_household(city.GRID_A, tag="elderly_alone"), title="按期的任务")
    visit_task(make_household(city.GRID_A, name="李奶奶"), due_in=timedelta(hours=-5), title="逾期的任务")
    html = html_of(logged_in(client, community_a).get(reverse("workforce:tasks")))
    assert "逾期的任务" in html and "按期的任务" not in html and 'id="filter-overdue" checked' in html
    everything = html_of(client.get(reverse("workforce:tasks"), {"f": "1"}))
    assert "逾期的任务" in everything and "按期的任务" in everything
    street = html_of(logged_in(client, street_admin).get(reverse("workforce:tasks")))
    assert "按期的任务" in street and 'class="wf-overdue"' in street


def test_the_assessment_page_recomputes_and_shows_the_score(client: Client, worker: Any, street_admin: Any) -> None:
    from wangge.core.workcal import is_workday

    # Last month, whose days are all over: one compliant patrol day in it.
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    day = next(first + timedelta(days=i) for i in range(31) if is_workday(first + timedelta(days=i)))
    PatrolDay.objects.create(worker=worker, day=day, points=100, distance_m=3200, inside_s=12000, compliant=True)
    client = logged_in(client, street_admin)
    month = f"{first:%Y-%m}"
    empty = html_of(client.get(reverse("workforce:assessment"), {"month": month}))
    assert 'id="ranking-empty"' in empty
    done = client.post(reverse("workforce:assessment_compute"), {"month": month, "level": "street"}, follow=True)
    assert "已重新计算" in html_of(done)
    score = MonthlyScore.objects.get(worker=worker)
    assert score.figures["compliant_days"] == 1 and score.score > 0
    html = html_of(done)
    assert "网格员甲" in html and f"<strong>{score.score:.1f}</strong>" in html
    assert f"1/{score.figures['workdays']}" in html  # compliant days of workdays
    bad = html_of(client.get(reverse("workforce:assessment"), {"month": "2026-13"}))
    assert "月份格式应为 YYYY-MM" in bad


def test_the_assessment_downloads_as_a_workbook(client: Client, worker: Any, street_admin: Any) -> None:
    from openpyxl import load_workbook

    services.compute_month(timezone.localdate())
    response = logged_in(client, street_admin).get(
        reverse("workforce:assessment_xlsx"), {"month": f"{timezone.localdate():%Y-%m}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.title == "网格员考核"
    names = [row[2] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert names == ["网格员甲"]


def test_the_workers_page_and_a_party_members_points(client: Client, worker: Any, worker_b: Any,
                                                     community_a: Any) -> None:
    PatrolDay.objects.create(worker=worker, day=timezone.localdate(), points=80, distance_m=2500,
                             inside_s=6000, compliant=False)
    client = logged_in(client, community_a)
    html = html_of(client.get(reverse("workforce:workers")))
    assert "网格员甲" in html and "网格员乙" in html and city.GRID_A in html
    assert "2500" in html and "未达标" in html
    assert f"worker={worker.pk}" in html and f'href="{reverse("workforce:points", args=[worker.pk])}"' in html
    assert reverse("workforce:points", args=[worker_b.pk]) not in html  # not a party member

    url = reverse("workforce:points", args=[worker.pk])
    done = client.post(url, {"points": "5", "reason": "参加社区防汛志愿服务"}, follow=True)
    assert "已记录积分 +5" in html_of(done) and 'id="points-balance">5<' in html_of(done)
    refused = client.post(reverse("workforce:points", args=[worker_b.pk]), {"points": "5", "reason": "志愿服务"})
    assert refused.status_code == 422 and "不是党员" in html_of(refused)
    assert PointsEntry.objects.filter(worker=worker, by=community_a).count() == 1


def test_an_outsiders_ledger_is_not_found(client: Client, worker: Any, worker_c: Any, community_a: Any) -> None:
    assert logged_in(client, community_a).get(reverse("workforce:points", args=[worker_c.pk])).status_code == 404


def test_the_desk_lists_cost_a_fixed_number_of_queries(
        client: Client, worker: Any, worker_b: Any, community_a: Any, django_assert_max_num_queries: Any) -> None:
    from wangge.accounts.services import create_user

    for i in range(12):
        visit_task(make_household(city.GRID_A if i % 2 else city.GRID_B, name=f"居民{i}"), title=f"任务{i}")
    for i in range(3):
        helper = create_user(f"helper{i}", "pass", role="grid_worker", area_code=city.GRID_B)
        services.create_worker(by=community_a, user=helper, grids=[city.GRID_B], duty="volunteer",
                               party_member=True)
    client = logged_in(client, community_a)
    with django_assert_max_num_queries(QUERY_CEILING):
        assert client.get(reverse("workforce:tasks"), {"f": "1"}).status_code == 200
    with django_assert_max_num_queries(QUERY_CEILING):
        assert client.get(reverse("workforce:workers")).status_code == 200
