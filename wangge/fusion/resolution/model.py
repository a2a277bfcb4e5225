"""The trained model: Splink settings with m/u parameters, and the two thresholds.

The prior (`probability_two_random_records_match`) is not stored as such: what
carries over from one data set to another is how many other records of the
same person a record has, not the chance for two random records of a table of
whatever size. The model keeps `matches_per_record` and the prior is derived
from the size of the table being resolved.
"""

# ruff: noqa: S608 -- SQL is built from table names and numbers; data goes in as Arrow
from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb
import numpy as np
import pyarrow as pa

from wangge.fusion.resolution.features import build_features, register_records
from wangge.fusion.resolution.settings import TRAINING_RULES, untrained_settings

if TYPE_CHECKING:
    from splink import Linker
    from splink.internals.splink_dataframe import SplinkDataFrame

DEFAULT_MODEL_PATH = Path(__file__).with_name("default_model.json")
FORMAT_VERSION = 1

# EM drives an m or u to 0 when a level never occurs among its pairs, and a
# zero lets one comparison veto everything else. Training data (synthetic or
# not) never shows every way a clerk can get a field wrong, so no disagreement
# counts for more than "one record in a thousand of the same person looks like
# this" (about -10 bits for gender or birth date), while agreement can be as
# telling as the data says.
M_FLOOR = 1e-3
U_FLOOR = 1e-6

Progress = Callable[[str, int, int], None]


@dataclass
class Model:
    """Splink settings with trained m/u values, and the decision thresholds.

    A pair scoring at least `match_threshold` is the same person; between
    `review_threshold` and `match_threshold` it goes to a human."""

    settings: dict[str, Any]
    match_threshold: float = 0.99
    review_threshold: float = 0.5
    matches_per_record: float = 2.0
    trained_on: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def prior(self, n_records: int) -> float:
        """Probability that two random records of an n-record table match."""
        return min(0.5, self.matches_per_record / max(1, n_records - 1))

    def settings_for(self, n_records: int) -> dict[str, Any]:
        settings = json.loads(json.dumps(self.settings))
        settings["probability_two_random_records_match"] = self.prior(n_records)
        settings.pop("linker_uid", None)
        return settings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"model format {data.get('version')} is not {FORMAT_VERSION}")
        return cls(**data)


def load_model(path: Path | None = None) -> Model:
    with open(path or DEFAULT_MODEL_PATH, encoding="utf-8") as f:
        return Model.from_dict(json.load(f))


def save_model(model: Model, path: Path) -> None:
    path.write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"set threads = {int(threads)}")
    # Insertion order is what makes the feature table and every later step
    # deterministic; DuckDB keeps it by default but say so.
    con.execute("set preserve_insertion_order = true")
    return con


def linker_for(con: duckdb.DuckDBPyConnection, settings: dict[str, Any],
               table: str = "features", *others: str) -> tuple[Linker, list[SplinkDataFrame]]:
    """A Linker over `table`, and `others` registered with the same database
    API for predict_between/predict_within. Splink is imported here: it takes
    a second, and importing this package should not."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(con)
    frames = [db_api.register(name) for name in (table, *others)]
    return Linker(frames[0], settings, log_level=None), frames


def train_model(records: pa.Table, *, seed: int = 1, progress: Progress | None = None,
                u_pairs: float = 5e6, threads: int | None = None) -> Model:
    """Estimate m and u: u by random sampling (seeded), m by EM on pairs from
    several blocking rules, each rule leaving the comparisons it does not use
    free to be estimated. The prior is then fitted to the blocked pairs."""
    con = connect(threads)
    register_records(con, records, "records_in")
    _report(progress, "features", 0, 3)
    build_features(con, "records_in")
    n = _count(con, "features")
    linker, _ = linker_for(con, untrained_settings())
    _report(progress, "u", 1, 3)
    with quiet_splink():
        linker.training.estimate_u_using_random_sampling(
            max_pairs=u_pairs, seed=seed, min_count_per_level=None, num_chunks=1)
        _report(progress, "em", 2, 3)
        for rule in TRAINING_RULES:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True)
    settings = cast(dict[str, Any], linker.misc.save_model_to_json())
    codes_unseen = "m_probability" not in _level(settings, "address", "same library room")
    settings = _floored(settings)
    if codes_unseen:
        # A table without library room codes still yields a model that uses
        # them: as telling as the same room spelled out.
        _level(settings, "address", "same library room").update(
            {k: _level(settings, "address", "same room")[k]
             for k in ("m_probability", "u_probability")})
    prior = _estimate_prior(con, settings, n)
    settings["probability_two_random_records_match"] = prior  # for n records; see Model.prior
    _report(progress, "done", 3, 3)
    return Model(settings=_rounded(settings), matches_per_record=_round(prior * (n - 1)),
                 trained_on={"records": n, "seed": seed})


def _round(x: float) -> float:
    """Parallel sums differ in the last bits from run to run; ten significant
    digits make the same seed give the same file."""
    return float(f"{x:.10g}")


def _rounded(settings: dict[str, Any]) -> dict[str, Any]:
    settings["probability_two_random_records_match"] = _round(
        settings["probability_two_random_records_match"])
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if key in level:
                    level[key] = _round(level[key])
    return settings


def _estimate_prior(con: duckdb.DuckDBPyConnection, settings: dict[str, Any], n: int) -> float:
    """EM for the prior alone, over the pairs prediction will block: each pair's
    Bayes factor is fixed by the trained m/u, and the prior is the expected
    share of matches among all n(n-1)/2 pairs. The blocking rules are built to
    catch nearly every match, so pairs outside them are counted as non-matches.
    (Splink's own estimate reverses the training rules' Bayes factors, which
    with a near-certain rule like "same ID" is off by orders of magnitude.)"""
    start = 1e-4
    settings = {**settings, "probability_two_random_records_match": start}
    linker, _ = linker_for(con, settings)
    with quiet_splink():
        predictions = linker.inference.predict(warning_mode="never")
    log2_bf = con.sql(f"select match_weight from {predictions.physical_name}").fetchnumpy()
    bits = np.asarray(log2_bf["match_weight"], dtype=np.float64) - np.log2(start / (1 - start))
    total_pairs = n * (n - 1) / 2
    prior = start
    for _ in range(100):
        odds = prior / (1 - prior)
        expected = float(np.sum(1.0 / (1.0 + np.exp2(-bits) / odds)))
        new_prior = min(0.5, max(expected / total_pairs, 1e-12))
        if abs(new_prior - prior) <= 1e-4 * prior:
            return new_prior
        prior = new_prior
    return prior


def _level(settings: dict[str, Any], comparison: str, label: str) -> dict[str, Any]:
    levels = next(c["comparison_levels"] for c in settings["comparisons"]
                  if c["output_column_name"] == comparison)
    return next(lv for lv in levels if lv.get("label_for_charts") == label)


def _floored(settings: dict[str, Any]) -> dict[str, Any]:
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for level in levels:
            # Levels training never saw get a floor, not Splink's neutral default.
            m = float(level.get("m_probability", 0.0))
            u = max(U_FLOOR, float(level.get("u_probability", 0.0)))
            # Only evidence against a match is capped, and capping never turns
            # it into evidence for one (a level seen neither among matches nor
            # among non-matches ends up neutral).
            level["m_probability"] = min(u, max(M_FLOOR, m)) if m < u else m
            level["u_probability"] = u
        for key in ("m_probability", "u_probability"):
            total = sum(lv[key] for lv in levels)
            for level in levels:
                level[key] /= total
    settings.pop("linker_uid", None)
    return settings


@contextlib.contextmanager
def quiet_splink() -> Iterator[None]:
    """Splink logs a paragraph per step at INFO; keep that out of the caller's log."""
    log = logging.getLogger("splink")
    before = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(before)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.sql(f"select count(*) from {table}").fetchall()[0][0])


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
