"""Exports (core.exports): the approval rule and its abuse cases, the watermark
in every file, one audit entry per export, and the people it touched."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from wangge.core import access, exports, exports_api
from wangge.core.errors import DomainError, InvalidInput, OutOfScope
from wangge.core.exports import ExportNeedsApproval
from wangge.core.models import AuditEntry, ExportLog, ExportRequest, ExportStatus, ExportSubject
from wangge.core.xlsx import XLSX_TYPE
from wangge.registry.models import Person, PersonTag
from wangge.testing import city
from wangge.testing.registry import make_id

pytestmark = pytest.mark.django_db

FULL_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PEOPLE_URL = "/people/export.xlsx"


# ---- helpers -------------------------------------------------------------------------


def make_person(name: str, grid: str, n: int, **overrides: Any) -> Person:
    defaults: dict[str, Any] = {
        "id_number": make_id(f"1201101980010{n:04d}"), "phones": [f"1380000{n:04d}"],
        "gender": "M", "address_text": f"华明家园{n}号楼", "grid_code": grid}
    return Person.objects.create(name=name, **{**defaults, **overrides})


@pytest.fixture
def people(small_city: None) -> dict[str, Person]:
    """Three in grid A, one in grid B, one in grid C."""
    out = {name: make_person(name, grid, i) for i, (name, grid) in enumerate([
        ("王伟", city.GRID_A), ("李娜", city.GRID_A), ("张三", city.GRID_A),
        ("周九", city.GRID_B), ("赵六", city.GRID_C)], start=1)}
    PersonTag.objects.create(person=out["张三"], tag="community_correction")
    PersonTag.objects.create(person=out["王伟"], tag="elderly_alone")
    return out


@pytest.fixture
def approver(small_city: None) -> Any:
    from wangge.accounts.services import create_user

    return create_user("district", "pw-123456789", role="district_staff", area_code=city.DISTRICT,
                       display_name="区级戊")


@pytest.fixture
def limit_two(settings: Any) -> None:
    settings.WANGGE_EXPORT_APPROVAL_ROWS = 2


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def export_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="export").order_by("seq"))


def prepare(user: Any, rows: int = 3, **params: Any) -> exports.ExportTicket:
    return exports.prepare(user, kind="test.kind", params=params or {"grid": city.GRID_A}, rows=rows,
                           purpose="走访服务", fields=["name"])


def cells(content: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(content))
    return [str(c.value) for ws in book.worksheets for line in ws.iter_rows() for c in line
            if c.value is not None]


def assert_watermarked(content: bytes, user: Any, log: ExportLog, *, first_row: bool = False) -> None:
    book = load_workbook(io.BytesIO(content))
    text = f"导出人：{user.display_name}（{user.username}）"
    assert book.properties.creator == f"{user.display_name}（{user.username}）"
    assert text in (book.properties.description or "") and f"编号：{log.pk}" in book.properties.description
    for ws in book.worksheets:
        assert ws.oddHeader.center.text.startswith(text), ws.title
        assert f"编号：{log.pk}" in ws.oddHeader.center.text
        assert f"编号：{log.pk}" in ws.oddFooter.center.text
        assert ws["A1"].comment is not None and text in ws["A1"].comment.text
    if first_row:
        note = book.worksheets[0]["A1"].value
        local = timezone.localtime(log.at)
        assert note == f"{text} 导出时间：{local:%Y-%m-%d %H:%M:%S} 编号：{log.pk}"


# ---- the rule -------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "limit", "needed"), [(500, 500, False), (501, 500, True), (0, 1, False)])
def test_only_more_rows_than_the_limit_need_approval(rows: int, limit: int, needed: bool) -> None:
    assert exports.needs_approval(rows, limit) is needed


def test_blank_filters_are_the_same_export_and_others_are_not() -> None:
    same = exports.canonical_params({"q": "", "grid": None, "tag": "dibao"})
    assert same == exports.canonical_params({"tag": "dibao"})
    assert exports.params_key(same) != exports.params_key(exports.canonical_params({"tag": "tekun"}))


def test_an_export_needs_a_purpose(worker_a: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        exports.prepare(worker_a, kind="test.kind", params={}, rows=1, purpose=" ")
    assert refused.value.code == "export_purpose_required" and not ExportLog.objects.exists()


def test_an_export_above_the_limit_without_approval_is_refused_and_makes_no_file(
        client: Client, worker_a: Any, people: dict[str, Person], limit_two: None) -> None:
    login(client, worker_a)
    r = client.get(PEOPLE_URL, {"purpose": "走访服务"})
    assert r.status_code == 302 and r["Location"].startswith("/people/")
    assert r.get("Content-Type", "").split(";")[0] != XLSX_TYPE
    request = ExportRequest.objects.get()
    assert (request.status, request.rows, request.kind) == (ExportStatus.PENDING, 3, "registry.people")
    assert not ExportLog.objects.exists() and not ExportSubject.objects.exists() and not export_entries()
    page = client.get(r["Location"]).content.decode()
    assert f"导出 3 行超过 2 行，需经审批；已提交申请 #{request.pk}，审批通过后可下载" in page

    # Asking again finds the open request instead of filing another.
    with pytest.raises(ExportNeedsApproval) as again:
        exports.prepare(worker_a, kind="registry.people", params={"q": "", "grid": "", "tag": ""},
                        rows=3, purpose="走访服务")
    assert again.value.status == 403 and again.value.fields["request_id"] == request.pk
    assert f"申请 #{request.pk} 正在等待审批" in again.value.message
    assert ExportRequest.objects.count() == 1


def test_approvers_hear_of_a_request_and_the_requester_of_the_decision(
        worker_a: Any, approver: Any, admin_user: Any, limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    request = ExportRequest.objects.get()
    assert approver.notifications.filter(key=f"export:{request.pk}:pending").exists()
    assert admin_user.notifications.filter(key=f"export:{request.pk}:pending").exists()
    exports.approve_request(request_id=request.pk, by=approver)
    assert worker_a.notifications.get(key=f"export:{request.pk}:decided").title.endswith("已批准")


def test_an_approval_unlocks_that_export_once(worker_a: Any, approver: Any, limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    request = ExportRequest.objects.get()
    exports.approve_request(request_id=request.pk, by=approver, reason="核对低保名单")
    ticket = prepare(worker_a)
    assert ticket.approval is not None and ticket.approval.pk == request.pk
    request.refresh_from_db()
    assert request.status == ExportStatus.USED and request.used_at is not None
    assert ticket.log.approval_id == request.pk
    entry = export_entries()[-1]
    assert entry.reason == f"走访服务（审批 #{request.pk}）"

    with pytest.raises(ExportNeedsApproval) as second:
        prepare(worker_a)
    assert second.value.fields["request_id"] != request.pk
    assert ExportLog.objects.count() == 1 and len(export_entries()) == 1


def test_an_approval_for_other_filters_does_not_unlock_another_export(
        client: Client, worker_a: Any, approver: Any, people: dict[str, Person], limit_two: None) -> None:
    login(client, worker_a)
    client.get(PEOPLE_URL, {"purpose": "走访服务", "grid": city.GRID_A})
    approved = ExportRequest.objects.get()
    exports.approve_request(request_id=approved.pk, by=approver)
    # The whole scope (three people too) is another export.
    r = client.get(PEOPLE_URL, {"purpose": "走访服务"})
    assert r.status_code == 302 and not ExportLog.objects.exists()
    approved.refresh_from_db()
    assert approved.status == ExportStatus.APPROVED
    assert ExportRequest.objects.filter(status=ExportStatus.PENDING).count() == 1
    # Nor does it unlock the same filters for someone else, or another kind.
    with pytest.raises(ExportNeedsApproval):
        exports.prepare(approver, kind="registry.people", params={"grid": city.GRID_A}, rows=3,
                        purpose="走访服务")
    with pytest.raises(ExportNeedsApproval):
        exports.prepare(worker_a, kind="cases.evaluation", params={"grid": city.GRID_A}, rows=3,
                        purpose="走访服务")
    # It does unlock its own.
    r = client.get(PEOPLE_URL, {"purpose": "走访服务", "grid": city.GRID_A})
    assert r.status_code == 200 and r["Content-Type"] == XLSX_TYPE


def test_an_approval_covers_no_more_rows_than_were_approved(
        worker_a: Any, approver: Any, limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a, rows=3)
    exports.approve_request(request_id=ExportRequest.objects.get().pk, by=approver)
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a, rows=4000)
    assert prepare(worker_a, rows=3).approval is not None


def test_an_approval_expires(worker_a: Any, approver: Any, limit_two: None, settings: Any) -> None:
    settings.WANGGE_EXPORT_APPROVAL_DAYS = 3
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    request = exports.approve_request(request_id=ExportRequest.objects.get().pk, by=approver)
    assert request.expires_at is not None
    assert timedelta(days=3) - (request.expires_at - timezone.now()) < timedelta(minutes=1)
    ExportRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    request.refresh_from_db()
    assert request.status == ExportStatus.EXPIRED and not ExportLog.objects.exists()


def test_a_requester_cannot_approve_their_own_request(approver: Any, admin_user: Any,
                                                      limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(approver)
    request = ExportRequest.objects.get()
    with pytest.raises(DomainError) as own:
        exports.approve_request(request_id=request.pk, by=approver)
    assert own.value.code == "export_self_approval" and own.value.status == 403
    assert "不能审批自己提交的导出申请" in own.value.message
    assert not exports.pending_for(approver).exists()
    request.refresh_from_db()
    assert request.status == ExportStatus.PENDING
    exports.approve_request(request_id=request.pk, by=admin_user)
    assert prepare(approver).approval is not None


def test_only_approvers_decide_and_a_refusal_needs_a_reason(
        worker_a: Any, outsider: Any, street_admin: Any, approver: Any, limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    request = ExportRequest.objects.get()
    for user in (outsider, street_admin):
        with pytest.raises(OutOfScope):
            exports.approve_request(request_id=request.pk, by=user)
    with pytest.raises(InvalidInput):
        exports.refuse_request(request_id=request.pk, by=approver, reason=" ")
    exports.refuse_request(request_id=request.pk, by=approver, reason="用途不明确")
    request.refresh_from_db()
    assert (request.status, request.decision_reason, request.decided_by_id) == (
        ExportStatus.REFUSED, "用途不明确", approver.pk)
    with pytest.raises(DomainError) as twice:
        exports.approve_request(request_id=request.pk, by=approver)
    assert twice.value.status == 409
    # Refused is not approved: the export is still refused (and asked for again).
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)


def test_decisions_are_audited(worker_a: Any, approver: Any, limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a, grid=city.GRID_B)
    first, second = ExportRequest.objects.order_by("pk")
    exports.approve_request(request_id=first.pk, by=approver, reason="同意")
    exports.refuse_request(request_id=second.pk, by=approver, reason="范围过大")
    actions = list(AuditEntry.objects.filter(object_type="core.ExportRequest").order_by("seq")
                   .values_list("action", "object_id", "actor_name"))
    assert actions == [("export_request", str(first.pk), "worker_a"),
                       ("export_request", str(second.pk), "worker_a"),
                       ("export_approve", str(first.pk), "district"),
                       ("export_refuse", str(second.pk), "district")]


# ---- the people export -------------------------------------------------------------------


def test_a_grid_workers_people_export_holds_their_grids_masked(
        client: Client, worker_a: Any, people: dict[str, Person]) -> None:
    r = login(client, worker_a).get(PEOPLE_URL, {"purpose": "走访服务"})
    assert r.status_code == 200 and r["Content-Type"] == XLSX_TYPE
    assert "filename*=UTF-8''" in r["Content-Disposition"]
    log = ExportLog.objects.get()
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    table = [[c.value for c in line] for line in ws.iter_rows(min_row=3)]
    assert sorted(line[0] for line in table) == ["张三", "李娜", "王伟"]
    text = cells(r.content)
    assert not [t for t in text if FULL_ID.search(t)] and not [t for t in text if FULL_MOBILE.search(t)]
    wang = next(line for line in table if line[0] == "王伟")
    full = str(people["王伟"].id_number)
    assert wang[1] == full[:6] + "********" + full[-4:]
    assert wang[4] == "138****0001" and wang[7] == "独居老人"
    # The list shows the grid worker the group; a file only says there is one.
    assert next(line for line in table if line[0] == "张三")[7] == "特殊人群"
    assert "社区矫正" not in text
    assert_watermarked(r.content, worker_a, log, first_row=True)
    assert set(ExportSubject.objects.values_list("person_id", flat=True)) == {
        people[n].pk for n in ("王伟", "李娜", "张三")}


def test_the_people_export_takes_the_list_filters(client: Client, street_admin: Any,
                                                  people: dict[str, Person]) -> None:
    r = login(client, street_admin).get(PEOPLE_URL, {"purpose": "数据核对", "grid": city.GRID_B})
    names = [line[0] for line in load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(
        min_row=3, values_only=True)]
    assert names == ["周九"]
    assert ExportLog.objects.get().params == {"grid": city.GRID_B}


def test_the_people_export_needs_a_purpose(client: Client, worker_a: Any, people: dict[str, Person]) -> None:
    r = login(client, worker_a).get(PEOPLE_URL, follow=True)
    assert "请填写导出用途" in r.content.decode() and not ExportLog.objects.exists()


def test_the_people_page_offers_the_export(client: Client, worker_a: Any, people: dict[str, Person]) -> None:
    page = login(client, worker_a).get("/people/", {"q": "王"}).content.decode()
    assert f'action="{PEOPLE_URL}"' in page and 'name="purpose"' in page and 'value="王"' in page


def test_an_exported_person_sees_the_export_in_their_access_report(
        client: Client, worker_a: Any, people: dict[str, Person]) -> None:
    login(client, worker_a).get(PEOPLE_URL, {"purpose": "走访服务"})
    log = ExportLog.objects.get()
    seen = [a for a in access.access_report(people["王伟"].pk) if a.channel == "export"]
    assert [(a.ref, a.who, a.purpose) for a in seen] == [(f"export:{log.pk}", "网格员甲（worker_a）", "走访服务")]
    assert "id_number" in seen[0].fields and seen[0].extra["kind"] == "registry.people"
    assert not [a for a in access.access_report(people["赵六"].pk) if a.channel == "export"]
    assert not list(access.sources()["core.exports"](people["王伟"].pk, log.at + timedelta(seconds=1), None))


# ---- every export: watermark and one audit entry ---------------------------------------


def test_every_export_writes_one_audit_entry_and_carries_the_watermark(
        client: Client, api_client: Any, auth_header: Any, worker_a: Any, viewer: Any,
        street_admin: Any, people: dict[str, Person]) -> None:
    login(client, worker_a).get(PEOPLE_URL, {"purpose": "走访服务"})
    downloads = [
        (worker_a, "registry.people", None),
        (viewer, "cases.evaluation", login(Client(), viewer).get(
            reverse("cases:evaluation_xlsx"), {"start": "2025-06-01", "end": "2025-06-30", "by": "grid"})),
        (viewer, "cases.evaluation", api_client.get(
            "/api/v1/cases/evaluation.xlsx", {"start": "2025-06-01", "end": "2025-06-30", "by": "street",
                                              "purpose": "月度考核"}, **auth_header(viewer))),
        (street_admin, "workforce.ranking", login(Client(), street_admin).get(
            reverse("workforce:assessment_xlsx"))),
        (street_admin, "workforce.ranking", api_client.get(
            "/api/v1/workforce/scores.xlsx", **auth_header(street_admin))),
    ]
    logs = list(ExportLog.objects.order_by("pk"))
    entries = export_entries()
    assert len(logs) == len(entries) == len(downloads)
    for (user, kind, response), log, entry in zip(downloads, logs, entries, strict=True):
        assert (log.user_id, log.kind) == (user.pk, kind)
        assert (entry.actor_id, entry.object_type, entry.object_id) == (user.pk, kind, str(log.pk))
        assert entry.fields == sorted(log.fields) and entry.reason == log.purpose
        if response is not None:
            assert response.status_code == 200, response.content[:300]
            assert_watermarked(response.content, user, log)
    assert logs[2].purpose == "月度考核" and logs[1].purpose == "案件办理考核评价"


def test_the_import_error_file_is_an_export_with_its_watermark(
        client: Client, sources: dict[str, Any], police_file: Any, settings: Any) -> None:
    from wangge.accounts.services import create_user
    from wangge.fusion.services import import_file

    clerk = create_user("clerk", "pw-123456789", role="district_staff", area_code=city.DISTRICT,
                        display_name="录入员")
    batch = import_file(clerk, source=sources["police"], kind="person", path=police_file)
    r = login(client, clerk).get(f"/fusion/imports/{batch.pk}/errors.csv")
    body = b"".join(r.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    log = ExportLog.objects.get()
    lines = body.splitlines()
    assert lines[0].startswith("行号,错误原因") and "GA-4" in body
    assert lines[-1].startswith("# 导出人：录入员（clerk） 导出时间：") and lines[-1].endswith(f"编号：{log.pk}")
    assert (log.kind, log.rows, log.params) == ("fusion.batch_errors", 2, {"batch": str(batch.pk)})
    assert len(export_entries()) == 1

    settings.WANGGE_EXPORT_APPROVAL_ROWS = 1
    refused = client.get(f"/fusion/imports/{batch.pk}/errors.csv")
    assert refused.status_code == 302 and ExportLog.objects.count() == 1


def test_the_evaluation_workbook_above_the_limit_is_refused(viewer: Any, settings: Any) -> None:
    settings.WANGGE_EXPORT_APPROVAL_ROWS = 0
    from wangge.cases import evaluation

    rows = [evaluation.Row("k", "名称")]
    with pytest.raises(ExportNeedsApproval):
        evaluation.xlsx_download(rows, start=timezone.localdate(), end=timezone.localdate(), by="grid",
                                 user=viewer)
    assert not ExportLog.objects.exists()


# ---- the page and the API --------------------------------------------------------------


def test_the_exports_page_lists_mine_and_lets_an_approver_decide(
        client: Client, worker_a: Any, approver: Any, limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    request = ExportRequest.objects.get()
    mine = login(client, worker_a).get(reverse("exports:list")).content.decode()
    assert f'data-request="{request.pk}" data-status="pending"' in mine and "exports-pending" not in mine
    assert client.post(reverse("exports:approve", args=[request.pk])).status_code == 302
    request.refresh_from_db()
    assert request.status == ExportStatus.PENDING  # a grid worker cannot approve

    page = login(client, approver).get(reverse("exports:list")).content.decode()
    assert "exports-pending" in page and f"#{request.pk}" in page
    r = client.post(reverse("exports:refuse", args=[request.pk]), {"reason": ""}, follow=True)
    assert "拒绝导出申请须填写理由" in r.content.decode()
    r = client.post(reverse("exports:approve", args=[request.pk]), {"reason": "同意"}, follow=True)
    assert f"已批准导出申请 #{request.pk}" in r.content.decode()
    request.refresh_from_db()
    assert request.status == ExportStatus.APPROVED


def _api_request(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_the_api_lists_and_decides(worker_a: Any, approver: Any, limit_two: None) -> None:
    with pytest.raises(ExportNeedsApproval):
        prepare(worker_a)
    request = ExportRequest.objects.get()
    assert [r["id"] for r in exports_api.my_requests(_api_request(worker_a))] == [request.pk]
    assert exports_api.my_requests(_api_request(approver)) == []
    with pytest.raises(OutOfScope):
        exports_api.pending(_api_request(worker_a))
    assert [r["id"] for r in exports_api.pending(_api_request(approver))] == [request.pk]
    with pytest.raises(OutOfScope):
        exports_api.approve(_api_request(worker_a), request.pk, exports_api.DecisionIn(reason=""))
    out = exports_api.refuse(_api_request(approver), request.pk, exports_api.RefusalIn(reason="不需要全部"))
    assert (out["status"], out["decided_by"], out["decision_reason"]) == ("refused", "district", "不需要全部")
    assert exports_api.router.tags == ["exports"]
