"""Entity resolution on the demo population's department records.

Figures: pairwise precision, recall and F1 against the generator's person_id,
wall time and peak memory, for wangge's resolver (the shipped default model)
and, in the same run on the same records, two anchors:

- exact: union–find on the normalised ID number, or on name + phone;
- splink: Splink with generic documented settings (raw names, standard
  comparisons and blocking, no Chinese normalisation), trained by EM the usual
  way: u by random sampling, m by EM on two blocking rules.

Each system runs in its own subprocess, so its wall time (from records in
memory to clusters, model loading and imports included) and ru_maxrss are its
own; the parent only generates the records and scores the clusters.

    python -m bench.fusion --records 100000
    python -m bench.fusion --records 1000000
    python -m bench.fusion --records 1000000 --train-default wangge/fusion/resolution/default_model.json
"""

# ruff: noqa: S608 -- SQL is built from table names and numbers; data goes in as Arrow
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import emit, machine

SEED = 20261123
# The departments hold about 3.4 records per person; with a population a third
# the size of the record count, nine people in ten appear at least once.
RECORDS_PER_PERSON = 3
SYSTEMS = ("wangge", "exact", "splink")
COLUMNS = ("record_id", "source", "name", "id_number", "phone", "birth_date", "gender", "address")
ANCHORS = {"exact": "exact ID or name+phone (union-find)",
           "splink": "Splink, generic settings, EM-trained"}


# --- records -----------------------------------------------------------------


def generate(n_records: int, seed: int, path: Path) -> int:
    """Write the noisy records with their person_id; returns the people count."""
    from wangge.demo import noisy, population

    n_people = max(10, n_records // RECORDS_PER_PERSON)
    pop = population.generate_population(n_people, seed)
    columns: dict[str, list[str]] = {c: [] for c in (*COLUMNS, "person_id")}
    for row in noisy.noisy_records(pop, n_records, seed + 1):
        for c, values in columns.items():
            values.append(str(row.get(c) or ""))
    pq.write_table(pa.table(columns), path)
    return n_people


# --- the systems, each run in a worker process -----------------------------------


def run_wangge(records: pa.Table, threads: int) -> pa.Table:
    from wangge.fusion.resolution import load_model, resolve

    return resolve(records, load_model(), threads=threads).clusters


def run_exact(records: pa.Table, threads: int) -> pa.Table:
    """The rule a clerk would write: same ID number (normalised), or same name
    and phone."""
    from wangge.core.identity import normalize_id_number, normalize_phone
    from wangge.fusion.resolution.cluster import components

    ids = [normalize_id_number(v) for v in records.column("id_number").to_pylist()]
    phones = [normalize_phone(v) for v in records.column("phone").to_pylist()]
    names = [v.strip() for v in records.column("name").to_pylist()]
    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    con.register("r", pa.table({
        "record_id": records.column("record_id"), "id": ids,
        "np": [f"{n}|{p}" if n and p else "" for n, p in zip(names, phones, strict=True)]}))
    con.execute("create table nodes as select record_id, (row_number() over (order by record_id)"
                " - 1)::bigint as node, id, np from r")
    edges = con.sql("""
        select min(node) over (partition by id) as a, node as b from nodes where id <> ''
        union all
        select min(node) over (partition by np), node from nodes where np <> ''""").fetchnumpy()
    record_ids = con.sql("select record_id from nodes order by node").fetchnumpy()["record_id"]
    labels = components(len(record_ids), edges["a"].astype("int64"), edges["b"].astype("int64"))
    return pa.table({"record_id": pa.array(record_ids, pa.string()),
                     "cluster_id": pa.array(record_ids[labels], pa.string())})


def run_splink(records: pa.Table, threads: int) -> pa.Table:
    """Splink as its tutorials set it up, on the columns as they come."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    con.register("raw", records)
    con.execute("create table records as select " + ", ".join(
        f"nullif(trim({c}), '') as {c}" for c in COLUMNS) + " from raw")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.ExactMatch("id_number"),
            cl.JaroWinklerAtThresholds("name", [0.9, 0.8]),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("phone"),
            cl.LevenshteinAtThresholds("address", [2, 5]),
            cl.ExactMatch("gender"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name", "birth_date"),
            block_on("phone"),
            block_on("name", "address"),
        ],
        retain_matching_columns=False,
    )
    linker = Linker(DuckDBAPI(con).register("records"), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number"), block_on("name", "birth_date")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name", "birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    return con.sql(f"select record_id, cluster_id::varchar as cluster_id "
                   f"from {clusters.physical_name}").to_arrow_table()


RUNNERS: dict[str, Callable[[pa.Table, int], pa.Table]] = {
    "wangge": run_wangge, "exact": run_exact, "splink": run_splink}


def worker(system: str, in_path: Path, out_path: Path, threads: int) -> None:
    records = pq.read_table(in_path, columns=list(COLUMNS))
    start = time.perf_counter()
    clusters = RUNNERS[system](records, threads)
    seconds = time.perf_counter() - start
    pq.write_table(clusters.select(["record_id", "cluster_id"]), out_path)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}), flush=True)


def run_system(system: str, data: Path, out: Path, threads: int) -> dict[str, float]:
    cmd = [sys.executable, "-m", "bench.fusion", "--worker", system, "--input", str(data),
           "--output", str(out), "--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{system} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the shipped model ----------------------------------------------------------------

TRAINING_SEED_OFFSET = 1000  # the default model never sees the benchmark's records


def train_default(n_records: int, seed: int, path: Path) -> None:
    """How wangge/fusion/resolution/default_model.json was made:
    python -m bench.fusion --records 1000000 --train-default <path>"""
    from wangge.fusion.resolution import save_model, train_model

    with tempfile.TemporaryDirectory(prefix="bench-fusion-") as tmp:
        data = Path(tmp) / "records.parquet"
        generate(n_records, seed, data)
        records = pq.read_table(data, columns=list(COLUMNS))
    start = time.perf_counter()
    model = train_model(records, seed=1)
    model.trained_on.update({"generator": "wangge.demo.noisy", "generator_seed": seed})
    save_model(model, path)
    emit("fusion.train_seconds", time.perf_counter() - start, "s", records=n_records)


# --- scoring -----------------------------------------------------------------------


def pairwise_scores(truth: Path, clusters: Path) -> dict[str, float]:
    """Precision, recall and F1 over all record pairs put together by the
    truth and by the clustering."""
    con = duckdb.connect()
    row = con.sql(f"""
        with j as (
            select t.person_id, c.cluster_id
            from read_parquet('{truth}') t join read_parquet('{clusters}') c using (record_id)),
        both_ as (select count(*) n from j group by person_id, cluster_id),
        predicted as (select count(*) n from j group by cluster_id),
        actual as (select count(*) n from j group by person_id)
        select (select sum(n * (n - 1) / 2) from both_),
               (select sum(n * (n - 1) / 2) from predicted),
               (select sum(n * (n - 1) / 2) from actual),
               (select count(distinct cluster_id) from j)""").fetchall()[0]
    tp, predicted, actual, n_clusters = (float(v or 0) for v in row)
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "clusters": n_clusters}


def report(results: dict[str, dict[str, float]], n_records: int, n_people: int) -> None:
    ours = results["wangge"]
    figures: list[tuple[str, str, str, bool]] = [
        ("f1", "f1", "F1", True), ("precision", "precision", "precision", True),
        ("recall", "recall", "recall", True), ("seconds", "seconds", "s", False),
        ("peak_memory", "peak_mb", "MB", False)]
    for anchor, label in ANCHORS.items():
        theirs = results[anchor]
        for name, key, unit, higher in figures:
            emit(f"fusion.{name}.vs_{anchor}", ours[key], unit, anchor=label,
                 anchor_value=theirs[key], higher_is_better=higher, records=n_records)
    emit("fusion.clusters", ours["clusters"], "clusters", records=n_records, people=n_people,
         exact=results["exact"]["clusters"], splink=results["splink"]["clusters"], **machine())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--quick", action="store_true", help="10,000 records")
    parser.add_argument("--train-default", type=Path, metavar="PATH",
                        help="train on --records records of another seed and save the model")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.input, args.output, args.threads)
        return
    n_records = 10_000 if args.quick else args.records
    if args.train_default:
        train_default(n_records, args.seed + TRAINING_SEED_OFFSET, args.train_default)
        return
    systems = [s for s in args.systems.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="bench-fusion-") as tmp:
        data = Path(tmp) / "records.parquet"
        gen_s = time.perf_counter()
        n_people = generate(n_records, args.seed, data)
        gen_s = time.perf_counter() - gen_s
        results: dict[str, dict[str, Any]] = {}
        for system in systems:
            out = Path(tmp) / f"{system}.parquet"
            results[system] = run_system(system, data, out, args.threads)
            results[system].update(pairwise_scores(data, out))
            print(f"# {system}: {json.dumps(results[system])}", file=sys.stderr, flush=True)
        print(f"# generated {n_records} records in {gen_s:.1f}s", file=sys.stderr)
    if set(SYSTEMS) <= set(results):
        report(results, n_records, n_people)


if __name__ == "__main__":
    main()
