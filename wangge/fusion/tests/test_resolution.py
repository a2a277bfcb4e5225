"""Entity resolution on hand-built tricky records, human decisions, incremental
linking and the CSV command. Uses the shipped default model; no database."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import numpy as np
import opencc
import pyarrow as pa
import pyarrow.csv as pv
import pytest

from wangge.core.identity import id_check_char
from wangge.fusion.resolution import (
    RECORD_COLUMNS,
    Model,
    dedupe_csv,
    link_new,
    load_model,
    resolve,
    save_model,
    train_model,
)
from wangge.fusion.resolution.cluster import MUST, Graph, cluster
from wangge.fusion.resolution.features import build_features, register_records
from wangge.fusion.resolution.settings import untrained_settings

ZHANG = "120110198001020030"  # 张伟, 1980-01-02, male
LI = "120110198001020014"
WANG_A = "120110197505050028"  # 王芳 and 王芳: same name, same birth date
WANG_B = "130102197505050046"
TWIN_1 = "120110201008080014"  # 刘洋 and 刘涛: twins
TWIN_2 = "120110201008080030"
ZHAO = "12011019700404018X"
CHEN = "120110199003030018"

COLUMNS = list(RECORD_COLUMNS)


def table(rows: list[dict[str, str]]) -> pa.Table:
    return pa.table({c: [r.get(c, "") for r in rows] for c in COLUMNS})


TRICKY = [
    # 张伟: traditional script, a 15-digit old ID, a spaced name
    {"record_id": "a1", "name": "張偉", "id_number": ZHANG, "phone": "13800138000",
     "birth_date": "1980/1/2", "gender": "男", "address": "天津市东丽区华明家园3号楼2单元201室"},
    {"record_id": "a2", "name": "张伟", "id_number": "120110800102003",
     "address": "華明家園三號樓二單元二〇一"},
    {"record_id": "a3", "name": "张 伟", "phone": "+86 138 0013 8000", "birth_date": "19800102"},
    # 李娜 / 李纳: a homophone with the same ID; full-width digits
    {"record_id": "b1", "name": "李娜", "id_number": LI, "birth_date": "1980-01-02"},
    {"record_id": "b2", "name": "李纳", "id_number": "１２０１１０１９８００１０２００１４",
     "gender": "女"},
    # 王芳 and 王芳: same name and birth date, different valid IDs
    {"record_id": "c1", "name": "王芳", "id_number": WANG_A, "birth_date": "1975-05-05",
     "address": "丽苑小区5号楼1单元101室"},
    {"record_id": "c2", "name": "王芳", "id_number": WANG_B, "birth_date": "1975年5月5日",
     "address": "金河花园2号楼3单元502室"},
    {"record_id": "c3", "name": "王芳", "id_number": WANG_A, "phone": "13912345678"},
    # twins: same birth date, surname, address; one record without an ID
    {"record_id": "d1", "name": "刘洋", "id_number": TWIN_1, "birth_date": "2010-08-08",
     "address": "先锋新苑8号楼2单元302室"},
    {"record_id": "d2", "name": "刘涛", "id_number": TWIN_2, "birth_date": "2010-08-08",
     "address": "先锋新苑8号楼2单元302室"},
    {"record_id": "d3", "name": "刘洋", "birth_date": "2010.08.08", "gender": "男",
     "address": "先锋新苑8-2-302"},
    # 赵强: lower-case x, and a typo'd ID (one digit wrong) backed by name and phone
    {"record_id": "e1", "name": "赵强", "id_number": ZHAO, "phone": "15822223333",
     "birth_date": "1970-04-04"},
    {"record_id": "e2", "name": "赵强", "id_number": ZHAO.lower()},
    {"record_id": "e3", "name": "赵强", "id_number": ZHAO[:9] + "5" + ZHAO[10:],
     "phone": "15822223333"},
    # a stranger
    {"record_id": "f1", "name": "陈静", "id_number": CHEN, "phone": "13700001111"},
]

EXPECTED = [{"a1", "a2", "a3"}, {"b1", "b2"}, {"c1", "c3"}, {"c2"}, {"d1", "d3"}, {"d2"},
            {"e1", "e2", "e3"}, {"f1"}]


def groups(clusters: pa.Table) -> list[set[str]]:
    by: dict[str, set[str]] = {}
    for rid, cid in zip(clusters.column("record_id").to_pylist(),
                        clusters.column("cluster_id").to_pylist(), strict=True):
        by.setdefault(cid, set()).add(rid)
    return sorted(by.values(), key=min)


def cluster_of(clusters: pa.Table) -> dict[str, str]:
    return dict(zip(clusters.column("record_id").to_pylist(),
                    clusters.column("cluster_id").to_pylist(), strict=True))


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


@pytest.fixture(scope="module")
def tricky(model: Model) -> pa.Table:
    return resolve(table(TRICKY), model).clusters


# --- features -------------------------------------------------------------------


def test_features_normalise_ids_dates_names_and_phones() -> None:
    con = duckdb.connect()
    register_records(con, table(TRICKY), "records_in")
    build_features(con, "records_in")
    rows = {r[0]: r for r in con.sql(
        "select record_id, id18, id_valid, name_s, name_py, birth, phone, gender from features"
    ).fetchall()}
    assert rows["a2"][1:3] == (ZHANG, True)  # 15 → 18
    assert rows["b2"][1:3] == (LI, True)  # full-width
    assert rows["e2"][1:3] == (ZHAO, True)  # lower-case x
    assert rows["e3"][2] is False  # typo: check digit fails
    assert rows["a1"][3:5] == ("张伟", "zhangwei")
    assert rows["a3"][3] == "张伟"
    assert rows["b1"][4] == rows["b2"][4] == "lina"
    assert {rows[r][5] for r in ("a1", "a3", "c2", "d3")} == {"19800102", "19750505", "20100808"}
    assert rows["a2"][5] == "19800102"  # from the ID
    assert rows["a3"][6] == "13800138000"
    assert rows["a1"][7] == "M" and rows["b2"][7] == "F"


# --- resolve ----------------------------------------------------------------------


def test_tricky_records_cluster_as_people(tricky: pa.Table) -> None:
    assert groups(tricky) == sorted(EXPECTED, key=min)


def test_cluster_id_is_smallest_record_id_and_stable(model: Model, tricky: pa.Table) -> None:
    ids = cluster_of(tricky)
    assert ids["a3"] == "a1" and ids["e3"] == "e1"
    shuffled = table(random.Random(3).sample(TRICKY, len(TRICKY)))
    again = resolve(shuffled, model).clusters
    assert cluster_of(again) == ids


def test_cannot_link_survives_a_transitive_path(model: Model) -> None:
    # e1–e2 by ID, e1–e3 by name and phone, e2–e3 by a near ID: all one person
    # until a reviewer says e1 and e3 are not.
    result = resolve(table(TRICKY), model, cannot_link=[("e3", "e1")])
    ids = cluster_of(result.clusters)
    assert ids["e1"] == ids["e2"] != ids["e3"]
    decided = set(zip(result.uncertain.column("record_id_l").to_pylist(),
                      result.uncertain.column("record_id_r").to_pylist(), strict=True))
    assert ("e1", "e3") not in decided


def test_must_link_merges(model: Model) -> None:
    result = resolve(table(TRICKY), model, must_link=[("f1", "c2")])
    ids = cluster_of(result.clusters)
    assert ids["f1"] == ids["c2"] == "c2"
    assert ids["c1"] != ids["c2"]


def test_pairs_and_uncertain_respect_thresholds(model: Model) -> None:
    result = resolve(table(TRICKY), model)
    p = np.asarray(result.pairs.column("match_probability").to_pylist())
    u = np.asarray(result.uncertain.column("match_probability").to_pylist())
    assert (p >= model.review_threshold).all()
    assert ((u >= model.review_threshold) & (u < model.match_threshold)).all()
    assert result.pairs.column_names == ["record_id_l", "record_id_r", "match_probability"]


def test_missing_columns_are_empty(model: Model) -> None:
    rows = pa.table({"record_id": ["x1", "x2"], "name": ["张伟", "張偉"],
                     "id_number": [ZHANG, ZHANG]})
    assert groups(resolve(rows, model).clusters) == [{"x1", "x2"}]


def test_duplicate_record_ids_are_refused(model: Model) -> None:
    with pytest.raises(ValueError, match="unique"):
        resolve(table([TRICKY[0], TRICKY[0]]), model)


# --- link_new ------------------------------------------------------------------------


def test_link_new_attaches_to_existing_clusters_and_names_strangers(
        model: Model, tricky: pa.Table) -> None:
    existing = table(TRICKY).append_column("cluster_id", tricky.column("cluster_id"))
    new = table([
        {"record_id": "n1", "name": "张伟", "id_number": ZHANG, "phone": "13600000000"},
        {"record_id": "n2", "name": "孙悟空", "id_number": "120110199909090011",
         "phone": "13511112222"},
        {"record_id": "n0", "name": "孙悟空", "phone": "13511112222", "birth_date": "1999-09-09"},
    ])
    result = link_new(new, existing, model)
    ids = cluster_of(result.clusters)
    assert ids == {"n1": "a1", "n2": "n0", "n0": "n0"}


def test_link_new_keeps_existing_clusters_apart(model: Model, tricky: pa.Table) -> None:
    existing = table(TRICKY).append_column("cluster_id", tricky.column("cluster_id"))
    # Looks like both twins: joins the one it matches more strongly, never both.
    new = table([{"record_id": "t1", "name": "刘洋", "id_number": TWIN_1,
                  "birth_date": "2010-08-08", "address": "先锋新苑8号楼2单元302室"}])
    ids = cluster_of(link_new(new, existing, model).clusters)
    assert ids == {"t1": "d1"}


def test_link_new_accepts_a_reviewed_cluster_with_two_ids(model: Model) -> None:
    # A reviewer merged c1 and c2 (two valid IDs): a new record with either ID
    # still joins, a new record with a third ID does not.
    merged = resolve(table(TRICKY), model, must_link=[("c1", "c2")]).clusters
    existing = table(TRICKY).append_column("cluster_id", merged.column("cluster_id"))
    new = table([{"record_id": "w1", "name": "王芳", "id_number": WANG_B, "birth_date": "1975-05-05"},
                 {"record_id": "w2", "name": "王芳", "id_number": "110105197505050025",
                  "birth_date": "1975-05-05"}])
    ids = cluster_of(link_new(new, existing, model).clusters)
    assert ids == {"w1": "c1", "w2": "w2"}


def test_clusters_come_back_in_input_order(model: Model) -> None:
    shuffled = table(random.Random(5).sample(TRICKY, len(TRICKY)))
    clusters = resolve(shuffled, model).clusters
    assert clusters.column("record_id").to_pylist() == shuffled.column("record_id").to_pylist()


# --- CSV ---------------------------------------------------------------------------


def _write_csv(path: Path, rows: list[dict[str, str]], encoding: str) -> None:
    cols = ["record_id", "name", "id_number", "phone", "birth_date", "address", "备注"]
    lines = [",".join(cols)] + [",".join(r.get(c, "") for c in cols) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_dedupe_csv(tmp_path: Path, encoding: str) -> None:
    src, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    rows = [{**r, "record_id": f"00{r['record_id']}"} for r in TRICKY]
    _write_csv(src, rows, encoding)
    summary = dedupe_csv(src, out)
    assert summary["records"] == len(TRICKY)
    assert summary["clusters"] == len(EXPECTED)
    assert summary["seconds"] > 0
    written = pv.read_csv(out, convert_options=pv.ConvertOptions(
        column_types={"record_id": pa.string(), "cluster_id": pa.string()}))
    assert written.column_names == ["record_id", "cluster_id"]
    assert groups(written) == sorted(({f"00{x}" for x in g} for g in EXPECTED), key=min)


def test_shipped_model_uses_the_code_s_rules_and_comparisons(model: Model) -> None:
    # Retrain (python -m bench.fusion --records 1000000 --train-default …)
    # whenever settings.py changes.
    fresh = untrained_settings()
    assert model.settings["blocking_rules_to_generate_predictions"] == \
        fresh["blocking_rules_to_generate_predictions"]
    conditions = [[lv["sql_condition"] for lv in c["comparison_levels"]]
                  for c in model.settings["comparisons"]]
    assert conditions == [[lv["sql_condition"] for lv in c["comparison_levels"]]
                          for c in fresh["comparisons"]]


def test_model_round_trip(tmp_path: Path, model: Model) -> None:
    save_model(model, tmp_path / "m.json")
    assert load_model(tmp_path / "m.json") == model


# --- clustering constraints on a bare graph ------------------------------------------


def test_cannot_link_cuts_the_weakest_edge_on_the_path() -> None:
    # 0 —.99— 1 —.95— 2 —.999— 3, and 0 must not be with 3.
    graph = Graph(n=4, left=np.array([0, 1, 2]), right=np.array([1, 2, 3]),
                  weight=np.array([0.99, 0.95, 0.999]), cannot=[(0, 3)])
    assert cluster(graph).tolist() == [0, 0, 2, 2]


def test_two_valid_ids_never_share_a_cluster_unless_a_human_says_so() -> None:
    # 0 and 2 carry different valid IDs; 1 has none and looks like both.
    graph = Graph(n=3, left=np.array([0, 1]), right=np.array([1, 2]),
                  weight=np.array([0.995, 0.999]), id_nodes=np.array([0, 2]),
                  id_codes=np.array([5, 7]))
    assert cluster(graph).tolist() == [0, 1, 1]
    graph.left, graph.right = np.append(graph.left, 0), np.append(graph.right, 2)
    graph.weight = np.append(graph.weight, MUST)
    assert cluster(graph).tolist() == [0, 0, 0]


# --- a small noisy population ------------------------------------------------------------


SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["伟", "芳", "娜", "敏", "静", "秀英", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "建国",
         "桂兰", "志强", "海燕", "红梅", "立新"]


def _noisy_people(n_people: int, seed: int) -> tuple[pa.Table, list[str]]:
    """Each person 1–4 records with the noise departments add: traditional
    script, spaces, old 15-digit IDs, full-width digits, missing fields, date
    formats, address spellings."""
    rng = random.Random(seed)
    s2t = opencc.OpenCC("s2t")
    rows: list[dict[str, str]] = []
    truth: list[str] = []
    for p in range(n_people):
        born = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body = f"120110{born}{rng.randrange(100, 999)}"
        pid = body + id_check_char(body)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", "", "明", "华"])
        phone = f"13{rng.randrange(10**9):09d}"
        room = (rng.choice(["华明家园", "丽苑小区", "金河花园"]), rng.randint(1, 30), rng.randint(1, 4),
                rng.randint(1, 18) * 100 + rng.randint(1, 2))
        for _ in range(rng.randint(1, 4)):
            y, m, d = born[:4], born[4:6], born[6:]
            record = {
                "record_id": f"r{len(rows):05d}",
                "name": rng.choice([name, name, s2t.convert(name), name[0] + " " + name[1:]]),
                "id_number": rng.choice([pid, pid, "", pid[:6] + pid[8:17], pid.translate(
                    str.maketrans("0123456789", "０１２３４５６７８９"))]),
                "phone": rng.choice([phone, "", f"+86 {phone}"]),
                "birth_date": rng.choice(["", f"{y}-{m}-{d}", f"{y}/{int(m)}/{int(d)}",
                                          f"{y}年{int(m)}月{int(d)}日"]),
                "address": rng.choice(["", f"{room[0]}{room[1]}号楼{room[2]}单元{room[3]}室",
                                       f"东丽区{room[0]}{room[1]}-{room[2]}-{room[3]}"]),
            }
            if pid[:6] + pid[8:17] == record["id_number"] and born[:2] != "19":
                record["id_number"] = pid
            rows.append(record)
            truth.append(str(p))
    return table(rows), truth


def _pairwise(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    def pairs(labels: list[str]) -> set[tuple[int, int]]:
        by: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            by.setdefault(label, []).append(i)
        return {(a, b) for group in by.values() for a in group for b in group if a < b}

    t, p = pairs(truth), pairs(predicted)
    return len(t & p) / max(1, len(p)), len(t & p) / max(1, len(t))


def test_small_noisy_population(model: Model) -> None:
    records, truth = _noisy_people(150, seed=11)
    clusters = cluster_of(resolve(records, model).clusters)
    predicted = [clusters[r] for r in records.column("record_id").to_pylist()]
    precision, recall = _pairwise(truth, predicted)
    assert precision >= 0.99
    assert recall >= 0.95


def test_training_is_deterministic_and_resolves_its_data() -> None:
    records, truth = _noisy_people(300, seed=5)
    model = train_model(records, seed=2)
    assert train_model(records, seed=2) == model
    clusters = cluster_of(resolve(records, model).clusters)
    precision, recall = _pairwise(truth, [clusters[r] for r in records.column("record_id").to_pylist()])
    assert precision >= 0.99
    assert recall >= 0.95
