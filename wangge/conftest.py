"""Fixed personas (STYLE.md): worker_a (grid A), street_admin (grids A and B,
the west street), outsider (grid C, the east street), viewer (command centre,
read-only, the whole district), admin. See wangge/testing/city.py for the map."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.testing import city

pytest_plugins = ["wangge.testing.registry_fixtures", "wangge.testing.cases", "wangge.testing.browser"]


def pytest_configure(config: Any) -> None:
    # The English catalogue is compiled at setup; a bare `pytest` compiles it too.
    from wangge.core.messages import compile_all

    compile_all()


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    # Argon2 is the production hasher (see accounts tests); tests need speed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def small_city(db: Any) -> None:
    city.make_city()


def _user(username: str, role: str, area_code: str = "", **extra: Any) -> Any:
    from wangge.accounts.services import create_user

    return create_user(username, "pass-" + username, role=role, area_code=area_code, **extra)


@pytest.fixture
def worker_a(small_city: None) -> Any:
    return _user("worker_a", "grid_worker", city.GRID_A, display_name="网格员甲")


@pytest.fixture
def street_admin(small_city: None) -> Any:
    return _user("street_admin", "street_staff", city.STREET_WEST, display_name="街道乙")


@pytest.fixture
def outsider(small_city: None) -> Any:
    return _user("outsider", "grid_worker", city.GRID_C, display_name="网格员丙")


@pytest.fixture
def viewer(small_city: None) -> Any:
    return _user("viewer", "command_centre", city.DISTRICT, display_name="指挥中心丁")


@pytest.fixture
def admin_user(small_city: None) -> Any:
    return _user("admin", "admin", display_name="管理员")


@pytest.fixture
def api_client() -> Any:
    from django.test import Client

    return Client()


def token_for(user: Any) -> str:
    from wangge.accounts.services import issue_token

    return issue_token(user, "test").key


@pytest.fixture
def auth_header() -> Any:
    def make(user: Any) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}

    return make
