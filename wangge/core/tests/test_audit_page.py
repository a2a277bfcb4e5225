"""The audit log page and API: who may read the log, the filters, and the
chain check on request."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from wangge.core import audit, selectors
from wangge.core.errors import OutOfScope
from wangge.core.models import AuditEntry
from wangge.testing import city

pytestmark = pytest.mark.django_db


@pytest.fixture
def district_staff(small_city):
    from wangge.accounts.services import create_user

    return create_user("district", "pass-district", role="district_staff", area_code=city.DISTRICT)


@pytest.fixture
def log(worker_a, street_admin):
    """Four entries after those of creating the users; their seqs, oldest first."""
    return [e.seq for e in (
        audit.record(worker_a, "read", "registry.Person", 7, fields=["name"], reason=""),
        audit.record(worker_a, "reveal", "registry.Person", 7, fields=["id_number"], reason="身份核实"),
        audit.record(street_admin, "update_area", "areas.Area", city.GRID_A, fields=["name"], reason="更名"),
        audit.record(street_admin, "reveal", "registry.Person", 8, fields=["phone"], reason="走访服务"),
    )]


def seqs(response):
    return [int(x) for x in re.findall(r'data-seq="(\d+)"', response.content.decode())]


def test_grid_workers_street_staff_and_the_command_centre_are_refused(client, worker_a, street_admin, viewer, log):
    for user in (worker_a, street_admin, viewer):
        client.force_login(user)
        r = client.get("/audit/")
        assert r.status_code == 403, user.username
        body = r.content.decode()
        assert 'id="forbidden"' in body and "审计日志仅供系统管理员和区级工作人员查看" in body
        assert "身份核实" not in body


def test_anonymous_visitors_are_sent_to_log_in(client):
    r = client.get("/audit/")
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_the_selector_refuses_other_roles(worker_a, viewer, log):
    for user in (worker_a, viewer):
        with pytest.raises(OutOfScope) as refused:
            selectors.audit_entries_for(user, selectors.AuditFilters())
        assert refused.value.code == "audit_not_allowed"


def test_admins_and_district_staff_see_the_log_newest_first(client, admin_user, district_staff, log):
    for user in (admin_user, district_staff):
        client.force_login(user)
        r = client.get("/audit/")
        assert r.status_code == 200
        assert seqs(r)[:4] == log[::-1]
        assert len(seqs(r)) == AuditEntry.objects.count()
        assert "审计日志" in r.content.decode()


@pytest.mark.parametrize("query,expected", [
    ("actor=worker", [1, 0]),
    ("actor=STREET", [3, 2]),
    ("action=reveal", [3, 1]),
    ("object_type=areas.Area", [2]),
    ("object_type=registry.Person&object_id=7", [1, 0]),
    ("reason=核实", [1]),
    ("action=reveal&reason=走访", [3]),
    ("actor=nobody", []),
])
def test_the_filters(client, admin_user, log, query, expected):
    client.force_login(admin_user)
    assert seqs(client.get(f"/audit/?{query}")) == [log[i] for i in expected]


def test_the_date_filters_are_local_days_inclusive(admin_user, log):
    today = timezone.localdate()
    f = selectors.AuditFilters
    assert selectors.audit_entries_for(admin_user, f(action="reveal", since=today, until=today)).count() == 2
    assert selectors.audit_entries_for(admin_user, f(since=today + timedelta(days=1))).count() == 0
    assert selectors.audit_entries_for(admin_user, f(until=today - timedelta(days=1))).count() == 0


def test_the_page_passes_dates_from_the_form(client, admin_user, log):
    client.force_login(admin_user)
    today = timezone.localdate()
    assert seqs(client.get(f"/audit/?action=reveal&from={today}&to={today}")) == [log[3], log[1]]
    assert seqs(client.get(f"/audit/?from={today + timedelta(days=1)}")) == []
    assert client.get("/audit/?from=not-a-date").status_code == 200


def test_the_chain_is_checked_only_on_request(client, admin_user, log):
    client.force_login(admin_user)
    assert 'id="chain-status"' not in client.get("/audit/").content.decode()
    body = client.get("/audit/?verify=1").content.decode()
    assert 'data-intact="1"' in body and "审计链完整" in body


def test_a_broken_chain_shows_where(client, admin_user, log):
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditentry SET reason = %s WHERE seq = %s", ["改过的原因", log[1]])
    client.force_login(admin_user)
    body = client.get("/audit/?verify=1").content.decode()
    assert 'data-intact="0"' in body and f"第 {log[1]} 条" in body


def test_the_pager_keeps_the_filters_and_drops_the_check(client, admin_user, worker_a):
    for i in range(55):
        audit.record(worker_a, "read", "registry.Person", i, reason="走访服务")
    client.force_login(admin_user)
    body = client.get("/audit/?action=read&verify=1").content.decode()
    assert "?action=read&page=2" in body and "verify=1" not in body.split('id="audit-table"')[1]


def test_the_navigation_offers_the_page_to_admins_only(client, admin_user, worker_a, district_staff):
    from wangge.accounts.navigation import items_for

    assert "core:audit" in {i.url_name for i in items_for(admin_user)}
    assert "core:audit" in {i.url_name for i in items_for(district_staff)}
    assert "core:audit" not in {i.url_name for i in items_for(worker_a)}


# --- the API -----------------------------------------------------------------------


def test_api_lists_filtered_entries_for_admins(api_client, admin_user, auth_header, log,
                                               django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        r = api_client.get("/api/v1/audit/entries?action=reveal", **auth_header(admin_user))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    assert [e["seq"] for e in body["items"]] == [log[3], log[1]]
    assert body["items"][1] | {"at": None} == {
        "seq": log[1], "at": None, "actor": "worker_a", "action": "reveal", "object_type": "registry.Person",
        "object_id": "7", "fields": ["id_number"], "reason": "身份核实"}


def test_api_pages_with_a_ceiling(api_client, admin_user, auth_header, worker_a):
    written = [audit.record(worker_a, "read", "registry.Person", i).seq for i in range(205)]
    r = api_client.get("/api/v1/audit/entries?action=read&limit=1000", **auth_header(admin_user)).json()
    assert r["count"] == 205 and len(r["items"]) == 200
    r = api_client.get("/api/v1/audit/entries?action=read&limit=10&offset=200", **auth_header(admin_user)).json()
    assert [e["seq"] for e in r["items"]] == written[:5][::-1]


def test_api_filters_by_date(api_client, admin_user, auth_header, log):
    tomorrow = timezone.localdate() + timedelta(days=1)
    r = api_client.get(f"/api/v1/audit/entries?since={tomorrow}", **auth_header(admin_user)).json()
    assert r["count"] == 0


def test_api_refuses_other_roles(api_client, worker_a, viewer, auth_header, log):
    for user in (worker_a, viewer):
        r = api_client.get("/api/v1/audit/entries", **auth_header(user))
        assert r.status_code == 403 and r.json()["code"] == "audit_not_allowed"
    assert api_client.get("/api/v1/audit/entries").status_code == 401


def test_reading_the_log_does_not_change_it(client, admin_user, log):
    client.force_login(admin_user)
    before = AuditEntry.objects.count()
    client.get("/audit/?verify=1")
    client.get("/audit/?action=reveal")
    assert AuditEntry.objects.count() == before
