"""Case bulletins: the least generalisation that reaches k, and a text that names nobody."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest

from wangge.epidemic.bulletins import (
    LADDER,
    BulletinRefused,
    CaseReport,
    Person,
    Population,
    Scheme,
    Visit,
    age_band,
    make_bulletin,
    render,
)

STREET, COMMUNITY = "张贵庄街道", "詹滨社区"


def person(age: int, gender: str, compound: str, building: str, room: str,
           community: str = COMMUNITY, street: str = STREET) -> Person:
    return (age, gender, street, community, compound, building, room)


def make_case(**overrides: Any) -> CaseReport:
    fields: dict[str, Any] = {
        "label": "病例1", "age": 32, "gender": "男",
        "address": {"street": STREET, "community": COMMUNITY, "compound": "詹滨西里",
                    "building": "3号楼", "room": "301"},
        "confirmed_on": date(2022, 3, 20),
        "visits": (Visit("津塘路永辉超市", datetime(2022, 3, 18, 8, 30),
                         datetime(2022, 3, 18, 9, 15)),),
    }
    return CaseReport(**{**fields, **overrides})


def registry() -> list[Person]:
    """Building 3 has 6 people and the compound 9, so neither can reach k=10;
    the community has 12 men aged 30–34 but only 2 aged exactly 32."""
    people = [
        person(32, "男", "詹滨西里", "3号楼", "301"), person(30, "女", "詹滨西里", "3号楼", "301"),
        person(60, "男", "詹滨西里", "3号楼", "302"), person(58, "女", "詹滨西里", "3号楼", "302"),
        person(8, "男", "詹滨西里", "3号楼", "302"), person(33, "男", "詹滨西里", "3号楼", "401"),
        person(70, "女", "詹滨西里", "5号楼", "101"), person(71, "男", "詹滨西里", "5号楼", "101"),
        person(34, "男", "詹滨西里", "5号楼", "102"),
        person(32, "男", "新立花园", "1号楼", "101"),
    ]
    for age in (30, 31, 33, 34):
        people += [person(age, "男", "新立花园", "1号楼", f"{age}1"),
                   person(age, "男", "新立花园", "2号楼", f"{age}2"),
                   person(age, "女", "新立花园", "2号楼", f"{age}2")]
    # another street, which must not count
    people += [person(32, "男", "和平里", "1号楼", "101", "和平社区", "无瑕街道")] * 50
    return people


@pytest.mark.parametrize(("age", "level", "band"), [
    (32, "exact", "32岁"), (32, "5", "30-34岁"), (35, "5", "35-39岁"), (32, "10", "30-39岁"),
    (32, "20", "20-39岁"), (17, "adult", "未成年"), (18, "adult", "成年"),
])
def test_age_band(age: int, level: str, band: str) -> None:
    assert age_band(age, level) == band


def test_ladder_tries_fewest_steps_first_and_drops_gender_last() -> None:
    assert LADDER[0] == Scheme("room", "exact", True)
    assert LADDER[1] == Scheme("room", "5", True)  # tie on one step: finer location first
    assert LADDER[2] == Scheme("building", "exact", True)
    assert LADDER[-1] == Scheme("street", "adult", False)
    assert all(s.gender for s in LADDER[:25]) and not any(s.gender for s in LADDER[25:])


def test_generalises_from_building_to_community_to_reach_k() -> None:
    bulletin = make_bulletin([make_case()], registry(), area="东丽区")
    assert bulletin.scheme == Scheme("community", "5", True)
    assert bulletin.k_required == 10
    assert bulletin.k_achieved == 12
    (published,) = bulletin.cases
    assert published.location == (STREET, COMMUNITY)
    assert (published.gender, published.age_band, published.k) == ("男", "30-34岁", 12)


def test_k_is_configurable_and_reported_per_case() -> None:
    second = make_case(label="病例2", age=70, gender="女",
                       address={"street": STREET, "community": COMMUNITY,
                                "compound": "詹滨西里", "building": "5号楼", "room": "101"})
    bulletin = make_bulletin([make_case(), second], registry(), k=3)
    # 病例1 alone would fit at compound level with 5-year bands (3 men aged 30-34);
    # 病例2 is the only woman aged 60-79 in the community, so both go to adult/minor,
    # where the compound has 5 adult men and 3 adult women.
    assert bulletin.scheme == Scheme("compound", "adult", True)
    assert {c.label: c.k for c in bulletin.cases} == {"病例1": 5, "病例2": 3}
    assert bulletin.k_achieved == 3
    assert bulletin.cases[1].location == (STREET, COMMUNITY, "詹滨西里")
    assert make_bulletin([make_case()], registry(), k=3).scheme == Scheme("compound", "5", True)


def test_pre_aggregated_counts_give_the_same_bulletin() -> None:
    counts = Counter(registry())
    rows = [(*key, n) for key, n in counts.items()]
    assert make_bulletin([make_case()], Population.from_counts(rows)) == make_bulletin(
        [make_case()], registry())
    assert make_bulletin([make_case()], Population.from_counts(counts)).k_achieved == 12


def test_refuses_when_even_the_most_general_scheme_misses_k() -> None:
    small = [person(30 + i, "男", "詹滨西里", "3号楼", f"{i}01") for i in range(5)]
    with pytest.raises(BulletinRefused) as err:
        make_bulletin([make_case()], small)
    assert err.value.code == "bulletin_k_unreachable"
    assert err.value.per_case == {"病例1": 5}
    assert "病例1仅5人" in err.value.message and "不予发布" in err.value.message


def test_rendered_text_has_no_name_room_or_id() -> None:
    text = render(make_bulletin([make_case()], registry(), area="东丽区"))
    assert text.startswith("3月20日，东丽区新增确诊病例1例。")
    assert "病例1，男，30-34岁，现住东丽区张贵庄街道詹滨社区，3月20日确诊。" in text
    assert "3月18日08:30至09:15，津塘路永辉超市" in text
    assert "至少对应12人" in text
    for hidden in ("詹滨西里", "3号楼", "301"):
        assert hidden not in text
    assert not re.search(r"\d{15,18}|1[3-9]\d{9}", text)


def test_gender_is_dropped_only_as_the_last_resort() -> None:
    # Nine men and nine women of all ages in the street: only together do they reach 10.
    people = [person(20 + 5 * i, g, "詹滨西里", "3号楼", f"{i}0{g}")
              for i in range(9) for g in ("男", "女")]
    bulletin = make_bulletin([make_case()], people)
    assert bulletin.scheme == Scheme("building", "adult", False)
    assert bulletin.cases[0].gender is None
    assert "男" not in render(bulletin)


@pytest.mark.parametrize("label", ["张三", "病例1（张某）", "13812345678"])
def test_case_labels_cannot_carry_names(label: str) -> None:
    with pytest.raises(ValueError, match="case label"):
        make_case(label=label)


@pytest.mark.parametrize("place", [
    "13812345678张先生家", "其母亲家中", "和平路12号3室", "120110198001011234",
    "詹滨西里3号楼底商",  # the building the scheme hides
])
def test_places_that_give_someone_away_are_refused(place: str) -> None:
    case = make_case(visits=(Visit(place, datetime(2022, 3, 18, 8, 30)),))
    with pytest.raises(BulletinRefused) as err:
        make_bulletin([case], registry())
    assert err.value.code == "bulletin_unsafe_place"
