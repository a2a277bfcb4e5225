"""Two departments and a population catalog: police (公安) publishes it,
civil affairs (民政, serving the west street) holds a grant for name in full,
ID number masked and grid; `call` sends a request signed by civil affairs'
client through the whole Django stack."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from wangge.accounts.models import Department
from wangge.accounts.services import create_user
from wangge.exchange import services, signing
from wangge.exchange.models import Backing, ShareClass
from wangge.registry.models import Person, PersonTag
from wangge.testing import city
from wangge.testing.registry import make_id

PERSON_ITEMS = [
    services.ItemIn("name"), services.ItemIn("id_number"), services.ItemIn("gender"),
    services.ItemIn("birth_date"), services.ItemIn("phones"), services.ItemIn("grid_code"),
    services.ItemIn("tags"),
]


@pytest.fixture(autouse=True)
def _fresh_gateway_caches() -> Any:
    # Primary keys repeat between tests; the gateway's per-process memory must not.
    from wangge.exchange import gateway

    gateway.forget_grants()
    gateway._clients.clear()
    gateway._tokens.clear()
    yield


@pytest.fixture
def police(small_city: None) -> Department:
    return Department.objects.create(code="GA", name="区公安分局", type="police", area_code=city.DISTRICT)


@pytest.fixture
def civil(small_city: None) -> Department:
    return Department.objects.create(code="MZ", name="民政局", type="civil_affairs", area_code=city.STREET_WEST)


@pytest.fixture
def police_staff(police: Department) -> Any:
    return create_user("ga_staff", "pass-ga", role="department_staff", department=police,
                       area_code=city.DISTRICT, display_name="公安甲")


@pytest.fixture
def civil_staff(civil: Department) -> Any:
    return create_user("mz_staff", "pass-mz", role="department_staff", department=civil,
                       area_code=city.STREET_WEST, display_name="民政乙")


@pytest.fixture
def people(small_city: None) -> dict[str, Person]:
    a = Person.objects.create(name="王小明", id_number=make_id("12011019800101001"), gender="M",
                              birth_date=date(1980, 1, 1), phones=["13812345678"], grid_code=city.GRID_A)
    b = Person.objects.create(name="李红", id_number=make_id("12011019900202002"), gender="F",
                              birth_date=date(1990, 2, 2), phones=["13987654321"], grid_code=city.GRID_B)
    c = Person.objects.create(name="赵东", id_number=make_id("12011019700303003"), gender="M",
                              birth_date=date(1970, 3, 3), phones=["13700001111"], grid_code=city.GRID_C)
    PersonTag.objects.create(person=a, tag="disabled")
    return {"a": a, "b": b, "c": c}


@pytest.fixture
def person_catalog(admin_user: Any, police: Department, people: dict[str, Person]) -> Any:
    catalog = services.create_catalog(
        by=admin_user, owner=police, code="GA-RK-001", name="人口基础信息", share_class=ShareClass.CONDITIONAL,
        condition="用于民生救助对象身份核对", backing=Backing.PERSON, items=PERSON_ITEMS,
        description="公安户籍与实有人口", verify_items=["name", "id_number"], compare_keys=["id_number"])
    return services.publish_catalog(catalog=catalog, by=admin_user)


@pytest.fixture
def grant(person_catalog: Any, civil_staff: Any, police_staff: Any) -> Any:
    today = timezone.localdate()
    application = services.apply_for(
        by=civil_staff, department=civil_staff.department, catalog=person_catalog,
        items=["name", "id_number", "grid_code", "birth_date"], purpose="低保对象身份核对",
        legal_basis="《社会救助暂行办法》", starts=today, ends=today + timedelta(days=365))
    return services.decide_application(application=application, by=police_staff,
                                       items={"name": False, "id_number": True, "grid_code": False},
                                       reason="同意，出生日期不予提供")


@pytest.fixture
def civil_client(civil_staff: Any) -> tuple[Any, str]:
    return services.create_client(by=civil_staff, department=civil_staff.department, name="救助系统",
                                  rate_per_minute=1000)


class Caller:
    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id, self.secret = key_id, secret
        self.http = HttpClient()

    def headers(self, method: str, path: str, query: str, body: bytes, **kw: Any) -> dict[str, Any]:
        signed = signing.sign_headers(self.key_id, self.secret, method, path, query, body, **kw)
        return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed.items()}

    def get(self, path: str, params: dict[str, str] | None = None, **kw: Any) -> Any:
        query = urlencode(params or {})
        return self.http.get(path + ("?" + query if query else ""), **self.headers("GET", path, query, b"", **kw))

    def post(self, path: str, payload: Any, **kw: Any) -> Any:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return self.http.generic("POST", path, body, content_type="application/json",
                                 **self.headers("POST", path, "", body, **kw))


@pytest.fixture
def call(civil_client: tuple[Any, str]) -> Caller:
    client, secret = civil_client
    return Caller(client.key_id, secret)
