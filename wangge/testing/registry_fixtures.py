"""Fixtures for tests that need the registry: the test address library, two
department sources, their files, and both imported and fused (`fused`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wangge.testing import registry as reg


@pytest.fixture
def library(small_city: None, settings: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    # Imports keep their files under MEDIA_ROOT; the matcher index is process-wide
    # and each test's database is new.
    from wangge.addresses.selectors import address_cache
    from wangge.testing.addresses import make_addresses

    settings.MEDIA_ROOT = tmp_path / "media"
    address_cache.invalidate()
    yield make_addresses()
    address_cache.invalidate()


@pytest.fixture
def sources(library: dict[str, str]) -> dict[str, Any]:
    return reg.make_sources()


@pytest.fixture
def police_file(tmp_path: Path) -> Path:
    return reg.write_csv(tmp_path / "公安户籍.csv", reg.POLICE_HEADERS, reg.POLICE_ROWS, "gb18030")


@pytest.fixture
def health_file(tmp_path: Path) -> Path:
    return reg.write_csv(tmp_path / "卫健.csv", reg.HEALTH_HEADERS, reg.HEALTH_ROWS, "utf-8")


@pytest.fixture
def fused(sources: dict[str, Any], police_file: Path, health_file: Path) -> dict[str, Any]:
    from wangge.fusion.services import import_file

    police = import_file(None, source=sources["police"], kind="person", path=police_file)
    health = import_file(None, source=sources["health"], kind="person", path=health_file)
    return {"police_batch": police, "health_batch": health, **sources}
