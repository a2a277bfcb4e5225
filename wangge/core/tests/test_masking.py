from types import SimpleNamespace

import pytest

from wangge.core import masking
from wangge.core.masking import Field


def user(role, superuser=False):
    return SimpleNamespace(role=role, is_superuser=superuser)


def test_every_role_has_a_rule_for_every_field():
    for role, rules in masking.POLICY.items():
        assert set(rules) == set(Field), role


@pytest.mark.parametrize("role", ["command_centre", "department_staff", "resident", "nobody"])
def test_roles_without_need_never_see_an_id_number_even_with_a_purpose(role):
    assert masking.shown(user(role), Field.ID_NUMBER, "120110198001021234", "身份核实") == "120110********1234"


def test_purpose_reveals_only_where_the_role_allows_it():
    worker = user("grid_worker")
    assert masking.shown(worker, Field.ID_NUMBER, "120110198001021234") == "120110********1234"
    assert masking.shown(worker, Field.ID_NUMBER, "120110198001021234", " ") == "120110********1234"
    assert masking.shown(worker, Field.ID_NUMBER, "120110198001021234", "走访服务") == "120110198001021234"
    assert masking.shown(worker, Field.PHONE, "13812345678") == "13812345678"


def test_police_see_identity_in_full():
    assert masking.visible(user("police"), Field.ID_NUMBER)


def test_superuser_is_treated_as_admin_not_as_unrestricted():
    root = user("resident", superuser=True)
    assert not masking.visible(root, Field.ID_NUMBER)
    assert masking.visible(root, Field.ID_NUMBER, "数据核对")
