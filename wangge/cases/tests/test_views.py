"""The staff case pages, through the Django test client: who may open which
page, what the forms ask, and that every step goes through the workflow."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from wangge.cases.models import Case, State
from wangge.cases.services import StepInput, take_step
from wangge.testing import city
from wangge.testing.cases import make_case, png_bytes

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def html_of(response: Any) -> str:
    return str(response.content.decode())


def step_url(case: Case, step: str) -> str:
    return reverse("cases:step", args=[case.pk, step])


def waiting(by: Any, **overrides: Any) -> Case:
    """A report the centre must decide on: the category is left to the operator."""
    overrides.setdefault("category_code", "")
    overrides.setdefault("description", "请来看一下")
    return make_case(by, **overrides)


@pytest.mark.parametrize("name", ["cases:list", "cases:centre", "cases:workbench", "cases:routing",
                                  "cases:evaluation"])
def test_anonymous_is_sent_to_login(client: Client, name: str) -> None:
    url = reverse(name)
    r = client.get(url)
    assert r.status_code == 302 and r["Location"] == f"{reverse('login')}?next={url}"


# --- who may open which page -----------------------------------------------------


def test_centre_shows_the_queue_with_the_classifiers_suggestions(
        client: Client, worker_a: Any, viewer: Any, catalog: None) -> None:
    case = waiting(worker_a)
    assert case.state == State.REPORTED and case.suggestions
    html = html_of(logged_in(client, viewer).get(reverse("cases:centre")))
    assert case.code in html and "智能分类推荐" in html
    assert f'action="{step_url(case, "register")}"' in html
    assert f'action="{step_url(case, "reject")}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    # The command centre also supervises.
    assert 'id="tab-supervision"' in html


def test_a_department_user_cannot_open_the_centre(client: Client, chengguan: Any) -> None:
    r = logged_in(client, chengguan).get(reverse("cases:centre"))
    assert r.status_code == 403
    assert "案件中心仅供" in html_of(r)


def test_a_grid_worker_cannot_open_the_centre_or_the_workbench(client: Client, worker_a: Any) -> None:
    logged_in(client, worker_a)
    assert client.get(reverse("cases:centre")).status_code == 403
    assert client.get(reverse("cases:workbench")).status_code == 403
    assert client.get(reverse("cases:routing")).status_code == 403


def test_the_workbench_lists_the_departments_cases_with_time_left(
        client: Client, worker_a: Any, chengguan: Any, viewer: Any) -> None:
    case = make_case(worker_a)
    html = html_of(logged_in(client, chengguan).get(reverse("cases:workbench")))
    assert case.code in html and "东丽区城市管理委" in html
    assert f'action="{step_url(case, "accept")}"' in html
    assert f'action="{step_url(case, "return")}"' in html
    assert "工作小时" in html
    client.force_login(viewer)
    assert client.get(reverse("cases:workbench")).status_code == 403


def test_an_overdue_case_is_shown_red_in_the_workbench(
        client: Client, worker_a: Any, chengguan: Any) -> None:
    from datetime import timedelta

    case = make_case(worker_a)
    Case.objects.filter(pk=case.pk).update(handle_due=case.handle_due - timedelta(days=30), overdue=True)
    html = html_of(logged_in(client, chengguan).get(reverse("cases:workbench")))
    assert 'class="time-left overdue"' in html and "已超期" in html


def test_the_list_is_scoped_and_filters(client: Client, worker_a: Any, outsider: Any,
                                        street_admin: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    html = html_of(logged_in(client, street_admin).get(reverse("cases:list")))
    assert case.code in html
    html = html_of(client.get(reverse("cases:list"), {"state": "closed"}))
    assert case.code not in html
    html = html_of(logged_in(client, outsider).get(reverse("cases:list")))
    assert case.code not in html


def test_detail_shows_fields_timeline_and_map(client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    html = html_of(logged_in(client, worker_a).get(reverse("cases:detail", args=[case.pk])))
    assert case.code in html and "路边垃圾堆积无人清运" in html
    assert "已派遣" in html and "东丽区城市管理委" in html
    timeline = html.split('id="timeline"')[1]
    assert "上报" in timeline and "立案" in timeline and "派遣" in timeline
    assert f"parent={city.COMMUNITY_WEST}" in html and f'data-grid="{city.GRID_A}"' in html
    assert "js/cases.js" in html


def test_outsider_gets_404_for_a_grid_a_case(client: Client, worker_a: Any, outsider: Any,
                                            catalog: None) -> None:
    case = make_case(worker_a)
    assert logged_in(client, outsider).get(reverse("cases:detail", args=[case.pk])).status_code == 404
    r = client.post(step_url(case, "verify"))
    assert r.status_code == 404


def test_the_contact_is_masked_until_a_purpose_is_given(
        client: Client, worker_a: Any, street_admin: Any, chengguan: Any) -> None:
    from wangge.core.models import AuditEntry

    case = make_case(worker_a, contact_name="张三", contact_phone="13912345678")
    url = reverse("cases:detail", args=[case.pk])
    html = html_of(logged_in(client, street_admin).get(url))
    assert "13912345678" not in html and 'id="reveal-form"' in html
    html = html_of(client.get(url, {"purpose": "案件办理"}))
    assert "13912345678" in html
    assert AuditEntry.objects.filter(action="case.contact.read", object_id=str(case.pk)).exists()


def test_the_detail_offers_only_the_steps_the_user_may_take(
        client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    html = html_of(logged_in(client, worker_a).get(reverse("cases:detail", args=[case.pk])))
    assert "data-step=" not in html
    html = html_of(logged_in(client, chengguan).get(reverse("cases:detail", args=[case.pk])))
    steps = set(re.findall(r'<form[^>]+data-step="(\w+)"', html))
    assert steps == {"accept", "return"}
    # The return form asks for the reason, and only that.
    form = html.split(f'action="{step_url(case, "return")}"')[1].split("</form>")[0]
    assert 'name="note"' in form and "required" in form
    assert 'name="department"' not in form and 'name="category"' not in form


# --- steps ------------------------------------------------------------------------


def test_register_and_dispatch_from_the_centre(client: Client, worker_a: Any, viewer: Any,
                                               chengguan: Any) -> None:
    case = waiting(worker_a)
    centre = reverse("cases:centre")
    logged_in(client, viewer)
    r = client.post(step_url(case, "register"), {"category": "E0101", "next": centre})
    assert r.status_code == 302 and r["Location"] == centre
    case.refresh_from_db()
    assert case.state == State.REGISTERED and case.category is not None and case.category.code == "E0101"

    html = html_of(client.get(centre))
    form = html.split(f'action="{step_url(case, "dispatch")}"')[1].split("</form>")[0]
    # The routing suggestion is pre-selected; a department of another district is not offered.
    assert re.search(r'<option value="120110-CG" selected>', form)
    assert "120111-CG" not in form

    r = client.post(step_url(case, "dispatch"), {"department": "120110-CG", "next": centre}, follow=True)
    case.refresh_from_db()
    assert case.state == State.DISPATCHED and case.department is not None
    assert case.department.code == "120110-CG"
    assert "已办理“派遣”" in html_of(r)


def test_merge_a_possible_duplicate_from_the_centre(client: Client, worker_a: Any,
                                                    street_admin: Any, chengguan: Any) -> None:
    first = make_case(worker_a)
    second = make_case(worker_a, lon=city.POINT_A[0] + 0.0002, description="这里垃圾很多")
    assert second.possible_duplicate == first
    html = html_of(logged_in(client, street_admin).get(reverse("cases:centre")))
    form = html.split(f'action="{step_url(second, "merge")}"')[1].split("</form>")[0]
    assert f'name="duplicate_of" value="{first.pk}"' in form
    client.post(step_url(second, "merge"), {"duplicate_of": str(first.pk)})
    second.refresh_from_db()
    assert second.state == State.CANCELLED and second.duplicate_of == first


def test_accept_and_handle_with_a_photo_from_the_workbench(
        client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    bench = reverse("cases:workbench")
    logged_in(client, chengguan)
    client.post(step_url(case, "accept"), {"next": bench})
    case.refresh_from_db()
    assert case.state == State.ACCEPTED

    html = html_of(client.get(bench))
    form = html.split(f'action="{step_url(case, "handle")}"')[1].split("</form>")[0]
    assert 'enctype="multipart/form-data"' in html.split(f'action="{step_url(case, "handle")}"')[1][:80]
    assert 'name="note"' in form and 'name="photos"' in form
    photo = SimpleUploadedFile("after.png", png_bytes(), "image/png")
    r = client.post(step_url(case, "handle"), {"note": "已清运", "photos": [photo], "next": bench})
    assert r.status_code == 302 and r["Location"] == bench
    case.refresh_from_db()
    assert case.state == State.HANDLED and case.feedback == "已清运"
    stored = case.photos.get()
    assert stored.stage == "handle"
    image = client.get(reverse("cases:photo", args=[case.pk, stored.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_an_illegal_step_shows_the_refusal_and_changes_nothing(
        client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    detail = reverse("cases:detail", args=[case.pk])
    r = logged_in(client, chengguan).post(step_url(case, "handle"), {"note": "已清运"}, follow=True)
    assert r.status_code == 200 and r.redirect_chain[-1][0] == detail
    assert "不能“处置反馈”" in html_of(r)
    case.refresh_from_db()
    assert case.state == State.DISPATCHED and case.feedback == ""


def test_a_step_missing_its_input_is_refused_with_the_message(
        client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    r = logged_in(client, chengguan).post(step_url(case, "return"), {"note": " "}, follow=True)
    assert "请填写说明" in html_of(r)
    case.refresh_from_db()
    assert case.state == State.DISPATCHED


def test_a_photo_that_is_not_an_image_is_refused_on_the_page(
        client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    take_step(case_id=case.pk, by=chengguan, step="accept")
    junk = SimpleUploadedFile("x.png", b"not an image", "image/png")
    r = logged_in(client, chengguan).post(step_url(case, "handle"), {"note": "好了", "photos": [junk]},
                                          follow=True)
    assert "不是可识别的图片" in html_of(r)
    case.refresh_from_db()
    assert case.state == State.ACCEPTED


def test_an_unknown_step_is_404_and_get_is_refused(client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    logged_in(client, chengguan)
    assert client.post(step_url(case, "fly")).status_code == 404
    assert client.get(step_url(case, "accept")).status_code == 405


def test_a_redirect_elsewhere_is_not_followed(client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    r = logged_in(client, chengguan).post(step_url(case, "accept"), {"next": "https://evil.example/"})
    assert r["Location"] == reverse("cases:detail", args=[case.pk])


def test_postponement_is_requested_and_approved(client: Client, worker_a: Any, chengguan: Any,
                                                viewer: Any) -> None:
    case = make_case(worker_a)
    take_step(case_id=case.pk, by=chengguan, step="accept")
    later = (case.handle_due.astimezone() + __import__("datetime").timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    logged_in(client, chengguan).post(step_url(case, "request_postpone"), {"until": later, "note": "需要采购配件"})
    case.refresh_from_db()
    assert case.postpone_until is not None

    html = html_of(logged_in(client, viewer).get(reverse("cases:centre")))
    assert "需要采购配件" in html and f'action="{step_url(case, "approve_postpone")}"' in html
    client.post(step_url(case, "approve_postpone"))
    case.refresh_from_db()
    assert case.postpone_until is None and case.events.filter(action="approve_postpone").exists()


def test_a_bad_postponement_date_is_a_message(client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    take_step(case_id=case.pk, by=chengguan, step="accept")
    r = logged_in(client, chengguan).post(step_url(case, "request_postpone"),
                                          {"until": "明天", "note": "x"}, follow=True)
    assert "延期时间格式不正确" in html_of(r)


def test_the_command_centre_supervises_an_overdue_case(client: Client, worker_a: Any, viewer: Any,
                                                       chengguan: Any) -> None:
    case = make_case(worker_a)
    Case.objects.filter(pk=case.pk).update(overdue=True)
    url = reverse("cases:centre") + "?tab=supervision"
    html = html_of(logged_in(client, viewer).get(url))
    assert case.code in html and f'action="{step_url(case, "supervise")}"' in html
    client.post(step_url(case, "supervise"), {"note": "请今天办结", "next": url})
    case.refresh_from_db()
    assert case.supervised


def test_a_street_centre_has_no_supervision_tab(client: Client, street_admin: Any) -> None:
    html = html_of(logged_in(client, street_admin).get(reverse("cases:centre") + "?tab=supervision"))
    assert 'id="tab-supervision"' not in html and "没有待办案件" in html


def test_centre_filters_by_state_and_category(client: Client, worker_a: Any, viewer: Any,
                                              chengguan: Any) -> None:
    reported = waiting(worker_a)
    returned = make_case(worker_a, lon=city.POINT_A[0] + 0.01)
    take_step(case_id=returned.pk, by=chengguan, step="return", given=StepInput(note="不归我们"))
    logged_in(client, viewer)
    html = html_of(client.get(reverse("cases:centre"), {"state": "returned"}))
    assert returned.code in html and reported.code not in html
    html = html_of(client.get(reverse("cases:centre"), {"category": "E0101"}))
    assert returned.code in html and reported.code not in html


# --- query ceilings ------------------------------------------------------------------


def test_the_queue_pages_do_not_query_per_case(client: Client, worker_a: Any, viewer: Any,
                                               chengguan: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(6):
        make_case(worker_a, lon=city.POINT_A[0] + 0.003 * i)
    for i in range(4):
        waiting(worker_a, lon=city.POINT_A[0] + 0.003 * i + 0.001)
    for case in Case.objects.filter(state=State.DISPATCHED)[:3]:
        take_step(case_id=case.pk, by=chengguan, step="return", given=StepInput(note="不归我们"))
    logged_in(client, viewer)
    client.get(reverse("cases:centre"))  # warm the grid index and the classifier
    with django_assert_max_num_queries(20):
        assert client.get(reverse("cases:centre")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("cases:centre") + "?tab=supervision").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("cases:list")).status_code == 200
    client.force_login(chengguan)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("cases:workbench")).status_code == 200


# --- routing --------------------------------------------------------------------------


def test_the_routing_tool_names_the_department_and_why(client: Client, viewer: Any, catalog: None) -> None:
    logged_in(client, viewer)
    html = html_of(client.get(reverse("cases:routing")))
    assert 'id="route-map"' in html and "level=grid" in html
    r = client.get(reverse("cases:routing"), {"category": "E0101", "lon": str(city.POINT_A[0]),
                                              "lat": str(city.POINT_A[1])}, HTTP_HX_REQUEST="true")
    part = html_of(r)
    assert "<html" not in part and 'id="route-result"' in part
    assert "东丽区城市管理委" in part and city.GRID_A in part and city.POLICE_BEAT in part


def test_the_routing_tool_lists_rules_and_judges_each(client: Client, viewer: Any, admin_user: Any,
                                                      catalog: None) -> None:
    from wangge.cases.models import Category, RoutingRule
    from wangge.testing.cases import department

    rule = RoutingRule.objects.create(category=Category.objects.get(code="E0101"),
                                      area_prefix=city.STREET_EAST, department=department("120110-ZZ"))
    html = html_of(logged_in(client, viewer).get(
        reverse("cases:routing"), {"category": "E0101", "lon": str(city.POINT_A[0]),
                                      "lat": str(city.POINT_A[1])}))
    assert "区域不符" in html and "综治中心" in html
    assert "admin/cases/routingrule" not in html
    html = html_of(client.get(reverse("cases:routing"), {"category": "E0101", "lon": str(city.POINT_C[0]),
                                                         "lat": str(city.POINT_C[1])}))
    winner = html.split('id="route-department"')[1].split("</p>")[0]
    assert "综治中心" in winner and f"派遣规则 #{rule.pk}" in html
    html = html_of(logged_in(client, admin_user).get(reverse("cases:routing")))
    assert f"/admin/cases/routingrule/{rule.pk}/change/" in html


def test_the_routing_tool_explains_a_missing_input(client: Client, viewer: Any, catalog: None) -> None:
    html = html_of(logged_in(client, viewer).get(reverse("cases:routing"), {"category": "E0101", "lon": "x"}))
    assert "请在地图上点选位置" in html
    html = html_of(client.get(reverse("cases:routing"), {"category": "E0101", "lon": "200", "lat": "39"}))
    assert 'class="alert error"' in html


# --- navigation and the map -------------------------------------------------------------


def test_navigation_per_role(client: Client, viewer: Any, chengguan: Any, worker_a: Any) -> None:
    from wangge.accounts.navigation import items_for

    names = {i.url_name for i in items_for(viewer)}
    assert {"cases:centre", "cases:list", "cases:routing", "cases:evaluation"} <= names
    assert "cases:workbench" not in names
    names = {i.url_name for i in items_for(chengguan)}
    assert {"cases:workbench", "cases:list"} <= names and "cases:centre" not in names
    names = {i.url_name for i in items_for(worker_a)}
    assert {"cases:m_report", "cases:m_cases", "cases:m_verify"} <= names
    assert "cases:centre" not in names and "cases:list" not in names
    html = html_of(logged_in(client, worker_a).get(reverse("dashboard:map")))
    assert f'href="{reverse("cases:m_report")}"' in html


def test_a_page_not_yet_routed_is_left_out_of_the_navigation(viewer: Any) -> None:
    from wangge.accounts import navigation

    missing = navigation.NavItem("x", "cases:no_such_page", frozenset({"command_centre"}))
    saved = navigation.NAV_ITEMS
    try:
        navigation.NAV_ITEMS = (*saved, missing)
        assert missing not in navigation.items_for(viewer)
    finally:
        navigation.NAV_ITEMS = saved


def test_the_map_offers_the_case_indicators(client: Client, viewer: Any) -> None:
    html = html_of(logged_in(client, viewer).get(reverse("dashboard:map")))
    assert 'data-cases-open="在办案件"' in html and 'data-cases-overdue="超期案件"' in html


# --- evaluation ---------------------------------------------------------------------------


def test_the_evaluation_ranks_this_months_departments(client: Client, worker_a: Any, chengguan: Any,
                                                      viewer: Any) -> None:
    from django.utils import timezone

    case = make_case(worker_a)
    take_step(case_id=case.pk, by=chengguan, step="accept")
    take_step(case_id=case.pk, by=chengguan, step="handle", given=StepInput(note="已清运"))
    take_step(case_id=case.pk, by=worker_a, step="verify")
    r = logged_in(client, viewer).get(reverse("cases:evaluation"))
    html = html_of(r)
    today = timezone.localdate()
    assert f'name="start" value="{today.replace(day=1):%Y-%m-%d}"' in html
    table = html.split('id="evaluation-table"')[1].split("</table>")[0]
    assert "东丽区城市管理委" in table and "100.0" in table
    assert 'id="evaluation-data"' in html and "js/cases.js" in html

    r = client.get(reverse("cases:evaluation"), {"by": "grid"})
    assert "A网格" in html_of(r)


def test_the_evaluation_downloads_as_a_workbook(client: Client, worker_a: Any, chengguan: Any,
                                                viewer: Any) -> None:
    make_case(worker_a)
    r = logged_in(client, viewer).get(reverse("cases:evaluation_xlsx"),
                                      {"start": "2020-01-01", "end": "2020-12-31", "by": "street"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert r["Content-Disposition"].startswith('attachment; filename="evaluation_street_20200101-20201231.xlsx"')
    assert "filename*=UTF-8''" in r["Content-Disposition"]
    assert r.content[:2] == b"PK"


def test_a_reversed_period_is_explained_not_an_error(client: Client, viewer: Any) -> None:
    r = logged_in(client, viewer).get(reverse("cases:evaluation"), {"start": "2024-05-10", "end": "2024-05-01"})
    assert r.status_code == 200 and "早于开始日期" in html_of(r)
    r = client.get(reverse("cases:evaluation_xlsx"), {"start": "2024-05-10", "end": "2024-05-01"}, follow=True)
    assert "早于开始日期" in html_of(r)


def test_a_department_cannot_open_the_evaluation(client: Client, chengguan: Any) -> None:
    logged_in(client, chengguan)
    assert client.get(reverse("cases:evaluation")).status_code == 403
    assert client.get(reverse("cases:evaluation_xlsx")).status_code == 403


def test_the_pages_speak_english_when_asked(client: Client, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    client.cookies["django_language"] = "en"
    logged_in(client, chengguan)
    html = html_of(client.get(reverse("cases:workbench")))
    assert "Department workbench" in html and "working hours left" in html
    html = html_of(client.get(reverse("cases:detail", args=[case.pk])))
    assert "Timeline" in html and ">Accept<" in html
