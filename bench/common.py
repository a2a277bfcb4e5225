"""What every benchmark shares: one JSON line per figure, with its anchor."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    import django

    django.setup()


def emit(name: str, value: float, unit: str, *, anchor: str | None = None,
         anchor_value: float | None = None, higher_is_better: bool = True,
         **extra: Any) -> None:
    """Print a figure; `ratio` is how many times better than the anchor."""
    line: dict[str, Any] = {"name": name, "value": round(value, 4), "unit": unit}
    if anchor is not None and anchor_value is not None:
        line["anchor"] = anchor
        line["anchor_value"] = round(anchor_value, 4)
        if anchor_value and value:
            ratio = value / anchor_value if higher_is_better else anchor_value / value
            line["ratio"] = round(ratio, 2)
    line.update(extra)
    print(json.dumps(line, ensure_ascii=False), flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def machine() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "cpus": os.cpu_count()}


def fresh_database(url: str | None) -> str:
    """Point Django at an empty, migrated database and return its URL: the
    PostgreSQL database named in `url` (dropped and created again: never the
    test database), or with no url a new SQLite file in a temporary folder."""
    if url:
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        import tempfile

        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="wangge-bench-"), "bench.sqlite3")
    os.environ["DATABASE_URL"] = url
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url
