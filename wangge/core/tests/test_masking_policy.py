"""The masking policy by role × sensitivity grade, its settings override, the
reveal check, and the masks themselves."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from wangge.core import masking
from wangge.core.errors import InvalidInput, OutOfScope
from wangge.core.masking import FULL, MASKED, PURPOSE, Field, Sensitivity


def user(role, superuser=False):
    return SimpleNamespace(role=role, is_superuser=superuser)


N, ID, P, A, T = Field.NAME, Field.ID_NUMBER, Field.PHONE, Field.ADDRESS, Field.SENSITIVE_TAG
# The role × field table before grades existed: moving to grades must not
# change a single decision.
BEFORE_GRADES = {
    "grid_worker": {N: FULL, P: FULL, A: FULL, T: FULL, ID: PURPOSE},
    "community_staff": {N: FULL, P: FULL, A: FULL, T: FULL, ID: PURPOSE},
    "street_staff": {N: FULL, A: FULL, P: PURPOSE, T: PURPOSE, ID: PURPOSE},
    "district_staff": {N: FULL, A: FULL, P: PURPOSE, T: PURPOSE, ID: PURPOSE},
    "police": {N: FULL, P: FULL, A: FULL, T: FULL, ID: FULL},
    "admin": {N: FULL, A: FULL, P: PURPOSE, T: PURPOSE, ID: PURPOSE},
    "command_centre": {N: MASKED, P: MASKED, A: MASKED, T: MASKED, ID: MASKED},
    "department_staff": {N: MASKED, P: MASKED, A: MASKED, T: MASKED, ID: MASKED},
    "resident": {N: MASKED, P: MASKED, A: MASKED, T: MASKED, ID: MASKED},
}


@pytest.mark.parametrize("role", sorted(BEFORE_GRADES))
def test_grades_keep_every_decision_of_the_field_table(role):
    for field, expected in BEFORE_GRADES[role].items():
        assert masking.rule(user(role), field) == expected, (role, field)


def test_every_field_has_a_grade():
    assert set(masking.GRADE) == set(Field)
    assert masking.GRADE[Field.HEALTH] == Sensitivity.CORE


@pytest.mark.parametrize("role", [*BEFORE_GRADES, "nobody"])
def test_public_data_is_full_for_every_role(role):
    assert masking.decision(user(role), Sensitivity.PUBLIC) == FULL
    assert masking.decision(user(role), "public") == FULL


def test_decision_by_grade_matches_the_field_rule():
    worker = user("grid_worker")
    assert masking.decision(worker, "internal") == FULL
    assert masking.decision(worker, Sensitivity.CORE) == PURPOSE
    # A grade nobody knows is treated as the most sensitive one.
    assert masking.decision(worker, "secret") == masking.decision(worker, Sensitivity.CORE)
    assert masking.decision(user("nobody"), "internal") == MASKED


def test_health_data_needs_a_reason_and_is_masked_as_a_label():
    worker = user("grid_worker")
    assert masking.needs_purpose(worker, Field.HEALTH)
    assert masking.shown(worker, Field.HEALTH, "居家隔离") == "健康信息已隐藏"
    assert masking.shown(worker, Field.HEALTH, "居家隔离", "疫情防控") == "居家隔离"
    assert masking.shown(user("command_centre"), Field.HEALTH, "居家隔离", "疫情防控") == "健康信息已隐藏"
    assert masking.mask(Field.HEALTH, "") == ""


# --- the settings override -------------------------------------------------------


def test_an_override_changes_only_what_it_names():
    table = masking.build_policy({"grid_worker": {"sensitive": "purpose"}})
    assert table["grid_worker"][Sensitivity.SENSITIVE] == PURPOSE
    assert table["grid_worker"][Sensitivity.INTERNAL] == FULL
    assert table["police"] == masking.build_policy()["police"]


@pytest.mark.parametrize("overrides", [
    {"nobody": {"core": "full"}},
    {"grid_worker": {"secret": "full"}},
    {"grid_worker": {"core": "sometimes"}},
    {"grid_worker": {"core": ["full"]}},
    {"grid_worker": "full"},
    {"resident": {"public": "masked"}},
    ["grid_worker"],
])
def test_a_bad_override_is_refused_loudly(overrides):
    with pytest.raises(ImproperlyConfigured):
        masking.build_policy(overrides)


def test_a_bad_override_in_settings_stops_the_import():
    code = ("import django; from django.conf import settings; "
            "settings.configure(WANGGE_MASKING_POLICY={'grid_worker': {'core': 'always'}}); "
            "import wangge.core.masking")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)  # noqa: S603
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "always" in done.stderr


def test_a_good_override_in_settings_is_used():
    code = ("import django; from django.conf import settings; "
            "settings.configure(WANGGE_MASKING_POLICY={'grid_worker': {'sensitive': 'masked'}}); "
            "from wangge.core import masking; from types import SimpleNamespace as U; "
            "print(masking.rule(U(role='grid_worker'), masking.Field.PHONE))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)  # noqa: S603
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "masked"


# --- the reveal check --------------------------------------------------------------


@pytest.mark.parametrize("role", ["command_centre", "department_staff", "resident", "nobody"])
def test_roles_that_never_see_a_field_cannot_reveal_it_with_any_reason(role):
    with pytest.raises(OutOfScope) as refused:
        masking.reveal_check(user(role), Field.ID_NUMBER, "身份核实")
    assert (refused.value.code, refused.value.status) == ("reveal_not_allowed", 403)


@pytest.mark.parametrize("reason", ["", "  ", "查", " 查 ", "\n\t"])
def test_a_reveal_needs_a_reason_of_at_least_two_characters(reason):
    with pytest.raises(InvalidInput) as refused:
        masking.reveal_check(user("grid_worker"), Field.ID_NUMBER, reason)
    assert (refused.value.code, refused.value.status) == ("reason_required", 422)
    assert "事由" in refused.value.message


def test_a_reveal_with_a_reason_returns_the_reason_for_the_log():
    assert masking.reveal_check(user("street_staff"), Field.PHONE, "  走访服务 ") == "走访服务"
    assert masking.reveal_check(user("resident", superuser=True), Field.ID_NUMBER, "数据核对") == "数据核对"


# --- the masks ----------------------------------------------------------------------

ID_LIKE = st.from_regex(r"[0-9]{6,17}[0-9Xx*]?", fullmatch=True)
PHONE_LIKE = st.from_regex(r"(\+86)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}|[0-9*]{1,12}", fullmatch=True)
ANY_TEXT = st.text(min_size=1, max_size=40)


@hsettings(max_examples=2000, deadline=None)
@given(field=st.sampled_from(list(Field)), value=st.one_of(ANY_TEXT, ID_LIKE, PHONE_LIKE))
def test_a_mask_never_returns_a_non_empty_value_unchanged(field, value):
    assert masking.mask(field, value) != value


@hsettings(max_examples=2000, deadline=None)
@given(field=st.sampled_from([Field.ID_NUMBER, Field.PHONE]), value=st.one_of(ANY_TEXT, ID_LIKE, PHONE_LIKE))
def test_id_number_and_phone_masks_keep_the_length(field, value):
    assert len(masking.mask(field, value)) == len(value)


@pytest.mark.parametrize("field,value", [
    (Field.NAME, "*"), (Field.NAME, "王*"), (Field.PHONE, "***"), (Field.ID_NUMBER, "****"),
    (Field.SENSITIVE_TAG, "特殊人群"), (Field.HEALTH, "健康信息已隐藏"), (Field.ADDRESS, "**"),
])
def test_values_that_already_look_masked_still_change(field, value):
    assert masking.mask(field, value) != value


def test_empty_values_stay_empty():
    assert all(masking.mask(f, "") == "" for f in Field)
