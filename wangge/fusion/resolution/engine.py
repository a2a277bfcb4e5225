"""Resolve a record table into people, from scratch or incrementally."""

# ruff: noqa: S608 -- SQL is built from table names and numbers; data goes in as Arrow
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from wangge.fusion.resolution.cluster import MUST, Graph, cluster
from wangge.fusion.resolution.features import build_features, register_records
from wangge.fusion.resolution.model import (
    Model,
    Progress,
    _count,
    _report,
    connect,
    linker_for,
    quiet_splink,
)

PAIR_SCHEMA = pa.schema([("record_id_l", pa.string()), ("record_id_r", pa.string()),
                         ("match_probability", pa.float64())])
CLUSTER_SCHEMA = pa.schema([("record_id", pa.string()), ("cluster_id", pa.string())])


@dataclass
class Resolution:
    """clusters: (record_id, cluster_id) for every input record (link_new: every
    new record); pairs: scored pairs at or above the review threshold;
    uncertain: those of them below the match threshold, minus pairs a human has
    already decided."""

    clusters: pa.Table
    pairs: pa.Table
    uncertain: pa.Table


def resolve(records: pa.Table, model: Model, *, must_link: Iterable[tuple[str, str]] = (),
            cannot_link: Iterable[tuple[str, str]] = (),
            progress: Progress | None = None, threads: int | None = None) -> Resolution:
    """Cluster `records` (RECORD_COLUMNS, optional address_code) into people.

    cluster_id is the smallest record_id of the cluster. Human decisions are
    constraints, not scores: a must-link pair is merged first, a cannot-link
    pair never shares a cluster; when a chain of matches would join it, the
    weakest edge of the chain is the one dropped (see `cluster`). `threads`
    caps DuckDB's threads (default: one per core)."""
    con = connect(threads)
    _report(progress, "features", 0, 3)
    register_records(con, records, "records_in")
    build_features(con, "records_in")
    n = _count(con, "features")
    _report(progress, "scoring", 1, 3)
    linker, _ = linker_for(con, model.settings_for(n))
    with quiet_splink():
        predictions = linker.inference.predict(
            threshold_match_probability=model.review_threshold, warning_mode="never")
    _load_decisions(con, must_link, cannot_link)
    con.execute(f"""create or replace temp table pairs as
        select record_id_l, record_id_r, match_probability from {predictions.physical_name}""")
    _report(progress, "clustering", 2, 3)
    clusters = _cluster_all(con, model)
    _report(progress, "done", 3, 3)
    return Resolution(clusters, *_pair_tables(con, model))


def link_new(new: pa.Table, existing: pa.Table, model: Model, *,
             must_link: Iterable[tuple[str, str]] = (),
             cannot_link: Iterable[tuple[str, str]] = (),
             progress: Progress | None = None, threads: int | None = None) -> Resolution:
    """Match `new` records against `existing` ones (RECORD_COLUMNS + cluster_id)
    and against each other, without rescoring existing pairs.

    Existing clusters are kept as they are: a new record joins at most one of
    them (the one it links to most strongly), and two existing clusters are
    never merged here, since that is a decision about old records; a full
    `resolve` makes it. New records that join no existing cluster form new
    clusters named by their smallest record_id. `clusters` lists new records
    only. Features are computed for the existing records too (they are not
    stored), but only pairs involving a new record are scored."""
    con = connect(threads)
    _report(progress, "features", 0, 3)
    register_records(con, pa.concat_tables([_records_only(new), _records_only(existing)],
                                           promote_options="permissive"), "records_in")
    build_features(con, "records_in")
    con.register("new_in", new.select(["record_id"]))
    con.register("existing_arrow", existing.select(["record_id", "cluster_id"]))
    con.execute("""
        -- An existing record without a cluster id is a cluster of its own.
        create or replace temp view existing_in as
            select record_id::varchar as record_id,
                   coalesce(nullif(trim(cluster_id::varchar), ''), record_id::varchar) as cluster_id
            from existing_arrow;
        create or replace table features_new as
            select f.* from features f semi join new_in n on n.record_id::varchar = f.record_id;
        create or replace table features_old as
            select f.* from features f semi join existing_in e on e.record_id = f.record_id;
    """)
    n = _count(con, "features")
    _report(progress, "scoring", 1, 3)
    pred_between, pred_within = _score_new(con, model, n)
    _load_decisions(con, must_link, cannot_link)
    con.execute(f"""create or replace temp table pairs as
        select record_id_l, record_id_r, match_probability from {pred_within}
        union all
        select least(record_id_l, record_id_r), greatest(record_id_l, record_id_r),
               match_probability from {pred_between}""")
    _report(progress, "clustering", 2, 3)
    clusters = _cluster_new(con, model)
    _report(progress, "done", 3, 3)
    return Resolution(clusters, *_pair_tables(con, model))


# --- scoring -------------------------------------------------------------------


def _score_new(con: duckdb.DuckDBPyConnection, model: Model, n: int) -> tuple[str, str]:
    """Pairs new × existing and new × new; existing × existing is never scored."""
    linker, (new, old) = linker_for(con, model.settings_for(n), "features_new", "features_old")
    with quiet_splink():
        between = linker.inference.predict_between(
            new, old, threshold_match_probability=model.review_threshold, warning_mode="never")
        within = linker.inference.predict_within(
            new, threshold_match_probability=model.review_threshold, warning_mode="never")
    return between.physical_name, within.physical_name


# --- human decisions -------------------------------------------------------------


def _load_decisions(con: duckdb.DuckDBPyConnection, must_link: Iterable[tuple[str, str]],
                    cannot_link: Iterable[tuple[str, str]]) -> None:
    for name, decided in (("must_link", must_link), ("cannot_link", cannot_link)):
        pairs = [(str(a), str(b)) for a, b in decided if a != b]
        table = pa.table({"a": pa.array([min(p) for p in pairs], pa.string()),
                          "b": pa.array([max(p) for p in pairs], pa.string())})
        con.register(f"{name}_in", table)
        con.execute(f"create or replace temp table {name} as select distinct a, b from {name}_in")


# --- clustering --------------------------------------------------------------------


def _cluster_all(con: duckdb.DuckDBPyConnection, model: Model) -> pa.Table:
    con.execute("""create or replace temp table nodes as
        select f.record_id, (row_number() over (order by f.record_id) - 1)::bigint as node,
               case when f.id_valid then f.id18 end as valid_id, r.pos
        from features f join records_in r using (record_id)""")
    index = con.sql("select record_id, pos from nodes order by node").fetchnumpy()
    record_ids = index["record_id"]
    graph = Graph(n=len(record_ids), **_edges(con, model), **_identities(con),
                  cannot=_node_pairs(con, "cannot_link"))
    labels = cluster(graph)
    in_input_order = np.argsort(index["pos"])
    return pa.table({"record_id": pa.array(record_ids[in_input_order], pa.string()),
                     "cluster_id": pa.array(record_ids[labels[in_input_order]], pa.string())},
                    schema=CLUSTER_SCHEMA)


def _cluster_new(con: duckdb.DuckDBPyConnection, model: Model) -> pa.Table:
    """Nodes: each new record, and each existing cluster as one fixed node."""
    con.execute("""
        create or replace temp table node_keys as
            select n.record_id as key, false as fixed, r.pos from features_new n
            join records_in r using (record_id)
            union all
            select distinct 'cluster:' || cluster_id, true, null from existing_in;
        -- Existing clusters take the lowest node numbers, so a group's smallest
        -- node is its existing cluster whenever it has one.
        create or replace temp table node_index as
            select key, fixed, pos,
                   (row_number() over (order by fixed desc, key) - 1)::bigint as node
            from node_keys;
        create or replace temp table nodes as
            with keyed as (
                select record_id, 'cluster:' || cluster_id as key from existing_in
                union all
                select record_id, record_id from features_new)
            select k.record_id, i.node, case when f.id_valid then f.id18 end as valid_id
            from keyed k join node_index i using (key) join features f using (record_id);
    """)
    index = con.sql("select key, fixed, pos from node_index order by node").fetchnumpy()
    fixed = np.asarray(index["fixed"], dtype=bool)
    graph = Graph(n=len(fixed), **_edges(con, model), **_identities(con), fixed=fixed,
                  cannot=_node_pairs(con, "cannot_link"))
    labels = cluster(graph)
    keys = np.array([k.removeprefix("cluster:") for k in index["key"].astype(str)], dtype=object)
    new_nodes = np.flatnonzero(~fixed)
    new_nodes = new_nodes[np.argsort(np.asarray(index["pos"])[new_nodes].astype(np.int64))]
    return pa.table({"record_id": pa.array(keys[new_nodes], pa.string()),
                     "cluster_id": pa.array(keys[labels[new_nodes]], pa.string())},
                    schema=CLUSTER_SCHEMA)


def _identities(con: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    rows = con.sql("""select distinct node, dense_rank() over (order by valid_id) as code
                      from nodes where valid_id is not null""").fetchnumpy()
    return {"id_nodes": _int64(rows, "node"), "id_codes": _int64(rows, "code")}


def _edges(con: duckdb.DuckDBPyConnection, model: Model) -> dict[str, np.ndarray]:
    # No ordering here: `cluster` sorts the edges it needs to, and connected
    # components do not depend on order.
    edges = con.sql(f"""
        with scored as (
            select record_id_l as a, record_id_r as b, match_probability as w from pairs
            where match_probability >= {model.match_threshold}
              and not exists (select 1 from cannot_link c
                              where c.a = record_id_l and c.b = record_id_r)
            union all
            select a, b, {MUST} from must_link
        )
        select l.node as left, r.node as right, w as weight
        from scored s join nodes l on l.record_id = s.a join nodes r on r.record_id = s.b
        where l.node <> r.node""").fetchnumpy()
    return {"left": _int64(edges, "left"), "right": _int64(edges, "right"),
            "weight": np.asarray(edges["weight"], dtype=np.float64)}


def _node_pairs(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[int, int]]:
    rows = con.sql(f"""select distinct l.node, r.node from {table} t
        join nodes l on l.record_id = t.a join nodes r on r.record_id = t.b
        where l.node <> r.node""").fetchall()
    return [(int(a), int(b)) for a, b in rows]


def _int64(columns: dict[str, Any], name: str) -> np.ndarray:
    return np.asarray(columns[name], dtype=np.int64)


# --- outputs ---------------------------------------------------------------------


def _pair_tables(con: duckdb.DuckDBPyConnection, model: Model) -> tuple[pa.Table, pa.Table]:
    pairs = con.sql("""select record_id_l, record_id_r, match_probability from pairs
                       order by record_id_l, record_id_r""").to_arrow_table().cast(PAIR_SCHEMA)
    uncertain = con.sql(f"""
        select p.record_id_l, p.record_id_r, p.match_probability from pairs p
        where p.match_probability < {model.match_threshold}
          and not exists (select 1 from must_link m where m.a = p.record_id_l and m.b = p.record_id_r)
          and not exists (select 1 from cannot_link c
                          where c.a = p.record_id_l and c.b = p.record_id_r)
        order by p.match_probability desc, p.record_id_l, p.record_id_r
    """).to_arrow_table().cast(PAIR_SCHEMA)
    return pairs, uncertain


def _records_only(table: pa.Table) -> pa.Table:
    keep = [c for c in table.column_names if c != "cluster_id"]
    return table.select(keep).cast(pa.schema([(c, pa.string()) for c in keep]))
