from __future__ import annotations

import pytest

from wangge.addresses.selectors import get_address, match_address, search_addresses
from wangge.core.errors import InvalidInput, OutOfScope
from wangge.testing import addresses as lib

pytestmark = pytest.mark.django_db


def code_of(m):
    return m.match.code if m.match else None


def test_outsider_sees_nothing_of_the_west_street(outsider, library):
    assert all(a.code.startswith(lib.LIYUAN) for a in search_addresses(outsider, "号楼"))
    assert search_addresses(outsider, "华明") == []
    with pytest.raises(OutOfScope):
        get_address(outsider, lib.ROOM_3_2_201)
    m = match_address(outsider, "华明家园3号楼2单元201")
    assert m.match is None and m.candidates == []


def test_street_admin_sees_the_west_street(street_admin, library):
    assert get_address(street_admin, lib.ROOM_3_2_201).room == "201"
    assert code_of(match_address(street_admin, "华明家园3-2-201")) == lib.ROOM_3_2_201


def test_roads_have_no_grid_and_only_unbounded_users_see_them(worker_a, admin_user, library):
    with pytest.raises(OutOfScope):
        get_address(worker_a, lib.ROAD)
    assert get_address(admin_user, lib.ROAD).full_name == "津塘路"


def test_viewer_of_the_district_matches_everywhere(viewer, library):
    assert code_of(match_address(viewer, "丽苑小区1-1-101")) == lib.LIYUAN_ROOM_101


def test_ambiguous_text_gives_candidates_and_says_so(admin_user, library):
    m = match_address(admin_user, "华明家园3-201")
    assert code_of(m) == lib.building_code(lib.HUAMING, 3)
    assert {c["code"] for c in m.candidates} == {
        lib.room_code(lib.HUAMING, 3, u, 201) for u in lib.UNITS}


def test_unparseable_text_is_no_match_with_a_reason(worker_a, library):
    m = match_address(worker_a, "？？？")
    assert m.match is None and m.message == "未能从输入中识别出地址信息"


def test_query_too_long_is_refused(worker_a, library):
    with pytest.raises(InvalidInput):
        match_address(worker_a, "华" * 201)


def test_search_needs_text_or_parent(worker_a, library):
    with pytest.raises(InvalidInput):
        search_addresses(worker_a, " ")
    with pytest.raises(InvalidInput):
        search_addresses(worker_a, "华明", level="floor")


def test_a_namesake_outside_scope_does_not_make_a_match_ambiguous(worker_a, admin_user,
                                                                  library):
    from wangge.addresses.services import bulk_load_addresses

    twin = f"{lib.city.GRID_C}C0002"
    lon, lat = lib.LIYUAN_POINT
    bulk_load_addresses([
        {"code": twin, "level": "compound", "name": "华明家园", "lon": lon, "lat": lat},
        {"code": f"{twin}B", "level": "building", "name": "3", "parent_code": twin},
        {"code": f"{twin}BU", "level": "unit", "name": "2", "parent_code": f"{twin}B"},
        {"code": f"{twin}BUH", "level": "room", "name": "201", "parent_code": f"{twin}BU"},
    ])
    assert match_address(admin_user, "华明家园3-2-201").match is None  # truly ambiguous
    assert code_of(match_address(worker_a, "华明家园3-2-201")) == lib.ROOM_3_2_201
