"""Abuse tests for the reveal of one masked field and for a person's access
report: each tries to break one rule."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.core.errors import InvalidInput, NotFound, OutOfScope
from wangge.core.models import AuditEntry
from wangge.registry import selectors
from wangge.registry.models import Person
from wangge.testing import registry as reg

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang(fused):
    return Person.objects.get(id_number=reg.WANG_WEI)


@pytest.fixture
def zhao(fused):
    return Person.objects.get(id_number=reg.ZHAO_LIU)


@pytest.fixture
def department_user(small_city):
    from wangge.accounts.services import create_user

    return create_user("dept", "pass-dept", role="department_staff", area_code="120110")


def reveal(api_client, header, pk, field="id_number", reason="身份核实"):
    return api_client.post(f"/api/v1/registry/people/{pk}/reveal", json.dumps({"field": field, "reason": reason}),
                           content_type="application/json", **header)


def audit_count():
    return AuditEntry.objects.count()


# --- reveal -----------------------------------------------------------------------


def test_a_reveal_with_a_reason_shows_the_value_and_writes_one_entry(api_client, auth_header, worker_a, wang):
    header = auth_header(worker_a)  # issuing the token is audited too
    before = audit_count()
    r = reveal(api_client, header, wang.pk, reason="  身份核实 ")
    assert r.status_code == 200
    assert r.json() == {"field": "id_number", "value": reg.WANG_WEI, "values": [reg.WANG_WEI]}
    assert audit_count() == before + 1
    entry = AuditEntry.objects.latest("seq")
    assert (entry.actor_name, entry.action, entry.object_type, entry.object_id, entry.fields, entry.reason) == (
        "worker_a", "reveal", "registry.Person", str(wang.pk), ["id_number"], "身份核实")


def test_phones_and_sensitive_tags_can_be_revealed(street_admin, fused):
    from wangge.accounts.services import create_user
    from wangge.testing import city

    staff = create_user("east", "pw-123456789", role="street_staff", area_code=city.STREET_EAST)
    zhao = Person.objects.get(id_number=reg.ZHAO_LIU)
    assert selectors.reveal_for(staff, zhao.pk, field="sensitive_tag", reason="走访服务").values == ["低保"]
    assert selectors.reveal_for(staff, zhao.pk, field="phone", reason="走访服务").values == ["13700002222"]


@pytest.mark.parametrize("reason", ["", "   ", "查"])
def test_a_reveal_without_a_reason_is_refused_and_not_logged(api_client, auth_header, worker_a, wang, reason):
    header = auth_header(worker_a)
    before = audit_count()
    r = reveal(api_client, header, wang.pk, reason=reason)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "reason_required" and "事由" in body["message"]
    assert reg.WANG_WEI not in r.content.decode()
    assert audit_count() == before


def test_a_reveal_without_the_reason_key_is_refused(api_client, worker_a, auth_header, wang):
    header = auth_header(worker_a)
    before = audit_count()
    r = api_client.post(f"/api/v1/registry/people/{wang.pk}/reveal", json.dumps({"field": "id_number"}),
                        content_type="application/json", **header)
    assert r.status_code == 422 and audit_count() == before


@pytest.mark.parametrize("field", ["name", "address", "health", "password", ""])
def test_only_the_masked_fields_can_be_asked_for(api_client, auth_header, worker_a, wang, field):
    header = auth_header(worker_a)
    before = audit_count()
    assert reveal(api_client, header, wang.pk, field=field).status_code == 422
    with pytest.raises(InvalidInput):
        selectors.reveal_for(worker_a, wang.pk, field=field, reason="身份核实")
    assert audit_count() == before


def test_the_command_centre_and_departments_cannot_reveal_even_with_a_reason(
        api_client, auth_header, viewer, department_user, wang):
    headers = {user.pk: auth_header(user) for user in (viewer, department_user)}
    before = audit_count()
    for user in (viewer, department_user):
        for field in ("id_number", "phone", "sensitive_tag"):
            r = reveal(api_client, headers[user.pk], wang.pk, field=field, reason="身份核实")
            assert r.status_code == 403, (user.username, field)
            assert r.json()["code"] == "reveal_not_allowed"
            assert reg.WANG_WEI not in r.content.decode()
    with pytest.raises(OutOfScope):
        selectors.reveal_for(viewer, wang.pk, field="id_number", reason="身份核实")
    assert audit_count() == before


def test_a_grid_worker_revealing_outside_their_grids_gets_404_like_a_missing_person(
        api_client, auth_header, outsider, wang):
    header = auth_header(outsider)
    before = audit_count()
    forbidden = reveal(api_client, header, wang.pk)
    missing = reveal(api_client, header, 999_999)
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    assert reg.WANG_WEI not in forbidden.content.decode()
    assert audit_count() == before


def test_a_grid_worker_reading_outside_their_grids_gets_404_like_a_missing_person(
        api_client, auth_header, client, outsider, wang):
    forbidden = api_client.get(f"/api/v1/registry/people/{wang.pk}?purpose=身份核实", **auth_header(outsider))
    missing = api_client.get("/api/v1/registry/people/999999?purpose=身份核实", **auth_header(outsider))
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    client.force_login(outsider)
    assert client.get(f"/people/{wang.pk}/").status_code == 404
    assert client.post(f"/people/{wang.pk}/reveal/", {"field": "id_number", "reason": "身份核实"}).status_code == 404


def test_a_one_character_purpose_does_not_reveal_on_read(api_client, auth_header, worker_a, wang):
    r = api_client.get(f"/api/v1/registry/people/{wang.pk}?purpose=查", **auth_header(worker_a))
    assert r.status_code == 200 and r.json()["person"]["id_number"] != reg.WANG_WEI
    assert "id_number" not in r.json()["revealed"]


# --- the person page ----------------------------------------------------------------


def test_the_page_offers_a_reveal_and_the_access_report(client, worker_a, viewer, wang):
    client.force_login(worker_a)
    body = client.get(f"/people/{wang.pk}/").content.decode()
    assert 'id="reveal-field-form"' in body and f"/people/{wang.pk}/access/" in body
    assert reg.WANG_WEI not in body
    client.force_login(viewer)
    body = client.get(f"/people/{wang.pk}/").content.decode()
    assert 'id="reveal-field-form"' not in body  # nothing the command centre may reveal


def test_the_page_reveals_one_field_with_htmx(client, worker_a, wang):
    client.force_login(worker_a)
    r = client.post(f"/people/{wang.pk}/reveal/", {"field": "id_number", "reason": "身份核实"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert reg.WANG_WEI in body and 'id="reveal-value"' in body and "<html" not in body
    assert AuditEntry.objects.filter(action="reveal", object_id=str(wang.pk)).count() == 1


def test_the_page_refuses_a_blank_reason_without_logging(client, worker_a, wang):
    client.force_login(worker_a)
    before = audit_count()
    r = client.post(f"/people/{wang.pk}/reveal/", {"field": "id_number", "reason": " "}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert 'id="reveal-error"' in body and reg.WANG_WEI not in body
    assert audit_count() == before


def test_without_htmx_the_reveal_comes_back_on_the_whole_page(client, worker_a, wang):
    client.force_login(worker_a)
    r = client.post(f"/people/{wang.pk}/reveal/", {"field": "id_number", "reason": "身份核实"})
    assert r.status_code == 200 and reg.WANG_WEI in r.content.decode() and "<html" in r.content.decode()
    refused = client.post(f"/people/{wang.pk}/reveal/", {"field": "id_number", "reason": ""})
    assert refused.status_code == 422 and reg.WANG_WEI not in refused.content.decode()
    assert AuditEntry.objects.filter(action="reveal").count() == 1


def test_the_command_centre_cannot_reveal_from_the_page(client, viewer, wang):
    client.force_login(viewer)
    r = client.post(f"/people/{wang.pk}/reveal/", {"field": "id_number", "reason": "身份核实"}, HTTP_HX_REQUEST="true")
    assert "reveal-error" in r.content.decode() and reg.WANG_WEI not in r.content.decode()
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_the_reveal_is_a_post(client, worker_a, wang):
    client.force_login(worker_a)
    assert client.get(f"/people/{wang.pk}/reveal/?field=id_number&reason=身份核实").status_code == 405


# --- the access report (the right to know) --------------------------------------------


def test_the_access_report_lists_the_reveal_and_the_read_with_their_reasons(worker_a, street_admin, wang):
    selectors.get_person(street_admin, wang.pk, purpose="数据核对")
    selectors.reveal_for(worker_a, wang.pk, field="id_number", reason="身份核实")
    rows = selectors.access_report_for(street_admin, wang.pk)
    seen = [(a.who, a.channel, a.fields, a.purpose) for a in rows]
    assert seen[0] == ("street_admin", "read_access_report", (), "")
    assert ("worker_a", "reveal", ("id_number",), "身份核实") in seen
    assert ("street_admin", "read", ("id_number", "name", "phone", "sensitive_tag"), "数据核对") in seen
    assert [a.at for a in rows] == sorted((a.at for a in rows), reverse=True)
    assert all(a.ref.startswith("audit:") for a in rows)


def test_the_access_report_shows_only_this_person(worker_a, wang, fused):
    li = Person.objects.get(id_number=reg.LI_NA)
    selectors.reveal_for(worker_a, li.pk, field="id_number", reason="身份核实")
    assert all(a.channel != "reveal" for a in selectors.access_report_for(worker_a, wang.pk))


def test_reading_the_access_report_is_audited(worker_a, wang):
    selectors.access_report_for(worker_a, wang.pk)
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.object_id, entry.actor_name) == ("read_access_report", str(wang.pk), "worker_a")


def test_a_user_outside_scope_cannot_read_the_access_report(api_client, auth_header, client, outsider,
                                                            department_user, wang):
    header = auth_header(outsider)
    before = audit_count()
    with pytest.raises(NotFound):
        selectors.access_report_for(outsider, wang.pk)
    with pytest.raises(NotFound):
        selectors.access_report_for(department_user, wang.pk)
    forbidden = api_client.get(f"/api/v1/registry/people/{wang.pk}/access-report", **header)
    missing = api_client.get("/api/v1/registry/people/999999/access-report", **header)
    assert forbidden.status_code == missing.status_code == 404 and forbidden.json() == missing.json()
    client.force_login(outsider)
    assert client.get(f"/people/{wang.pk}/access/").status_code == 404
    assert audit_count() == before


def test_api_access_report(api_client, auth_header, worker_a, wang):
    reveal(api_client, auth_header(worker_a), wang.pk, reason="走访服务")
    rows = api_client.get(f"/api/v1/registry/people/{wang.pk}/access-report", **auth_header(worker_a)).json()
    assert rows[0]["channel"] == "read_access_report"
    assert {"who": "worker_a", "channel": "reveal", "fields": ["id_number"], "purpose": "走访服务"}.items() \
        <= rows[1].items()
    assert set(rows[1]) == {"at", "who", "channel", "fields", "purpose", "ref"}
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert api_client.get(f"/api/v1/registry/people/{wang.pk}/access-report",
                          {"since": later}, **auth_header(worker_a)).json() == []
    earlier = (timezone.localtime() - timedelta(hours=1)).replace(tzinfo=None).isoformat()  # naive: local
    assert len(api_client.get(f"/api/v1/registry/people/{wang.pk}/access-report",
                              {"until": earlier}, **auth_header(worker_a)).json()) == 0


def test_the_access_page_labels_channels_in_chinese(client, worker_a, wang):
    selectors.reveal_for(worker_a, wang.pk, field="phone", reason="走访服务")
    client.force_login(worker_a)
    r = client.get(f"/people/{wang.pk}/access/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "查看完整信息" in body and "走访服务" in body and "查阅访问记录" in body and "worker_a" in body
    assert 'data-channel="reveal"' in body
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert 'data-channel="reveal"' not in client.get(f"/people/{wang.pk}/access/?from={tomorrow}").content.decode()
