"""Identifiers of people and organisations: checking, normalising and masking.

Pure functions, no Django: the import pipeline, entity resolution, the exchange
gateway and the masks all share them.

- Resident ID number (GB 11643-1999): 17 digits and a check character (ISO 7064
  MOD 11-2, 'X' for 10). A 15-digit number of the first generation is converted
  by inserting the century "19" and computing the check character.
- Unified social credit code (GB 32100-2015): 18 characters from a 31-character
  alphabet without I, O, Z, S, V; the last is a MOD 31 check character.
- Mobile numbers: 11 digits starting with 1[3-9], after stripping +86 and spacing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_SPACING = re.compile(r"[\s\-‐‑–—_·.]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")


class IdentityError(ValueError):
    """A value that cannot be a valid identifier; the message says why in Chinese."""


def _plain(value: str) -> str:
    """Full-width digits and letters to ASCII, spacing removed, upper case."""
    return _SPACING.sub("", unicodedata.normalize("NFKC", value or "")).upper()


# --- resident ID numbers ---------------------------------------------------


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def _birth_of(digits8: str) -> date | None:
    try:
        return date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    gender: str  # "M" or "F"
    region: str  # six-digit GB/T 2260 code of first registration

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def normalize_id_number(value: str) -> str:
    """Canonical form for comparison, without judging validity: NFKC, no spacing,
    upper-case X, a 15-digit number upgraded to 18. Used as a matching feature so
    that a number with a typo still compares."""
    raw = _plain(value)
    if len(raw) == 15 and raw.isdigit():
        body = raw[:6] + "19" + raw[6:]
        return body + id_check_char(body)
    return raw


def parse_id_number(value: str, *, today: date | None = None) -> ResidentId:
    """Validate an ID number and read birth date and gender from it.
    Raises IdentityError with a message a clerk can act on."""
    raw = _plain(value)
    if not raw:
        raise IdentityError("身份证号为空")
    if len(raw) == 15:
        if not raw.isdigit():
            raise IdentityError(f"15位身份证号只能是数字：{value}")
        raw = normalize_id_number(raw)
    if len(raw) != 18:
        raise IdentityError(f"身份证号应为18位（或旧的15位），实为{len(raw)}位：{value}")
    if not raw[:17].isdigit() or not (raw[17].isdigit() or raw[17] == "X"):
        raise IdentityError(f"身份证号前17位须为数字，末位为数字或X：{value}")
    if raw[:2] not in PROVINCES:
        raise IdentityError(f"身份证号地区码{raw[:6]}不存在：{value}")
    birth = _birth_of(raw[6:14])
    if birth is None:
        raise IdentityError(f"身份证号中的出生日期{raw[6:14]}不是有效日期：{value}")
    if birth > (today or date.today()) or birth.year < 1890:
        raise IdentityError(f"身份证号中的出生日期{birth.isoformat()}不可能：{value}")
    expected = id_check_char(raw[:17])
    if raw[17] != expected:
        raise IdentityError(f"身份证号校验位错误（应为{expected}）：{value}")
    gender = "M" if int(raw[16]) % 2 else "F"
    return ResidentId(number=raw, birth_date=birth, gender=gender, region=raw[:6])


def id_number_is_valid(value: str) -> bool:
    try:
        parse_id_number(value)
    except IdentityError:
        return False
    return True


# GB/T 2260 province-level prefixes (first two digits).
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
    "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
    "63", "64", "65", "71", "81", "82", "83", "91",
})


# --- unified social credit codes -------------------------------------------


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(value: str) -> str:
    """Validate a unified social credit code; returns its canonical form."""
    raw = _plain(value)
    if not raw:
        raise IdentityError("统一社会信用代码为空")
    if len(raw) != 18:
        raise IdentityError(f"统一社会信用代码应为18位，实为{len(raw)}位：{value}")
    bad = sorted({c for c in raw if c not in CREDIT_ALPHABET})
    if bad:
        raise IdentityError(f"统一社会信用代码含非法字符{''.join(bad)}（不使用I、O、Z、S、V）：{value}")
    expected = credit_check_char(raw[:17])
    if raw[17] != expected:
        raise IdentityError(f"统一社会信用代码校验位错误（应为{expected}）：{value}")
    return raw


# --- phones ------------------------------------------------------------------


def normalize_phone(value: str) -> str:
    """Digits only, without the +86/0086 country prefix."""
    digits = "".join(c for c in unicodedata.normalize("NFKC", value or "") if c.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix):]
    return digits


def parse_phone(value: str) -> str:
    """A mobile (11 digits, 1[3-9]) or a fixed line with area code (10–12 digits
    starting with 0). Returns the digits."""
    digits = normalize_phone(value)
    if not digits:
        raise IdentityError("电话为空")
    if _MOBILE.fullmatch(digits):
        return digits
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return digits
    raise IdentityError(f"电话号码无效（手机为1开头的11位，座机带区号）：{value}")


# --- masks -------------------------------------------------------------------
# A mask keeps the length of the value, so a reader still sees what kind of value
# it was, and never returns the input unchanged for a non-empty value.


def _hide(value: str, head: int, tail: int) -> str:
    n = len(value)
    if n <= head + tail:
        return "*" * n
    masked = value[:head] + "*" * (n - head - tail) + value[n - tail:]
    # A value whose middle already was asterisks would come back unchanged.
    return masked if masked != value else "*" * n


def mask_id_number(value: str) -> str:
    n = len(value)
    if n <= 4:
        return "*" * n
    return _hide(value, 6 if n >= 14 else max(1, n // 4), 4 if n >= 10 else 1)


def mask_phone(value: str) -> str:
    n = len(value)
    if n <= 4:
        return "*" * n
    return _hide(value, *((3, 4) if n >= 9 else (1, 1)))


def mask_name(value: str) -> str:
    return _hide(value, 1, 0) if len(value) > 1 else "*" * len(value)


def mask_text(value: str) -> str:
    """Free text that may name someone (an address line, a note): all but the
    first quarter hidden."""
    return _hide(value, len(value) // 4, 0)
