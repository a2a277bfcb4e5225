"""The monthly score of a grid worker, from counts to points. Pure module.

Each part is a share (0–100) of what could have been done; a part with nothing
to measure (no households to visit, no task due) is left out and the other
weights are scaled up, so a worker is neither rewarded nor punished for an
empty month of that kind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

PARTS = ("patrol", "reports", "visits", "tasks", "verify", "rating")
PART_NAMES = {"patrol": "巡查达标", "reports": "有效上报", "visits": "走访覆盖", "tasks": "任务按时",
              "verify": "核查及时", "rating": "群众评价"}


@dataclass(frozen=True)
class Figures:
    workdays: int = 0            # working days of the month so far
    compliant_days: int = 0      # of them, days with a compliant double patrol
    valid_reports: int = 0       # reports neither rejected nor cancelled as duplicates
    report_target: int = 20
    households_due: int = 0      # households of special groups in the worker's grids
    households_visited: int = 0  # of them, visited this month
    tasks_due: int = 0           # tasks due this month
    tasks_on_time: int = 0       # of them, done by their due time
    verified: int = 0            # case verifications done this month
    verified_on_time: int = 0
    ratings: int = 0             # residents' ratings of cases closed in the worker's grids
    rating_sum: int = 0          # 1–5 each

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Weights:
    patrol: float = 0.25
    reports: float = 0.15
    visits: float = 0.2
    tasks: float = 0.15
    verify: float = 0.1
    rating: float = 0.15


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100.0 * min(part, whole) / whole, 1)


def parts(f: Figures) -> dict[str, float | None]:
    return {
        "patrol": _share(f.compliant_days, f.workdays),
        "reports": _share(f.valid_reports, f.report_target),
        "visits": _share(f.households_visited, f.households_due),
        "tasks": _share(f.tasks_on_time, f.tasks_due),
        "verify": _share(f.verified_on_time, f.verified),
        "rating": None if f.ratings == 0 else round(100.0 * f.rating_sum / (5 * f.ratings), 1),
    }


def total(scored: dict[str, float | None], w: Weights) -> float:
    weights = {p: max(0.0, getattr(w, p)) for p in PARTS if scored[p] is not None}
    weight = sum(weights.values())
    if weight <= 0:
        return 0.0
    return round(sum((scored[p] or 0.0) * wp for p, wp in weights.items()) / weight, 1)


def rank(scores: list[float]) -> list[int]:
    """Competition ranking (1, 2, 2, 4): equal scores share a place."""
    ordered = sorted(scores, reverse=True)
    first: dict[float, int] = {}
    for i, s in enumerate(ordered):
        first.setdefault(s, i + 1)
    return [first[s] for s in scores]
