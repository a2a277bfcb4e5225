"""A person's access report (the right to know): who read or received their
data, when, which fields and why.

Reads of a person's details are in the audit log; data that left through an
export or the exchange gateway is recorded by the app that sent it. Each such
app registers a source here, and `access_report` merges them, newest first:

    # wangge/exchange/apps.py, in ready()
    access.register("exchange.gateway", gateway_disclosures)

A source is `f(person_id, since, until) -> Iterable[Access]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Access:
    at: datetime
    who: str  # the user, or the department and its client for the gateway
    channel: str  # "read", "reveal", "export", "gateway", …
    fields: tuple[str, ...] = ()
    purpose: str = ""
    ref: str = ""  # what to look up for details: an audit seq, a call id, an export id
    extra: dict[str, str] = field(default_factory=dict)


Source = Callable[[int, "datetime | None", "datetime | None"], Iterable[Access]]

_sources: dict[str, Source] = {}


def register(name: str, source: Source) -> None:
    _sources[name] = source


def sources() -> dict[str, Source]:
    return dict(_sources)


def access_report(person_id: int, *, since: datetime | None = None,
                  until: datetime | None = None) -> list[Access]:
    rows: list[Access] = []
    for source in _sources.values():
        rows.extend(source(person_id, since, until))
    return sorted(rows, key=lambda a: a.at, reverse=True)
