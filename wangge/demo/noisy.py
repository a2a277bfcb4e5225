"""Six departments' renditions of a true population, with the noise real
department records carry. No Django here.

Each `Department` knows part of the population (police nearly everyone, civil
affairs the elderly and the assisted, housing the owners and tenants …), names
its columns its own way, and has its own habits: police keep old 15-digit ID
numbers, grid workers type names by pinyin and often leave the ID out, health
writes gender as 1/2. `noisy_records` gives the benchmark's flat records with
the truth attached; `department_rows` gives a department's file as the demo
imports it, with a few rows that must fail validation.

Rates are per record and mostly low: linkage is meant to be hard but possible
for a resolver that knows Chinese names, ID numbers and addresses.
"""

from __future__ import annotations

import csv
import functools
import random
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from wangge.core.identity import id_check_char
from wangge.demo import names
from wangge.demo.population import (
    REGION_NAMES,
    Person,
    Population,
    Weighted,
    given_name,
    split_name,
)
from wangge.registry import vocab

FIELDS = ("record_id", "source", "name", "id_number", "phone", "birth_date", "gender", "address")
RENAMED_SHARE = 0.03  # people who have a former name (曾用名)

_FULLWIDTH = str.maketrans("0123456789Xx-", "０１２３４５６７８９Ｘｘ－")

# Same pinyin and tone, different character: what a pinyin input method offers
# next to the intended one.
HOMOPHONE_GROUPS = (
    "伟玮炜苇", "丽莉俪", "立力利", "静婧靖", "军君钧均", "俊骏峻", "华桦骅", "明鸣铭", "芳方",
    "娟鹃", "敏珉闽", "强蔷", "杰洁捷", "涛韬", "磊蕾垒", "勇永咏", "艳燕雁彦", "霞侠", "平萍苹",
    "刚钢", "辉晖徽", "斌彬滨", "鹏朋", "宇雨羽禹", "浩昊皓", "轩萱宣", "涵含晗", "欣馨新心",
    "怡宜仪", "婷亭庭", "琳林霖", "玲铃灵", "红虹宏鸿洪", "梅玫", "兰岚", "英瑛莺", "建剑健",
    "文雯", "佳嘉家", "晨辰宸臣", "梓子紫", "彤桐童", "峰锋丰枫", "翔祥", "凯恺", "瑞睿锐",
    "琪琦淇", "颖影", "晶精", "慧惠蕙", "飞菲非", "阳洋扬", "振震", "志智", "东冬", "玉钰",
    "桂贵", "珍真贞", "荣蓉容", "云芸", "琴芹勤", "莹盈", "倩茜", "璐露", "瑶遥", "珊姗",
    "薇微", "晓小", "秀绣", "淑舒书", "思丝", "梦孟", "诗师", "金今津", "彩采", "月悦越",
    "宝保", "翠萃", "艺忆", "楠南", "妍研岩", "香湘", "清青", "天添", "星兴", "泽择", "友有",
    "世仕", "景井", "忠中", "龙隆", "成诚城", "生升", "全泉", "武伍", "才材财", "春椿",
)
HOMOPHONES: dict[str, str] = {
    c: group.replace(c, "") for group in HOMOPHONE_GROUPS for c in group
}


@dataclass(frozen=True)
class Noise:
    """Per-record rates. ID, phone and address noises apply to values present."""

    traditional: float = 0.0  # name in traditional script
    homophone: float = 0.0  # one given-name character swapped for a homophone
    name_space: float = 0.0  # "王 伟", "王　伟"
    former_name: float = 0.0  # of renamed people, the share still held under the old name
    id_missing: float = 0.0
    id_old15: float = 0.0  # of people born before 1990, the share held under the 15-digit number
    id_typo: float = 0.0  # one wrong digit or two swapped: the checksum fails
    id_lower_x: float = 0.0  # of IDs ending in X
    id_fullwidth: float = 0.0
    phone_missing: float = 0.0
    phone_old: float = 0.0  # a number the person has since given up
    phone_spaced: float = 0.0  # "138 0013 8000", "+86 13800138000"
    phone_fullwidth: float = 0.0
    guardian_phone: float = 0.0  # of people without a phone, the share given the head's
    birth_missing: float = 0.0
    birth_wrong: float = 0.0  # day and month swapped, or a day off
    birth_formats: tuple[tuple[str, float], ...] = (("iso", 1.0),)
    gender_missing: float = 0.0
    gender_style: str = "男女"  # or "12"
    address_missing: float = 0.0
    address_city: float = 0.0  # "天津市" put in front
    address_short: float = 0.0  # district and street left out
    address_dash: float = 0.0  # "3-2-301"
    address_numerals: float = 0.0  # "三号楼二单元301"
    address_no_room: float = 0.0
    address_fullwidth: float = 0.0
    address_traditional: float = 0.0
    duplicate: float = 0.0  # the department holds the person a second time


@dataclass(frozen=True)
class Coverage:
    """Who a department knows: `base`, replaced by the person's residence type
    where listed, then raised to the highest rate of any group they belong to
    (a tag key, "child", "elderly", "employed", "retired", "owner", "tenant")."""

    base: float
    residence: dict[str, float] = field(default_factory=dict)
    groups: dict[str, float] = field(default_factory=dict)


# Compared and hashed by identity: the six are singletons, and a department
# makes a natural dict key.
@dataclass(frozen=True, eq=False)
class Department:
    code: str
    name: str
    fields: frozenset[str]  # which of FIELDS' person fields it holds
    columns: tuple[tuple[str, str], ...]  # (column key, its own header), in file order
    coverage: Coverage
    noise: Noise
    tags_shown: frozenset[str] = frozenset()  # tag keys its files list
    file_encoding: str = "utf-8"  # what its exports usually come in

    @property
    def headers(self) -> list[str]:
        return [header for _, header in self.columns]


_PERSON_FIELDS = frozenset({"name", "id_number", "phone", "birth_date", "gender", "address"})
_CARE_TAGS = frozenset({"elderly_alone", "empty_nest", "left_behind_child", "disabled", "dibao",
                        "tekun", "veteran"})
_HEALTH_TAGS = frozenset({"pregnant", "mental_disorder", "disabled", "elderly_alone",
                          "home_isolation"})

POLICE = Department(
    code="police", name="公安户籍", fields=_PERSON_FIELDS,
    columns=(("key", "人员编号"), ("name", "姓名"), ("former_name", "曾用名"), ("gender", "性别"),
             ("ethnicity", "民族"), ("birth_date", "出生日期"), ("id_number", "公民身份号码"),
             ("hukou_area", "户籍地"), ("residence_type", "人员类别"), ("relation", "与户主关系"),
             ("address", "现住址"), ("phone", "联系电话")),
    coverage=Coverage(0.95, {"huji": 0.995, "changzhu": 0.9, "jisu": 0.8, "liudong": 0.78,
                             "jingwai": 0.98},
                      {"community_correction": 1.0, "released_prisoner": 1.0, "key_youth": 1.0}),
    noise=Noise(traditional=0.002, homophone=0.003, name_space=0.002, id_old15=0.08,
                id_typo=0.002, id_lower_x=0.05, phone_missing=0.3, phone_old=0.15,
                birth_wrong=0.001, birth_formats=(("compact", 1.0),),
                address_city=0.5, address_short=0.05, address_dash=0.05, address_numerals=0.1,
                address_no_room=0.02, duplicate=0.003),
    file_encoding="gb18030",
)
CIVIL = Department(
    code="civil", name="民政", fields=_PERSON_FIELDS,
    columns=(("key", "档案编号"), ("name", "姓名"), ("id_number", "身份证号"), ("gender", "性别"),
             ("birth_date", "出生日期"), ("tags", "人员类别"), ("address", "家庭住址"),
             ("phone", "联系电话")),
    coverage=Coverage(0.08, {"liudong": 0.03, "jingwai": 0.0},
                      {"elderly": 0.6, "elderly_alone": 1.0, "empty_nest": 0.95, "dibao": 1.0,
                       "tekun": 1.0, "disabled": 0.95, "left_behind_child": 1.0, "veteran": 0.9}),
    noise=Noise(traditional=0.005, homophone=0.02, name_space=0.02, former_name=0.3,
                id_missing=0.02, id_old15=0.02, id_typo=0.01, id_lower_x=0.3, id_fullwidth=0.03,
                phone_missing=0.15, phone_old=0.1, phone_spaced=0.05, phone_fullwidth=0.02,
                guardian_phone=0.6, birth_missing=0.05, birth_wrong=0.003,
                birth_formats=(("iso", 0.6), ("cn", 0.3), ("slash", 0.1)), gender_missing=0.02,
                address_missing=0.02, address_short=0.3, address_dash=0.1, address_numerals=0.05,
                address_no_room=0.03, address_fullwidth=0.02, duplicate=0.01),
    tags_shown=_CARE_TAGS, file_encoding="gbk",
)
HEALTH = Department(
    code="health", name="卫健", fields=_PERSON_FIELDS,
    columns=(("key", "健康档案编号"), ("name", "姓名"), ("id_type", "证件类型"),
             ("id_number", "证件号码"), ("gender", "性别"), ("birth_date", "出生日期"),
             ("phone", "手机号"), ("address", "现住址"), ("tags", "重点人群"),
             ("ethnicity", "民族")),
    coverage=Coverage(0.42, {"liudong": 0.3, "jingwai": 0.2},
                      {"child": 0.9, "elderly": 0.8, "pregnant": 1.0, "mental_disorder": 1.0,
                       "home_isolation": 1.0, "disabled": 0.9}),
    noise=Noise(traditional=0.01, homophone=0.015, name_space=0.01, former_name=0.4,
                id_missing=0.04, id_typo=0.01, id_lower_x=0.4, id_fullwidth=0.02,
                phone_missing=0.05, phone_old=0.15, phone_spaced=0.03, phone_fullwidth=0.01,
                guardian_phone=0.8, birth_missing=0.01, birth_wrong=0.003,
                birth_formats=(("slash", 0.7), ("iso", 0.3)), gender_missing=0.01,
                gender_style="12", address_missing=0.03, address_short=0.5, address_dash=0.3,
                address_numerals=0.05, address_no_room=0.05, address_fullwidth=0.05,
                address_traditional=0.01, duplicate=0.02),
    tags_shown=_HEALTH_TAGS, file_encoding="utf-8-sig",
)
HRSS = Department(
    code="hrss", name="人社", fields=_PERSON_FIELDS,
    columns=(("key", "个人编号"), ("name", "姓名"), ("id_number", "社会保障号码"),
             ("gender", "性别"), ("birth_date", "出生日期"), ("ethnicity", "民族"),
             ("hukou_area", "户籍地"), ("employer", "单位名称"), ("insured", "参保身份"),
             ("phone", "联系电话"), ("address", "居住地址")),
    coverage=Coverage(0.03, {"jingwai": 0.1}, {"employed": 0.8, "retired": 0.75}),
    noise=Noise(traditional=0.002, homophone=0.005, name_space=0.005, former_name=0.5,
                id_missing=0.005, id_old15=0.03, id_typo=0.003, id_lower_x=0.02,
                phone_missing=0.08, phone_old=0.2, birth_wrong=0.001,
                birth_formats=(("compact", 0.5), ("iso", 0.5)), gender_style="12",
                address_missing=0.2, address_short=0.2, address_dash=0.1, address_no_room=0.05,
                duplicate=0.005),
    file_encoding="gb18030",
)
HOUSING = Department(
    code="housing", name="住建/房管", fields=frozenset({"name", "id_number", "phone", "address"}),
    columns=(("key", "备案编号"), ("address", "房屋坐落"), ("house_use", "房屋用途"),
             ("name", "姓名"), ("id_number", "证件号码"), ("phone", "联系电话"),
             ("role", "人员身份"), ("lease_start", "租赁起始日期"), ("lease_end", "租赁截止日期")),
    coverage=Coverage(0.0, {}, {"owner": 0.85, "tenant": 0.6}),
    noise=Noise(traditional=0.005, homophone=0.01, name_space=0.01, former_name=0.6,
                id_missing=0.06, id_old15=0.15, id_typo=0.01, id_lower_x=0.2, id_fullwidth=0.01,
                phone_missing=0.15, phone_old=0.25, phone_fullwidth=0.01,
                address_short=0.2, address_dash=0.3, address_numerals=0.1,
                address_fullwidth=0.02, duplicate=0.01),
    file_encoding="gbk",
)
GRID = Department(
    code="grid", name="网格采集", fields=_PERSON_FIELDS,
    columns=(("key", "序号"), ("name", "姓名"), ("gender", "性别"), ("birth_date", "生日"),
             ("id_number", "身份证号码"), ("phone", "手机号"), ("address", "居住地址"),
             ("ethnicity", "民族"), ("residence_type", "人口类型"), ("relation", "与户主关系"),
             ("tags", "特殊人群"), ("employer", "工作单位"), ("house_use", "房屋用途")),
    coverage=Coverage(0.55, {"liudong": 0.5, "jingwai": 0.8},
                      {"elderly": 0.8, **dict.fromkeys(vocab.TAGS, 1.0)}),
    noise=Noise(traditional=0.005, homophone=0.04, name_space=0.03, former_name=0.1,
                id_missing=0.2, id_typo=0.02, id_lower_x=0.5, id_fullwidth=0.05,
                phone_missing=0.05, phone_old=0.05, phone_spaced=0.1, phone_fullwidth=0.05,
                guardian_phone=0.7, birth_missing=0.1, birth_wrong=0.005,
                birth_formats=(("dot", 0.25), ("slash", 0.25), ("cn", 0.25), ("iso", 0.15),
                               ("compact", 0.1)),
                gender_missing=0.05, address_missing=0.01, address_short=0.6, address_dash=0.3,
                address_numerals=0.2, address_no_room=0.05, address_fullwidth=0.05,
                address_traditional=0.005, duplicate=0.03),
    tags_shown=frozenset(vocab.TAGS), file_encoding="utf-8-sig",
)
DEPARTMENTS: tuple[Department, ...] = (POLICE, CIVIL, HEALTH, HRSS, HOUSING, GRID)
_HOUSING_INDEX = DEPARTMENTS.index(HOUSING)
_GRID_INDEX = DEPARTMENTS.index(GRID)

# Department spellings of vocabulary labels, all accepted by vocab.lookup.
_TAG_LABELS = {"civil": {"dibao": "低保户", "tekun": "特困供养", "veteran": "退伍军人"},
               "health": {"disabled": "残障人士", "mental_disorder": "严重精神障碍"}}
_KEY_PREFIX = {"police": "GA", "civil": "MZ", "health": "WJ", "hrss": "RS", "housing": "ZJ"}
_RELATION_BY_GENDER = {
    "spouse": ("夫", "妻"), "child": ("子", "女"), "parent": ("父亲", "母亲"),
    "grandchild": ("孙子", "孙女"), "grandparent": ("祖父", "祖母"),
    "child_in_law": ("女婿", "儿媳"),
}


# --- text noise ----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    return str(_s2t().convert(text)) if text else text


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def homophone(name: str, rng: random.Random) -> str:
    """One given-name character replaced by a homophone; unchanged if none has one."""
    surname, given = split_name(name)
    spots = [i for i, c in enumerate(given) if c in HOMOPHONES]
    if not spots:
        return name
    i = spots[int(rng.random() * len(spots))]
    others = HOMOPHONES[given[i]]
    return surname + given[:i] + others[int(rng.random() * len(others))] + given[i + 1:]


def spaced_name(name: str, rng: random.Random) -> str:
    surname, given = split_name(name)
    # Two-character names are padded to the width of three on many forms.
    gap = "　" if len(name) == 2 and rng.random() < 0.5 else " "
    return f"{surname}{gap}{given}"


def old_id(number: str) -> str:
    """The first-generation 15-digit number: no century, no check character."""
    return number[:6] + number[8:17]


def id_typo(number: str, rng: random.Random) -> str:
    digits = list(number)
    i = int(rng.random() * 16)
    if rng.random() < 0.5 and digits[i] != digits[i + 1]:
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    else:
        i = int(rng.random() * 17)
        digits[i] = str((int(digits[i]) + 1 + int(rng.random() * 9)) % 10)
    return "".join(digits)


def format_date(day: date, style: str) -> str:
    y, m, d = day.year, day.month, day.day
    if style == "slash":
        return f"{y}/{m}/{d}"
    if style == "compact":
        return f"{y:04d}{m:02d}{d:02d}"
    if style == "cn":
        return f"{y}年{m}月{d}日"
    if style == "dot":
        return f"{y:04d}.{m:02d}.{d:02d}"
    return day.isoformat()


def _wrong_birth(day: date, rng: random.Random) -> date:
    if day.day <= 12 and day.day != day.month and rng.random() < 0.6:
        return day.replace(month=day.day, day=day.month)
    return day + timedelta(days=1 if rng.random() < 0.5 else -1)


_ROOM_TAIL = re.compile(r"(\d+)号楼(\d+)单元(\d+)室$")
_UNIT_TAIL = re.compile(r"(\d+)号楼(\d+)单元")
_ADMIN_HEAD = re.compile(r"^(?:天津市)?东丽区(?:[\u4e00-\u9fff]{2,5}?街道)?")
_ROAD_DOOR = re.compile(r"^[\u4e00-\u9fff]{2,6}?(?:路|道|大街|公路|大道)\d+号(?=.)")


def noisy_address(address: str, noise: Noise, rng: random.Random) -> str:
    if not address or rng.random() < noise.address_missing:
        return ""
    text = address
    if rng.random() < noise.address_no_room:
        text = re.sub(r"\d+室$", "", text)
    if rng.random() < noise.address_short:
        text = _ADMIN_HEAD.sub("", text)
        if rng.random() < 0.5:  # people name the compound, not the door number it is behind
            text = _ROAD_DOOR.sub("", text)
    elif rng.random() < noise.address_city and not text.startswith("天津市"):
        text = "天津市" + text
    r = rng.random()
    if r < noise.address_dash:
        text = _ROOM_TAIL.sub(r"\1-\2-\3", text)
    elif r < noise.address_dash + noise.address_numerals:
        text = _UNIT_TAIL.sub(_numeral_unit, text).removesuffix("室" if rng.random() < 0.5 else "")
    if rng.random() < noise.address_traditional:
        text = traditional(text)
    if rng.random() < noise.address_fullwidth:
        text = fullwidth(text)
    return text


def _numeral_unit(m: re.Match[str]) -> str:
    return f"{names.chinese_number(int(m[1]))}号楼{names.chinese_number(int(m[2]))}单元"


# --- the truth, as departments see it ---------------------------------------------------


def _mix(seed: int, n: int) -> int:
    """A reproducible pseudo-random 64-bit value for (seed, n) without an rng,
    so a person's old phone number is the same in every department's records."""
    x = (seed * 0x9E3779B97F4A7C15 + n * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 29)


class _Truth:
    """The population with the lookups departments need, and the facts shared
    between departments' noise (former names, old phone numbers)."""

    def __init__(self, pop: Population, seed: int) -> None:
        self.pop = pop
        self.seed = seed
        self.today = pop.today
        self.owned: dict[int, list[int]] = {}
        self.rented: dict[int, list[int]] = {}
        for k, house in enumerate(pop.houses):
            if house.owner_pid is not None:
                self.owned.setdefault(house.owner_pid, []).append(k)
            for pid, _, _ in house.tenants:
                self.rented.setdefault(pid, []).append(k)
        self.use_at = {h.address: h.use for h in pop.houses}
        self.former = self._former_names(random.Random(f"former:{seed}"))

    def _former_names(self, rng: random.Random) -> dict[int, str]:
        out = {}
        for p in self.pop.people:
            if rng.random() < RENAMED_SHARE and p.age_on(self.today) >= 6:
                surname = split_name(p.name)[0]
                old = surname + given_name(rng, p.gender, p.birth_date.year)
                if old != p.name:
                    out[p.pid] = old
        return out

    def old_phone(self, pid: int) -> str:
        x = _mix(self.seed, pid)
        return f"1{'3578'[x % 4]}{(x >> 8) % 10**9:09d}"

    def groups(self, p: Person) -> set[str]:
        age = p.age_on(self.today)
        out = {tag for tag, _ in p.tags}
        if age < 14:
            out.add("child")
        if age >= 60:
            out.add("elderly")
        if p.employer is not None:
            out.add("employed")
        elif age >= (60 if p.gender == "M" else 55):
            out.add("retired")
        if p.pid in self.owned:
            out.add("owner")
        if p.pid in self.rented:
            out.add("tenant")
        return out

    def chance(self, dept: Department, p: Person, groups: set[str]) -> float:
        cov = dept.coverage
        chance = cov.residence.get(p.residence_type, cov.base)
        for g in groups:
            chance = max(chance, cov.groups.get(g, 0.0))
        return chance

    def house_roles(self, pid: int) -> list[tuple[int, str]]:
        """(house index, "owner" or "tenant") for each house the person is on record for."""
        return ([(k, "owner") for k in self.owned.get(pid, ())]
                + [(k, "tenant") for k in self.rented.get(pid, ())])


# An entry of a department's list: (pid, house index or -1, role).
_Entry = tuple[int, int, str]


def _entries(truth: _Truth, p: Person, rng: random.Random) -> list[tuple[int, _Entry]]:
    """The departments that hold this person, as (department index, entry)."""
    groups = truth.groups(p)
    out: list[tuple[int, _Entry]] = []
    for k, dept in enumerate(DEPARTMENTS):
        if k == _HOUSING_INDEX:
            # Housing holds one record per property the person owns or rents.
            held = [(h, role) for h, role in truth.house_roles(p.pid)
                    if rng.random() < dept.coverage.groups[role]]
        else:
            held = [(-1, "")] if rng.random() < truth.chance(dept, p, groups) else []
        for h, role in held:
            out.append((k, (p.pid, h, role)))
            if rng.random() < dept.noise.duplicate:
                out.append((k, (p.pid, h, role)))
    return out


def _plan(truth: _Truth, n_records: int, rng: random.Random) -> list[list[_Entry]]:
    people = truth.pop.people
    order = list(range(len(people)))
    rng.shuffle(order)
    plan: list[list[_Entry]] = [[] for _ in DEPARTMENTS]
    total = 0
    for sweep in range(n_records + 1):
        for i in order:
            found = _entries(truth, people[i], rng)
            if sweep:  # later sweeps add one more record per person: a duplicate
                found = found[:1] or [(_GRID_INDEX, (people[i].pid, -1, ""))]
            for k, entry in found[:n_records - total]:
                plan[k].append(entry)
            total = min(n_records, total + len(found))
            if total >= n_records:
                break
        if total >= n_records:
            break
    for entries in plan:
        rng.shuffle(entries)
    return plan


# --- one record -------------------------------------------------------------------


class _Writer:
    """Noises one department's view of a person."""

    def __init__(self, truth: _Truth, dept: Department, rng: random.Random) -> None:
        self.truth = truth
        self.dept = dept
        self.noise = dept.noise
        self.rng = rng
        self.formats = Weighted(list(dept.noise.birth_formats))

    def name(self, p: Person) -> str:
        rng, noise = self.rng, self.noise
        name = p.name
        former = self.truth.former.get(p.pid)
        if former and rng.random() < noise.former_name:
            name = former
        if rng.random() < noise.homophone:
            name = homophone(name, rng)
        if rng.random() < noise.name_space:
            name = spaced_name(name, rng)
        if rng.random() < noise.traditional:
            name = traditional(name)
        return name

    def id_number(self, p: Person) -> str:
        rng, noise = self.rng, self.noise
        if rng.random() < noise.id_missing:
            return ""
        value = p.id_number
        if p.birth_date.year < 1990 and rng.random() < noise.id_old15:
            value = old_id(value)
        elif rng.random() < noise.id_typo:
            value = id_typo(value, rng)
        if value.endswith("X") and rng.random() < noise.id_lower_x:
            value = value[:-1] + "x"
        if rng.random() < noise.id_fullwidth:
            value = fullwidth(value)
        return value

    def phone(self, p: Person) -> str:
        rng, noise = self.rng, self.noise
        phone = p.phone
        if not phone:
            if rng.random() >= noise.guardian_phone:
                return ""
            phone = self.truth.pop.person(self.truth.pop.households[p.household - 1].head_pid).phone
        if not phone or rng.random() < noise.phone_missing:
            return ""
        if rng.random() < noise.phone_old:
            phone = self.truth.old_phone(p.pid)
        if rng.random() < noise.phone_spaced:
            phone = (f"{phone[:3]} {phone[3:7]} {phone[7:]}" if rng.random() < 0.5
                     else f"+86 {phone}")
        if rng.random() < noise.phone_fullwidth:
            phone = fullwidth(phone)
        return phone

    def birth_date(self, p: Person) -> str:
        rng, noise = self.rng, self.noise
        if "birth_date" not in self.dept.fields or rng.random() < noise.birth_missing:
            return ""
        day = _wrong_birth(p.birth_date, rng) if rng.random() < noise.birth_wrong else p.birth_date
        return format_date(day, self.formats.pick(rng))

    def gender(self, p: Person) -> str:
        if "gender" not in self.dept.fields or self.rng.random() < self.noise.gender_missing:
            return ""
        if self.noise.gender_style == "12":
            return "1" if p.gender == "M" else "2"
        return vocab.GENDERS[p.gender]

    def address(self, p: Person, house: int) -> str:
        text = self.truth.pop.houses[house].address if house >= 0 else p.address
        return noisy_address(text, self.noise, self.rng)

    def record(self, record_id: str, entry: _Entry) -> dict[str, str]:
        pid, house, _ = entry
        p = self.truth.pop.person(pid)
        has = self.dept.fields
        return {
            "record_id": record_id, "source": self.dept.code,
            "name": self.name(p),
            "id_number": self.id_number(p) if "id_number" in has else "",
            "phone": self.phone(p) if "phone" in has else "",
            "birth_date": self.birth_date(p), "gender": self.gender(p),
            "address": self.address(p, house) if "address" in has else "",
            "person_id": str(pid),
        }


def record_id(dept: Department, n: int) -> str:
    return f"{dept.code}-{n:06d}"


def noisy_records(pop: Population, n_records: int, seed: int) -> Iterator[dict[str, str]]:
    """n_records records across the six departments, department by department,
    each with the FIELDS and the truth as "person_id"."""
    if n_records <= 0:
        return
    if not pop.people:
        raise ValueError("人口为空，无法生成记录")
    rng = random.Random(seed)
    truth = _Truth(pop, seed)
    plan = _plan(truth, n_records, rng)
    for dept, entries in zip(DEPARTMENTS, plan, strict=True):
        writer = _Writer(truth, dept, rng)
        for n, entry in enumerate(entries, start=1):
            yield writer.record(record_id(dept, n), entry)


# --- department files -------------------------------------------------------------


class _RowWriter(_Writer):
    """A department's file row: the record's noisy values plus its own columns."""

    def row(self, n: int, entry: _Entry) -> list[str]:
        record = self.record(record_id(self.dept, n), entry)
        # The department's own numbering, as its system prints it.
        prefix = _KEY_PREFIX.get(self.dept.code, "")
        record["key"] = f"{prefix}{n:07d}" if prefix else str(n)
        p = self.truth.pop.person(entry[0])
        return [record[key] if key in record else self.own_column(key, p, entry)
                for key, _ in self.dept.columns]

    def own_column(self, key: str, p: Person, entry: _Entry) -> str:
        pop = self.truth.pop
        if key == "former_name":
            return self.truth.former.get(p.pid, "")
        if key == "ethnicity":
            return p.ethnicity
        if key == "hukou_area":
            return REGION_NAMES.get(p.hukou_area, p.hukou_area)
        if key == "residence_type":
            label = vocab.RESIDENCE_TYPES[p.residence_type]
            if self.dept.code != "grid":
                return label
            return "境外人员" if p.residence_type == "jingwai" else label + "人口"
        if key == "relation":
            return self.relation(p)
        if key == "tags":
            labels = _TAG_LABELS.get(self.dept.code, {})
            return "、".join(labels.get(t) or vocab.TAGS[t] for t, _ in p.tags
                            if t in self.dept.tags_shown)
        if key == "employer":
            return pop.organisations[p.employer - 1].name if p.employer else ""
        if key == "id_type":
            return "港澳台居民居住证" if p.residence_type == "jingwai" else "居民身份证"
        if key == "insured":
            groups = self.truth.groups(p)
            return "在职职工" if "employed" in groups else "退休人员" if "retired" in groups \
                else "城乡居民"
        return self.house_column(key, p, entry)

    def relation(self, p: Person) -> str:
        if self.dept.code == "police" and p.relation in _RELATION_BY_GENDER:
            return _RELATION_BY_GENDER[p.relation][0 if p.gender == "M" else 1]
        return vocab.RELATIONS[p.relation]

    def house_column(self, key: str, p: Person, entry: _Entry) -> str:
        _, h, role = entry
        house = self.truth.pop.houses[h] if h >= 0 else None
        if key == "house_use":
            use = house.use if house else self.truth.use_at.get(p.address, "own")
            return vocab.HOUSE_USES[use]
        if key == "role":
            return "产权人" if role == "owner" else "承租人"
        lease = next((t for t in house.tenants if t[0] == p.pid), None) if house else None
        if lease is None or role != "tenant":
            return ""
        day = lease[1] if key == "lease_start" else lease[2]
        return day.isoformat() if day else ""


def department_rows(pop: Population, dept: Department, seed: int, *,
                    limit: int | None = None) -> tuple[list[str], list[list[str]]]:
    """The department's file: its own headers and rows, among them a few bad
    ones (wrong check digit, birth date in the future, a 10-digit phone, no
    name) for the import to reject."""
    rng = random.Random(f"{seed}:{dept.code}")
    truth = _Truth(pop, seed)
    writer = _RowWriter(truth, dept, rng)
    rows: list[list[str]] = []
    for entry in _department_entries(truth, dept, rng):
        if limit is not None and len(rows) >= limit:
            break
        rows.append(writer.row(len(rows) + 1, entry))
    _spoil(rows, dept, pop, rng)
    return dept.headers, rows


def _department_entries(truth: _Truth, dept: Department,
                        rng: random.Random) -> Iterator[_Entry]:
    k = DEPARTMENTS.index(dept) if dept in DEPARTMENTS else -1
    for p in truth.pop.people:
        if k >= 0:
            found = [entry for j, entry in _entries(truth, p, rng) if j == k]
        elif rng.random() < truth.chance(dept, p, truth.groups(p)):
            found = [(p.pid, -1, "")]
        else:
            found = []
        yield from found


BAD_KINDS = ("bad_id", "future_birth", "short_phone", "empty_name")


def _spoil(rows: list[list[str]], dept: Department, pop: Population,
           rng: random.Random) -> None:
    keys = [key for key, _ in dept.columns]
    kinds = [k for k in BAD_KINDS if _BAD_COLUMN[k] in keys]
    if not rows or not kinds:
        return
    per_kind = max(1, min(20, len(rows) // 1000))
    spots = rng.sample(range(len(rows)), min(len(rows), per_kind * len(kinds)))
    for n, i in enumerate(spots):
        kind = kinds[n % len(kinds)]
        col = keys.index(_BAD_COLUMN[kind])
        rows[i][col] = _bad_value(kind, rows[i][col], dept, pop, rng)


_BAD_COLUMN = {"bad_id": "id_number", "future_birth": "birth_date", "short_phone": "phone",
               "empty_name": "name"}


def _bad_value(kind: str, value: str, dept: Department, pop: Population,
               rng: random.Random) -> str:
    if kind == "bad_id":
        plain = unicodedata.normalize("NFKC", value).upper()
        if not (len(plain) == 18 and plain[:17].isdigit()):
            plain = pop.person(1 + int(rng.random() * len(pop.people))).id_number
        good = id_check_char(plain[:17])
        return plain[:17] + next(c for c in "0123456789X" if c != good)
    if kind == "future_birth":
        style = dept.noise.birth_formats[0][0]
        return format_date(pop.today + timedelta(days=rng.randint(1, 400)), style)
    if kind == "short_phone":
        return f"1{rng.choice('3578')}{rng.randrange(10**8):08d}"
    return ""


def write_department_file(path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
                          encoding: str = "utf-8") -> None:
    """CSV in the caller's encoding. GBK lacks some rare and traditional
    characters; like the old systems that export GBK, those come out as "?"."""
    lossless = encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig", "gb18030")
    with path.open("w", encoding=encoding, errors="strict" if lossless else "replace",
                   newline="") as f:
        out = csv.writer(f)
        out.writerow(headers)
        out.writerows(rows)
