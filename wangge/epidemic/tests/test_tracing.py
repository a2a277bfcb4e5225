"""Contact tracing core: a hand-worked scenario, and DuckDB against the
per-row Python oracle on random scans. No database, no Django."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from wangge.epidemic.tracing import (
    Contact,
    Index,
    Rules,
    count_skipped,
    trace,
    trace_naive,
    write_scans,
)

DAY1 = datetime(2026, 3, 2)
IDX, A, B, C, D, E, F = 1, 2, 3, 4, 5, 6, 7


def at(day: int, hh: int, mm: int) -> datetime:
    return DAY1 + timedelta(days=day - 1, hours=hh, minutes=mm)


SCENARIO = [
    (IDX, "P", at(1, 10, 0)),
    (A, "P", at(1, 10, 10)),   # 10 min after: contact
    (B, "P", at(1, 10, 40)),   # 40 min after: no
    (C, "Q", at(1, 10, 5)),    # other place: no
    (F, "P", at(1, 9, 45)),    # exactly the overlap before: contact
    (A, "R", at(2, 9, 0)),
    (D, "R", at(2, 9, 5)),     # with A the next day: second degree via A
    (IDX, "S", at(3, 12, 0)),  # outside the index's window
    (E, "S", at(3, 12, 0)),
]
WINDOW = Index(IDX, at(1, 8, 0), at(1, 20, 0))


def contact(person, degree, place, when, other, via=None, times=1) -> Contact:
    return Contact(person_id=person, index_id=IDX, degree=degree, place=place, at=when,
                   index_at=other, via=via, times=times)


def test_hand_made_scenario_matches_worked_answer(tmp_path):
    path = write_scans(SCENARIO, tmp_path / "scans.parquet")
    expected = [
        contact(F, 1, "P", at(1, 9, 45), at(1, 10, 0)),
        contact(A, 1, "P", at(1, 10, 10), at(1, 10, 0)),
        contact(D, 2, "R", at(2, 9, 5), at(2, 9, 0), via=A),
    ]
    got = trace(path, [WINDOW], Rules(overlap_minutes=15), second_degree=True)
    assert got == expected
    assert trace_naive(SCENARIO, [WINDOW], Rules(overlap_minutes=15), second_degree=True) == expected


def test_first_degree_only_without_second_degree(tmp_path):
    path = write_scans(SCENARIO, tmp_path / "scans.parquet")
    assert {c.person_id for c in trace(path, [WINDOW], Rules())} == {A, F}


def test_second_degree_window_starts_at_the_first_contact(tmp_path):
    path = write_scans(SCENARIO, tmp_path / "scans.parquet")
    # A met D 22 h 50 min after meeting the index: outside a 0.5-day window.
    got = trace(path, [WINDOW], Rules(), second_degree=True, second_window_days=0.5)
    assert D not in {c.person_id for c in got}


def test_other_index_people_are_never_contacts(tmp_path):
    rows = [*SCENARIO, (A, "P", at(1, 10, 12))]  # A twice at P: counted twice
    path = write_scans(rows, tmp_path / "scans.parquet")
    indexes = [WINDOW, Index(A, at(5, 0, 0), at(6, 0, 0))]
    got = trace(path, indexes, Rules(), second_degree=True)
    assert A not in {c.person_id for c in got}
    assert got == trace_naive(rows, indexes, Rules(), second_degree=True)
    one = trace(path, [WINDOW], Rules())
    assert [(c.person_id, c.times) for c in one] == [(F, 1), (A, 2)]


def test_null_rows_are_skipped_and_counted(tmp_path):
    rows = [*SCENARIO, (None, "P", at(1, 10, 1)), (8, None, at(1, 10, 1)), (9, "P", None)]
    path = write_scans(rows, tmp_path / "scans.parquet")
    assert count_skipped(path) == 3
    got = trace(path, [WINDOW], Rules(), second_degree=True)
    assert got == trace(write_scans(SCENARIO, tmp_path / "clean.parquet"), [WINDOW], Rules(),
                        second_degree=True)
    assert got == trace_naive(rows, [WINDOW], Rules(), second_degree=True)


def _random_scans(seed: int, n: int) -> list[tuple[int, str, datetime]]:
    rng = random.Random(seed)
    # Whole minutes make |Δt| == overlap common, so the band's ends are tested.
    return [(rng.randrange(300), f"place{rng.randrange(40):02d}",
             DAY1 + timedelta(minutes=rng.randrange(4 * 24 * 60))) for _ in range(n)]


def test_trace_equals_naive_on_random_scans(tmp_path):
    rows = _random_scans(20260302, 5_000)
    rng = random.Random(7)
    indexes = [Index(p, DAY1 + timedelta(hours=h), DAY1 + timedelta(hours=h + 48))
               for p, h in zip(rng.sample(range(300), 5), [0, 12, 24, 30, 47], strict=True)]
    # Two files, one sorted and one not: no order may be assumed.
    write_scans(rows[:2_500], tmp_path / "a.parquet")
    shuffled = rows[2_500:]
    rng.shuffle(shuffled)
    person, place, when = zip(*shuffled, strict=True)
    pq.write_table(pa.table({"person_id": pa.array(person, pa.int64()), "place": place,
                             "at": pa.array(when, pa.timestamp("us"))}), tmp_path / "b.parquet")
    rules = Rules(overlap_minutes=15)
    got = trace(str(tmp_path / "*.parquet"), indexes, rules, second_degree=True)
    assert got == trace_naive(rows, indexes, rules, second_degree=True)
    degrees = [c.degree for c in got]
    assert degrees.count(1) > 20 and degrees.count(2) > 20
    assert any(c.times > 1 for c in got)
