"""Who sees which person, and how much of them."""

from __future__ import annotations

import pytest

from wangge.core.errors import NotFound
from wangge.core.models import AuditEntry
from wangge.registry import selectors
from wangge.registry.models import Person
from wangge.testing import registry as reg

pytestmark = pytest.mark.django_db


def names(user):
    return set(selectors.people_for(user).values_list("name", flat=True))


def test_each_user_sees_only_the_people_of_their_scope(fused, worker_a, outsider, street_admin, viewer):
    assert names(worker_a) == {"王伟", "李娜"}
    assert names(outsider) == {"赵六"}
    assert names(street_admin) == {"王伟", "李娜"}
    assert names(viewer) == {"王伟", "李娜", "赵六"}


def test_department_staff_and_residents_see_nobody(fused, small_city):
    from wangge.accounts.services import create_user

    for role in ("department_staff", "resident"):
        user = create_user(f"u-{role}", "pw-123456789", role=role, area_code="120110")
        assert not selectors.people_for(user).exists()


def test_out_of_scope_and_missing_people_answer_alike(fused, outsider):
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    with pytest.raises(NotFound) as forbidden:
        selectors.get_person(outsider, wang.pk)
    with pytest.raises(NotFound) as missing:
        selectors.get_person(outsider, 999_999)
    assert (forbidden.value.code, forbidden.value.message) == (missing.value.code, missing.value.message)


def test_lists_mask_the_id_number_even_for_the_grid_worker(fused, worker_a):
    rows = selectors.person_rows(worker_a, selectors.search_people(worker_a, "王伟"))
    assert rows[0].id_number == reg.WANG_WEI[:6] + "********" + reg.WANG_WEI[-4:]
    assert rows[0].phone == "13812345678"


def test_the_command_centre_sees_masked_names_and_phones(fused, viewer):
    row = selectors.person_rows(viewer, selectors.search_people(viewer, "").filter(id_number=reg.WANG_WEI))[0]
    assert (row.name, row.phone) == ("王*", "138****5678")
    assert reg.WANG_WEI not in str(row)


def test_a_purpose_reveals_the_id_number_and_is_audited(fused, worker_a):
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    masked = selectors.get_person(worker_a, wang.pk)
    assert masked.row.id_number != reg.WANG_WEI
    detail = selectors.get_person(worker_a, wang.pk, purpose="身份核实")
    assert detail.row.id_number == reg.WANG_WEI
    entries = list(AuditEntry.objects.filter(action="read", object_id=str(wang.pk)).order_by("seq"))
    assert len(entries) == 2
    assert entries[-1].reason == "身份核实" and "id_number" in entries[-1].fields


def test_the_command_centre_cannot_reveal_with_any_purpose(fused, viewer):
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    detail = selectors.get_person(viewer, wang.pk, purpose="身份核实")
    assert detail.row.id_number != reg.WANG_WEI
    assert all(reg.WANG_WEI not in str(p["value"]) for p in detail.provenance)


def test_sensitive_tags_are_hidden_from_street_staff_without_purpose(fused, small_city):
    from wangge.accounts.services import create_user
    from wangge.testing import city

    staff = create_user("east", "pw-123456789", role="street_staff", area_code=city.STREET_EAST)
    zhao = Person.objects.get(id_number=reg.ZHAO_LIU)
    assert selectors.get_person(staff, zhao.pk).row.tags == ["特殊人群", "独居老人"]
    assert "低保" in selectors.get_person(staff, zhao.pk, purpose="走访服务").row.tags


def test_search_by_partial_id_finds_nothing(fused, worker_a):
    assert not selectors.search_people(worker_a, reg.WANG_WEI[:10]).exists()
    assert selectors.search_people(worker_a, reg.WANG_WEI).count() == 1


def test_api_lists_masked_people_in_scope(fused, worker_a, outsider, api_client, auth_header):
    body = api_client.get("/api/v1/registry/people", **auth_header(worker_a)).json()
    assert body["count"] == 2
    assert all(reg.WANG_WEI not in str(item) for item in body["items"])
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    assert api_client.get(f"/api/v1/registry/people/{wang.pk}", **auth_header(outsider)).status_code == 404
    ok = api_client.get(f"/api/v1/registry/people/{wang.pk}?purpose=身份核实", **auth_header(worker_a))
    assert ok.status_code == 200 and ok.json()["person"]["id_number"] == reg.WANG_WEI


def test_anonymous_api_calls_are_refused(fused, api_client):
    assert api_client.get("/api/v1/registry/people").status_code == 401
