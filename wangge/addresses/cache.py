"""One value per process, rebuilt when its source changes.

The same idea as `wangge.areas.locator.CachedIndex`, for any value: the
matcher's AddressIndex here. `revision` is asked at most every `ttl` seconds,
so a hot loop does not pay a query per call; a write in this process calls
`invalidate` to see its own change at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Cached(Generic[T]):
    def __init__(self, build: Callable[[], T], revision: Callable[[], object],
                 ttl: float = 2.0) -> None:
        self._build = build
        self._revision = revision
        self._ttl = ttl
        self._lock = threading.Lock()
        self._value: T | None = None
        self._rev: object = None
        self._checked = 0.0

    def get(self) -> T:
        value = self._value
        if value is not None and time.monotonic() - self._checked < self._ttl:
            return value
        with self._lock:
            rev = self._revision()
            self._checked = time.monotonic()
            if self._value is None or rev != self._rev:
                self._value = self._build()
                self._rev = rev
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None
            self._checked = 0.0
