from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.core import identity
from wangge.core.identity import IdentityError


def make_id(body17: str) -> str:
    return body17 + identity.id_check_char(body17)


VALID = make_id("12011019800102123")


def test_valid_id_gives_birth_date_gender_and_region():
    rid = identity.parse_id_number(VALID)
    assert rid.birth_date == date(1980, 1, 2)
    assert rid.gender == "M"  # 17th digit 3 is odd
    assert rid.region == "120110"
    assert rid.age_on(date(2026, 1, 1)) == 45


def test_full_width_spaced_lower_x_are_normalised():
    number = make_id("11010519491231002")
    assert number.endswith("X")
    messy = " ".join(number[:6]) + number[6:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    assert identity.parse_id_number(messy).number == number


def test_fifteen_digit_number_is_upgraded():
    assert identity.normalize_id_number("120110800102123") == make_id("12011019800102123")
    assert identity.parse_id_number("120110800102123").birth_date == date(1980, 1, 2)


@pytest.mark.parametrize(("value", "reason"), [
    ("", "为空"),
    ("12011019800102", "应为18位"),
    (VALID[:-1] + ("0" if VALID[-1] != "0" else "1"), "校验位错误"),
    (make_id("99011019800102123"), "地区码"),
    (make_id("12011019801302123"), "不是有效日期"),
    (make_id("12011020991231123"), "不可能"),
    ("1201101980010212A4", "前17位须为数字"),
])
def test_bad_id_numbers_are_refused_with_the_reason(value, reason):
    with pytest.raises(IdentityError, match=reason):
        identity.parse_id_number(value, today=date(2026, 11, 1))


def test_credit_code_checksum():
    assert identity.parse_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(IdentityError, match="校验位错误"):
        identity.parse_credit_code("91350100M000100Y44")
    with pytest.raises(IdentityError, match="非法字符"):
        identity.parse_credit_code("91350100M000100I43")


@pytest.mark.parametrize(("value", "expected"), [
    ("138 1234 5678", "13812345678"), ("+86-138-1234-5678", "13812345678"),
    ("００８６13812345678", "13812345678"), ("022-24391234", "02224391234")])
def test_phones_are_normalised(value, expected):
    assert identity.parse_phone(value) == expected


@pytest.mark.parametrize("value", ["1381234567", "23812345678", "12345", "电话"])
def test_bad_phones_are_refused(value):
    with pytest.raises(IdentityError):
        identity.parse_phone(value)


def test_masks_match_the_documented_shapes():
    assert identity.mask_id_number("120110198001021234") == "120110********1234"
    assert identity.mask_phone("13812345678") == "138****5678"
    assert identity.mask_name("张三") == "张*"


@settings(max_examples=10_000, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_masks_keep_length_and_never_return_the_input(value):
    for mask in (identity.mask_id_number, identity.mask_phone, identity.mask_name, identity.mask_text):
        masked = mask(value)
        assert len(masked) == len(value)
        assert masked != value or set(value) == {"*"}
