"""The demo's data exchange, in the shape of Dongli's: departments publish
catalogs over the registry and their own datasets (unconditional, on
condition, not to be shared), civil affairs applies for the population
catalog and the police grant two of its items — the name in full and the ID
number masked — and civil affairs' system then calls the gateway with signed
requests: identity verifications, a page of a grid, a batch comparison.

The calls go through the gateway's own code (exchange.gateway.handle) with
real signatures; afterwards their times are spread over the past 30 days so
the statistics page has days to show. Another department's application waits
for the police's decision, so `gongan` finds one in the queue.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
from datetime import timedelta
from typing import Any

from django.db.models import Avg
from django.utils import timezone

from wangge.accounts.models import Department, DepartmentType, User
from wangge.demo import names
from wangge.exchange import gateway, services, signing
from wangge.exchange.models import Backing, CallLog, ShareClass
from wangge.registry.models import Person

POPULATION = f"{names.DISTRICT_CODE}-GA-RK01"
CALLS = 600


def _dept(kind: str) -> Department:
    return Department.objects.get(type=kind, area_code=names.DISTRICT_CODE)


def _staff(kind: str) -> User:
    return User.objects.select_related("department").filter(
        department__type=kind, role="department_staff").order_by("username")[0]


def _catalogs(admin: User) -> dict[str, Any]:
    d = names.DISTRICT_CODE
    made = {}
    made["population"] = services.create_catalog(
        by=admin, owner=_dept(DepartmentType.POLICE), code=POPULATION, name="人口基础信息",
        share_class=ShareClass.CONDITIONAL, condition="用于民生救助、社会保障对象的身份核验与资格比对",
        frequency="realtime", backing=Backing.PERSON,
        description="户籍与实有人口的姓名、身份证号、性别、出生日期、联系电话、现住址、所在网格和人群类别。",
        items=[services.ItemIn(k) for k in ("name", "id_number", "gender", "birth_date", "phones",
                                            "address", "grid_code", "tags")],
        verify_items=["name", "id_number"], compare_keys=["id_number"])
    made["houses"] = services.create_catalog(
        by=admin, owner=_dept(DepartmentType.HOUSING), code=f"{d}-ZJ-FW01", name="实有房屋信息",
        share_class=ShareClass.CONDITIONAL, condition="用于房屋安全、租赁管理和公共服务比对",
        frequency="daily", backing=Backing.HOUSE,
        description="标准地址、所在网格、房屋用途、产权人、登记居住人数和户数。",
        items=[services.ItemIn(k) for k in ("address", "address_code", "grid_code", "use", "owner_name",
                                            "resident_count", "household_count")],
        compare_keys=["address", "address_code"])
    made["organisations"] = services.create_catalog(
        by=admin, owner=_dept(DepartmentType.MARKET), code=f"{d}-SJ-FR01", name="法人单位基础信息",
        share_class=ShareClass.UNCONDITIONAL, frequency="daily", backing=Backing.ORGANISATION,
        description="统一社会信用代码、单位名称、类型、地址、所在网格、法定代表人、联系电话。",
        items=[services.ItemIn(k) for k in ("credit_code", "name", "org_type", "address", "grid_code",
                                            "legal_rep", "phone")],
        compare_keys=["credit_code"])
    made["key_people"] = services.create_catalog(
        by=admin, owner=_dept(DepartmentType.POLICE), code=f"{d}-GA-ZD01", name="重点人员信息",
        share_class=ShareClass.NONE, frequency="realtime", backing=Backing.PERSON,
        description="涉及刑满释放、社区矫正等人员，依法不予共享。",
        items=[services.ItemIn("name"), services.ItemIn("id_number"), services.ItemIn("tags")])
    for catalog in made.values():
        services.publish_catalog(catalog=catalog, by=admin)
    made["water"] = _water_dataset()
    return made


def _water_dataset() -> Any:
    """The water company's accounts with their average daily use, uploaded as
    a CSV like any department's file."""
    from wangge.proactive.models import WaterAccount

    staff = _staff(DepartmentType.WATER)
    catalog = services.create_catalog(
        by=staff, owner=_dept(DepartmentType.WATER), code=f"{names.DISTRICT_CODE}-SW-YS01", name="居民用水户信息",
        share_class=ShareClass.UNCONDITIONAL, frequency="monthly", backing=Backing.DATASET,
        description="用水户号、用水地址、所在网格和近三月日均用水量，可按户号比对。",
        items=[services.ItemIn("account", "用水户号", "用水户号", filterable=True),
               services.ItemIn("address", "用水地址", "用水地址", mask="text"),
               services.ItemIn("grid_code", "所在网格", "所在网格", type="area", filterable=True),
               services.ItemIn("daily_use", "日均用水量（吨）", "日均用水量", type="number")],
        compare_keys=["account"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["用水户号", "用水地址", "所在网格", "日均用水量"])
    accounts = (WaterAccount.objects.annotate(avg=Avg("readings__use")).order_by("account_no")
                .values_list("account_no", "address_text", "grid_code", "avg"))
    for account, address, grid, avg in accounts:
        writer.writerow([account, address, grid, f"{avg:.3f}" if avg is not None else ""])
    # One line the way a clerk sometimes leaves it, so the upload shows a refused line.
    writer.writerow(["SW-手工补录", "东丽区某小区", "", "约两吨"])
    services.upload_dataset(catalog=catalog, by=staff, data=out.getvalue().encode("utf-8-sig"),
                            file_name="用水户信息.csv")
    return services.publish_catalog(catalog=catalog, by=staff)


def _grant_population(catalog: Any) -> Any:
    civil = _staff(DepartmentType.CIVIL_AFFAIRS)
    police = _staff(DepartmentType.POLICE)
    today = timezone.localdate()
    application = services.apply_for(
        by=civil, department=_dept(DepartmentType.CIVIL_AFFAIRS), catalog=catalog,
        items=["name", "id_number", "birth_date", "phones", "grid_code"],
        purpose="低保、特困对象申请时核验身份，年度复核时批量比对", legal_basis="《社会救助暂行办法》第十一条",
        starts=today - timedelta(days=30), ends=today + timedelta(days=335))
    services.decide_application(application=application, by=police, items={"name": False, "id_number": True},
                                reason="同意提供姓名和脱敏身份证号；出生日期、电话、网格不予提供")
    # Waiting in the police's queue.
    health = _staff(DepartmentType.HEALTH)
    services.apply_for(by=health, department=_dept(DepartmentType.HEALTH), catalog=catalog,
                       items=["name", "birth_date", "grid_code"], purpose="65岁以上老人健康体检通知",
                       legal_basis="《国家基本公共卫生服务规范》", starts=today, ends=today + timedelta(days=180))
    return application


def _calls(seed: int, catalog: Any) -> dict[str, Any]:
    civil = _staff(DepartmentType.CIVIL_AFFAIRS)
    client, secret = services.create_client(by=civil, department=_dept(DepartmentType.CIVIL_AFFAIRS),
                                            name="民政救助管理系统",
                                            rate_per_minute=6000)
    rng = random.Random(seed)
    people = list(Person.objects.filter(id_number__isnull=False).order_by("pk")
                  .values_list("name", "id_number")[:5000])
    if not people:
        return {"calls": 0}
    verify = f"/gateway/v1/catalogs/{catalog.code}/verify"
    rows = f"/gateway/v1/catalogs/{catalog.code}/rows"
    compare = f"/gateway/v1/catalogs/{catalog.code}/compare"
    now = time.time()

    def signed(method: str, path: str, query: str = "", body: bytes = b"") -> gateway.Reply:
        headers = signing.sign_headers(client.key_id, secret, method, path, query, body, now=now)
        return gateway.handle(method, path, query, body, headers, now=now)

    for i in range(CALLS):
        name, number = rng.choice(people)
        if i % 10 == 9:  # a clerk's typo
            name = name[:-1] + "华"
        signed("POST", verify, body=json.dumps({"name": name, "id_number": number}).encode())
    signed("GET", rows, f"name={people[0][0]}")
    sample = [number for _, number in rng.sample(people, min(200, len(people)))] + ["120110199001011234"]
    signed("POST", compare, body=json.dumps({"key": "id_number", "values": sample}).encode())
    signed("GET", rows, "_items=name,phones")  # phones not granted: refused and logged
    _spread_over_month(rng)
    # Printed with the demo's summary so that anyone can call the gateway as
    # civil affairs' system; a real secret is shown once, on the clients page.
    return {"calls": CallLog.objects.count(), "key_id": client.key_id, "secret": secret}


def _spread_over_month(rng: random.Random) -> None:
    """Give the played calls the last 30 days' times, more on workdays."""
    from wangge.core.bulk import update_rows

    now = timezone.now()
    calls = list(CallLog.objects.order_by("pk"))
    for call in calls:
        day = rng.randrange(30)
        when = now - timedelta(days=day, hours=rng.uniform(0, 9), minutes=rng.uniform(0, 59))
        if when.weekday() >= 5 and rng.random() < 0.7:
            when -= timedelta(days=2)
        call.at = when
    update_rows(calls, ["at"])


def populate_exchange(*, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    admin = User.objects.get(username="admin")
    catalogs = _catalogs(admin)
    _grant_population(catalogs["population"])
    summary = _calls(seed, catalogs["population"])
    summary.update({"catalogs": len(catalogs), "seconds": round(time.perf_counter() - started, 1)})
    return summary
