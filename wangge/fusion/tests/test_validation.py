from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangge.fusion.validation import (
    ORGANISATION_FIELDS,
    PERSON_FIELDS,
    RowResult,
    fields_for,
    find_duplicate_ids,
    normalize_name,
    parse_date,
    suggest_mapping,
    validate_organisation,
    validate_person,
    year_month,
)

TODAY = date(2025, 6, 1)
ID_MAN = "110105198001020011"  # born 1980-01-02, male
ID_WOMAN = "12010119900506002X"  # born 1990-05-06, female
ID_MAN_15 = "110105800102001"
CREDIT = "91120116MA05K12343"


def person(**raw: str) -> dict[str, str]:
    return {"name": "张三", **raw}


def check(**raw: str) -> RowResult:
    return validate_person(person(**raw), today=TODAY)


# --- dates ------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "1980-01-02", "1980/1/2", "1980.1.2", "19800102", "1980年1月2日", "1980-1-2 00:00:00",
    "1980-01-02T00:00:00", "１９８０－０１－０２", "１９８０年１月２日", " 1980 年 1 月 2 日 ", "29222",
])
def test_parse_date_accepts_department_spellings(text: str) -> None:
    assert parse_date(text) == date(1980, 1, 2)


def test_excel_serials() -> None:
    assert parse_date("1") == date(1899, 12, 31)
    assert parse_date("60000") == date(2064, 4, 8)
    for text in ("0", "60001", "123456"):
        with pytest.raises(ValueError, match="无法识别的日期"):
            parse_date(text)


@pytest.mark.parametrize(("text", "message"), [
    ("", "日期为空"),
    ("1980-02-30", "不存在"),
    ("19801302", "不存在"),
    ("1980.01", "只有年月"),
    ("198001", "只有年月"),
    ("80-1-2", "无法识别"),
    ("一九八〇年", "无法识别"),
])
def test_parse_date_refuses_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date(text)


@given(st.text(alphabet=st.sampled_from("0123456789０１９-/.年月日 :T\t") | st.characters(),
               max_size=30))
def test_parse_date_only_raises_value_error(text: str) -> None:
    try:
        result = parse_date(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(result, date)


def test_year_month() -> None:
    assert year_month("1980.01") == (1980, 1)
    assert year_month("1980年1月") == (1980, 1)
    assert year_month("198013") is None
    assert year_month("1980-01-02") is None


# --- mapping ----------------------------------------------------------------


@pytest.mark.parametrize(("column", "field"), [
    ("姓名", "name"), ("名字", "name"), ("人员姓名", "name"), ("*姓名", "name"), ("姓名*", "name"),
    (" 姓 名 ", "name"), ("Name", "name"), ("XM", "name"),
    ("公民身份号码", "id_number"), ("身份证号", "id_number"), ("身份證號碼", "id_number"),
    ("证件号码", "id_number"), ("身份证", "id_number"), ("身份证号码（必填）", "id_number"),
    ("ID", "id_number"), ("id_number", "id_number"), ("ID Number", "id_number"),
    ("性别", "gender"), ("出生日期", "birth_date"), ("出生年月", "birth_date"), ("生日", "birth_date"),
    ("手机号码", "phone"), ("联系电话", "phone"), ("联系方式", "phone"), ("phone", "phone"),
    ("Mobile", "phone"), ("民族", "ethnicity"), ("户籍所在地", "hukou_area"),
    ("户籍地址", "hukou_area"), ("人口类型", "residence_type"), ("居住类型", "residence_type"),
    ("现住址", "address"), ("房屋地址", "address"), ("地址", "address"), ("工作单位", "employer"),
    ("单位名称", "employer"), ("特殊人群", "tags"), ("人员类别", "tags"), ("与户主关系", "relation"),
    ("关系", "relation"), ("户号", "household_key"), ("户编号", "household_key"),
    ("房屋用途", "house_use"), ("曾用名", "former_names"), ("编号", "record_id"),
    ("记录编号", "record_id"), ("record_id", "record_id"),
])
def test_person_column_spellings(column: str, field: str) -> None:
    assert suggest_mapping([column], "person") == {column: field}


@pytest.mark.parametrize("column", ["序号", "备注", "第3列", "网格员", ""])
def test_unknown_columns_are_left_out(column: str) -> None:
    assert suggest_mapping([column], "person") == {}


def test_best_spelling_wins_when_two_columns_match() -> None:
    mapping = suggest_mapping(["序号", "地址", "姓名", "现住址", "联系电话", "手机号码"], "person")
    assert mapping == {"姓名": "name", "现住址": "address", "手机号码": "phone"}


@pytest.mark.parametrize(("column", "field"), [
    ("单位名称", "name"), ("企业名称", "name"), ("名称", "name"),
    ("统一社会信用代码", "credit_code"), ("信用代码", "credit_code"),
    ("社会信用代码", "credit_code"), ("单位类型", "org_type"), ("类型", "org_type"),
    ("注册地址", "address"), ("经营地址", "address"), ("法定代表人", "legal_rep"),
    ("法人", "legal_rep"), ("负责人", "legal_rep"), ("联系电话", "phone"),
    ("从业人数", "staff_count"), ("员工人数", "staff_count"), ("职工人数", "staff_count"),
])
def test_organisation_column_spellings(column: str, field: str) -> None:
    assert suggest_mapping([column], "organisation") == {column: field}


def test_fields_for_kind() -> None:
    assert fields_for("person") is PERSON_FIELDS
    assert fields_for("organisation")["name"].label == "单位名称"
    assert [f for f, spec in PERSON_FIELDS.items() if spec.required] == ["name"]
    assert [f for f, spec in ORGANISATION_FIELDS.items() if spec.required] == ["name"]
    with pytest.raises(ValueError):
        suggest_mapping(["姓名"], "house")


# --- person: who it is --------------------------------------------------------


@pytest.mark.parametrize("name", ["", "  ", "无", "/"])
def test_name_is_required(name: str) -> None:
    result = validate_person({"name": name, "id_number": ID_MAN}, today=TODAY)
    assert "姓名：未填写" in result.errors


def test_only_a_name_is_refused() -> None:
    assert check().errors == ["仅有姓名，无法识别是谁：请至少提供身份证号、出生日期、电话或住址之一"]


@pytest.mark.parametrize("extra", [{"id_number": ID_MAN}, {"birth_date": "1980-01-02"},
                                   {"phone": "13812345678"}, {"address": "华明家园3号楼2单元201"}])
def test_a_name_and_one_more_thing_is_enough(extra: dict[str, str]) -> None:
    assert check(**extra).errors == []


@pytest.mark.parametrize(("raw", "normal"), [
    ("張 三", "张三"), ("张乾", "张乾"), ("於麗", "於丽"), ("阿卜杜 • 热合曼", "阿卜杜·热合曼"),
    ("阿卜杜.热合曼", "阿卜杜·热合曼"), ("阿卜杜・热合曼", "阿卜杜·热合曼"), ("ＪＯＨＮ  ＳＭＩＴＨ", "JOHN SMITH"),
    ("王㛃", "王㛃"),
])
def test_names_are_normalised(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal
    assert check(name=raw, phone="13812345678").values["name"] == normal


def test_name_with_digits_is_refused() -> None:
    assert check(name="张三2", phone="13812345678").errors == ["姓名：含有数字（张三2），请核对"]


def test_valid_id_gives_birth_date_and_gender() -> None:
    result = check(id_number=f" {ID_WOMAN.lower()} ")
    assert result.errors == []
    assert result.values["id_number"] == ID_WOMAN
    assert result.values["birth_date"] == date(1990, 5, 6)
    assert result.values["gender"] == "F"
    assert result.warnings == ["性别：未填写，已按身份证号取为女"]


def test_id_checksum_error_quotes_the_identity_message() -> None:
    result = check(id_number=ID_MAN[:-1] + "2")
    assert result.errors == [f"身份证号：校验位错误（应为1）：{ID_MAN[:-1]}2"]
    assert result.values["id_number"] == ""


@pytest.mark.parametrize(("number", "message"), [
    ("11010519800102001", "身份证号：应为18位"),
    ("99010519800102001X", "身份证号：地区码990105不存在"),
    ("110105198013020011", "身份证号：出生日期19801302不是有效日期"),
])
def test_id_errors(number: str, message: str) -> None:
    [error] = check(id_number=number).errors
    assert error.startswith(message)


def test_15_digit_id_is_upgraded_with_a_warning() -> None:
    result = check(id_number=ID_MAN_15, gender="男")
    assert result.errors == []
    assert result.values["id_number"] == ID_MAN
    assert result.warnings == [f"身份证号：15位旧号码{ID_MAN_15}已转换为18位{ID_MAN}"]


def test_id_kept_as_text_with_an_apostrophe() -> None:
    assert check(id_number="'" + ID_MAN).values["id_number"] == ID_MAN


# --- person: birth date and gender ---------------------------------------------


def test_birth_date_is_parsed() -> None:
    assert check(birth_date="1980年1月2日").values["birth_date"] == date(1980, 1, 2)


def test_birth_date_disagreeing_with_id() -> None:
    result = check(id_number=ID_MAN, birth_date="1980-01-03")
    assert "出生日期1980-01-03与身份证号中的1980-01-02不一致，请核对" in result.errors


def test_future_birth_date() -> None:
    assert check(birth_date="2025-06-02").errors == ["出生日期：2025-06-02晚于今天，请核对"]


def test_unparseable_birth_date() -> None:
    [error] = check(birth_date="八零年").errors
    assert error.startswith("出生日期：无法识别的日期“八零年”")


def test_birth_year_month_checked_against_id() -> None:
    assert check(id_number=ID_MAN, birth_date="1980.01").errors == []
    assert check(id_number=ID_MAN, birth_date="1980.01").values["birth_date"] == date(1980, 1, 2)
    assert check(id_number=ID_MAN, birth_date="1980.02").errors == [
        "出生年月1980-02与身份证号中的1980-01-02不一致，请核对"]


def test_birth_year_month_without_id_is_not_recorded() -> None:
    result = check(birth_date="198001", phone="13812345678")
    assert result.errors == []
    assert result.values["birth_date"] is None
    assert result.warnings[0].startswith("出生日期：只有年月（1980-01）")


@pytest.mark.parametrize(("given", "key"), [("男", "M"), ("女性", "F"), ("F", "F"), ("ｍ", "M")])
def test_gender_spellings(given: str, key: str) -> None:
    assert check(gender=given, phone="13812345678").values["gender"] == key


def test_gender_disagreeing_with_id() -> None:
    assert check(id_number=ID_MAN, gender="女").errors == [
        "性别：填写为女，与身份证号显示的男不一致，请核对"]


def test_unknown_gender() -> None:
    assert check(gender="保密", phone="13812345678").errors == ["性别：无法识别“保密”，请填写男或女"]


def test_gender_placeholder_counts_as_missing() -> None:
    result = check(id_number=ID_MAN, gender="未知")
    assert result.errors == []
    assert result.values["gender"] == "M"


# --- person: phones ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "phones"), [
    ("13812345678", ["13812345678"]),
    ("138 1234 5678", ["13812345678"]),
    ("+86 138-1234-5678", ["13812345678"]),
    ("13812345678;13987654321", ["13812345678", "13987654321"]),
    ("13987654321、13812345678，022-23456789", ["13987654321", "13812345678", "02223456789"]),
    ("13812345678 13987654321", ["13812345678", "13987654321"]),
    ("138 1234 5678 139 8765 4321", ["13812345678", "13987654321"]),
    ("13812345678/13812345678", ["13812345678"]),
    ("13812345678.0", ["13812345678"]),
])
def test_phones_are_kept_in_order(text: str, phones: list[str]) -> None:
    result = check(phone=text)
    assert result.errors == []
    assert result.values["phones"] == phones
    assert "phone" not in result.values


@pytest.mark.parametrize("text", ["1381234567", "23456789", "13812345678;12345", "电话"])
def test_a_bad_phone_is_an_error(text: str) -> None:
    result = check(phone=text, id_number=ID_MAN)
    [error] = result.errors
    assert error.startswith("联系电话：电话号码无效")


# --- person: vocabularies -------------------------------------------------------


@pytest.mark.parametrize(("text", "key"), [("流动人口", "liudong"), ("流動人口", "liudong"),
                                           ("户籍", "huji"), ("境外人员", "jingwai")])
def test_residence_types(text: str, key: str) -> None:
    assert check(residence_type=text, id_number=ID_MAN).values["residence_type"] == key


def test_unknown_residence_type_lists_the_choices() -> None:
    assert check(residence_type="暂住", id_number=ID_MAN).errors == [
        "人员类型：无法识别“暂住”，可填：户籍、常住、寄宿、流动、境外"]


def test_relations() -> None:
    assert check(relation="妻子", id_number=ID_MAN).values["relation"] == "spouse"
    result = check(relation="侄子", id_number=ID_MAN)
    assert result.errors == []
    assert result.values["relation"] == "other"
    assert "与户主关系：未识别“侄子”，已记为“其他”" in result.warnings


def test_tags() -> None:
    result = check(tags="低保、獨居老人,低保户；退伍军人 残疾，未成年", id_number=ID_MAN)
    assert result.errors == []
    assert result.values["tags"] == ["dibao", "elderly_alone", "veteran", "disabled"]
    [warning] = [w for w in result.warnings if w.startswith("标签")]
    assert warning.startswith("标签：未识别“未成年”，已忽略")


def test_house_use() -> None:
    assert check(house_use="出租房", id_number=ID_MAN).values["house_use"] == "rented"
    result = check(house_use="合租", id_number=ID_MAN)
    assert result.errors == [] and result.values["house_use"] == ""
    assert any(w.startswith("房屋用途：无法识别“合租”") for w in result.warnings)


def test_other_person_fields() -> None:
    result = check(id_number=ID_MAN, ethnicity="汉", former_names="張小三、张 老三",
                   employer_credit_code=CREDIT.lower(), record_id=" A-001 ",
                   address=" 华明家园  3号楼 ", household_key="H01")
    assert result.errors == []
    values = result.values
    assert values["ethnicity"] == "汉族"
    assert values["former_names"] == ["张小三", "张老三"]
    assert values["employer_credit_code"] == CREDIT
    assert (values["record_id"], values["address"], values["household_key"]) == (
        "A-001", "华明家园 3号楼", "H01")


def test_bad_employer_credit_code() -> None:
    [error] = check(id_number=ID_MAN, employer_credit_code=CREDIT[:-1] + "0").errors
    assert error.startswith("工作单位信用代码：统一社会信用代码校验位错误（应为3）")


def test_every_field_is_in_the_values() -> None:
    values = check(id_number=ID_MAN).values
    assert set(values) == (set(PERSON_FIELDS) - {"phone"}) | {"phones"}
    assert values["tags"] == [] and values["phones"] == [] and values["employer"] == ""


# --- organisations ------------------------------------------------------------------


def org(**raw: str) -> RowResult:
    return validate_organisation({"name": "天津华明 商贸 有限公司（东丽）", **raw})


def test_organisation_name_required_and_normalised() -> None:
    assert validate_organisation({"credit_code": CREDIT}).errors == ["单位名称：未填写"]
    assert org(credit_code=CREDIT).values["name"] == "天津华明商贸有限公司(东丽)"


def test_credit_code() -> None:
    assert org(credit_code=f" {CREDIT.lower()} ").values["credit_code"] == CREDIT
    assert org(credit_code=CREDIT[:-1] + "0").errors == [
        f"统一社会信用代码：校验位错误（应为3）：{CREDIT[:-1]}0"]


def test_missing_credit_code_is_a_warning() -> None:
    result = org()
    assert result.errors == []
    assert result.warnings == ["统一社会信用代码：未填写（个体工商户常无代码），将按名称和地址识别该单位"]


@pytest.mark.parametrize(("text", "count"), [("12", 12), ("12人", 12), ("１２ 人", 12), ("0", 0),
                                             ("7.0", 7)])
def test_staff_count(text: str, count: int) -> None:
    assert org(credit_code=CREDIT, staff_count=text).values["staff_count"] == count


@pytest.mark.parametrize("text", ["-3", "十二", "约10人", "3.5"])
def test_bad_staff_count(text: str) -> None:
    assert org(credit_code=CREDIT, staff_count=text).errors == [
        f"从业人数：应为不小于0的整数，实为“{text}”"]


@pytest.mark.parametrize(("text", "key"), [("个体户", "individual"), ("企业", "enterprise"),
                                           ("有限责任公司", "enterprise"), ("民办非企业", "social"),
                                           ("合作社", "other")])
def test_org_types(text: str, key: str) -> None:
    assert org(credit_code=CREDIT, org_type=text).values["org_type"] == key


def test_organisation_keeps_one_phone() -> None:
    result = org(credit_code=CREDIT, phone="022-23456789；13812345678", legal_rep="李 四")
    assert result.values["phone"] == "02223456789"
    assert result.values["legal_rep"] == "李四"
    assert "联系电话：单位只记录一个电话，已保留02223456789，未记录13812345678" in result.warnings
    assert org(credit_code=CREDIT, phone="12345").errors[0].startswith("联系电话：电话号码无效")


# --- duplicates -------------------------------------------------------------------


def test_find_duplicate_ids() -> None:
    rows = [(2, "A1"), (3, "A2"), (4, ""), (5, "A1"), (6, " "), (7, "Ａ1"), (8, "A2")]
    assert find_duplicate_ids(rows) == {5: 2, 7: 2, 8: 3}


def test_lease_dates_are_parsed_and_checked():
    from wangge.fusion.validation import validate_person

    ok = validate_person({"name": "金峰", "phone": "13258423701", "lease_start": "2022/5/11",
                          "lease_end": "2027年5月11日"})
    assert ok.values["lease_start"].isoformat() == "2022-05-11" and not ok.errors
    bad = validate_person({"name": "金峰", "phone": "13258423701", "lease_start": "2027-05-11",
                           "lease_end": "2022-05-11"})
    assert any("早于起租日期" in e for e in bad.errors)


def test_housing_list_headers_are_recognised():
    from wangge.fusion.validation import suggest_mapping

    mapping = suggest_mapping(["备案编号", "房屋坐落", "租赁起始日期", "租赁截止日期"], "person")
    assert mapping == {"备案编号": "record_id", "房屋坐落": "address", "租赁起始日期": "lease_start",
                       "租赁截止日期": "lease_end"}
