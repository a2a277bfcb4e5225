from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wangge.addresses.selectors import address_cache
from wangge.testing import registry as reg
from wangge.testing.addresses import make_addresses


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Path) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    address_cache.invalidate()
    yield
    address_cache.invalidate()


@pytest.fixture
def library(small_city: None) -> dict[str, str]:
    return make_addresses()


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
