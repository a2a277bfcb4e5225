from __future__ import annotations

import pytest

from wangge.testing import addresses as lib

pytestmark = pytest.mark.django_db

VARIANTS = [
    "华明家园3号楼2单元201室",
    "華明家園3號樓2單元201室",
    "华明家园３号楼２单元２０１",
    "华明家园三号楼二单元二〇一室",
    "华明家园3栋2单元201",
    "华明家园3幢2单元201",
    "华明家园3座2单元201",
    "华明家园3号楼2门201",
    "华明家园3号楼2单元201号",
    "华明家园3-2-201",
    "华明家园3号楼2-201",
    "华明小区3-2-201",
    "天津市东丽区华明街道华明家园3号楼2单元201室",
    "东丽区华明家园3号楼2单元201室",
    "津塘路100号华明家园3号楼2单元201室",
    "天津市东丽区华明街道津塘路100号3号楼2单元201",
]


def match(api_client, headers, q):
    r = api_client.get("/api/v1/addresses/match", {"q": q}, **headers)
    assert r.status_code == 200, r.content
    return r.json()


@pytest.mark.parametrize("text", VARIANTS)
def test_variants_resolve_to_the_same_room(api_client, worker_a, auth_header, library, text):
    body = match(api_client, auth_header(worker_a), text)
    assert body["match"]["code"] == lib.ROOM_3_2_201, body
    assert body["resolved_level"] == "room"
    assert body["match"]["grid_code"] == lib.city.GRID_A
    assert body["match"]["full_name"] == "津塘路100号华明家园3号楼2单元201室"
    assert body["unmatched"] == []
    assert body["confidence"] >= 0.8


def test_match_reports_components_and_unmatched_room(api_client, worker_a, auth_header,
                                                     library):
    body = match(api_client, auth_header(worker_a), "华明家园3号楼2单元1801室")
    assert body["components"]["compound"] == "华明家园"
    assert body["normalised"] == "华明家园3号楼2单元1801室"
    assert body["resolved_level"] == "unit"
    assert body["unmatched"] == ["room 1801"]
    assert "1801" in body["message"]
    assert len(body["candidates"]) == 4


def test_worker_cannot_match_the_east_streets_compound(api_client, worker_a, auth_header,
                                                       library):
    body = match(api_client, auth_header(worker_a), "丽苑小区1号楼1单元101室")
    assert body["match"] is None and body["candidates"] == []
    assert body["message"] == "您的权限范围内没有匹配的地址"
    assert "丽苑" not in str(body["candidates"])


def test_outsider_matches_the_east_but_not_the_west(api_client, outsider, auth_header, library):
    headers = auth_header(outsider)
    assert match(api_client, headers, "丽苑小区1-1-101")["match"]["code"] == lib.LIYUAN_ROOM_101
    assert match(api_client, headers, "华明家园3-2-201")["match"] is None


def test_worker_search_never_returns_the_east_street(api_client, worker_a, auth_header,
                                                     library, django_assert_max_num_queries):
    headers = auth_header(worker_a)
    r = api_client.get("/api/v1/addresses/search", {"q": "丽苑"}, **headers)
    assert r.status_code == 200 and r.json() == []
    with django_assert_max_num_queries(8):
        r = api_client.get("/api/v1/addresses/search", {"q": "1号楼", "limit": 100}, **headers)
    codes = [a["code"] for a in r.json()]
    assert lib.building_code(lib.HUAMING, 1) in codes
    assert not any(c.startswith(lib.LIYUAN) for c in codes)


def test_search_accepts_the_normaliser_spellings(api_client, street_admin, auth_header,
                                                 library):
    r = api_client.get("/api/v1/addresses/search", {"q": "華明家園3-2-201"},
                       **auth_header(street_admin))
    assert [a["code"] for a in r.json()] == [lib.ROOM_3_2_201]


def test_search_children_of_a_parent_by_level(api_client, worker_a, auth_header, library):
    r = api_client.get("/api/v1/addresses/search",
                       {"parent": lib.HUAMING, "level": "building"}, **auth_header(worker_a))
    assert [a["code"] for a in r.json()] == [lib.building_code(lib.HUAMING, b)
                                             for b in lib.BUILDINGS]


def test_detail_in_scope(api_client, worker_a, auth_header, library):
    r = api_client.get(f"/api/v1/addresses/{lib.ROOM_3_2_201}", **auth_header(worker_a))
    assert r.status_code == 200
    body = r.json()
    assert (body["building"], body["unit"], body["room"]) == ("3", "2", "201")
    assert body["parent_code"] == lib.unit_code(lib.HUAMING, 3, 2)


def test_detail_outside_scope_is_403(api_client, worker_a, auth_header, library):
    r = api_client.get(f"/api/v1/addresses/{lib.LIYUAN_ROOM_101}", **auth_header(worker_a))
    assert r.status_code == 403
    assert r.json()["code"] == "out_of_scope"
    assert "丽苑" not in r.json()["message"]


def test_unknown_code_is_404(api_client, worker_a, auth_header, library):
    r = api_client.get("/api/v1/addresses/NOPE123", **auth_header(worker_a))
    assert r.status_code == 404
    assert "不存在" in r.json()["message"]


@pytest.mark.parametrize("q", ["", "   "])
def test_empty_match_query_is_422_in_chinese(api_client, worker_a, auth_header, library, q):
    r = api_client.get("/api/v1/addresses/match", {"q": q}, **auth_header(worker_a))
    assert r.status_code == 422
    assert r.json()["code"] == "empty_query"
    assert r.json()["message"] == "请输入要匹配的地址"


def test_anonymous_is_401(api_client, library):
    assert api_client.get("/api/v1/addresses/match", {"q": "华明家园"}).status_code == 401


@pytest.mark.parametrize(("params", "field"), [
    ({"q": "华明", "level": "floor"}, "level"), ({"q": "华明", "limit": 500}, "limit"),
    ({"q": ""}, "q"),
])
def test_bad_search_parameters_are_422_in_chinese(api_client, worker_a, auth_header, library,
                                                  params, field):
    r = api_client.get("/api/v1/addresses/search", params, **auth_header(worker_a))
    assert r.status_code == 422
    assert field in r.json()["fields"]
    assert not any("Input should" in v for v in r.json()["fields"].values())
