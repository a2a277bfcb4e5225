from __future__ import annotations

import statistics
import time

import pytest

from wangge.addresses.matcher import AddressIndex, AddressRow

GRID_A, GRID_C = "120110001001001", "120110002001001"


def compound(code, name, *, grid=GRID_A, parent=None, road="", door="", aliases=(),
             buildings=(1, 2, 3), units=(1, 2), rooms=(101, 102, 201, 202)):
    rows = [AddressRow(code, "compound", parent, name, road=road, door_number=door,
                       compound=name, aliases=tuple(aliases), grid_code=grid)]
    for b in buildings:
        bc = f"{code}B{b}"
        rows.append(AddressRow(bc, "building", code, compound=name, building=str(b),
                               grid_code=grid))
        parents = [(f"{bc}U{u}", str(u)) for u in units] or [(bc, "")]
        for uc, u in parents:
            if u:
                rows.append(AddressRow(uc, "unit", bc, compound=name, building=str(b),
                                       unit=u, grid_code=grid))
            rows += [AddressRow(f"{uc}H{r}", "room", uc, compound=name, building=str(b),
                                unit=u, room=str(r), grid_code=grid) for r in rooms]
    return rows


@pytest.fixture(scope="module")
def index():
    rows = [
        AddressRow("R1", "road", None, "津塘路", road="津塘路"),
        AddressRow("R1D100", "door", "R1", "津塘路100号", road="津塘路", door_number="100",
                   grid_code=GRID_A),
        AddressRow("R1D200", "door", "R1", "津塘路200号", road="津塘路", door_number="200",
                   grid_code=GRID_A),
        *compound("HM", "华明家园", parent="R1D100", road="津塘路", door="100",
                  aliases=["华明小区"]),
        *compound("JY", "金域蓝湾", parent="R1D200", road="津塘路", door="200", buildings=(1,)),
        *compound("JH", "金禾家园", parent="R1D200", road="津塘路", door="200", buildings=(5,)),
        *compound("LY", "丽苑小区", grid=GRID_C, buildings=(1,), units=(), rooms=(101, 102)),
        *compound("XC", "幸福里", buildings=(1,), units=(1,), rooms=(101,)),
        *compound("XF", "幸福苑", buildings=(1,), units=(1,), rooms=(101,)),
    ]
    return AddressIndex(rows, ["天津市", "东丽区"])


def code_of(index, text, **kw):
    return index.match_text(text, **kw)[1]


@pytest.mark.parametrize("text", [
    "华明家园3号楼2单元201室", "华明小区3-2-201", "天津市东丽区华明家园3栋2门201号",
    "津塘路100号华明家园3号楼2单元201", "津塘路100号3号楼2单元201",
    "东丽区某某华明家园东侧3-2-201",
])
def test_room_resolves_through_name_alias_door_or_containment(index, text):
    m = code_of(index, text)
    assert m.match is not None and m.match.code == "HMB3U2H201"
    assert m.resolved_level == "room" and m.unmatched == ()
    assert 0.8 <= m.confidence <= 1.0


def test_exact_name_is_fully_confident(index):
    m = code_of(index, "华明家园3号楼2单元201室")
    assert m.confidence == 1.0
    assert m.full_name == "华明家园3号楼2单元201室"


def test_fuzzy_name_matches_with_lower_confidence(index):
    exact = code_of(index, "华明家园3号楼")
    fuzzy = code_of(index, "华明佳园3号楼")
    assert fuzzy.match is not None and fuzzy.match.code == "HMB3"
    assert fuzzy.confidence < exact.confidence


def test_unknown_room_returns_the_unit_and_reports_the_room(index):
    m = code_of(index, "华明家园3号楼2单元1801")
    assert m.match is not None and m.match.code == "HMB3U2"
    assert m.resolved_level == "unit"
    assert m.unmatched == ("room 1801",)
    assert {c.code for c in m.candidates} == {f"HMB3U2H{r}" for r in (101, 102, 201, 202)}


def test_unknown_building_reports_everything_below(index):
    m = code_of(index, "华明家园9号楼2单元201")
    assert m.match is not None and m.match.code == "HM"
    assert m.unmatched == ("building 9", "unit 2", "room 201")


def test_query_stopping_at_a_compound_lists_its_buildings(index):
    m = code_of(index, "华明家园")
    assert m.match is not None and m.resolved_level == "compound"
    assert [c.code for c in m.candidates] == ["HMB1", "HMB2", "HMB3"]


def test_similar_names_tie_and_give_candidates_not_a_guess(index):
    m = code_of(index, "幸福")
    assert m.match is None
    assert {c.code for c in m.candidates} == {"XC", "XF"}


def test_building_number_picks_among_compounds_behind_one_door(index):
    # 200号 has two compounds; only 金禾家园 has a building 5.
    m = code_of(index, "津塘路200号5号楼")
    assert m.match is not None and m.match.code == "JHB5"


def test_door_alone_with_two_compounds_resolves_the_door(index):
    m = code_of(index, "津塘路200号")
    assert m.match is not None and m.match.code == "R1D200"
    assert {c.code for c in m.candidates} == {"JY", "JH"}


def test_unknown_door_falls_back_to_the_road(index):
    m = code_of(index, "津塘路999号")
    assert m.match is not None and m.resolved_level == "road"
    assert m.unmatched == ("door 999",)


def test_rooms_without_units_resolve_whether_or_not_a_unit_is_given(index):
    assert code_of(index, "丽苑小区1-101").match.code == "LYB1H101"
    assert code_of(index, "丽苑小区1号楼1单元101").match.code == "LYB1H101"


def test_room_under_either_unit_is_ambiguous(index):
    m = code_of(index, "华明家园3-201")
    assert m.match is not None and m.match.code == "HMB3"
    assert {c.code for c in m.candidates} == {"HMB3U1H201", "HMB3U2H201"}


def test_disallowed_entries_are_neither_match_nor_candidate(index):
    in_a = lambda row: row.grid_code.startswith(GRID_A)  # noqa: E731
    assert code_of(index, "丽苑小区1-101", allow=in_a).match is None
    m = code_of(index, "丽苑", allow=in_a)
    assert m.match is None and m.candidates == ()


def test_garbage_matches_nothing(index):
    for text in ("", "!!!", "天津市", "3号楼2单元201", "完全不相干的文字"):
        assert code_of(index, text).match is None


def _district(compounds: int) -> list[AddressRow]:
    """A district-sized name space: the lookups per match do not grow with
    the number of rooms, so two rooms per compound is enough to time them."""
    chars = "华明丽苑金桥春晖锦绣新港泰和安康福瑞祥云海河滨东西南北中翠柳杨槐梅兰竹菊松柏景湖山水阳光"
    suffixes = ["小区", "家园", "花园", "公寓", "苑", "里", "新村", "大厦", "城", "府", "湾"]
    rows: list[AddressRow] = []
    seen: set[str] = set()
    n = 0
    while len(seen) < compounds:
        n += 1
        k = len(chars)
        name = chars[n % k] + chars[(n // k) % k] + chars[(n // k // k) % k] + \
            suffixes[n % len(suffixes)]
        if name in seen:
            continue
        seen.add(name)
        rows += compound(f"C{n}", name, buildings=(1,), units=(1,), rooms=(101, 102))
    return rows


def test_match_is_fast_on_a_district():
    rows = _district(10_000)
    index = AddressIndex(rows)
    names = [r.compound for r in rows if r.level == "compound"][::20]
    exact = [index.parse(f"{n}1号楼1单元101室") for n in names]
    fuzzy = [index.parse(f"{n[0]}某{n[2:]}1号楼") for n in names]

    def per_match(queries):
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            for q in queries:
                index.match(q)
            runs.append((time.perf_counter() - t) / len(queries))
        return statistics.median(runs)

    assert all(index.match(q).resolved_level == "room" for q in exact)
    assert per_match(exact) < 0.0005
    assert per_match(fuzzy) < 0.001
