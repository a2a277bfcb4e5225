"""The report classifier on a small inline catalog; no database."""

from __future__ import annotations

import pickle

import pytest

from wangge.cases import classify

CATALOG = {
    "garbage": ["暴露垃圾", "垃圾堆在路边没人清理", "生活垃圾乱堆乱放", "垃圾成堆发臭",
                "路边有一堆垃圾", "垃圾没有及时清运"],
    "manhole": ["井盖破损", "井盖丢失", "下水道井盖坏了", "窨井盖松动", "井盖缺失很危险",
                "马路上的井盖塌陷"],
    "stall": ["占道经营", "小贩在人行道摆摊", "流动摊贩占用道路", "店铺把货物摆到路上",
              "早市摊位堵住路口", "门口摆摊卖水果"],
    "parking": ["违章停车", "汽车乱停乱放", "车辆停在消防通道", "小区门口乱停车",
                "私家车占用盲道停放", "车停在人行道上"],
    "dispute": ["邻里纠纷", "和邻居吵架", "楼上漏水邻居不管", "邻居家狗叫扰民",
                "隔壁装修发生矛盾", "邻居占用公共楼道起争执"],
    "streetlight": ["路灯不亮", "路灯坏了", "晚上路灯一直不亮", "街灯闪烁", "路灯杆倾斜",
                    "小区路灯损坏"],
}
SAMPLES = [(phrase, code) for code, phrases in CATALOG.items() for phrase in phrases]


@pytest.fixture(scope="module")
def model() -> classify.Classifier:
    return classify.train(SAMPLES)


@pytest.mark.parametrize(("text", "code"), [
    ("我家楼下的路灯好几天都不亮了", "streetlight"),
    ("人行道上有人摆摊卖菜", "stall"),
    ("3号楼门口井盖被偷了", "manhole"),
    ("有辆车一直停在消防通道上", "parking"),
    ("路边一堆拉圾没人管", "garbage"),  # 拉圾: the commonest typo on the platforms
])
def test_paraphrase_gets_its_category(model: classify.Classifier, text: str, code: str) -> None:
    assert model.top(text)[0].code == code


def test_features_are_sklearns_tfidf(model: classify.Classifier) -> None:
    # Classifier re-implements TfidfVectorizer.transform for speed; this pins
    # it to the real thing.
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    cleaned = [classify.normalise(t) for t, _ in SAMPLES]
    vectorizer = TfidfVectorizer(analyzer=classify.ngrams, sublinear_tf=True).fit(cleaned)
    texts = [classify.normalise(t) for t in ("路灯坏了坏了", "井盖 破损 3号楼", "未见过的字")]
    ours = model._features(texts).toarray()
    assert np.allclose(ours, vectorizer.transform(texts).toarray())


def test_traditional_script_reads_as_simplified(model: classify.Classifier) -> None:
    assert model.top("路燈不亮了") == model.top("路灯不亮了")
    assert model.top("路燈不亮了")[0].code == "streetlight"


def test_full_width_digits_and_letters_read_as_half_width(model: classify.Classifier) -> None:
    assert model.top("３号楼ＡＢ井盖破损") == model.top("3号楼ab井盖破损")


def test_top_is_k_guesses_best_first(model: classify.Classifier) -> None:
    guesses = model.top("井盖坏了", k=4)
    confidences = [g.confidence for g in guesses]
    assert len(guesses) == 4
    assert len({g.code for g in guesses}) == 4
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 1 for c in confidences)
    assert sum(confidences) <= 1 + 1e-9


def test_k_larger_than_the_catalog_gives_every_code(model: classify.Classifier) -> None:
    assert {g.code for g in model.top("井盖", k=50)} == set(CATALOG)


@pytest.mark.parametrize("text", ["", "   ", "！？。，……", "\x00", "\ud800"])
def test_nothing_to_read_gives_no_guess(model: classify.Classifier, text: str) -> None:
    assert model.top(text) == []


@pytest.mark.parametrize("text", ["今天天气真好啊", "qwertyuiop", "请问明天几点开会"])
def test_nonsense_is_not_confident(model: classify.Classifier, text: str) -> None:
    assert model.top(text)[0].confidence < classify.CONFIDENCE_THRESHOLD


def test_top_many_matches_top_and_keeps_positions(model: classify.Classifier) -> None:
    texts = ["路灯坏了", "", "邻居吵架"]
    assert model.top_many(texts) == [model.top(t) for t in texts]


def test_one_code_is_not_enough() -> None:
    with pytest.raises(ValueError, match="类别"):
        classify.train([("井盖破损", "manhole"), ("井盖丢失", "manhole"), ("   ", "other")])


def test_code_with_a_single_phrase_is_learnt() -> None:
    model = classify.train([*SAMPLES, ("共享单车乱停放", "bike")])
    assert "bike" in model.codes
    assert model.top("共享单车乱停", k=1)[0].code == "bike"


def test_two_codes_give_probabilities_summing_to_one() -> None:
    model = classify.train(SAMPLES[:12])
    guesses = model.top("井盖丢了", k=3)
    assert [g.code for g in guesses][:1] == ["manhole"]
    assert sum(g.confidence for g in guesses) == pytest.approx(1)


def test_dumps_loads_round_trip(model: classify.Classifier) -> None:
    again = classify.loads(classify.dumps(model))
    texts = ["路灯坏了", "小贩占道", "邻居家装修太吵"]
    assert again.codes == model.codes
    assert again.top_many(texts) == model.top_many(texts)


@pytest.mark.parametrize("data", [b"", b"not a model", pickle.dumps({"format": 1})])
def test_loads_refuses_anything_dumps_did_not_write(data: bytes) -> None:
    with pytest.raises(ValueError, match="重新训练"):
        classify.loads(data)


def test_training_is_deterministic_for_a_seed() -> None:
    texts = ["路灯坏了", "小贩占道", "邻居家装修太吵", "井盖"]
    first = classify.train(SAMPLES, seed=3).top_many(texts, k=6)
    assert classify.train(SAMPLES, seed=3).top_many(texts, k=6) == first
    assert classify.train(list(SAMPLES), seed=3).codes == tuple(sorted(CATALOG))


def test_evaluate_counts_hits_and_abstentions(model: classify.Classifier) -> None:
    held_out = [("路灯晚上不亮", "streetlight"), ("井盖坏了", "manhole"),
                ("今天天气真好", "garbage"), ("", "garbage")]
    result = classify.evaluate(model, held_out)
    assert result["n"] == 4
    assert result["accuracy"] == 0.5
    assert result["top3"] >= 0.5
    assert result["abstained"] >= 0.5  # the weather and the empty text
    assert result["accuracy_when_confident"] == 1.0
    everything = classify.evaluate(model, held_out, threshold=0.0)
    assert everything["abstained"] == 0.25  # only the empty text


def test_evaluate_on_nothing() -> None:
    model = classify.train(SAMPLES)
    assert classify.evaluate(model, [])["n"] == 0
