"""Contact tracing over place scans (wangge.epidemic.tracing).

Figures: first- and second-degree trace time for 100 index cases with 3-day
windows, read from Parquet (10,000,000 scans by default, fixed seed; target
< 5 s on 2 cores). Anchor: `trace_naive`, the per-row Python version; 10M scans as
Python tuples take several GB and minutes to load, so it is measured at 1,000,000
scans (people and places scaled to keep the same density), where DuckDB is
timed too: the ratios compare equal sizes, and `tracing_agrees` says whether
both returned exactly the same contacts there.

The scans: ~1 person per 10 scans, ~1 place per 200 scans with lognormal
popularity (a few busy places, a long quiet tail), 14 days, daytime-heavy.
DuckDB's time includes reading Parquet; the anchor's excludes loading the rows
into Python. Every time is the median of 3 runs (the first, cold, run is
reported too). No Django.

    python -m bench.tracing [--scans 10000000] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import emit, machine, timed
from wangge.epidemic.tracing import Index, Rules, trace, trace_naive, write_scans

SEED = 20260302
START = np.datetime64("2026-03-02T00:00:00", "us")
DAYS = 14
CHUNK = 1_000_000
N_INDEXES = 100
ANCHOR_SCANS = 1_000_000
RULES = Rules(overlap_minutes=15)
HALF_WINDOW = timedelta(days=1.5)


def generate(n: int, seed: int, folder: Path) -> list[Index]:
    """Write `n` scans as Parquet files of CHUNK rows; returns 100 index cases,
    each a person seen at a random scan with a 3-day window around it."""
    rng = np.random.default_rng(seed)
    people, places = max(1_000, n // 10), max(100, n // 200)
    popularity = rng.lognormal(0.0, 1.5, places)
    names = pa.array([f"P{i:06d}" for i in range(places)])
    folder.mkdir(parents=True, exist_ok=True)
    indexes: dict[int, Index] = {}
    for k, lo in enumerate(range(0, n, CHUNK)):
        m = min(CHUNK, n - lo)
        person = rng.integers(0, people, m)
        minute = np.clip(rng.normal(14 * 60, 3.5 * 60, m), 6 * 60, 23 * 60)
        seconds = rng.integers(0, DAYS, m) * 86_400 + (minute * 60).astype(np.int64)
        at = START + seconds * 1_000_000
        place = names.take(pa.array(rng.choice(places, m, p=popularity / popularity.sum())))
        write_scans(pa.table({"person_id": person, "place": place, "at": at}),
                    folder / f"scans-{k:03d}.parquet")
        if k == 0:
            for row in rng.choice(m, N_INDEXES * 2, replace=False):
                middle = at[row].astype("datetime64[us]").item()
                indexes.setdefault(int(person[row]), Index(int(person[row]),
                                   middle - HALF_WINDOW, middle + HALF_WINDOW))
    return list(indexes.values())[:N_INDEXES]


def _rows(folder: Path) -> list[tuple[int, str, datetime]]:
    table = pq.read_table(folder)
    return list(zip(table["person_id"].to_pylist(), table["place"].to_pylist(),
                    table["at"].to_pylist(), strict=True))


def _median(fn: Callable[[], Any], runs: int = 3) -> tuple[float, float, Any]:
    """Median seconds of `runs` calls, the first (cold) call's seconds, and the
    result: the machine is shared, so one call is noisy."""
    times, result = [], None
    for _ in range(runs):
        seconds, result = timed(fn)
        times.append(seconds)
    return statistics.median(times), times[0], result


def run(n: int, seed: int, workdir: Path) -> None:
    gen_s, indexes = timed(lambda: generate(n, seed, workdir / "full"))
    glob = str(workdir / "full" / "*.parquet")
    emit("tracing_setup", n, "scans", indexes=len(indexes), generate_s=round(gen_s, 1), **machine())

    first_s, cold_s, first = _median(partial(trace, glob, indexes, RULES))
    emit("tracing_first_degree", first_s, "s", higher_is_better=False, scans=n,
         contacts=len(first), cold_s=round(cold_s, 3), source="parquet", target_s=0.3)
    both_s, cold_s, both = _median(partial(trace, glob, indexes, RULES, second_degree=True))
    emit("tracing_second_degree", both_s, "s", higher_is_better=False, scans=n,
         contacts_first=sum(c.degree == 1 for c in both),
         contacts_second=sum(c.degree == 2 for c in both), cold_s=round(cold_s, 3),
         note="both degrees, from parquet", target_s=5)

    small = workdir / "full" if n <= ANCHOR_SCANS else workdir / "anchor"
    small_indexes = indexes if n <= ANCHOR_SCANS else generate(ANCHOR_SCANS, seed + 1, small)
    size = min(n, ANCHOR_SCANS)
    rows = _rows(small)
    agrees = True
    for name, second in (("first", False), ("second", True)):
        fast_s, _, fast = _median(partial(trace, str(small / "*.parquet"), small_indexes, RULES,
                                          second_degree=second))
        slow_s, _, slow = _median(partial(trace_naive, rows, small_indexes, RULES,
                                          second_degree=second))
        agrees = agrees and fast == slow
        emit(f"tracing_{name}_degree_at_anchor_size", fast_s, "s", higher_is_better=False,
             anchor=f"trace_naive per-row Python at {size:,} scans", anchor_value=slow_s,
             scans=size, contacts=len(fast), note="DuckDB and anchor both measured at this size")
    emit("tracing_agrees", int(agrees), "bool", scans=size,
         note="trace == trace_naive, both degrees, exact")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.scans = 300_000
    with tempfile.TemporaryDirectory(prefix="wangge-tracing-") as tmp:
        run(args.scans, args.seed, Path(tmp))


if __name__ == "__main__":
    main()
