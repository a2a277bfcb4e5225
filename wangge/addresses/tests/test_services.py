from __future__ import annotations

import pytest

from wangge.addresses.models import Address
from wangge.addresses.selectors import match_address
from wangge.addresses.services import AddressLoadRefused, add_address, bulk_load_addresses
from wangge.core.errors import DomainError, InvalidInput, OutOfScope
from wangge.core.models import AuditEntry
from wangge.testing import addresses as lib
from wangge.testing import city

pytestmark = pytest.mark.django_db


def code_of(m):
    return m.match.code if m.match else None


def test_compound_is_located_to_its_grid_and_audited(street_admin):
    a = add_address(street_admin, level="compound", name="金桥花園", lon=117.35, lat=39.075)
    assert a.grid_code == city.GRID_B
    assert a.code == f"{city.GRID_B}C0001"
    assert (a.compound, a.full_name) == ("金桥花园", "金桥花园")  # simplified on the way in
    entry = AuditEntry.objects.get(action="add_address")
    assert entry.object_id == a.code and entry.actor_id == street_admin.pk


def test_point_outside_every_grid_is_refused_in_chinese(admin_user):
    lon, lat = city.POINT_OUTSIDE
    with pytest.raises(InvalidInput) as exc:
        add_address(admin_user, level="compound", name="远郊小区", lon=lon, lat=lat)
    assert exc.value.code == "address_outside_grids"
    assert "不在任何网格内" in exc.value.message
    assert not Address.objects.exists()
    assert not AuditEntry.objects.filter(action="add_address").exists()


def test_children_inherit_point_and_grid_and_get_standard_names(admin_user, library):
    b = add_address(admin_user, level="building", name="四号楼", parent_code=lib.HUAMING)
    u = add_address(admin_user, level="unit", name="第一单元", parent_code=b.code)
    r = add_address(admin_user, level="room", name="三〇一", parent_code=u.code)
    assert (b.name, u.name, r.name) == ("4号楼", "1单元", "301室")
    assert (r.building, r.unit, r.room, r.compound) == ("4", "1", "301", "华明家园")
    assert r.grid_code == city.GRID_A and (r.lon, r.lat) == lib.HUAMING_POINT
    assert r.full_name == "津塘路100号华明家园4号楼1单元301室"
    assert r.code == f"{lib.HUAMING}B004U01H0001"


@pytest.mark.parametrize(("level", "parent"), [
    ("room", lib.HUAMING), ("unit", lib.HUAMING), ("door", lib.HUAMING), ("compound", lib.ROAD),
])
def test_wrong_nesting_is_refused(admin_user, library, level, parent):
    with pytest.raises(InvalidInput) as exc:
        add_address(admin_user, level=level, name="1", parent_code=parent)
    assert exc.value.code == "address_bad_nesting"
    assert "不能放在" in exc.value.message


def test_duplicate_sibling_is_refused(admin_user, library):
    with pytest.raises(DomainError) as exc:
        add_address(admin_user, level="building", name="3栋", parent_code=lib.HUAMING)
    assert exc.value.status == 409 and "已存在" in exc.value.message


def test_worker_cannot_add_outside_their_grid(worker_a, library):
    with pytest.raises(OutOfScope):
        add_address(worker_a, level="building", name="2号楼", parent_code=lib.LIYUAN)


def test_only_unbounded_users_add_roads(worker_a, admin_user):
    with pytest.raises(DomainError) as exc:
        add_address(worker_a, level="road", name="新立路")
    assert exc.value.status == 403
    road = add_address(admin_user, level="road", name="新立路")
    assert (road.code, road.grid_code) == ("R000001", "")


def test_a_new_address_is_matched_at_once(admin_user, library):
    assert match_address(admin_user, "华明家园3号楼2单元1801").resolved_level == "unit"
    unit = lib.unit_code(lib.HUAMING, 3, 2)
    room = add_address(admin_user, level="room", name="1801", parent_code=unit)
    assert match_address(admin_user, "华明家园3号楼2单元1801").match == room


def test_bulk_load_writes_one_audit_entry(small_city):
    n = bulk_load_addresses(lib.library_rows())
    assert n == Address.objects.count() == len(lib.library_rows())
    assert AuditEntry.objects.filter(action="bulk_load_addresses").count() == 1
    assert not AuditEntry.objects.filter(action="add_address").exists()
    room = Address.objects.get(code=lib.ROOM_3_2_201)
    assert room.parent is not None and room.parent.code == lib.unit_code(lib.HUAMING, 3, 2)
    assert (room.grid_code, room.full_name) == (city.GRID_A, "津塘路100号华明家园3号楼2单元201室")
    assert Address.objects.get(code=lib.ROAD).grid_code == ""


def test_bulk_load_under_parents_already_stored(library):
    rows = [{"code": "X1", "level": "building", "name": "9", "parent_code": lib.LIYUAN},
            {"code": "X1H1", "level": "room", "name": "901", "parent_code": "X1"}]
    assert bulk_load_addresses(rows) == 2
    assert Address.objects.get(code="X1H1").full_name == "丽苑小区9号楼901室"


def test_bulk_load_prefix_carries_to_children(library):
    rows: list[dict[str, object]] = [{"code": "P1", "level": "door", "name": "7号", "parent_code": lib.ROAD,
             "prefix": "东丽区西街道", "lon": city.POINT_A[0], "lat": city.POINT_A[1]},
            {"code": "P1B", "level": "building", "name": "1", "parent_code": "P1"},
            {"code": "P1B1", "level": "room", "name": "101", "parent_code": "P1B"}]
    assert bulk_load_addresses(rows) == 3
    assert Address.objects.get(code="P1B1").full_name == "东丽区西街道津塘路7号1号楼101室"


@pytest.mark.parametrize(("row", "message"), [
    ({"code": "Z", "level": "compound", "name": "远郊", "lon": 117.6, "lat": 39.05},
     "不在任何网格内"),
    ({"code": "Z", "level": "room", "name": "101", "parent_code": "NOPE"}, "不存在"),
    ({"code": "Z", "level": "building", "name": "楼", "parent_code": lib.HUAMING}, "无法从"),
    ({"code": "Z", "level": "floor", "name": "1"}, "未知的地址层级"),
    ({"code": lib.ROOM_3_2_201, "level": "room", "name": "9",
      "parent_code": lib.unit_code(lib.HUAMING, 1, 1)}, "重复"),
])
def test_bulk_load_is_all_or_nothing(library, row, message):
    before = Address.objects.count()
    good = {"code": "OK1", "level": "building", "name": "8", "parent_code": lib.HUAMING}
    with pytest.raises(AddressLoadRefused) as exc:
        bulk_load_addresses([good, row])
    assert message in str(exc.value.fields["problems"])
    assert Address.objects.count() == before


def test_an_explicit_code_must_be_free(admin_user, library):
    with pytest.raises(DomainError) as exc:
        add_address(admin_user, level="building", name="7", parent_code=lib.HUAMING,
                    code=lib.HUAMING)
    assert exc.value.code == "address_code_taken"
    b = add_address(admin_user, level="building", name="7", parent_code=lib.HUAMING, code="B7")
    assert b.code == "B7"
