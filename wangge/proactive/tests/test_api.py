"""The API and the staff pages: who sees what, and the same refusals as the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.proactive import engine, selectors
from wangge.proactive.services import import_water_csv
from wangge.proactive.tests.helpers import NOW, make_house, make_person, monthly, room, water_csv

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("proactive_urls")]
API = "/api/v1/proactive"
HOME = "华明家园3号楼2单元201室"


@pytest.fixture
def flagged(world: dict[str, Any], admin_user: Any) -> Any:
    """A zero-use flag on an occupied house in grid A, and its import."""
    make_house(room(3, 2, 201))
    make_person("赵六", at=room(3, 2, 201))
    rows = [*monthly("W001", HOME, [5, 4, 5, 6, 5, 4, 5, 5, 5, 4, 0, 0]), ["W404", "查无此地", "2026-10-31", "", "1"]]
    imp = import_water_csv(by=admin_user, file_name="year.csv", data=water_csv(rows))
    engine.run_rules(NOW, ["water_zero"])
    return imp


@pytest.mark.parametrize("url", ["/rules", "/water/flags", "/water/imports", "/water/accounts"])
def test_anonymous_calls_are_refused(api_client: Any, url: str) -> None:
    r = api_client.get(API + url)
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_flags_and_accounts_are_scoped_to_the_readers_area(api_client: Any, auth_header: Any, flagged: Any,
                                                          worker_a: Any, outsider: Any, street_admin: Any,
                                                          django_assert_max_num_queries: Any) -> None:
    headers = auth_header(worker_a)
    with django_assert_max_num_queries(6):  # auth, scope, count, page: not one per flag
        mine = api_client.get(f"{API}/water/flags", **headers).json()
    assert mine["count"] == 1 and mine["items"][0]["account_no"] == "W001"
    assert mine["items"][0]["kind_name"] == "长期零用水" and "连续 2 期抄表用水量为 0" in mine["items"][0]["reason"]
    assert api_client.get(f"{API}/water/flags", **auth_header(street_admin)).json()["count"] == 1
    # A worker of the other street sees none of it.
    assert api_client.get(f"{API}/water/flags", **auth_header(outsider)).json()["count"] == 0
    assert api_client.get(f"{API}/water/accounts", **auth_header(outsider)).json()["count"] == 0
    assert selectors.flags_for(outsider).count() == 0 and selectors.accounts_for(outsider).count() == 0
    accounts = api_client.get(f"{API}/water/accounts", **auth_header(worker_a)).json()
    assert [a["account_no"] for a in accounts["items"]] == ["W001"]


def test_an_import_is_read_by_its_uploader_and_answered_as_missing_to_others(
        api_client: Any, auth_header: Any, flagged: Any, admin_user: Any, street_admin: Any) -> None:
    r = api_client.get(f"{API}/water/imports/{flagged.pk}", **auth_header(admin_user))
    assert r.status_code == 200
    body = r.json()
    assert body["rows_unmatched"] == 1 and body["unmatched"][0]["account_no"] == "W404"
    r = api_client.get(f"{API}/water/imports/{flagged.pk}", **auth_header(street_admin))
    assert r.status_code == 404 and r.json()["code"] == "water_import_not_found"


def test_upload_over_the_api_returns_bad_lines(api_client: Any, auth_header: Any, world: dict[str, Any],
                                               street_admin: Any) -> None:
    data = water_csv([["W001", HOME, "2026-10-31", "", "3"], ["W001", HOME, "昨天", "", "3"]])
    r = api_client.post(f"{API}/water/imports", {"file": SimpleUploadedFile("w.csv", data, "text/csv")},
                        **auth_header(street_admin))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["rows_ok"] == 1 and body["errors"][0]["line"] == 3 and "无法识别" in body["errors"][0]["reason"]


def test_running_a_rule_needs_district_staff_or_admin(api_client: Any, auth_header: Any, world: dict[str, Any],
                                                      worker_a: Any, admin_user: Any) -> None:
    r = api_client.post(f"{API}/rules/elderly_card/run", **auth_header(worker_a))
    assert r.status_code == 403 and r.json()["message"] == "只有区级工作人员和管理员可以手动运行规则"
    r = api_client.post(f"{API}/rules/no_such_rule/run", **auth_header(admin_user))
    assert r.status_code == 404
    r = api_client.post(f"{API}/rules/elderly_card/run", **auth_header(admin_user))
    assert r.status_code == 200 and r.json()["rule"] == "elderly_card" and r.json()["by"] == "管理员"
    rules = {x["code"]: x for x in api_client.get(f"{API}/rules", **auth_header(worker_a)).json()}
    assert len(rules) == 6 and rules["elderly_card"]["last_run"]["matched"] == 0
    assert rules["water_spike"]["params"]["sigma"] == 3


def test_pages_render_for_staff(client: Any, flagged: Any, admin_user: Any, street_admin: Any) -> None:
    client.force_login(admin_user)
    body = client.get("/proactive/rules/").content.decode()
    assert "年满60周岁未办老年人优待证" in body and "立即运行" in body
    r = client.post("/proactive/rules/water_zero/run/", follow=True)
    assert "已运行“有人居住的房屋长期零用水”：命中 1，新建任务 0，已有待办 1" in r.content.decode()
    body = client.get(f"/proactive/water/imports/{flagged.pk}/").content.decode()
    assert "W404" in body and "在标准地址库中找不到" in body
    client.force_login(street_admin)
    assert "连续 2 期抄表用水量为 0" in client.get("/proactive/water/flags/").content.decode()
    assert "立即运行" not in client.get("/proactive/rules/").content.decode()
    r = client.post("/proactive/water/", {"file": SimpleUploadedFile(
        "w.csv", water_csv([["W001", HOME, "2026-11-15", "", "3"], ["", HOME, "2026-11-15", "", "3"]]))})
    assert r.status_code == 302
    body = client.get(r["Location"]).content.decode()
    assert "用水户号为空" in body and "入库 1 行，错误 1 行" in body
