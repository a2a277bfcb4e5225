"""The registry's closed vocabularies, with the spellings found on department forms.

Pure module: the import validation, the models' choices and the demo generator
read the same lists, so a value accepted at import is always a value the model
can hold.
"""

from __future__ import annotations

import unicodedata

GENDERS = {"M": "男", "F": "女"}
GENDER_SPELLINGS = {
    "男": "M", "男性": "M", "m": "M", "male": "M", "1": "M",
    "女": "F", "女性": "F", "f": "F", "female": "F", "2": "F",
}

RESIDENCE_TYPES = {
    "huji": "户籍",
    "changzhu": "常住",
    "jisu": "寄宿",
    "liudong": "流动",
    "jingwai": "境外",
}
RESIDENCE_SPELLINGS = {
    "户籍": "huji", "户籍人口": "huji", "本地户籍": "huji",
    "常住": "changzhu", "常住人口": "changzhu",
    "寄宿": "jisu", "寄住": "jisu", "寄宿人口": "jisu",
    "流动": "liudong", "流动人口": "liudong", "外来": "liudong", "外来人口": "liudong",
    "境外": "jingwai", "境外人员": "jingwai", "境外人口": "jingwai",
}

# Special groups (特殊人群 and service targets). Keys are stable; labels are shown.
TAGS = {
    "elderly_alone": "独居老人",
    "empty_nest": "空巢老人",
    "left_behind_child": "留守儿童",
    "disabled": "残疾人",
    "dibao": "低保",
    "tekun": "特困",
    "mental_disorder": "精神障碍",
    "community_correction": "社区矫正",
    "released_prisoner": "刑满释放",
    "key_youth": "重点青少年",
    "veteran": "退役军人",
    "frontline_family": "一线工作人员家属",
    "pregnant": "孕产妇",
    "home_isolation": "居家隔离",
}
TAG_SPELLINGS = {label: key for key, label in TAGS.items()} | {
    "独居": "elderly_alone", "孤寡老人": "elderly_alone",
    "空巢": "empty_nest",
    "残疾": "disabled", "残障人士": "disabled",
    "低保户": "dibao", "最低生活保障": "dibao",
    "特困人员": "tekun", "特困供养": "tekun",
    "严重精神障碍": "mental_disorder", "精神病": "mental_disorder",
    "社区矫正人员": "community_correction",
    "刑释人员": "released_prisoner", "刑满释放人员": "released_prisoner",
    "退役军人": "veteran", "退伍军人": "veteran",
    "一线人员家属": "frontline_family", "医护家属": "frontline_family",
    "孕妇": "pregnant", "产妇": "pregnant",
    "居家观察": "home_isolation",
}
# Tags that only some roles may see (health, justice): masked like an ID number.
SENSITIVE_TAGS = frozenset({
    "mental_disorder", "community_correction", "released_prisoner", "key_youth",
    "home_isolation", "disabled", "dibao", "tekun",
})

RELATIONS = {
    "head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母",
    "grandchild": "孙子女", "grandparent": "祖父母", "sibling": "兄弟姐妹",
    "child_in_law": "儿媳/女婿", "other": "其他",
}
RELATION_SPELLINGS = {label: key for key, label in RELATIONS.items()} | {
    "本人": "head", "户主本人": "head",
    "妻": "spouse", "夫": "spouse", "妻子": "spouse", "丈夫": "spouse",
    "子": "child", "女": "child", "儿子": "child", "女儿": "child", "长子": "child", "长女": "child",
    "次子": "child", "次女": "child",
    "父亲": "parent", "母亲": "parent", "父": "parent", "母": "parent",
    "孙子": "grandchild", "孙女": "grandchild", "外孙": "grandchild", "外孙女": "grandchild",
    "祖父": "grandparent", "祖母": "grandparent", "外祖父": "grandparent", "外祖母": "grandparent",
    "兄": "sibling", "弟": "sibling", "姐": "sibling", "妹": "sibling",
    "儿媳": "child_in_law", "女婿": "child_in_law",
}

HOUSE_USES = {"own": "自住", "rented": "出租", "vacant": "空置", "business": "经营"}
HOUSE_USE_SPELLINGS = {label: key for key, label in HOUSE_USES.items()} | {
    "自用": "own", "自居": "own", "出租房": "rented", "租赁": "rented",
    "闲置": "vacant", "空房": "vacant", "商用": "business", "经营用房": "business",
}

ORG_TYPES = {
    "enterprise": "企业", "government": "机关", "institution": "事业单位",
    "social": "社会组织", "individual": "个体工商户", "other": "其他",
}
ORG_TYPE_SPELLINGS = {label: key for key, label in ORG_TYPES.items()} | {
    "公司": "enterprise", "有限公司": "enterprise", "国有企业": "enterprise",
    "私营企业": "enterprise", "政府机关": "government", "党政机关": "government",
    "社团": "social", "民办非企业": "social", "个体户": "individual",
}


# How each golden-record field is named on pages, in provenance and in forms.
FIELD_LABELS = {
    "name": "姓名", "former_names": "曾用名", "id_number": "身份证号", "gender": "性别", "birth_date": "出生日期",
    "phones": "电话", "ethnicity": "民族", "hukou_area": "户籍地", "residence_type": "人口类型",
    "address": "现住址", "address_code": "标准地址", "address_text": "住址原文", "grid_code": "所在网格",
    "employer": "工作单位", "tags": "人群类别",
}


def lookup(spellings: dict[str, str], value: str) -> str | None:
    """The key for a spelling, forgiving width, case and surrounding space."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        return None
    if text in spellings.values():
        return text
    return spellings.get(text) or spellings.get(text.lower())
