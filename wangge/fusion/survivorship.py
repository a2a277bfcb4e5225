"""Which value a golden record takes when its source records disagree.

Pure rules: each candidate value scores by the trust its source has for that
field, whether it is valid, and how recent it is; the best wins, and any other
valid value is a conflict a person should look at. List fields (phones, tags,
former names) are unions instead, best first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SINGLE_FIELDS = ("name", "id_number", "gender", "birth_date", "ethnicity", "hukou_area",
                 "residence_type", "address_code", "employer")
LIST_FIELDS = ("phones", "tags", "former_names")
# A newer value beats an older one from an equally trusted source, but recency
# never outweighs a real difference in trust.
RECENCY_WEIGHT = 0.05


@dataclass(frozen=True)
class Evidence:
    record_id: int
    source_id: int
    trust: float
    observed_at: datetime
    value: str


@dataclass(frozen=True)
class Choice:
    value: str
    record_id: int | None
    conflicting: tuple[str, ...] = ()


def _ranked(evidence: list[Evidence]) -> list[Evidence]:
    if not evidence:
        return []
    newest = max(e.observed_at for e in evidence)
    oldest = min(e.observed_at for e in evidence)
    span = (newest - oldest).total_seconds() or 1.0

    def score(e: Evidence) -> tuple[float, str, int]:
        recency = (e.observed_at - oldest).total_seconds() / span
        return (e.trust + RECENCY_WEIGHT * recency, e.observed_at.isoformat(), -e.record_id)

    return sorted(evidence, key=score, reverse=True)


def choose(evidence: Iterable[Evidence], *, preferred: str | None = None) -> Choice:
    """The surviving value; `preferred` is a value a person chose when resolving a
    conflict, kept while some source still supports it."""
    usable = [e for e in evidence if e.value]
    if not usable:
        return Choice("", None)
    ranked = _ranked(usable)
    winner = next((e for e in ranked if e.value == preferred), ranked[0])
    others = tuple(dict.fromkeys(e.value for e in ranked if e.value != winner.value))
    return Choice(winner.value, winner.record_id, others)


def union(evidence: Iterable[Evidence]) -> list[tuple[str, int]]:
    """Every distinct value with the record that gave it first, best first."""
    seen: dict[str, int] = {}
    for e in _ranked([e for e in evidence if e.value]):
        seen.setdefault(e.value, e.record_id)
    return list(seen.items())
