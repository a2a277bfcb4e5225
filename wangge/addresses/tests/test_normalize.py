from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.addresses.normalize import (
    EMPTY,
    admin_prefixes,
    chinese_number,
    clean,
    component_key,
    parse,
)

ADMIN = admin_prefixes(["天津市", "东丽区", "华明街道"])
ROOM = {"compound": "华明家园", "building": "3", "unit": "2", "room": "201"}


@pytest.mark.parametrize("text", [
    "华明家园3号楼2单元201室",
    "華明家園3號樓2單元201室",
    "华明家园３号楼２单元２０１",
    "华明家园三号楼二单元二〇一室",
    "华明家园三号楼二单元二零一室",
    "华明家园3栋2单元201",
    "华明家园3幢2单元201",
    "华明家园3座2单元201",
    "华明家园3号院楼2单元201",
    "华明家园3号楼2门201",
    "华明家园3号楼2单元201号",
    "华明家园3号楼2单元201户",
    "华明家园3-2-201",
    "华明家园3号楼2-201",
    "华明家园 3 2 201",
    "华明家园3#2单元201",
    "华明家园第3栋第2单元201室",
    "  华明家园，3号楼（2单元）201室。",
    "天津市东丽区华明街道华明家园3号楼2单元201室",
    "天津东丽区华明家园3栋2单元201",
    "东丽区华明家园3-2-201",
])
def test_variants_give_the_same_components(text):
    p = parse(text, ADMIN)
    assert {k: v for k, v in p.components().items() if v} == ROOM
    assert p.normalised == "华明家园3号楼2单元201室"


@pytest.mark.parametrize("text", [
    "津塘路100号华明家园3号楼2单元201室",
    "天津市东丽区华明街道津塘路100号华明家园3栋2单元201",
    "津塘路一百号华明家园3-2-201",
])
def test_road_and_door_number_are_split_off(text):
    p = parse(text, ADMIN)
    assert (p.road, p.door_number) == ("津塘路", "100")
    assert {k: v for k, v in p.components().items() if v and k in ROOM} == ROOM


def test_road_and_door_without_compound():
    p = parse("天津市东丽区华明街道津塘路100号3号楼2单元201", ADMIN)
    assert p.components() == {"road": "津塘路", "door_number": "100", "compound": "",
                              "building": "3", "unit": "2", "room": "201"}


@pytest.mark.parametrize(("text", "road", "door"), [
    ("三号路100号", "3号路", "100"), ("解放南路二十三号", "解放南路", "23"),
    ("幸福大街8-2号", "幸福大街", "8-2"),
])
def test_road_names(text, road, door):
    p = parse(text)
    assert (p.road, p.door_number) == (road, door)


def test_generic_prefixes_are_stripped_without_a_list():
    assert parse("天津市东丽区华明街道华明家园3号楼").compound == "华明家园"
    assert parse("河北省廊坊市安次区某某镇幸福里5号楼").compound == "幸福里"


@pytest.mark.parametrize(("text", "compound"), [
    ("丽苑小区3号楼", "丽苑小区"),     # "…小区" is not a district
    ("丽苑东区3号楼", "丽苑东区"),     # nor is "…东区" at the very start
    ("桃源小镇3号楼", "桃源小镇"),     # a town only after a district
    ("华明家园1期3号楼", "华明家园1期"),
    ("张家村3号楼", "张家村"),
])
def test_compound_names_are_not_taken_for_admin_areas(text, compound):
    assert parse(text).compound == compound


@pytest.mark.parametrize(("text", "expected"), [
    ("三号楼", "3号楼"), ("十二单元", "12单元"), ("二十三号", "23号"), ("十号楼", "10号楼"),
    ("一〇二室", "102室"), ("一零二室", "102室"), ("幺零二室", "102室"),
    ("一百零二室", "102室"), ("两号楼", "2号楼"), ("３号楼２单元", "3号楼2单元"),
    ("十里河", "十里河"),  # not a number position: left alone
    ("五一路", "五一路"),
])
def test_chinese_numerals_in_number_positions(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(("run", "value"), [
    ("十", "10"), ("十二", "12"), ("二十", "20"), ("二十三", "23"), ("一百", "100"),
    ("一百零二", "102"), ("一〇二", "102"), ("幺洞", ""), ("", ""),
])
def test_chinese_number(run, value):
    assert chinese_number(run) == value


@pytest.mark.parametrize(("text", "building", "unit", "room"), [
    ("华明家园十二号楼", "12", "", ""),
    ("华明家园3-201", "3", "", "201"),       # building-room, units unknown
    ("华明家园3栋201", "3", "", "201"),
    ("华明家园3号2单元201", "3", "2", "201"),  # 号 as building when more follows
    ("华明家园3号楼201号", "3", "", "201"),    # 号 as room at the end
    ("华明家园3", "3", "", ""),
    ("万达广场B座12层1201室", "B", "", "1201"),  # the floor is dropped
    ("华明家园03号楼02单元0201", "3", "2", "201"),
])
def test_house_number_shapes(text, building, unit, room):
    p = parse(text)
    assert (p.building, p.unit, p.room) == (building, unit, room)


@pytest.mark.parametrize(("value", "key"), [
    ("3号楼", "3"), ("三号楼", "3"), ("03", "3"), ("a座", "A"), ("201室", "201"),
    ("第三单元", "3"), ("100-2号", "100-2"), ("十二", "12"), ("楼", ""), ("", ""),
])
def test_component_key(value, key):
    assert component_key(value) == key


@pytest.mark.parametrize("junk", [None, 3, "", "   ", "!!!", "号楼单元室", "-" * 500,
                                  "\ud800\x00华明", "华" * 10_000, "3-" * 300])
def test_junk_gives_empty_or_partial_without_raising(junk):
    p = parse(junk)
    assert p == EMPTY or isinstance(p.normalised, str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_without_raising(text):
    p = parse(text, ADMIN)
    assert all(isinstance(v, str) for v in p.components().values())


ADDRESSY = st.text(alphabet="华明家园路号楼栋单元门室户-0123456789一二三十百〇零两幺#市区街道 ",
                   max_size=40)


@settings(max_examples=200, deadline=None)
@given(ADDRESSY)
def test_address_like_text_parses_without_raising(text):
    p = parse(text, ADMIN)
    # Keys are digits/letters only: the matcher compares them directly.
    for key in (p.building, p.unit, p.room, p.door_number):
        assert key == "" or key.replace("-", "").isalnum()
