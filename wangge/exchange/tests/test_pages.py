"""The exchange's pages through Django's test client on the tiny city: who may
open them, the catalog browser, a dataset catalog's whole life from its draft
to a revoked grant, the gateway client's secret shown once, and the
statistics screen (also in a real browser)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wangge.accounts.models import Department
from wangge.accounts.services import create_user
from wangge.exchange import services
from wangge.exchange.models import (
    Application,
    ApplicationStatus,
    Backing,
    CallLog,
    Catalog,
    CatalogStatus,
    DatasetRow,
    Endpoint,
    Grant,
    ShareClass,
)
from wangge.exchange.models import Client as GatewayClient
from wangge.testing import city

pytestmark = [
    # WhiteNoise only notes that nothing was collected into STATIC_ROOT.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PERSON_ITEMS = [services.ItemIn("name"), services.ItemIn("id_number"), services.ItemIn("grid_code")]
# One bad line (line 4: the amount is not a number); the other three land.
RELIEF_CSV = "姓名,救助金额,救助类别\n张三,1200,低保\n李四,800.5,特困\n王五,很多,低保\n赵六,600,临时救助\n"


def html_of(response: Any) -> str:
    return str(response.content.decode())


def logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def _department(code: str, name: str, area: str) -> Department:
    return Department.objects.create(code=code, name=name, type="other", area_code=area)


def _staff(username: str, department: Department) -> Any:
    return create_user(username, "pass-" + username, role="department_staff", department=department,
                       area_code=department.area_code, display_name=username)


@pytest.fixture
def minzheng(small_city: None) -> Department:
    return _department("MZJ", "区民政局", city.DISTRICT)


@pytest.fixture
def renshe(small_city: None) -> Department:
    return _department("RSJ", "区人社局", city.STREET_WEST)


@pytest.fixture
def mz_staff(minzheng: Department) -> Any:
    return _staff("mz1", minzheng)


@pytest.fixture
def rs_staff(renshe: Department) -> Any:
    return _staff("rs1", renshe)


@pytest.fixture
def person_catalog(admin_user: Any, minzheng: Department) -> Catalog:
    catalog = services.create_catalog(
        by=admin_user, owner=minzheng, code="MZ-RK-001", name="困难群众基础信息",
        share_class=ShareClass.CONDITIONAL, condition="用于救助对象身份核对", backing=Backing.PERSON,
        items=PERSON_ITEMS, verify_items=["name", "id_number"], compare_keys=["id_number"])
    return services.publish_catalog(catalog=catalog, by=admin_user)


def _dataset(by: Any, code: str, share_class: str, items: int, **extra: Any) -> Catalog:
    return services.create_catalog(
        by=by, owner=by.department, code=code, name=f"数据集{code}", share_class=share_class,
        backing=Backing.DATASET, items=[services.ItemIn(f"f{n}", f"字段{n}") for n in range(items)],
        condition=extra.pop("condition", "按协议共享"), **extra)


def _published(catalog: Catalog, by: Any) -> Catalog:
    header = ",".join(i.name for i in catalog.items.all())
    row = ",".join("x" for _i in catalog.items.all())
    services.upload_dataset(catalog=catalog, by=by, data=f"{header}\n{row}\n".encode(), file_name="a.csv")
    return services.publish_catalog(catalog=catalog, by=by)


# --- who may open the pages -----------------------------------------------------------


@pytest.mark.parametrize("name", ["catalogs", "applications", "grants", "clients", "calls", "stats",
                                  "catalog_new"])
def test_grid_worker_and_resident_get_403(client: Client, worker_a: Any, name: str) -> None:
    resident = create_user("resident", "pass-resident", role="resident")
    for user in (worker_a, resident):
        response = logged_in(client, user).get(reverse(f"exchange:{name}"))
        assert response.status_code == 403
        assert 'id="forbidden"' in html_of(response)


def test_anonymous_is_sent_to_login(client: Client, small_city: None) -> None:
    response = client.get(reverse("exchange:catalogs"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_nav_offers_the_exchange_to_browsers_and_credentials_to_departments(
        viewer: Any, mz_staff: Any, worker_a: Any) -> None:
    from wangge.accounts.navigation import items_for

    names = {i.url_name for i in items_for(viewer)}
    assert {"exchange:catalogs", "exchange:stats"} <= names
    assert "exchange:clients" not in names and "exchange:applications" not in names
    assert {"exchange:catalogs", "exchange:applications", "exchange:clients", "exchange:stats"} <= {
        i.url_name for i in items_for(mz_staff)}
    assert not {i.url_name for i in items_for(worker_a)} & {"exchange:catalogs", "exchange:stats"}


def test_missing_and_out_of_scope_answer_404_alike(client: Client, mz_staff: Any, rs_staff: Any) -> None:
    draft = _dataset(mz_staff, "MZ-DRAFT", ShareClass.CONDITIONAL, 2)
    logged_in(client, rs_staff)
    assert client.get(reverse("exchange:catalog", args=[draft.code])).status_code == 404
    assert client.get(reverse("exchange:catalog", args=["NO-SUCH"])).status_code == 404
    assert client.post(reverse("exchange:publish", args=[draft.code])).status_code == 404
    assert client.get(reverse("exchange:application", args=[999_999])).status_code == 404
    assert logged_in(client, mz_staff).get(reverse("exchange:catalog", args=[draft.code])).status_code == 200


# --- browsing -------------------------------------------------------------------------


def test_browse_and_search_by_item_name(client: Client, viewer: Any, person_catalog: Catalog,
                                        mz_staff: Any) -> None:
    other = _published(_dataset(mz_staff, "MZ-LB-001", ShareClass.UNCONDITIONAL, 2), mz_staff)
    logged_in(client, viewer)
    html = html_of(client.get(reverse("exchange:catalogs")))
    assert 'data-catalog="MZ-RK-001"' in html and f'data-catalog="{other.code}"' in html
    assert 'class="badge share-conditional"' in html and "有条件共享" in html
    assert 'id="share-summary"' in html and "50.0%" in html

    # "公民身份号码" is the name of an item of the person catalog only.
    html = html_of(client.get(reverse("exchange:catalogs"), {"q": "身份号码"}))
    assert 'data-catalog="MZ-RK-001"' in html and f'data-catalog="{other.code}"' not in html
    # All three items counted, not only the one the search matched.
    assert re.search(r'data-catalog="MZ-RK-001">.*?<td class="num">3</td>', html, re.S)

    html = html_of(client.get(reverse("exchange:catalogs"), {"share_class": "unconditional"}))
    assert 'data-catalog="MZ-RK-001"' not in html and f'data-catalog="{other.code}"' in html
    html = html_of(client.get(reverse("exchange:catalogs"), {"backing": Backing.PERSON, "owner": "MZJ"}))
    assert 'data-catalog="MZ-RK-001"' in html and f'data-catalog="{other.code}"' not in html

    html = html_of(client.get(reverse("exchange:catalog", args=["MZ-RK-001"])))
    assert "用于救助对象身份核对" in html and 'data-item="id_number"' in html
    # The command centre browses but does not apply.
    assert 'id="apply-form"' not in html and 'id="apply-who"' in html


def test_a_catalog_not_to_be_shared_says_why_it_cannot_be_applied_for(
        client: Client, mz_staff: Any, rs_staff: Any) -> None:
    closed = _published(_dataset(mz_staff, "MZ-NO-001", ShareClass.NONE, 1, condition="涉及未成年人隐私"),
                        mz_staff)
    html = html_of(logged_in(client, rs_staff).get(reverse("exchange:catalog", args=[closed.code])))
    assert 'id="not-shared"' in html and "涉及未成年人隐私" in html and 'id="apply-form"' not in html
    response = client.post(reverse("exchange:catalog", args=[closed.code]), {
        "items": ["f0"], "purpose": "试一试能否申请", "legal_basis": "无",
        "starts": timezone.localdate().isoformat(), "ends": timezone.localdate().isoformat()})
    assert response.status_code == 403 and "不予共享" in html_of(response)
    assert not Application.objects.exists()


def test_department_staff_cannot_create_a_registry_catalog(client: Client, mz_staff: Any) -> None:
    logged_in(client, mz_staff)
    html = html_of(client.get(reverse("exchange:catalog_new")))
    assert f'value="{Backing.PERSON}"' not in html and 'id="registry-fields"' not in html
    response = client.post(reverse("exchange:catalog_new"), {
        "code": "MZ-RK-9", "name": "人口", "share_class": "unconditional", "backing": Backing.PERSON,
        "key_0": "name"})
    assert response.status_code == 403 and "系统管理员" in html_of(response)
    assert not Catalog.objects.exists()


def test_admin_creates_a_registry_catalog_for_a_department(client: Client, admin_user: Any,
                                                            minzheng: Department, renshe: Department) -> None:
    logged_in(client, admin_user)
    html = html_of(client.get(reverse("exchange:catalog_new")))
    assert 'id="registry-fields"' in html and "公民身份号码" in html
    response = client.post(reverse("exchange:catalog_new"), {
        "owner": str(minzheng.pk), "code": "MZ-RK-2", "name": "人口核验", "share_class": "conditional",
        "condition": "核对身份", "frequency": "daily", "backing": Backing.PERSON,
        "key_0": "name", "key_1": "sfz", "source_1": "id_number", "filterable_1": "1",
        "verify_items": "name，sfz", "compare_keys": "sfz"})
    assert response.status_code == 302
    catalog = Catalog.objects.get(code="MZ-RK-2")
    assert catalog.owner == minzheng and catalog.status == CatalogStatus.DRAFT
    assert catalog.verify_items == ["name", "sfz"] and catalog.compare_keys == ["sfz"]
    assert [(i.key, i.source, i.name) for i in catalog.items.all()] == [
        ("name", "name", "姓名"), ("sfz", "id_number", "公民身份号码")]
    html = html_of(client.get(response["Location"]))
    assert 'id="publish"' in html and 'id="not-published"' in html and 'id="uploads"' not in html
    client.post(reverse("exchange:publish", args=["MZ-RK-2"]))
    # Published, the administrator may apply for another department (the only other one here).
    html = html_of(client.get(response["Location"]))
    assert 'id="apply-form"' in html and "<strong>区人社局</strong>" in html and 'id="withdraw-form"' in html
    # A bad source field is the service's message, with what was typed kept.
    response = client.post(reverse("exchange:catalog_new"), {
        "owner": str(minzheng.pk), "code": "MZ-RK-3", "name": "人口", "share_class": "unconditional",
        "backing": Backing.PERSON, "key_0": "xm", "source_0": "xingming"})
    assert response.status_code == 422
    html = html_of(response)
    assert "来源字段“xingming”不存在" in html and 'value="MZ-RK-3"' in html


# --- a dataset catalog's life through the pages ---------------------------------------------


def test_the_whole_flow_from_draft_to_revoked_grant(client: Client, mz_staff: Any, rs_staff: Any) -> None:
    owner, user = Client(), Client()
    owner.force_login(mz_staff)
    user.force_login(rs_staff)

    # The owner drafts a dataset catalog.
    response = owner.post(reverse("exchange:catalog_new"), {
        "code": "MZ-JZ-001", "name": "社会救助对象", "description": "低保、特困、临时救助",
        "share_class": "conditional", "condition": "用于就业援助对象核对", "frequency": "monthly",
        "backing": Backing.DATASET,
        "key_0": "name", "name_0": "姓名", "mask_0": "name", "filterable_0": "1",
        "key_1": "amount", "name_1": "救助金额", "type_1": "number",
        "key_2": "kind", "name_2": "救助类别",
        "verify_items": "name", "compare_keys": ""})
    assert response.status_code == 302
    url = reverse("exchange:catalog", args=["MZ-JZ-001"])
    assert response["Location"] == url

    # Publishing an empty dataset is refused with the service's message.
    response = owner.post(reverse("exchange:publish", args=["MZ-JZ-001"]), follow=True)
    assert "数据集还没有数据" in html_of(response)

    # Upload: the bad line is listed with its reason, the good rows land.
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = SimpleUploadedFile("救助对象.csv", RELIEF_CSV.encode("utf-8"), content_type="text/csv")
    response = owner.post(reverse("exchange:upload", args=["MZ-JZ-001"]), {"file": csv}, follow=True)
    html = html_of(response)
    assert "已导入 3 行" in html
    errors = re.search(r'<table class="data upload-errors">(.*?)</table>', html, re.S)
    assert errors is not None
    assert re.search(r'<td class="num">4</td><td>救助金额：“很多”不是数值</td>', errors.group(1))
    catalog = Catalog.objects.get(code="MZ-JZ-001")
    assert sorted(r.data["name"] for r in DatasetRow.objects.filter(catalog=catalog)) == ["张三", "李四", "赵六"]

    owner.post(reverse("exchange:publish", args=["MZ-JZ-001"]))
    catalog.refresh_from_db()
    assert catalog.status == CatalogStatus.PUBLISHED

    # Another department applies for two items.
    html = html_of(user.get(url))
    assert 'id="apply-form"' in html and 'id="uploads"' not in html and 'id="owner-actions"' not in html
    today = timezone.localdate()
    response = user.post(url, {"items": ["name", "amount"], "purpose": "就业援助对象资格核对",
                               "legal_basis": "", "starts": today.isoformat(),
                               "ends": (today + timedelta(days=180)).isoformat()})
    assert response.status_code == 422 and "有条件共享须写明依据" in html_of(response)
    response = user.post(url, {"items": ["name", "amount"], "purpose": "就业援助对象资格核对",
                               "legal_basis": "《就业促进法》", "starts": today.isoformat(),
                               "ends": (today + timedelta(days=180)).isoformat()})
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exchange:application", args=[application.pk])
    assert application.status == ApplicationStatus.PENDING
    assert f'data-application="{application.pk}"' in html_of(
        user.get(reverse("exchange:applications"), {"box": "mine"}))
    html = html_of(owner.get(reverse("exchange:applications"), {"box": "incoming"}))
    assert f'data-application="{application.pk}"' in html and 'id="pending-count"' in html

    # The applicant cannot decide; the owner sees the form, masked by default
    # where the item has a mask.
    app_url = reverse("exchange:application", args=[application.pk])
    assert 'id="decision-form"' not in html_of(user.get(app_url))
    html = html_of(owner.get(app_url))
    assert 'id="decision-form"' in html
    assert re.search(r'name="masked" value="name" checked', html)
    assert not re.search(r'name="masked" value="amount" checked', html)

    # A refusal without a reason is refused; approving nothing is not a refusal.
    response = owner.post(app_url, {"decision": "refuse", "reason": ""})
    assert response.status_code == 422 and "拒绝申请须说明理由" in html_of(response)
    response = owner.post(app_url, {"decision": "approve", "reason": ""})
    assert response.status_code == 422 and "请至少勾选一个批准的信息项" in html_of(response)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING

    # Approve: the name masked, the amount in full.
    response = owner.post(app_url, {"decision": "approve", "approve": ["name", "amount"],
                                    "masked": ["name"], "reason": "同意"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    grant = Grant.objects.get()
    assert {gi.item.key: gi.masked for gi in grant.grant_items.all()} == {"name": True, "amount": False}
    html = html_of(user.get(app_url))
    assert 'id="application-grant"' in html and "提供原值" in html and "脱敏提供" in html

    # The grant on both sides; only the owner may revoke it.
    html = html_of(user.get(reverse("exchange:grants")))
    assert f'data-grant="{grant.pk}"' in html and "本部门获得" in html and "revoke-form" not in html
    html = html_of(owner.get(reverse("exchange:grants")))
    assert f'data-grant="{grant.pk}"' in html and "本部门授出" in html and "revoke-form" in html
    assert f'data-grant="{grant.pk}"' in html_of(owner.get(url))
    response = user.post(reverse("exchange:revoke_grant", args=[grant.pk]), {"reason": "不要"}, follow=True)
    assert "撤销未成功：只有区民政局的工作人员或系统管理员可以撤销本部门目录的授权" in html_of(response)
    grant.refresh_from_db()
    assert grant.revoked_at is None

    response = owner.post(reverse("exchange:revoke_grant", args=[grant.pk]),
                          {"reason": "项目结束", "next": reverse("exchange:grants") + "?state=active"})
    assert response.status_code == 302 and response["Location"].endswith("?state=active")
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoke_reason == "项目结束"
    html = html_of(user.get(reverse("exchange:grants"), {"state": "revoked"}))
    assert f'data-grant="{grant.pk}"' in html and "项目结束" in html
    assert f'data-grant="{grant.pk}"' not in html_of(user.get(reverse("exchange:grants"), {"state": "active"}))


def test_an_outsider_department_sees_neither_application_nor_grant(
        client: Client, mz_staff: Any, rs_staff: Any) -> None:
    catalog = _published(_dataset(mz_staff, "MZ-X-001", ShareClass.UNCONDITIONAL, 2), mz_staff)
    today = timezone.localdate()
    application = services.apply_for(by=rs_staff, department=rs_staff.department, catalog=catalog,
                                     items=["f0"], purpose="就业援助核对", legal_basis="",
                                     starts=today, ends=today + timedelta(days=30))
    grant = Grant.objects.get(application=application)
    third = _staff("js1", _department("JSJ", "区教育局", city.DISTRICT))
    logged_in(client, third)
    assert client.get(reverse("exchange:application", args=[application.pk])).status_code == 404
    assert client.post(reverse("exchange:revoke_grant", args=[grant.pk]), {"reason": "试试"}).status_code == 404
    assert f'data-grant="{grant.pk}"' not in html_of(client.get(reverse("exchange:grants")))


# --- gateway clients and calls ----------------------------------------------------------


def test_the_client_secret_is_shown_once_and_never_again(client: Client, rs_staff: Any) -> None:
    logged_in(client, rs_staff)
    html = html_of(client.get(reverse("exchange:clients")))
    assert 'id="client-form"' in html and "X-WG-Signature" in html and 'id="sign-help"' in html
    response = client.post(reverse("exchange:clients"), {"name": "就业援助系统", "rate_per_minute": "120"})
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    html = html_of(response)
    found = re.search(r'<span class="ex-secret" id="secret">([0-9a-f]{64})</span>', html)
    assert found is not None and 'id="secret-warning"' in html
    secret = found.group(1)
    gateway_client = GatewayClient.objects.get()
    assert gateway_client.rate_per_minute == 120 and gateway_client.key_id in html
    assert services.client_secret(gateway_client) == secret

    again = html_of(client.get(reverse("exchange:clients")))
    assert gateway_client.key_id in again and secret not in again
    response = client.post(reverse("exchange:revoke_client", args=[gateway_client.pk]), follow=True)
    gateway_client.refresh_from_db()
    assert gateway_client.revoked_at is not None and secret not in html_of(response)
    assert "已停用" in html_of(response)

    response = client.post(reverse("exchange:clients"), {"name": "", "rate_per_minute": "120"})
    assert response.status_code == 422 and "请填写接入系统名称" in html_of(response)


def test_calls_are_filtered_and_paged(client: Client, mz_staff: Any, rs_staff: Any) -> None:
    catalog = _published(_dataset(mz_staff, "MZ-C-001", ShareClass.UNCONDITIONAL, 1), mz_staff)
    now = timezone.now()
    CallLog.objects.bulk_create(
        [CallLog(at=now - timedelta(minutes=n), department=rs_staff.department, catalog=catalog, key_id="wgk_x",
                 endpoint=Endpoint.QUERY, method="GET", path="/gateway/v1/", status=200) for n in range(55)]
        + [CallLog(at=now, department=rs_staff.department, catalog=catalog, key_id="wgk_x",
                   endpoint=Endpoint.VERIFY, method="POST", path="/gateway/v1/", status=403, error="no_grant")])
    logged_in(client, rs_staff)
    html = html_of(client.get(reverse("exchange:calls")))
    assert "共 56 次调用" in html and 'class="pager"' in html
    html = html_of(client.get(reverse("exchange:calls"), {"status": "refused", "department": "RSJ"}))
    assert "共 1 次调用" in html and "no_grant" in html
    html = html_of(client.get(reverse("exchange:calls"), {"endpoint": "query", "catalog": "MZ-C-001",
                                                          "since": timezone.localdate().isoformat(),
                                                          "page": "2"}))
    assert "共 55 次调用" in html and "2 / 2" in html


# --- statistics -----------------------------------------------------------------------


def stats_json(html: str) -> Any:
    found = re.search(r'<script id="exchange-stats-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_stats_page_renders_with_share_classes(client: Client, viewer: Any, mz_staff: Any) -> None:
    # Items 2 / 3 / 4: by catalogs a third each, by items 22.22% / 33.33% / 44.44%.
    _published(_dataset(mz_staff, "S-1", ShareClass.UNCONDITIONAL, 2), mz_staff)
    _published(_dataset(mz_staff, "S-2", ShareClass.CONDITIONAL, 3), mz_staff)
    _published(_dataset(mz_staff, "S-3", ShareClass.NONE, 4), mz_staff)
    CallLog.objects.create(at=timezone.now(), department=mz_staff.department, key_id="wgk_y",
                           endpoint=Endpoint.QUERY, method="GET", path="/gateway/v1/", status=200)
    response = logged_in(client, viewer).get(reverse("exchange:stats"), {"days": "7"})
    assert response.status_code == 200
    html = html_of(response)
    assert "vendor/echarts.min.js" in html and "js/exchange_stats.js" in html
    data = stats_json(html)
    assert [(s["name"], s["catalogs"], s["items"], s["item_share"]) for s in data["share_classes"]] == [
        ("无条件共享", 1, 2, 22.22), ("有条件共享", 1, 3, 33.33), ("不予共享", 1, 4, 44.44)]
    assert len(data["days"]) == 8 and data["per_day"][0]["name"] == "目录查询"
    assert sum(data["per_day"][0]["data"]) == 1 and data["departments"]["names"] == ["区民政局"]
    assert 'data-total="catalogs"><strong>3<' in html and "22.22%" in html
    # An unknown period falls back to 30 days.
    assert len(stats_json(html_of(client.get(reverse("exchange:stats"), {"days": "5"})))["days"]) == 31


@pytest.fixture
def busy_exchange(mz_staff: Any, rs_staff: Any, viewer: Any) -> None:
    """Two catalogs and twenty calls over five days, two interfaces, some refused."""
    catalog = _published(_dataset(mz_staff, "B-1", ShareClass.CONDITIONAL, 3), mz_staff)
    _published(_dataset(mz_staff, "B-2", ShareClass.UNCONDITIONAL, 2), mz_staff)
    now = timezone.now()
    CallLog.objects.bulk_create([
        CallLog(at=now - timedelta(days=n % 5), department=rs_staff.department, catalog=catalog,
                key_id="wgk_z", endpoint=(Endpoint.QUERY, Endpoint.VERIFY)[n % 2], method="GET",
                path="/gateway/v1/", status=200 if n % 3 else 403) for n in range(20)])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_stats_charts_render_in_the_browser(busy_exchange: None, page: Any, login: Any,
                                            screenshot: Any) -> None:
    # The data is made before the browser starts: Django refuses database
    # calls under Playwright's event loop.
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    login("viewer")
    page.goto("/exchange/stats/")
    for chart in ("chart-days", "chart-departments", "chart-ranking", "chart-share-catalogs",
                  "chart-share-items"):
        page.wait_for_selector(f"#{chart} canvas")
    series = page.evaluate(
        "() => window.echarts.getInstanceByDom(document.getElementById('chart-days')).getOption().series.length")
    assert series == 2
    page.wait_for_timeout(1200)  # the charts' entry animation, for the screenshot
    screenshot("exchange-stats")
    page.select_option("#stats-days select[name=days]", "7")
    page.wait_for_url("**/exchange/stats/?days=7")
    page.wait_for_selector("#chart-share-items canvas")
    assert not console_errors


