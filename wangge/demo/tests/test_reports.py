"""Demo report texts: deterministic, skewed, reworded, without a database."""

from __future__ import annotations

import random
import unicodedata
from collections import Counter

import opencc
import pytest

from wangge.cases.catalog import ITEMS, by_code
from wangge.demo.reports import item_weight, report_text, sample_reports

N = 2000
PHRASES = {p for item in ITEMS for p in item.phrases}
GOVERNANCE = {"E07", "E08", "E09", "E10", "E11"}
T2S = opencc.OpenCC("t2s")


@pytest.fixture(scope="module")
def samples() -> list[tuple[str, str]]:
    return sample_reports(11, N)


def plain(text: str) -> str:
    return unicodedata.normalize("NFKC", T2S.convert(text))


def test_the_same_seed_gives_the_same_reports(samples: list[tuple[str, str]]) -> None:
    assert sample_reports(11, N) == samples
    assert sample_reports(12, N) != samples
    item = by_code()["E0101"]
    assert report_text(random.Random(3), item) == report_text(random.Random(3), item)


def test_every_report_has_text_and_a_catalog_code(samples: list[tuple[str, str]]) -> None:
    codes = by_code()
    assert len(samples) == N
    assert all(text.strip() and code in codes for text, code in samples)


def test_litter_stalls_and_parking_lead_and_governance_is_rare(
        samples: list[tuple[str, str]]) -> None:
    counts = Counter(by_code()[code].name for _, code in samples)
    assert counts.most_common(1)[0][0] == "暴露垃圾"
    top = {name for name, _ in counts.most_common(6)}
    assert {"暴露垃圾", "占道经营", "乱堆物料", "违章停车"} <= top
    covers = sum(n for name, n in counts.items() if name.endswith("井盖"))
    assert covers > counts["违章停车"]
    governance = sum(1 for _, code in samples if code[:3] in GOVERNANCE)
    assert governance / N < 0.15
    assert counts["暴露垃圾"] > 10 * max(counts["社区矫正人员"], 1)


def test_every_item_can_be_drawn() -> None:
    assert all(item_weight(item) > 0 for item in ITEMS)
    assert {code for _, code in sample_reports(5, 20_000)} == {item.code for item in ITEMS}


def test_few_reports_are_a_bare_catalog_phrase(samples: list[tuple[str, str]]) -> None:
    verbatim = sum(text in PHRASES for text, _ in samples)
    assert 0 < verbatim / N < 0.2
    assert len({text for text, _ in samples}) > 0.9 * N


def test_most_reports_keep_words_of_their_item(samples: list[tuple[str, str]]) -> None:
    def bigrams(text: str) -> set[str]:
        return {text[i:i + 2] for i in range(len(text) - 1)}

    keep = 0
    for text, code in samples:
        item = by_code()[code]
        own = set().union(*(bigrams(p) for p in item.phrases), bigrams(item.name))
        keep += bool(bigrams(plain(text)) & own)
    assert keep / N > 0.95


def test_some_reports_are_in_traditional_script(samples: list[tuple[str, str]]) -> None:
    traditional = sum(T2S.convert(text) != text for text, _ in samples)
    assert 0.02 < traditional / N < 0.09


def test_some_reports_have_full_width_digits(samples: list[tuple[str, str]]) -> None:
    assert any(any("０" <= c <= "９" for c in text) for text, _ in samples)


def test_reports_name_dongli_places(samples: list[tuple[str, str]]) -> None:
    places = ("路", "道", "大街", "公路", "园", "苑", "里", "社区", "号楼", "交口")
    located = sum(any(p in plain(text) for p in places) for text, _ in samples)
    assert located / N > 0.8


def test_the_frequent_items_are_catalog_names() -> None:
    from wangge.demo import reports

    assert set(reports._FREQUENT) <= {item.name for item in ITEMS}
