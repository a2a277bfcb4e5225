from __future__ import annotations

from typing import Any

import pytest

from wangge.addresses.selectors import address_cache
from wangge.testing.addresses import make_addresses


@pytest.fixture(autouse=True)
def _fresh_index() -> Any:
    # The matcher index is process-wide; each test's database is new, and a
    # rolled-back test never fires the on-commit invalidation.
    address_cache.invalidate()
    yield
    address_cache.invalidate()


@pytest.fixture
def library(small_city: None) -> dict[str, str]:
    return make_addresses()
