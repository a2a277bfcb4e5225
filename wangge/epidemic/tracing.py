"""Contact tracing over place scans: the pure core (no Django import).

Model: a scan is a point in time, a row (person_id, place, at) with `at` a
naive local TIMESTAMP. Two people are in contact when they scanned at the
same place, scan times within the overlap (|Δt| ≤ Rules.overlap_minutes).
How long anyone stayed is not known from a scan and is not modelled.

- First degree: the index's own scans inside its exposure window
  [start, end] (both ends included) against every scan.
- Second degree: each first-degree contact's scans from its first contact
  time to that time + second_window_days, against every scan.
- Index people (anyone listed in `indexes`) are never returned as contacts,
  and nobody is second degree for an index they are first degree for.

Each contact comes back once per (person, index, degree) with its earliest
evidence (ordered by the contact's scan time, then the other side's scan
time, place, via) and `times`, the number of its distinct scans that made a
contact. Household members are not traced here: they come from the registry,
in the Django side of wangge.epidemic.

Scans with a NULL person, place or time are skipped; `count_skipped` says how
many. No order is assumed in the files.

`trace` runs in DuckDB; `trace_naive` is the same rules in per-row Python, the
benchmark's anchor and the tests' oracle, so the two must agree exactly.
"""

# ruff: noqa: S608 -- SQL is assembled from fixed fragments; values go in as parameters
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

Scans = str | Path | list[Path]
Row = tuple[int | None, str | None, datetime | None]
# (at, index_at, place, via): the order "earliest evidence" is taken in.
_Evidence = tuple[datetime, datetime, str, int | None]

# DuckDB reads a Parquet file in parallel by row group, so a 1M-row file
# still gets two; smaller groups were slower (122,880 rows: 0.8 s against
# 0.42 s for first degree over 10M scans, bench/tracing.py).
ROW_GROUP_ROWS = 491_520


@dataclass(frozen=True)
class Index:
    person_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rules:
    overlap_minutes: float = 15


@dataclass(frozen=True)
class Contact:
    """`at` is the contact's scan; `index_at` the other side's scan (the
    index's for degree 1, the `via` contact's for degree 2)."""

    person_id: int
    index_id: int
    degree: int
    place: str
    at: datetime
    index_at: datetime
    via: int | None
    times: int


def _micros(minutes: float) -> int:
    # Both implementations compare against the same whole microseconds, so a
    # float overlap cannot round differently in SQL and in Python.
    return round(minutes * 60_000_000)


def _files(scans: Scans) -> list[str]:
    return [str(p) for p in scans] if isinstance(scans, list) else [str(scans)]


# --- DuckDB ------------------------------------------------------------------

_INDEXES = "_trace_indexes"
_FIRST = "_trace_first"


def _scans_sql() -> str:
    # Inlined at each use rather than a CTE: a CTE used twice may be
    # materialised, copying every scan into memory. "at" is quoted because
    # DuckDB 2.0 parses a bare `at` as a keyword.
    return ('(SELECT person_id, place, "at" FROM read_parquet($files) '
            'WHERE person_id IS NOT NULL AND place IS NOT NULL AND "at" IS NOT NULL)')


def _contacts_sql(seeds: str, exclude: str) -> str:
    """Everyone at a seed's place within the overlap, reduced to one row per
    (person, index) with the earliest evidence.

    The join is an equality hash join on place with the time band as a
    residual predicate: a pure band join without the equality took 20 s
    where this takes ~0.1 s (the performance issue's figures).
    `seeds` has (index_id, via, place, at); `exclude` filters the pairs."""
    return f"""
    WITH seeds AS ({seeds}),
    pairs AS (
      SELECT o.person_id, e.index_id, o.place, o."at", e."at" AS index_at, e.via
      FROM seeds e JOIN {_scans_sql()} o
        ON o.place = e.place
       AND o."at" BETWEEN e."at" - $overlap AND e."at" + $overlap
      WHERE o.person_id NOT IN (SELECT person_id FROM {_INDEXES}) {exclude})
    SELECT person_id, index_id, ev."at", ev.index_at, ev.place, ev.via, times
    FROM (SELECT person_id, index_id,
                 min({{'at': "at", 'index_at': index_at, 'place': place, 'via': via}}) AS ev,
                 count(DISTINCT (place, "at")) AS times
          FROM pairs GROUP BY person_id, index_id)
    """


def first_degree_sql() -> str:
    seeds = f"""
      SELECT DISTINCT i.person_id AS index_id, NULL::BIGINT AS via, s.place, s."at"
      FROM {_scans_sql()} s JOIN {_INDEXES} i
        ON s.person_id = i.person_id AND s."at" BETWEEN i.start_at AND i.end_at"""
    return _contacts_sql(seeds, "")


def second_degree_sql() -> str:
    seeds = f"""
      SELECT DISTINCT f.index_id, f.person_id AS via, s.place, s."at"
      FROM {_scans_sql()} s JOIN {_FIRST} f
        ON s.person_id = f.person_id AND s."at" BETWEEN f."at" AND f."at" + $window"""
    exclude = f"""AND NOT EXISTS (SELECT 1 FROM {_FIRST} f
                      WHERE f.person_id = o.person_id AND f.index_id = e.index_id)"""
    return _contacts_sql(seeds, exclude)


def _indexes_table(indexes: list[Index]) -> pa.Table:
    return pa.table({
        "person_id": pa.array([i.person_id for i in indexes], pa.int64()),
        "start_at": pa.array([i.start for i in indexes], pa.timestamp("us")),
        "end_at": pa.array([i.end for i in indexes], pa.timestamp("us")),
    })


def _contacts(rows: list[tuple[Any, ...]], degree: int) -> list[Contact]:
    return [Contact(person_id=p, index_id=i, degree=degree, place=place, at=at, index_at=index_at,
                    via=via, times=times)
            for p, i, at, index_at, place, via, times in rows]


def trace(scans: Scans, indexes: list[Index], rules: Rules, *, second_degree: bool = False,
          second_window_days: float = 2,
          con: duckdb.DuckDBPyConnection | None = None) -> list[Contact]:
    """Contacts of `indexes` in the Parquet file(s) `scans` (a path, a glob or
    a list), sorted by index, degree, time and person."""
    if not indexes:
        return []
    con = con or duckdb.connect()
    params: dict[str, Any] = {"files": _files(scans),
                              "overlap": timedelta(microseconds=_micros(rules.overlap_minutes))}
    # Registered views live on the caller's connection: always take them away.
    registered = [_INDEXES]
    con.register(_INDEXES, _indexes_table(indexes))
    try:
        found = _contacts(con.execute(first_degree_sql(), params).fetchall(), 1)
        if second_degree and found:
            first = pa.table({"person_id": pa.array([c.person_id for c in found], pa.int64()),
                              "index_id": pa.array([c.index_id for c in found], pa.int64()),
                              "at": pa.array([c.at for c in found], pa.timestamp("us"))})
            registered.append(_FIRST)
            con.register(_FIRST, first)
            window = timedelta(microseconds=_micros(second_window_days * 24 * 60))
            found += _contacts(con.execute(second_degree_sql(), {**params, "window": window})
                               .fetchall(), 2)
    finally:
        for name in registered:
            con.unregister(name)
    return sorted(found, key=_order)


def count_skipped(scans: Scans, con: duckdb.DuckDBPyConnection | None = None) -> int:
    """Scans `trace` ignores for a NULL person, place or time."""
    con = con or duckdb.connect()
    sql = ('SELECT count(*) FROM read_parquet($files) '
           'WHERE person_id IS NULL OR place IS NULL OR "at" IS NULL')
    row = con.execute(sql, {"files": _files(scans)}).fetchone()
    return int(row[0]) if row else 0


def _order(c: Contact) -> tuple[int, int, datetime, int]:
    return (c.index_id, c.degree, c.at, c.person_id)


# --- per-row Python -----------------------------------------------------------------


class _Found:
    """Earliest evidence and distinct contact scans per (person, index)."""

    def __init__(self) -> None:
        self.best: dict[tuple[int, int], _Evidence] = {}
        self.scans: dict[tuple[int, int], set[tuple[str, datetime]]] = defaultdict(set)

    def add(self, person: int, index: int, ev: _Evidence) -> None:
        key = (person, index)
        if key not in self.best or ev < self.best[key]:
            self.best[key] = ev
        self.scans[key].add((ev[2], ev[0]))

    def contacts(self, degree: int) -> list[Contact]:
        return [Contact(person_id=p, index_id=i, degree=degree, place=place, at=at,
                        index_at=index_at, via=via, times=len(self.scans[(p, i)]))
                for (p, i), (at, index_at, place, via) in self.best.items()]


def _group(rows: Iterable[Row]) -> tuple[dict[str, list[tuple[datetime, int]]],
                                        dict[int, list[tuple[str, datetime]]]]:
    by_place: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    by_person: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for person, place, at in rows:
        if person is None or place is None or at is None:
            continue
        by_place[place].append((at, person))
        by_person[person].append((place, at))
    return by_place, by_person


def _meet(seeds: Iterable[tuple[int, int | None, str, datetime]],
          by_place: dict[str, list[tuple[datetime, int]]], overlap: timedelta,
          skip: Callable[[int, int], bool]) -> _Found:
    """Compare each seed scan with every scan at its place; `skip(person,
    index)` says who may not be a contact."""
    found = _Found()
    for index, via, place, seed_at in seeds:
        for at, person in by_place.get(place, ()):
            if abs(at - seed_at) <= overlap and not skip(person, index):
                found.add(person, index, (at, seed_at, place, via))
    return found


def trace_naive(rows: Iterable[Row], indexes: list[Index], rules: Rules,
                second_degree: bool = False, second_window_days: float = 2) -> list[Contact]:
    """`trace` in plain Python over (person_id, place, at) rows."""
    by_place, by_person = _group(rows)
    overlap = timedelta(microseconds=_micros(rules.overlap_minutes))
    index_people = {i.person_id for i in indexes}
    seeds = {(i.person_id, None, place, at) for i in indexes
             for place, at in by_person.get(i.person_id, ()) if i.start <= at <= i.end}
    first = _meet(seeds, by_place, overlap, lambda p, _i: p in index_people)
    found = first.contacts(1)
    if second_degree:
        window = timedelta(microseconds=_micros(second_window_days * 24 * 60))
        seeds2 = {(i, p, place, at) for (p, i), ev in first.best.items()
                  for place, at in by_person[p] if ev[0] <= at <= ev[0] + window}
        found += _meet(seeds2, by_place, overlap,
                       lambda p, i: p in index_people or (p, i) in first.best).contacts(2)
    return sorted(found, key=_order)


# --- files ---------------------------------------------------------------------


def write_scans(rows: Iterable[Row] | pa.Table, path: str | Path) -> Path:
    """Write scans to Parquet sorted by (place, at), uncompressed.

    Sorting puts each place's scans in a few row groups, so min/max
    statistics let a place filter (or DuckDB's join filter from the small seed
    side) skip the rest, and the place column's dictionary codes form long
    runs. No compression: random person ids and times barely shrink (files
    ~25 % larger than snappy) and decoding was a third of first-degree time."""
    if isinstance(rows, pa.Table):
        table = rows
    else:
        listed = list(rows)
        person, place, at = zip(*listed, strict=True) if listed else ((), (), ())
        table = pa.table({"person_id": pa.array(person, pa.int64()),
                          "place": pa.array(place, pa.string()),
                          "at": pa.array(at, pa.timestamp("us"))})
    table = table.sort_by([("place", "ascending"), ("at", "ascending")])
    pq.write_table(table, path, row_group_size=ROW_GROUP_ROWS, compression="none")
    return Path(path)
