"""Fill the demo city's registry the way a real district would: each
department's own file, with its own headers, encoding and mistakes, imported
through the same pipeline a clerk uses, then fused into golden records.

Households, houses and tenancies come from the police household register and
the housing department's tenancy list of the generated population.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from wangge.accounts.models import Department, DepartmentType
from wangge.addresses.models import Address
from wangge.addresses.selectors import address_cache
from wangge.demo.noisy import DEPARTMENTS, department_rows, write_department_file
from wangge.demo.population import Population, generate_population
from wangge.fusion.linking import link_organisations, link_pending
from wangge.fusion.services import import_file
from wangge.registry.models import (
    Channel,
    House,
    Household,
    HouseholdMember,
    Person,
    RecordKind,
    Source,
    Tenancy,
)

Progress = Callable[[str, int, int], None]

# Department code in the generator → (department type, channel, trust per
# field). The household register is the authority on identity;
# grid workers on where people live and how to reach them; civil affairs on the
# groups it serves.
SOURCES: dict[str, tuple[DepartmentType | None, str, dict[str, float]]] = {
    "police": (DepartmentType.POLICE, Channel.DEPARTMENT_FILE,
               {"default": 0.7, "name": 0.95, "id_number": 0.95, "birth_date": 0.95, "gender": 0.95,
                "ethnicity": 0.9, "hukou_area": 0.95, "phones": 0.5, "address_code": 0.6}),
    "civil": (DepartmentType.CIVIL_AFFAIRS, Channel.DEPARTMENT_FILE,
              {"default": 0.6, "tags": 0.9, "name": 0.8}),
    "health": (DepartmentType.HEALTH, Channel.DEPARTMENT_FILE,
               {"default": 0.6, "phones": 0.7}),
    "hrss": (DepartmentType.HUMAN_RESOURCES, Channel.DEPARTMENT_FILE,
             {"default": 0.6, "employer": 0.95, "phones": 0.7}),
    "housing": (DepartmentType.HOUSING, Channel.DEPARTMENT_FILE,
                # A housing list gives the address of the house a person owns or
                # rents, which for a landlord is not where they live.
                {"default": 0.6, "address_code": 0.3, "address_text": 0.3, "grid_code": 0.3}),
    "grid": (None, Channel.GRID_FORM,
             {"default": 0.7, "address_code": 0.95, "address_text": 0.95, "phones": 0.9, "residence_type": 0.9}),
}
ORG_SOURCE = "market"


def files_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "demo-files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def populate_registry(*, seed: int, people: int, progress: Progress | None = None) -> dict[str, Any]:
    report: Progress = progress or (lambda stage, done, total: None)
    address_cache.invalidate()
    rooms = list(Address.objects.filter(level="room").order_by("code").values_list("code", "full_name"))
    pop = generate_population(people, seed, rooms=rooms)
    sources = _create_sources()
    _import_organisations(pop, sources[ORG_SOURCE])
    batches = []
    for i, dept in enumerate(DEPARTMENTS, 1):
        report("部门数据导入", i - 1, len(DEPARTMENTS))
        headers, rows = department_rows(pop, dept, seed)
        encoding = dept.file_encoding
        path = files_dir() / f"{dept.code}-{dept.name.replace('/', '_')}.csv"
        write_department_file(path, headers, rows, encoding=encoding)
        batches.append(import_file(None, source=sources[dept.code], kind=RecordKind.PERSON, path=path,
                                   link=False))
    report("部门数据导入", len(DEPARTMENTS), len(DEPARTMENTS))
    run = link_pending(full=True, progress=report)
    with transaction.atomic():
        households, houses = _households_and_houses(pop)
    return {"records": sum(b.rows_ok for b in batches), "bad_rows": sum(b.rows_bad for b in batches),
            "golden_people": run.clusters, "review_pairs": run.uncertain, "households": households,
            "houses": houses, "organisations": len(pop.organisations)}


def _create_sources() -> dict[str, Source]:
    departments = {d.type: d for d in Department.objects.all()}
    names = {d.code: d.name for d in DEPARTMENTS}
    out = {}
    for code, (dept_type, channel, trust) in SOURCES.items():
        out[code] = Source.objects.create(code=code, name=names.get(code, code), channel=channel,
                                          department=departments.get(dept_type) if dept_type else None,
                                          trust=trust)
    out[ORG_SOURCE] = Source.objects.create(code=ORG_SOURCE, name="市场监管局企业登记",
                                            channel=Channel.DEPARTMENT_FILE,
                                            department=departments.get(DepartmentType.MARKET),
                                            trust={"default": 0.9})
    return out


def _import_organisations(pop: Population, source: Source) -> None:
    headers = ["统一社会信用代码", "单位名称", "单位类型", "注册地址", "法定代表人", "联系电话", "从业人数"]
    by_pid = {p.pid: p for p in pop.people}
    from wangge.registry import vocab

    rows = [[o.credit_code, o.name, vocab.ORG_TYPES.get(o.org_type, ""), o.address,
             by_pid[o.legal_rep_pid].name if o.legal_rep_pid in by_pid else "", o.phone, str(o.staff)]
            for o in pop.organisations]
    path = files_dir() / "market-企业登记.csv"
    write_department_file(path, headers, rows, encoding="utf-8-sig")
    import_file(None, source=source, kind=RecordKind.ORGANISATION, path=path, link=False)
    link_organisations()


def _households_and_houses(pop: Population) -> tuple[int, int]:
    """Households from the household register, houses and tenancies from the
    housing list, attached to the golden people by ID number."""
    person_of = dict(Person.objects.exclude(id_number=None).values_list("id_number", "pk"))
    pid_to_person = {p.pid: person_of.get(p.id_number) for p in pop.people}
    address_of = dict(Address.objects.filter(level="room").values_list("code", "pk"))
    grid_of = dict(Address.objects.filter(level="room").values_list("code", "grid_code"))
    relation = {p.pid: p.relation for p in pop.people}
    households = Household.objects.bulk_create([
        Household(key=f"H{h.hid:08d}", address_id=address_of.get(h.room_code or ""),
                  grid_code=grid_of.get(h.room_code or "", ""), head_id=pid_to_person.get(h.head_pid))
        for h in pop.households], batch_size=2000)
    hh_pk = {h.hid: obj.pk for h, obj in zip(pop.households, households, strict=True)}
    HouseholdMember.objects.bulk_create([
        HouseholdMember(household_id=hh_pk[p.household], person_id=person_id, relation=relation[p.pid])
        for p in pop.people if (person_id := pid_to_person.get(p.pid)) and p.household in hh_pk],
        batch_size=2000, ignore_conflicts=True)
    houses = [h for h in pop.houses if h.room_code in address_of]
    made = House.objects.bulk_create([
        House(address_id=address_of[h.room_code or ""], grid_code=grid_of.get(h.room_code or "", ""), use=h.use,
              owner_id=pid_to_person.get(h.owner_pid) if h.owner_pid is not None else None)
        for h in houses], batch_size=2000, ignore_conflicts=True)
    house_pk = dict(House.objects.values_list("address__code", "pk"))
    Tenancy.objects.bulk_create([
        Tenancy(house_id=house_pk[h.room_code or ""], tenant_id=tenant, start=start, end=end)
        for h in houses for pid, start, end in h.tenants
        if (tenant := pid_to_person.get(pid)) and h.room_code in house_pk], batch_size=2000, ignore_conflicts=True)
    return len(households), len(made)
