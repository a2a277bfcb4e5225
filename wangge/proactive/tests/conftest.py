from __future__ import annotations

from typing import Any

import pytest

from wangge.testing import city


@pytest.fixture
def world(library: dict[str, str], worker_a: Any, outsider: Any) -> dict[str, Any]:
    """The address library, grid A's worker on duty (gets grid A's tasks) and
    the outsider on grid C."""
    from wangge.proactive.tests.helpers import make_worker

    return {**library, "worker_a": make_worker(worker_a, city.GRID_A),
            "outsider": make_worker(outsider, city.GRID_C)}


@pytest.fixture
def proactive_urls(settings: Any) -> None:
    """The API router and pages mounted as wangge/urls.py and core/api.py will."""
    settings.ROOT_URLCONF = "wangge.proactive.tests.urls"
