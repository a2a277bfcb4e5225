"""generate_city writes a consistent small city, once."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from django.db.models import Sum

from wangge.accounts.models import Department, Role, User
from wangge.addresses.models import Address
from wangge.areas.models import Area
from wangge.areas.selectors import grid_index
from wangge.core.models import AuditEntry
from wangge.demo.generator import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    GRIDS_PER_CHUNK,
    CityExists,
    city_exists,
    generate_city,
)

pytestmark = pytest.mark.django_db

PEOPLE = 3000


@pytest.fixture
def city() -> dict[str, Any]:
    stages: list[str] = []
    summary = generate_city(seed=11, people=PEOPLE, registry=False,
                            progress=lambda stage, done, total: stages.append(stage))
    summary["stages"] = stages
    return summary


def test_summary_counts_match_the_database(city):
    assert city["rooms"] == Address.objects.filter(level="room").count() == round(PEOPLE / 2.6)
    assert city["grids"] == Area.objects.filter(layer_id="base", level="grid").count() == 4
    assert city["compounds"] == Address.objects.filter(level="compound").count()
    assert 15 <= city["roads"] <= 30
    assert 12 <= Department.objects.count() <= 15
    assert {"区域", "地址", "账户"} <= set(city["stages"])


def test_every_room_locates_to_its_own_grid(city):
    rooms = list(Address.objects.filter(level="room").values_list("lon", "lat", "grid_code"))
    lon, lat, codes = zip(*rooms, strict=True)
    index = grid_index()
    hits = index.locate_many(np.array(lon), np.array(lat), layers=["base"], with_nearest=False)
    found = [index.code_of("base", int(k)) for k in hits.hits["base"]]
    assert found == list(codes)


def test_households_add_up_from_rooms_to_district(city):
    rooms = Counter(Address.objects.filter(level="room").values_list("grid_code", flat=True))
    for grid in Area.objects.filter(layer_id="base", level="grid"):
        assert grid.households == rooms[grid.code]
    for area in Area.objects.filter(layer_id="base").exclude(level="grid"):
        below = Area.objects.filter(parent=area).aggregate(n=Sum("households"))["n"]
        assert area.households == below
    assert Area.objects.get(layer_id="base", code="120110").households == city["rooms"]


def test_addresses_nest_and_read_as_standard_addresses(city):
    room = Address.objects.filter(level="room").select_related(
        "parent__parent__parent__parent__parent").first()
    assert room is not None
    chain = [room]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    assert [a.level for a in chain] == ["room", "unit", "building", "compound", "door", "road"]
    door, compound = chain[4], chain[3]
    assert room.code.startswith(compound.code) and door.code.startswith(chain[5].code)
    assert room.full_name == (f"东丽区张贵庄街道{room.road}{room.door_number}号{room.compound}"
                              f"{room.building}号楼{room.unit}单元{room.room}室")
    assert chain[5].full_name == f"东丽区{room.road}"  # roads cross streets
    assert room.grid_code == compound.grid_code == door.grid_code
    assert compound.aliases
    names = list(Address.objects.filter(level="compound").values_list("compound", flat=True))
    assert len(names) == len(set(names))


def test_addresses_are_written_by_the_library_loader(city):
    loads = AuditEntry.objects.filter(action="bulk_load_addresses")
    # One load for the roads, then one per chunk of grids.
    assert loads.count() == 1 + math.ceil(city["grids"] / GRIDS_PER_CHUNK)
    assert all(e.actor_name == "system" for e in loads)


def test_every_role_has_a_demo_login(city):
    users = {u.username: u for u in User.objects.all()}
    assert {u.role for u in users.values()} == set(Role.values)
    assert [name for name, _, _ in DEMO_ACCOUNTS] == sorted(users, key=list(
        name for name, _, _ in DEMO_ACCOUNTS).index)
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert users["wangge1"].area_code.startswith(users["shequ"].area_code)
    assert users["shequ"].area_code.startswith(users["jiedao"].area_code)
    assert users["wangge2"].area_code[:9] != users["jiedao"].area_code
    departments = {name: getattr(users[name].department, "type", None)
                   for name in ("chengguan", "minjing")}
    assert departments == {"chengguan": "urban_management", "minjing": "police"}
    assert users["jumin"].area_code == ""


def test_second_call_refuses(city):
    assert city_exists()
    with pytest.raises(CityExists):
        generate_city(seed=11, people=PEOPLE, registry=False)
    assert User.objects.count() == len(DEMO_ACCOUNTS)
