"""Catalogs, applications and grants: who may do what, and what each share
class allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from wangge.accounts.models import Department
from wangge.accounts.services import create_user
from wangge.core.errors import DomainError
from wangge.core.models import AuditEntry
from wangge.exchange import services
from wangge.exchange.models import ApplicationStatus, Backing, CatalogStatus, DatasetRow, ShareClass
from wangge.exchange.tests.conftest import PERSON_ITEMS, Caller
from wangge.testing import city

pytestmark = pytest.mark.django_db

WATER_CSV = (
    "户号,用水地址,月用水量,所在网格\n"
    "A001,华明家园1号楼1单元101室,12.5,120110001001001\n"
    "A002,华明家园1号楼1单元102室,不详,120110001001001\n"
    "A003,丽苑小区1号楼1单元101室,0,120110002001001\n"
).encode()


def _dates() -> dict[str, Any]:
    today = timezone.localdate()
    return {"starts": today, "ends": today + timedelta(days=90)}


@pytest.fixture
def water(small_city: None) -> Department:
    return Department.objects.create(code="SW", name="水务局", type="water", area_code=city.DISTRICT)


@pytest.fixture
def water_staff(water: Department) -> Any:
    return create_user("sw_staff", "pass-sw", role="department_staff", department=water,
                       area_code=city.DISTRICT)


@pytest.fixture
def water_catalog(water_staff: Any) -> Any:
    catalog = services.create_catalog(
        by=water_staff, owner=water_staff.department, code="SW-YS-001", name="居民用水户", backing=Backing.DATASET,
        share_class=ShareClass.UNCONDITIONAL, frequency="monthly",
        items=[services.ItemIn("account", "户号", "户号", filterable=True),
               services.ItemIn("address", "用水地址", "用水地址", mask="text"),
               services.ItemIn("monthly_use", "月用水量", "月用水量", type="number"),
               services.ItemIn("grid_code", "所在网格", "所在网格", type="area", filterable=True)],
        compare_keys=["account"])
    upload = services.upload_dataset(catalog=catalog, by=water_staff, data=WATER_CSV, file_name="用水户.csv")
    assert upload.rows == 2
    assert upload.errors == [{"line": 3, "reason": "月用水量：“不详”不是数值"}]
    return services.publish_catalog(catalog=catalog, by=water_staff)


def test_only_admins_build_catalogs_over_the_registry(police_staff: Any, police: Any) -> None:
    with pytest.raises(DomainError) as e:
        services.create_catalog(by=police_staff, owner=police, code="GA-X", name="人口", backing=Backing.PERSON,
                                share_class=ShareClass.CONDITIONAL, condition="x", items=PERSON_ITEMS)
    assert e.value.code == "registry_catalog_admin_only"


def test_staff_cannot_act_for_another_department(civil_staff: Any, police: Any) -> None:
    with pytest.raises(DomainError) as e:
        services.create_catalog(by=civil_staff, owner=police, code="GA-Y", name="假目录", backing=Backing.DATASET,
                                share_class=ShareClass.UNCONDITIONAL, items=[services.ItemIn("a")])
    assert e.value.status == 403 and "区公安分局" in e.value.message


def test_an_unknown_source_field_is_named(admin_user: Any, police: Any) -> None:
    with pytest.raises(DomainError) as e:
        services.create_catalog(by=admin_user, owner=police, code="GA-Z", name="人口", backing=Backing.PERSON,
                                share_class=ShareClass.UNCONDITIONAL, items=[services.ItemIn("salary")])
    assert e.value.code == "unknown_source_field" and "salary" in e.value.message


def test_a_dataset_upload_keeps_good_rows_and_names_bad_lines(water_catalog: Any) -> None:
    rows = sorted(r["account"] for r in DatasetRow.objects.filter(catalog=water_catalog).values_list("data", flat=True))
    assert rows == ["A001", "A003"]
    assert water_catalog.status == CatalogStatus.PUBLISHED


def test_an_unconditional_catalog_grants_on_request(water_catalog: Any, civil_staff: Any) -> None:
    application = services.apply_for(by=civil_staff, department=civil_staff.department, catalog=water_catalog,
                                      items=["account", "address", "monthly_use"], purpose="独居老人用水关怀",
                                      legal_basis="", **_dates())
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    masked = {gi.item.key: gi.masked for gi in application.grant.grant_items.select_related("item")}
    assert masked == {"account": False, "address": True, "monthly_use": False}
    client, secret = services.create_client(by=civil_staff, department=civil_staff.department, name="关怀系统")
    caller = Caller(client.key_id, secret)
    body = caller.get("/gateway/v1/catalogs/SW-YS-001/rows", {"account": "A001"}).json()
    assert body["rows"] == [{"account": "A001", "address": "华明家" + "*" * 11, "monthly_use": 12.5}]
    # The grant does not include the area item, so it cannot be filtered on.
    assert caller.get("/gateway/v1/catalogs/SW-YS-001/rows", {"grid_code": "1201"}).status_code == 403
    r = caller.post("/gateway/v1/catalogs/SW-YS-001/compare", {"key": "account", "values": ["A001", "A002", "A003"]})
    assert [x["found"] for x in r.json()["results"]] == [True, False, False]  # A003 is outside 民政's street


def test_a_catalog_not_to_be_shared_cannot_be_applied_for(admin_user: Any, police: Any, civil_staff: Any,
                                                          people: Any) -> None:
    catalog = services.create_catalog(by=admin_user, owner=police, code="GA-ZD", name="重点人员",
                                      backing=Backing.PERSON, share_class=ShareClass.NONE,
                                      items=[services.ItemIn("name"), services.ItemIn("tags")])
    services.publish_catalog(catalog=catalog, by=admin_user)
    with pytest.raises(DomainError) as e:
        services.apply_for(by=civil_staff, department=civil_staff.department, catalog=catalog, items=["name"],
                           purpose="想看看", legal_basis="无", **_dates())
    assert e.value.code == "not_shareable"


def test_decisions(person_catalog: Any, civil_staff: Any, police_staff: Any, admin_user: Any) -> None:
    application = services.apply_for(by=civil_staff, department=civil_staff.department, catalog=person_catalog,
                                     items=["name", "id_number"], purpose="低保对象身份核对",
                                     legal_basis="《社会救助暂行办法》", **_dates())
    # The applicant's own department cannot decide; only the owner's.
    with pytest.raises(DomainError):
        services.decide_application(application=application, by=civil_staff, items={"name": False})
    with pytest.raises(DomainError) as e:
        services.decide_application(application=application, by=police_staff, items={})
    assert e.value.code == "reason_required"
    with pytest.raises(DomainError) as e:
        services.decide_application(application=application, by=police_staff, items={"phones": False})
    assert e.value.code == "item_not_requested"
    grant = services.decide_application(application=application, by=police_staff, items={"name": False})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PARTIAL and grant is not None
    assert grant.area_code == city.STREET_WEST
    with pytest.raises(DomainError) as e:
        services.decide_application(application=application, by=police_staff, items={"id_number": True})
    assert e.value.code == "already_decided"
    assert AuditEntry.objects.filter(action="grant", object_type="exchange.Grant").count() == 1


def test_periods_and_purposes_are_checked(person_catalog: Any, civil_staff: Any) -> None:
    today = timezone.localdate()
    cases: list[tuple[dict[str, Any], str]] = [({"purpose": "查"}, "purpose_required"),
             ({"legal_basis": ""}, "legal_basis_required"),
             ({"ends": today - timedelta(days=1)}, "bad_period"),
             ({"ends": today + timedelta(days=4000)}, "bad_period")]
    for change, code in cases:
        kwargs: dict[str, Any] = {"purpose": "低保对象身份核对", "legal_basis": "《社会救助暂行办法》", **_dates(), **change}
        with pytest.raises(DomainError) as e:
            services.apply_for(by=civil_staff, department=civil_staff.department, catalog=person_catalog,
                               items=["name"], **kwargs)
        assert e.value.code == code


def test_a_client_secret_is_never_stored(civil_staff: Any) -> None:
    client, secret = services.create_client(by=civil_staff, department=civil_staff.department, name="系统")
    from wangge.exchange.models import Client

    stored = Client.objects.filter(pk=client.pk).values().get()
    assert secret not in {str(v) for v in stored.values()}
    assert services.client_secret(client) == secret
