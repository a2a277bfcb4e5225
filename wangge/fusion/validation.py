"""Rows of a department file → canonical, normalised values, or reasons to refuse.

Pure module (no Django): `reading` gives raw text cells, `suggest_mapping`
proposes which column is which field, and `validate_person` /
`validate_organisation` check one row keyed by canonical field names.

A row with errors is refused and the clerk fixes the file; warnings are kept
with a row that lands (a tag ignored, a 15-digit ID upgraded, a gender taken
from the ID). Every message starts with the field's Chinese label, so a clerk
looking at line N knows which cell to change.

`RowResult.values` holds every canonical field of the kind: text fields as
str ("" when absent), vocabulary fields as their key ("" when absent),
`birth_date` a date or None, `staff_count` an int or None, `tags` and
`former_names` lists. A person's phones are a list under "phones" (the golden
record keeps them all); an organisation's "phone" is one string (its record
has one number).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from wangge.addresses.normalize import _simplified
from wangge.core.identity import (
    IdentityError,
    ResidentId,
    parse_credit_code,
    parse_id_number,
    parse_phone,
)
from wangge.registry import vocab


@dataclass(frozen=True)
class FieldSpec:
    label_zh: str
    required: bool = False
    # Header spellings, best first: when two columns match one field, the
    # better spelling wins and the other column is left for the clerk.
    synonyms: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.label_zh


# Lower-case pinyin initials (xm, sfzh…) are how Chinese database exports name
# their columns.
_RECORD_ID = FieldSpec("记录编号", synonyms=("记录编号", "编号", "人员编号", "记录号", "record_id",
                                         "记录id", "备案编号", "登记编号"))

PERSON_FIELDS: dict[str, FieldSpec] = {
    "record_id": _RECORD_ID,
    "name": FieldSpec("姓名", required=True, synonyms=(
        "姓名", "名字", "人员姓名", "居民姓名", "name", "full_name", "xm", "户主姓名")),
    "former_names": FieldSpec("曾用名", synonyms=("曾用名", "别名", "former_name", "cym")),
    "id_number": FieldSpec("身份证号", synonyms=(
        "公民身份号码", "身份证号", "身份证号码", "居民身份证号码", "居民身份证号", "身份证件号码",
        "证件号码", "证件号", "身份证", "id_number", "id_no", "id_card", "id", "sfzh", "gmsfhm",
        "zjhm")),
    "gender": FieldSpec("性别", synonyms=("性别", "gender", "sex", "xb")),
    "birth_date": FieldSpec("出生日期", synonyms=(
        "出生日期", "出生年月日", "出生年月", "生日", "birth_date", "birthday", "date_of_birth",
        "dob", "csrq")),
    "phone": FieldSpec("联系电话", synonyms=(
        "手机号码", "手机号", "手机", "联系电话", "电话", "电话号码", "联系方式", "联系号码", "phone",
        "mobile", "tel", "telephone", "sjhm", "lxdh")),
    "ethnicity": FieldSpec("民族", synonyms=("民族", "ethnicity", "nation", "mz")),
    "hukou_area": FieldSpec("户籍地", synonyms=(
        "户籍地", "户籍地址", "户籍所在地", "户口所在地", "户籍地详址", "户籍", "hukou", "hjdz")),
    "residence_type": FieldSpec("人员类型", synonyms=(
        "人员类型", "人口类型", "居住类型", "人口类别", "residence_type")),
    "address": FieldSpec("现住址", synonyms=(
        "现住址", "现居住地址", "居住地址", "现居住地", "住址", "家庭住址", "房屋地址", "房屋坐落", "坐落", "地址", "居住地",
        "address", "xzz")),
    "employer": FieldSpec("工作单位", synonyms=(
        "工作单位", "单位名称", "就业单位", "服务处所", "employer", "gzdw")),
    "employer_credit_code": FieldSpec("工作单位信用代码", synonyms=(
        "工作单位统一社会信用代码", "单位统一社会信用代码", "单位信用代码", "employer_credit_code")),
    "tags": FieldSpec("标签", synonyms=(
        "标签", "人员标签", "人员类别", "特殊人群", "特殊人群类别", "人群类别", "重点人群", "tags")),
    "relation": FieldSpec("与户主关系", synonyms=(
        "与户主关系", "与户主的关系", "关系", "家庭关系", "relation", "yhzgx")),
    "household_key": FieldSpec("户号", synonyms=("户号", "户编号", "household_key", "hh")),
    "house_use": FieldSpec("房屋用途", synonyms=("房屋用途", "房屋使用情况", "house_use")),
    "lease_start": FieldSpec("租赁起始日期", synonyms=("租赁起始日期", "起租日期", "租赁开始日期", "lease_start")),
    "lease_end": FieldSpec("租赁截止日期", synonyms=("租赁截止日期", "租赁到期日期", "到期日期", "租期截止", "lease_end")),
}

ORGANISATION_FIELDS: dict[str, FieldSpec] = {
    "record_id": _RECORD_ID,
    "name": FieldSpec("单位名称", required=True, synonyms=(
        "单位名称", "企业名称", "机构名称", "组织名称", "商户名称", "名称", "name", "dwmc")),
    "credit_code": FieldSpec("统一社会信用代码", synonyms=(
        "统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "credit_code", "uscc", "tyshxydm")),
    "org_type": FieldSpec("单位类型", synonyms=(
        "单位类型", "企业类型", "机构类型", "类型", "org_type", "type")),
    "address": FieldSpec("地址", synonyms=(
        "地址", "单位地址", "注册地址", "经营地址", "经营场所", "住所", "address")),
    "legal_rep": FieldSpec("法定代表人", synonyms=(
        "法定代表人", "法人代表", "法人", "负责人", "legal_rep", "legal_representative", "fddbr")),
    "phone": FieldSpec("联系电话", synonyms=(
        "联系电话", "电话", "手机", "手机号码", "联系方式", "phone", "tel", "mobile", "lxdh")),
    "staff_count": FieldSpec("从业人数", synonyms=(
        "从业人数", "员工人数", "职工人数", "员工数", "人数", "staff_count", "employees")),
}

_FIELDS_BY_KIND = {"person": PERSON_FIELDS, "organisation": ORGANISATION_FIELDS}
_LIST_FIELDS = frozenset({"tags", "former_names"})
_NULL_FIELDS = frozenset({"birth_date", "staff_count", "lease_start", "lease_end"})

# What departments type for "nothing here".
_PLACEHOLDERS = frozenset({
    "无", "暂无", "没有", "不详", "未知", "/", "-", "--", "—", "——", "null", "none", "n/a", "na",
    "#n/a",
})
_TAG_SEPARATORS = re.compile(r"[、,;，；/|\s]+")
# Not spaces, for phones and names: "138 1234 5678" is one phone and
# "张 老三" one name typed loosely.
_ITEM_SEPARATORS = re.compile(r"[、,;，；/|\n]+")
_NAME_DOTS = re.compile(r"[•・‧∙･.]+")  # after NFKC; all stand for the name dot "·"
_NAME_KEEP = re.compile("([乾於昇])")
_EARLIEST_BIRTH_YEAR = 1890  # as parse_id_number


@dataclass
class RowResult:
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- column mapping -------------------------------------------------------

_BRACKETED = re.compile(r"[(\[【《<][^)\]】》>]*[)\]】》>]")
_HEADER_NOISE = re.compile(r"[\s_\-*:：.·、#※★]+")


def suggest_mapping(columns: list[str], kind: str) -> dict[str, str]:
    """Column → canonical field for the columns recognised, at most one column
    per field; columns left out are for the caller to report as ignored."""
    index = _synonym_index(fields_for(kind))
    best: dict[str, tuple[int, int, str]] = {}
    for position, column in enumerate(columns):
        hit = index.get(_header_key(column))
        if hit is None:
            continue
        name, rank = hit
        if name not in best or (rank, position) < best[name][:2]:
            best[name] = (rank, position, column)
    ordered = sorted(best.items(), key=lambda item: item[1][1])
    return {column: name for name, (_, _, column) in ordered}


def fields_for(kind: str) -> dict[str, FieldSpec]:
    """The canonical fields of "person" or "organisation"."""
    try:
        return _FIELDS_BY_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(_FIELDS_BY_KIND)}") from None


def _synonym_index(fields: dict[str, FieldSpec]) -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for name, spec in fields.items():
        spellings = (*spec.synonyms, spec.label_zh, name)
        for rank, spelling in enumerate(spellings):
            index.setdefault(_header_key(spelling), (name, rank))
    return index


def _header_key(text: str) -> str:
    """"*身份證號碼（必填）" → "身份证号码", "ID Number" → "idnumber"."""
    text = unicodedata.normalize("NFKC", _simplified(text or "")).lower()
    without_notes = _HEADER_NOISE.sub("", _BRACKETED.sub("", text))
    return without_notes or _HEADER_NOISE.sub("", re.sub(r"[()\[\]【】《》<>]", "", text))


# --- dates ------------------------------------------------------------------

_YMD = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
_YM = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*月?|([0-9]{4})([0-9]{2})")
_TIME = re.compile(r"(?:[T\s]+|(?<=日))[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?")
# Excel's day 0, as the 1900 leap-year bug makes it for every date after
# February 1900.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 60000  # 2064; anything beyond is not a serial date here


def parse_date(text: str) -> date:
    """A date as departments write it; ValueError with a Chinese message."""
    s = _date_text(text)
    if not s:
        raise ValueError("日期为空")
    if m := _YMD.fullmatch(s):
        return _checked_date(text, m.group(1), m.group(2), m.group(3))
    if re.fullmatch(r"[0-9]{8}", s):
        return _checked_date(text, s[:4], s[4:6], s[6:])
    if re.fullmatch(r"[0-9]{1,5}", s) and 1 <= int(s) <= _EXCEL_MAX_SERIAL:
        return _EXCEL_EPOCH + timedelta(days=int(s))
    if year_month(text):
        raise ValueError(f"日期“{_shown(text)}”只有年月，缺少日；请写成1980-01-02的形式")
    raise ValueError(f"无法识别的日期“{_shown(text)}”，请写成1980-01-02的形式")


def year_month(text: str) -> tuple[int, int] | None:
    """(year, month) of a "出生年月" value such as "1980.01" or "198001"."""
    m = _YM.fullmatch(_date_text(text))
    if not m:
        return None
    year, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return (int(year), int(month)) if 1 <= int(month) <= 12 else None


def _date_text(text: str) -> str:
    s = unicodedata.normalize("NFKC", text or "").strip()
    return _TIME.sub("", s, count=1).strip() if ":" in s else s


def _checked_date(text: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"日期“{_shown(text)}”不存在，请核对年、月、日") from None


def _shown(text: str, limit: int = 30) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit] + "…"


# --- duplicates -------------------------------------------------------------


def find_duplicate_ids(rows: Iterable[tuple[int, str]]) -> dict[int, int]:
    """Line → the first earlier line with the same record_id; blank ids never
    collide."""
    first: dict[str, int] = {}
    dupes: dict[int, int] = {}
    for line, record_id in rows:
        key = unicodedata.normalize("NFKC", record_id or "").strip()
        if not key:
            continue
        if key in first:
            dupes[line] = first[key]
        else:
            first[key] = line
    return dupes


# --- one row ----------------------------------------------------------------


class _Row:
    """Raw cells in, normalised values and labelled messages out."""

    def __init__(self, raw: Mapping[str, str], fields: dict[str, FieldSpec]) -> None:
        self.fields = fields
        self.raw = {name: _cell(raw.get(name)) for name in fields}
        self.result = RowResult(values={name: _empty_value(name) for name in fields})

    def text(self, name: str) -> str:
        return self.raw[name]

    def set(self, name: str, value: Any) -> None:
        self.result.values[name] = value

    def error(self, name: str, message: str) -> None:
        self.result.errors.append(_labelled(self.fields[name].label_zh, message))

    def warn(self, name: str, message: str) -> None:
        self.result.warnings.append(_labelled(self.fields[name].label_zh, message))


def _cell(value: object) -> str:
    text = str(value).strip() if value is not None else ""
    return "" if unicodedata.normalize("NFKC", text).lower() in _PLACEHOLDERS else text


def _empty_value(name: str) -> Any:
    if name in _LIST_FIELDS:
        return []
    return None if name in _NULL_FIELDS else ""


def _labelled(label: str, message: str) -> str:
    """"身份证号：校验位错误…", not "身份证号：身份证号校验位错误…"."""
    if message.startswith(label):
        message = message[len(label):].removeprefix("中的").lstrip("：: ")
    return f"{label}：{message}"


def validate_person(raw: Mapping[str, str], *, today: date | None = None) -> RowResult:
    """One person row keyed by canonical field names (see `suggest_mapping`)."""
    row = _Row(raw, PERSON_FIELDS)
    today = today or date.today()
    _check_person_name(row)
    _check_identity(row, today)
    _check_identifiable(row)
    _check_person_phones(row)
    _check_vocab(row, "residence_type", vocab.RESIDENCE_SPELLINGS, vocab.RESIDENCE_TYPES)
    _check_relation(row)
    _check_house_use(row)
    _check_lease(row)
    _check_tags(row)
    _check_ethnicity(row)
    _check_former_names(row)
    _check_credit_code(row, "employer_credit_code", warn_if_missing=False)
    _copy_texts(row, ("record_id", "hukou_area", "address", "employer", "household_key"))
    return row.result


def validate_organisation(raw: Mapping[str, str]) -> RowResult:
    """One organisation row keyed by canonical field names."""
    row = _Row(raw, ORGANISATION_FIELDS)
    _check_org_name(row)
    _check_credit_code(row, "credit_code", warn_if_missing=True)
    _check_org_type(row)
    _check_person_name(row, "legal_rep", required=False)
    _check_org_phone(row)
    _check_staff_count(row)
    _copy_texts(row, ("record_id", "address"))
    return row.result


# --- names --------------------------------------------------------------


def normalize_name(text: str) -> str:
    """Simplified, half-width, no spacing except between Latin words, and one
    kind of middle dot for minority and foreign names ("阿卜杜·热合曼")."""
    text = unicodedata.normalize("NFKC", _simplified_name(text or ""))
    text = _NAME_DOTS.sub("·", text)
    text = re.sub("·{2,}", "·", _join_words(text.split())).strip("·")
    return text


def _simplified_name(text: str) -> str:
    # Standard characters that OpenCC, reading them as traditional, turns into
    # another name: 张乾 → 张干, 於 (a surname) → 于, 昇 → 升.
    pieces = _NAME_KEEP.split(text)
    return "".join(piece if _NAME_KEEP.fullmatch(piece) else _simplified(piece) for piece in pieces)


def _join_words(words: list[str]) -> str:
    out = ""
    for word in words:
        latin_gap = out[-1:].isascii() and out[-1:].isalpha() and word[0].isascii() and word[0].isalpha()
        out += (" " if latin_gap else "") + word
    return out


def _check_person_name(row: _Row, name: str = "name", *, required: bool = True) -> None:
    value = normalize_name(row.text(name))
    if not value:
        if required:
            row.error(name, "未填写")
        return
    if any(ch.isdigit() for ch in value):
        row.error(name, f"含有数字（{_shown(row.text(name))}），请核对")
    row.set(name, value)


def _check_org_name(row: _Row) -> None:
    text = unicodedata.normalize("NFKC", _simplified(row.text("name")))
    value = _join_words(text.split())
    if not value:
        row.error("name", "未填写")
    row.set("name", value)


def _check_former_names(row: _Row) -> None:
    names = (normalize_name(part) for part in _ITEM_SEPARATORS.split(row.text("former_names")))
    row.set("former_names", _unique(n for n in names if n))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- identity: ID number, birth date, gender ------------------------------


def _check_identity(row: _Row, today: date) -> None:
    resident = _resident_id(row, today)
    row.set("birth_date", _birth_date(row, today, resident))
    row.set("gender", _gender(row, resident))


def _resident_id(row: _Row, today: date) -> ResidentId | None:
    text = _unquoted(row.text("id_number"))
    if not text:
        return None
    try:
        resident = parse_id_number(text, today=today)
    except IdentityError as exc:
        row.error("id_number", str(exc))
        return None
    if len(re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))) == 15:
        row.warn("id_number", f"15位旧号码{text}已转换为18位{resident.number}")
    row.set("id_number", resident.number)
    return resident


def _unquoted(text: str) -> str:
    # "'110105…" and "`110105…" are how exports keep long numbers as text.
    return text.lstrip("'`‘’")


def _birth_date(row: _Row, today: date, resident: ResidentId | None) -> date | None:
    text = row.text("birth_date")
    from_id = resident.birth_date if resident else None
    if not text:
        return from_id
    if (ym := year_month(text)) is not None:
        return _birth_month(row, ym, resident)
    try:
        born = parse_date(text)
    except ValueError as exc:
        row.error("birth_date", str(exc))
        return None
    if born > today:
        row.error("birth_date", f"{born.isoformat()}晚于今天，请核对")
    elif born.year < _EARLIEST_BIRTH_YEAR:
        row.error("birth_date", f"{born.isoformat()}早于{_EARLIEST_BIRTH_YEAR}年，请核对")
    elif from_id and born != from_id:
        row.result.errors.append(
            f"出生日期{born.isoformat()}与身份证号中的{from_id.isoformat()}不一致，请核对")
    return born


def _birth_month(row: _Row, ym: tuple[int, int], resident: ResidentId | None) -> date | None:
    """A "出生年月" column: enough to check against the ID, not to record."""
    shown = f"{ym[0]}-{ym[1]:02d}"
    if resident is None:
        row.warn("birth_date", f"只有年月（{shown}），未记录出生日期；补全年月日或身份证号后可记录")
        return None
    born = resident.birth_date
    if (born.year, born.month) != ym:
        row.result.errors.append(
            f"出生年月{shown}与身份证号中的{born.isoformat()}不一致，请核对")
    return born


def _gender(row: _Row, resident: ResidentId | None) -> str:
    text = row.text("gender")
    from_id = resident.gender if resident else ""
    if not text:
        if from_id:
            row.warn("gender", f"未填写，已按身份证号取为{vocab.GENDERS[from_id]}")
        return from_id
    given = vocab.lookup(vocab.GENDER_SPELLINGS, text)
    if given is None:
        row.error("gender", f"无法识别“{_shown(text)}”，请填写男或女")
        return from_id
    if from_id and given != from_id:
        row.error("gender", f"填写为{vocab.GENDERS[given]}，与身份证号显示的"
                            f"{vocab.GENDERS[from_id]}不一致，请核对")
    return given


def _check_identifiable(row: _Row) -> None:
    if not row.result.values["name"] or row.text("id_number"):
        return
    if not any(row.text(name) for name in ("birth_date", "phone", "address")):
        row.result.errors.append(
            "仅有姓名，无法识别是谁：请至少提供身份证号、出生日期、电话或住址之一")


# --- phones -------------------------------------------------------------------


def _phones(row: _Row, name: str) -> list[str]:
    phones: list[str] = []
    for chunk in _ITEM_SEPARATORS.split(row.text(name)):
        found, leftover = _phones_in(_unquoted(chunk.strip()))
        phones.extend(found)
        if leftover:
            row.error(name, _phone_problem(leftover))
    return _unique(phones)


def _phone_problem(text: str) -> str:
    # As parse_phone words it, but also for text without a digit, which it
    # would call empty.
    return f"电话号码无效（手机为1开头的11位，座机带区号）：{_shown(text)}"


def _check_person_phones(row: _Row) -> None:
    # Every number is kept: the golden record unions them across departments.
    del row.result.values["phone"]
    row.set("phones", _phones(row, "phone"))


def _check_org_phone(row: _Row) -> None:
    phones = _phones(row, "phone")
    if len(phones) > 1:
        row.warn("phone", f"单位只记录一个电话，已保留{phones[0]}，未记录{'、'.join(phones[1:])}")
    row.set("phone", phones[0] if phones else "")


def _phones_in(chunk: str) -> tuple[list[str], str]:
    """Phones in a chunk, and what is left that is not one. "138 1234 5678"
    is one phone, "13812345678 13987654321" two: spaces both group digits and
    separate numbers, so tokens are joined until they make a number."""
    chunk = re.sub(r"^([0-9]+)\.0+$", r"\1", chunk)  # a number that went through a float
    if not chunk:
        return [], ""
    try:
        return [parse_phone(chunk)], ""
    except IdentityError:
        pass
    found: list[str] = []
    pending = ""
    for token in chunk.split():
        pending = f"{pending} {token}".strip()
        try:
            found.append(parse_phone(pending))
        except IdentityError:
            continue
        pending = ""
    return found, pending


# --- vocabularies -------------------------------------------------------------


def _choices(labels: dict[str, str]) -> str:
    return "、".join(labels.values())


def _lookup(spellings: dict[str, str], text: str) -> str | None:
    return vocab.lookup(spellings, _simplified(text))


def _check_vocab(row: _Row, name: str, spellings: dict[str, str], labels: dict[str, str]) -> None:
    text = row.text(name)
    if not text:
        return
    key = _lookup(spellings, text)
    if key is None:
        row.error(name, f"无法识别“{_shown(text)}”，可填：{_choices(labels)}")
        return
    row.set(name, key)


def _check_relation(row: _Row) -> None:
    # Kinship terms are endless (侄子, 孙媳, 保姆…); an unknown one is still a
    # member of the household.
    text = row.text("relation")
    if not text:
        return
    key = _lookup(vocab.RELATION_SPELLINGS, text)
    if key is None:
        row.warn("relation", f"未识别“{_shown(text)}”，已记为“{vocab.RELATIONS['other']}”")
        key = "other"
    row.set("relation", key)


def _check_house_use(row: _Row) -> None:
    # A property of the house, not of the person: a typo should not refuse them.
    text = row.text("house_use")
    if not text:
        return
    key = _lookup(vocab.HOUSE_USE_SPELLINGS, text)
    if key is None:
        row.warn("house_use", f"无法识别“{_shown(text)}”，已忽略（可填：{_choices(vocab.HOUSE_USES)}）")
        return
    row.set("house_use", key)


def _check_lease(row: _Row) -> None:
    """Tenancy dates from a housing list: both dates must read as dates and the
    lease cannot end before it starts."""
    dates: dict[str, date] = {}
    for name in ("lease_start", "lease_end"):
        text = row.text(name)
        if not text:
            continue
        try:
            dates[name] = parse_date(text)
        except ValueError as exc:
            row.error(name, str(exc))
            continue
        row.set(name, dates[name])
    if len(dates) == 2 and dates["lease_end"] < dates["lease_start"]:
        row.error("lease_end", f"到期日期{dates['lease_end']}早于起租日期{dates['lease_start']}")


def _check_tags(row: _Row) -> None:
    keys: list[str] = []
    for part in _TAG_SEPARATORS.split(row.text("tags")):
        if not _cell(part):
            continue
        key = _lookup(vocab.TAG_SPELLINGS, part)
        if key is None:
            row.warn("tags", f"未识别“{_shown(part)}”，已忽略（可用的标签：{_choices(vocab.TAGS)}）")
        else:
            keys.append(key)
    row.set("tags", _unique(keys))


def _check_org_type(row: _Row) -> None:
    text = row.text("org_type")
    if not text:
        return
    key = _lookup(vocab.ORG_TYPE_SPELLINGS, text) or _org_type_by_wording(_simplified(text))
    if key is None:
        row.warn("org_type", f"未识别“{_shown(text)}”，已记为“{vocab.ORG_TYPES['other']}”")
        key = "other"
    row.set("org_type", key)


def _org_type_by_wording(text: str) -> str | None:
    """"有限责任公司", "股份有限公司", "个体工商户（个人经营）"…"""
    if "个体" in text:
        return "individual"
    if "非企业" in text or "社会团体" in text or "基金会" in text:
        return "social"
    if "公司" in text or "企业" in text:
        return "enterprise"
    return None


def _check_ethnicity(row: _Row) -> None:
    text = unicodedata.normalize("NFKC", _simplified(row.text("ethnicity"))).strip()
    # "汉" and "汉族" are the same answer.
    if len(text) == 1 and "\u4e00" <= text <= "\u9fff":
        text += "族"
    row.set("ethnicity", text)


# --- organisations ------------------------------------------------------------


def _check_credit_code(row: _Row, name: str, *, warn_if_missing: bool) -> None:
    text = _unquoted(row.text(name))
    if not text:
        if warn_if_missing:
            row.warn(name, "未填写（个体工商户常无代码），将按名称和地址识别该单位")
        return
    try:
        row.set(name, parse_credit_code(text))
    except IdentityError as exc:
        row.error(name, str(exc))


def _check_staff_count(row: _Row) -> None:
    text = unicodedata.normalize("NFKC", row.text("staff_count")).strip()
    if not text:
        return
    m = re.fullmatch(r"([0-9]+)(?:\.0+)?\s*[人名]?", text)
    if not m:
        row.error("staff_count", f"应为不小于0的整数，实为“{_shown(text)}”")
        return
    row.set("staff_count", int(m.group(1)))


def _copy_texts(row: _Row, names: Iterable[str]) -> None:
    for name in names:
        row.set(name, " ".join(row.text(name).split()))
