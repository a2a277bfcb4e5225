"""A seeded true population: people, households, houses and organisations. No Django here.

The truth the demo's department files and the resolution benchmark are noised
from (see `noisy`). Households come first (size, then a family template), so
ages, surnames, relations, residence type and tenancy hang together the way
they do in a Tianjin district. Hard cases for linkage are put in on purpose:
common full names (王伟, 李娜), different people sharing name and birth date,
twins.

pid, hid and oid count from 1 and `people[pid - 1].pid == pid` (likewise for
households and organisations), so callers index without a dict.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Generic, TypeVar

from wangge.core.identity import credit_check_char, id_check_char
from wangge.demo import names

T = TypeVar("T")

TODAY = date(2026, 11, 1)
DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True, slots=True)
class Person:
    pid: int
    name: str
    id_number: str
    gender: str  # "M" | "F"
    birth_date: date
    phone: str
    ethnicity: str
    residence_type: str  # vocab.RESIDENCE_TYPES key
    hukou_area: str
    address: str
    room_code: str | None
    household: int
    relation: str  # vocab.RELATIONS key, to the household head
    tags: tuple[tuple[str, date], ...]  # (vocab.TAGS key, since)
    employer: int | None

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class Household:
    hid: int
    head_pid: int
    address: str
    room_code: str | None


@dataclass(frozen=True, slots=True)
class House:
    room_code: str | None
    address: str
    use: str  # vocab.HOUSE_USES key
    owner_pid: int | None
    tenants: tuple[tuple[int, date, date | None], ...]  # (pid, start, end)


@dataclass(frozen=True, slots=True)
class Organisation:
    oid: int
    name: str
    credit_code: str
    org_type: str  # vocab.ORG_TYPES key
    address: str
    legal_rep_pid: int
    phone: str
    staff: int


@dataclass
class Population:
    people: list[Person]
    households: list[Household]
    houses: list[House]
    organisations: list[Organisation]
    today: date = TODAY

    def person(self, pid: int) -> Person:
        return self.people[pid - 1]


class Weighted(Generic[T]):
    """Draws by weight with one random() and a bisect: rng.choices costs far more
    per call, and the generator draws tens of millions of times."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> T:
        i = bisect.bisect(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


def zipf(items: Sequence[T], exponent: float = 1.0) -> Weighted[T]:
    """Earlier items far more often: names and given-name characters run that way."""
    return Weighted([(item, 1.0 / (rank + 1) ** exponent) for rank, item in enumerate(items)])


# --- regions -----------------------------------------------------------------

DONGLI = names.DISTRICT_CODE
TIANJIN_DISTRICTS = {
    "120101": "天津市和平区", "120102": "天津市河东区", "120103": "天津市河西区",
    "120104": "天津市南开区", "120105": "天津市河北区", "120106": "天津市红桥区",
    "120110": "天津市东丽区", "120111": "天津市西青区", "120112": "天津市津南区",
    "120113": "天津市北辰区", "120114": "天津市武清区", "120115": "天津市宝坻区",
    "120116": "天津市滨海新区", "120117": "天津市宁河区", "120118": "天津市静海区",
    "120119": "天津市蓟州区",
}
# Where Tianjin's migrants come from, most from Hebei and Shandong next door.
MIGRANT_REGIONS: dict[str, tuple[str, float]] = {
    "130102": ("河北省石家庄市长安区", 4), "130203": ("河北省唐山市路北区", 5),
    "130302": ("河北省秦皇岛市海港区", 2), "130602": ("河北省保定市竞秀区", 5),
    "130902": ("河北省沧州市新华区", 6), "130922": ("河北省沧州市青县", 3),
    "130984": ("河北省河间市", 3), "131002": ("河北省廊坊市安次区", 4),
    "131023": ("河北省廊坊市永清县", 2), "131102": ("河北省衡水市桃城区", 3),
    "370102": ("山东省济南市历下区", 3), "371402": ("山东省德州市德城区", 5),
    "371502": ("山东省聊城市东昌府区", 3), "371602": ("山东省滨州市滨城区", 2),
    "370702": ("山东省潍坊市潍城区", 2), "410102": ("河南省郑州市中原区", 3),
    "410702": ("河南省新乡市红旗区", 2), "411302": ("河南省南阳市宛城区", 2),
    "411602": ("河南省周口市川汇区", 3), "230102": ("黑龙江省哈尔滨市道里区", 3),
    "230202": ("黑龙江省齐齐哈尔市龙沙区", 2), "230602": ("黑龙江省大庆市萨尔图区", 1),
    "220102": ("吉林省长春市南关区", 2), "210102": ("辽宁省沈阳市和平区", 2),
    "211302": ("辽宁省朝阳市双塔区", 1), "150102": ("内蒙古自治区呼和浩特市新城区", 2),
    "150402": ("内蒙古自治区赤峰市红山区", 3), "140105": ("山西省太原市小店区", 3),
    "340102": ("安徽省合肥市瑶海区", 2), "341302": ("安徽省宿州市埇桥区", 2),
    "341202": ("安徽省阜阳市颍州区", 2), "320302": ("江苏省徐州市鼓楼区", 1),
    "420102": ("湖北省武汉市江岸区", 1), "430102": ("湖南省长沙市芙蓉区", 1),
    "510104": ("四川省成都市锦江区", 1), "620102": ("甘肃省兰州市城关区", 1),
    "610102": ("陕西省西安市新城区", 1), "640104": ("宁夏回族自治区银川市兴庆区", 0.5),
    "110105": ("北京市朝阳区", 1), "360102": ("江西省南昌市东湖区", 0.5),
    "500101": ("重庆市万州区", 0.5), "450102": ("广西壮族自治区南宁市兴宁区", 0.3),
}
# 港澳台居民居住证 numbers follow the ID layout with these region codes.
ABROAD_REGIONS = {"810000": "香港特别行政区", "820000": "澳门特别行政区", "830000": "台湾地区"}
REGION_NAMES = TIANJIN_DISTRICTS | {c: n for c, (n, _) in MIGRANT_REGIONS.items()} | ABROAD_REGIONS

_OTHER_TIANJIN = Weighted([(c, 1.0) for c in TIANJIN_DISTRICTS if c != DONGLI])
_MIGRANT = Weighted([(c, w) for c, (_, w) in MIGRANT_REGIONS.items()])
_ABROAD = Weighted([("810000", 5.0), ("820000", 1.0), ("830000", 3.0)])

# Tianjin has a sizeable Hui community; the rest is the national mix.
ETHNICITIES = Weighted([
    ("汉族", 96.9), ("回族", 1.4), ("满族", 0.9), ("蒙古族", 0.3), ("朝鲜族", 0.15),
    ("土家族", 0.1), ("壮族", 0.1), ("苗族", 0.05), ("维吾尔族", 0.05), ("彝族", 0.03),
    ("藏族", 0.02),
])

# --- names -------------------------------------------------------------------

# Per-mille shares, national figures nudged towards the north (more 王/李/张/刘/
# 赵/孙/马/于, fewer 黄/陈/林/梁).
SURNAMES = Weighted([
    ("王", 78), ("李", 74), ("张", 71), ("刘", 56), ("陈", 38), ("杨", 32), ("赵", 26),
    ("黄", 15), ("吴", 17), ("周", 17), ("徐", 14), ("孙", 18), ("马", 16), ("朱", 11),
    ("胡", 11), ("郭", 13), ("何", 8), ("林", 6), ("高", 13), ("罗", 6), ("郑", 8),
    ("梁", 6), ("谢", 5), ("宋", 8), ("唐", 5), ("许", 6), ("韩", 8), ("冯", 7), ("邓", 4),
    ("曹", 6), ("彭", 4), ("曾", 3), ("肖", 4), ("田", 6), ("董", 6), ("袁", 4), ("潘", 3),
    ("于", 7), ("蒋", 3), ("蔡", 3), ("余", 3), ("杜", 4), ("叶", 3), ("程", 4), ("苏", 4),
    ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 4),
    ("崔", 4), ("钟", 2), ("谭", 2), ("陆", 2), ("汪", 2), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 1), ("贾", 3), ("夏", 2), ("韦", 1), ("付", 3), ("方", 2), ("白", 3), ("邹", 2),
    ("孟", 3), ("熊", 1), ("秦", 2), ("邱", 1), ("江", 1), ("尹", 2), ("薛", 2), ("闫", 3),
    ("段", 2), ("雷", 1), ("侯", 2), ("龙", 1), ("史", 2), ("陶", 1), ("黎", 1), ("贺", 1),
    ("顾", 1), ("毛", 1), ("郝", 2), ("龚", 1), ("邵", 1), ("万", 1), ("钱", 1), ("严", 1),
    ("武", 2), ("戴", 1), ("孔", 1), ("汤", 1), ("穆", 1), ("欧阳", 0.2), ("上官", 0.05),
    ("司马", 0.05), ("诸葛", 0.03),
])
COMPOUND_SURNAMES = frozenset(s for s in SURNAMES.items if len(s) > 1)


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name)."""
    cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
    return name[:cut], name[cut:]

# (born before, single-character share, male names, female names), most common first.
_ERAS: tuple[tuple[int, float, str, str], ...] = (
    (1960, 0.3,
     "建国 国庆 建华 国华 志强 建军 德明 文华 振华 春生 国强 玉山 保国 长海 树林 金山 宝山 福生 德才 永福 "
     "明 华 军 林 海 强 平 刚 勇 成",
     "秀英 秀兰 桂英 玉兰 淑珍 凤英 秀珍 桂兰 玉珍 淑兰 玉梅 凤兰 秀荣 桂珍 淑华 玉英 秀云 桂芳 素珍 丽华 "
     "兰 英 华 珍 芳 梅 荣 萍 霞 云"),
    (1980, 0.45,
     "伟 勇 军 强 磊 涛 斌 明 刚 平 辉 杰 建 峰 波 鹏 华 海涛 建华 志刚 志勇 海波 宏伟 立新 卫东 红军 "
     "晓东 永刚 建军 春雷 金龙",
     "丽 静 敏 艳 娟 霞 燕 红 芳 玲 萍 梅 英 华 丽娟 红梅 海燕 晓燕 艳红 丽华 春燕 秀梅 雪梅 桂芳 晓红 "
     "丽萍 玉梅"),
    (2000, 0.35,
     "伟 磊 涛 超 鹏 杰 强 浩 帅 亮 斌 勇 健 飞 宇 波 明 龙 鑫 凯 晨 博 俊杰 建伟 志强 晓明 海洋 文博 "
     "志鹏 振宇",
     "娜 静 敏 丽 婷 颖 雪 倩 娟 琳 晶 慧 洁 萌 玲 莹 佳 丹 楠 璐 晓丽 婷婷 佳佳 丽娜 晓燕 雪梅 欣 悦 "
     "丹丹 晓雪"),
    (2010, 0.15,
     "浩 宇 轩 博 鑫 帅 杰 鹏 浩然 子豪 浩宇 宇航 家豪 俊杰 子轩 博文 天宇 志鹏 明轩 宇轩 嘉豪 晨阳",
     "欣怡 佳怡 雨欣 婷 思雨 梦瑶 心怡 雨涵 佳琪 诗涵 欣 悦 雪 静怡 紫涵 梓涵 佳欣 雨婷 雨萱 梦琪"),
    (9999, 0.1,
     "子轩 浩宇 梓豪 宇轩 浩然 一诺 子墨 奕辰 梓睿 皓轩 沐阳 宇泽 俊熙 铭轩 睿泽 锦程 宇 轩 辰 浩",
     "梓涵 一诺 欣怡 子涵 语桐 梓萱 诗涵 雨桐 可馨 依诺 若汐 欣妍 沐妍 思彤 佳琪 梓琪 语汐 安琪"),
)
# Besides the fashionable names above, two-character names built from parts.


def _unique(text: str) -> list[str]:
    return list(dict.fromkeys(text.split()))


_FIRST_M = _unique("建 志 文 俊 子 浩 宇 明 海 晓 国 永 家 天 博 思 嘉 振 德 立 春 鹏 星 金 宏 伟 正 长 "
                   "学 泽 庆 云 兴 瑞 成 新 友 光 亚 少 世 彦 宗 景 忠 向 耀 绍 树")
_SECOND_M = _unique("华 明 强 军 伟 杰 涛 峰 辉 宇 轩 豪 博 睿 鹏 龙 林 斌 磊 超 飞 洋 成 东 平 刚 亮 勇 "
                    "彬 翔 凯 琦 君 锋 波 虎 川 山 松 森 晨 阳 生 岩 旭 全 武 臣")
_FIRST_F = _unique("晓 丽 雅 佳 思 欣 雨 梦 诗 秀 美 春 海 玉 淑 婉 紫 梓 静 嘉 心 雪 慧 艳 红 凤 金 "
                   "冬 桂 彩 月 雯 若 可 亚 丹 宝 巧 翠 瑞 爱 小 秋 英 惠 文 艺 书")
_SECOND_F = _unique("丽 娟 琳 婷 怡 涵 萱 颖 洁 燕 霞 梅 芳 雯 妍 彤 琪 悦 慧 倩 楠 静 玲 敏 萍 华 红 "
                    "艳 莉 菲 蕾 璐 瑶 娜 珊 薇 茜 岚 清 莹 欣 荣 兰 香 云 月 英 晶")


@dataclass(frozen=True)
class _EraNames:
    single_share: float
    fixed: dict[str, Weighted[str]]
    first: dict[str, Weighted[str]]
    second: dict[str, Weighted[str]]


def _era_names() -> list[tuple[int, _EraNames]]:
    out = []
    for until, single, male, female in _ERAS:
        fixed = {"M": zipf(male.split()), "F": zipf(female.split())}
        out.append((until, _EraNames(single, fixed,
                                     {"M": zipf(_FIRST_M, 0.5), "F": zipf(_FIRST_F, 0.5)},
                                     {"M": zipf(_SECOND_M, 0.5), "F": zipf(_SECOND_F, 0.5)})))
    return out


_NAMES_BY_ERA = _era_names()
_ERA_BOUNDS = [until for until, _ in _NAMES_BY_ERA]


def given_name(rng: random.Random, gender: str, born: int) -> str:
    era = _NAMES_BY_ERA[bisect.bisect_right(_ERA_BOUNDS, born)][1]
    r = rng.random()
    # Fashionable names, single- or two-character, are most of any cohort;
    # the rest are built from parts, which keeps full names from colliding
    # far more often than they do in a real register.
    if r < 0.3:
        return era.fixed[gender].pick(rng)
    if r < 0.3 + 0.7 * era.single_share:
        return era.second[gender].pick(rng)
    return era.first[gender].pick(rng) + era.second[gender].pick(rng)


# --- addresses ---------------------------------------------------------------


def synthetic_rooms(rng: random.Random, n: int) -> list[tuple[None, str]]:
    """n room addresses in made-up Dongli compounds, compound by compound."""
    streets = names.STREETS[:-1]
    compounds = names.name_stream(rng, names.COMPOUND_STEMS, names.COMPOUND_ENDINGS)
    out: list[tuple[None, str]] = []
    while len(out) < n:
        prefix = f"{names.DISTRICT_NAME}{rng.choice(streets)}{next(compounds)}"
        out += itertools.islice(_compound_rooms(rng, prefix), n - len(out))
    return out


def _compound_rooms(rng: random.Random, prefix: str) -> Iterator[tuple[None, str]]:
    walk_up = rng.random() < 0.5
    for b in range(1, rng.randint(4, 24) + 1):
        floors = rng.randint(5, 7) if walk_up else rng.randint(11, 26)
        units = rng.randint(2, 4) if walk_up else rng.randint(1, 3)
        for u in range(1, units + 1):
            for floor in range(1, floors + 1):
                for r in (1, 2):
                    yield None, f"{prefix}{b}号楼{u}单元{floor}{r:02d}室"


# --- organisations -----------------------------------------------------------

_BRAND_A = _unique("华 鑫 恒 金 瑞 宏 盛 泰 永 天 利 通 博 达 嘉 海 东 兴 凯 润 航 正 信 安 丰 源 德 宇 诚 广")
_BRAND_B = _unique("盛 源 通 达 泰 丰 鑫 华 宇 隆 昌 信 诚 远 航 利 发 康 美 景 海 新 润 博 业 辰 阳 晟 驰 洋")
_INDUSTRIES = ("科技", "物流", "机械制造", "建筑工程", "商贸", "餐饮管理", "物业服务", "汽车销售",
               "电子", "新材料", "食品", "装饰工程", "医药", "环保科技", "信息技术", "仓储",
               "包装制品", "钢结构", "劳务服务", "文化传媒")
_SHOPS = ("便利店", "超市", "理发店", "美容美发店", "小吃店", "面馆", "水果店", "五金店", "烟酒店",
          "药店", "干洗店", "快递驿站", "汽车修理部", "早点铺", "菜店", "粮油店", "服装店", "手机维修店")
_GOV = ("民政局", "人力资源和社会保障局", "住房和城乡建设委员会", "卫生健康委员会", "市场监督管理局",
        "城市管理委员会", "应急管理局", "司法局", "教育局", "水务局")
ORG_TYPE_SHARES = Weighted([("enterprise", 55.0), ("individual", 36.0), ("institution", 4.0),
                      ("social", 3.0), ("government", 0.6), ("other", 1.4)])
# GB 32100 positions 1–2: registering authority and kind.
_CREDIT_KIND = {"enterprise": "91", "individual": "92", "institution": "12",
                "government": "11", "social": "52", "other": "93"}
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def org_code_check(base8: str) -> str:
    """GB 11714 check character of the nine-character organisation code that
    stands at positions 9–17 of a credit code."""
    total = sum(int(c, 36) * w for c, w in zip(base8, _ORG_CODE_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


# --- the builder ---------------------------------------------------------------

_PHONE_PREFIXES = _unique("130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 "
                          "159 166 176 177 178 180 181 182 183 185 186 187 188 189 198 199")

# Household sizes as in Chinese cities (mean about 2.6).
HOUSEHOLD_SIZES = Weighted([(1, 0.22), (2, 0.30), (3, 0.26), (4, 0.13), (5, 0.09)])
_TEMPLATES: dict[int, Weighted[str]] = {
    1: Weighted([("elder_alone", 0.46), ("single_young", 0.40), ("single_mid", 0.14)]),
    2: Weighted([("elder_couple", 0.42), ("young_couple", 0.25), ("mid_couple", 0.18),
                 ("single_parent", 0.08), ("elder_with_child", 0.07)]),
    3: Weighted([("nuclear", 0.78), ("couple_parent", 0.10), ("grandparents_child", 0.04),
                 ("single_parent", 0.08)]),
    4: Weighted([("nuclear", 0.50), ("three_gen", 0.40), ("roommates", 0.10)]),
    5: Weighted([("three_gen", 0.65), ("nuclear", 0.35)]),
}
_ELDER_TEMPLATES = frozenset({"elder_alone", "elder_couple", "elder_with_child"})
_RESIDENCE = {
    "elder": Weighted([("huji", 0.88), ("changzhu", 0.10), ("liudong", 0.02)]),
    "young": Weighted([("huji", 0.33), ("changzhu", 0.12), ("liudong", 0.52), ("jingwai", 0.03)]),
    "roommates": Weighted([("liudong", 0.95), ("changzhu", 0.05)]),
    "family": Weighted([("huji", 0.645), ("changzhu", 0.12), ("liudong", 0.23),
                        ("jingwai", 0.005)]),
}
# Share of households renting, by residence type: migrants mostly rent.
_RENTS = {"huji": 0.02, "changzhu": 0.2, "liudong": 0.56, "jingwai": 0.7, "jisu": 0.2}
VACANT_SHARE, BUSINESS_SHARE = 0.06, 0.01
NAMESAKE_RATE = 0.01  # households whose head copies an earlier head's name and birth date
TWIN_RATE = 0.05  # of families with two or more children

# (relation, gender or "" until drawn, age in years, where the surname comes from:
#  "own" drawn afresh, "head"/"spouse" that member's, "father" an absent father's)
_Member = tuple[str, str, float, str]


class _Builder:
    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.today_ord = today.toordinal()
        self.id_bodies: set[str] = set()
        self.phones: set[str] = set()
        self.people: list[Person] = []
        self.households: list[Household] = []
        self.heads: list[tuple[str, str, float, str]] = []  # (name, surname, age, gender)
        self.owners: list[int] = []  # local adults who can own a second house
        self.org_cum: list[int] = []
        self.org_reps: dict[int, int] = {}

    # -- people ---------------------------------------------------------------

    def id_number(self, region: str, birth: date, male: bool) -> str:
        ymd = f"{birth.year:04d}{birth.month:02d}{birth.day:02d}"
        for _ in range(2000):
            draw = int(self.rng.random() * 499)
            seq = 2 * draw + 1 if male else 2 * draw + 2
            body = f"{region}{ymd}{seq:03d}"
            if body not in self.id_bodies:
                self.id_bodies.add(body)
                return body + id_check_char(body)
        raise RuntimeError(f"{region} {ymd} 的身份证顺序码已用尽")

    def phone(self, age: int) -> str:
        rng = self.rng
        # Children under 12 and many of the very old have no phone of their own.
        has = (age < 75 or rng.random() < 0.6) if age >= 18 else (age >= 12 and rng.random() < 0.5)
        if not has:
            return ""
        while True:
            prefix = _PHONE_PREFIXES[int(rng.random() * len(_PHONE_PREFIXES))]
            number = f"{prefix}{int(rng.random() * 1e8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def regions(self, residence: str, household_hukou: str, born: int) -> tuple[str, str]:
        """(hukou area, region of the ID number) for one member."""
        rng = self.rng
        if residence == "huji":
            if born >= 1992 or rng.random() < 0.65:
                return DONGLI, DONGLI
            # Moved their hukou to Dongli later in life.
            return DONGLI, _OTHER_TIANJIN.pick(rng) if rng.random() < 0.6 else _MIGRANT.pick(rng)
        if residence == "jisu":
            area = DONGLI if rng.random() < 0.3 else _OTHER_TIANJIN.pick(rng)
            return area, area
        return household_hukou, household_hukou

    def employer(self, age: int, gender: str, residence: str) -> int | None:
        rng = self.rng
        retire = 60 if gender == "M" else 55
        if age < 18 or age >= retire + 5:
            return None
        p = 0.3 if age < 23 else 0.1 if age >= retire else (0.9 if residence == "liudong" else 0.78)
        if rng.random() >= p:
            return None
        i = bisect.bisect(self.org_cum, rng.random() * self.org_cum[-1])
        return min(i, len(self.org_cum) - 1) + 1

    # -- tags -----------------------------------------------------------------

    def since(self, birth: date, min_age: float, max_years_ago: float) -> date:
        """A start date in the last max_years_ago years, not before the age min_age."""
        earliest = max(birth.toordinal() + int(min_age * DAYS_PER_YEAR),
                       self.today_ord - int(max_years_ago * DAYS_PER_YEAR))
        return date.fromordinal(self.rng.randint(min(earliest, self.today_ord), self.today_ord))

    def tags(self, template: str, relation: str, gender: str, age: int, birth: date,
             household_tags: list[tuple[str, date]]) -> tuple[tuple[str, date], ...]:
        rng = self.rng
        # A child born into a household already on 低保 is on it from birth.
        out = [(tag, max(since, birth)) for tag, since in household_tags]
        if template == "elder_alone" and age >= 60:
            out.append(("elderly_alone", self.since(birth, 60, 15)))
            if rng.random() < 0.02:
                out.append(("tekun", self.since(birth, 60, 10)))
        if template == "elder_couple" and age >= 60:
            out.append(("empty_nest", self.since(birth, 58, 20)))
        if template == "grandparents_child" and relation == "grandchild" and age < 16:
            out.append(("left_behind_child", self.since(birth, 0, 10)))
        # Registered disability (持证残疾人) rises with age, to about 2% overall.
        if rng.random() < 0.012 + 0.0007 * max(0, age - 40):
            out.append(("disabled", self.since(birth, 0, 30)))
        if age >= 18:
            out += self.adult_tags(gender, age, birth, relation)
        elif age >= 12 and rng.random() < 0.003:
            out.append(("key_youth", self.since(birth, 12, 3)))
        if rng.random() < 0.0002:
            out.append(("home_isolation", self.since(birth, 0, 14 / DAYS_PER_YEAR)))
        return tuple(out)

    def adult_tags(self, gender: str, age: int, birth: date,
                   relation: str) -> list[tuple[str, date]]:
        rng = self.rng
        male = gender == "M"
        out = []
        if rng.random() < 0.004:
            out.append(("mental_disorder", self.since(birth, 16, 20)))
        if age < 60 and rng.random() < (0.0009 if male else 0.0002):
            out.append(("community_correction", self.since(birth, 18, 2)))
        if age < 70 and rng.random() < (0.0018 if male else 0.0003):
            out.append(("released_prisoner", self.since(birth, 20, 10)))
        if age <= 25 and rng.random() < 0.004:
            out.append(("key_youth", self.since(birth, 14, 3)))
        if age >= 22 and rng.random() < (0.035 if male else 0.002):
            out.append(("veteran", self.since(birth, 22, 40)))
        if relation == "spouse" and rng.random() < 0.004:
            out.append(("frontline_family", self.since(birth, 20, 5)))
        if not male and 20 <= age <= 42 and relation in ("spouse", "head", "child_in_law") \
                and rng.random() < 0.035:
            out.append(("pregnant", self.since(birth, 20, 0.75)))
        return out

    # -- households -------------------------------------------------------------

    def members(self, template: str, size: int) -> list[_Member]:
        """Relation, gender, absolute age and surname source of each member, head first."""
        u = self.rng.uniform
        if template == "elder_alone":
            return [("head", "F" if self.rng.random() < 0.65 else "M", self.elder_age(65), "own")]
        if template in ("single_young", "roommates"):
            head = [("head", "", u(20, 40), "own")]
            return head + [("other", "", u(19, 38), "own") for _ in range(size - 1)]
        if template == "single_mid":
            return [("head", "", u(40, 64), "own")]
        if template in ("elder_couple", "young_couple", "mid_couple"):
            low, high = {"elder_couple": (62, 90), "young_couple": (23, 38),
                         "mid_couple": (45, 62)}[template]
            age = self.elder_age(low) if template == "elder_couple" else u(low, high)
            spouse = age - u(-2, 6)
            if spouse < low - 2:  # not a clamp: many spouses on one birth date exhaust IDs
                spouse = u(low - 2, age + 2)
            return [("head", "M", age, "own"), ("spouse", "F", spouse, "own")]
        if template == "single_parent":
            age = u(30, 52)
            return [("head", "F" if self.rng.random() < 0.75 else "M", age, "own"),
                    *self.children(age, size - 1, "father")]
        if template == "elder_with_child":
            age = self.elder_age(66)
            return [("head", "F" if self.rng.random() < 0.6 else "M", age, "own"),
                    ("child", "", age - u(22, 36), "head")]
        if template == "couple_parent":
            age = u(30, 55)
            return [*self.couple(age), ("parent", "", age + u(23, 34), "own")]
        if template == "grandparents_child":
            age = u(55, 74)
            return [*self.couple(age), ("grandchild", "", u(3, 15), "head")]
        if template == "nuclear":
            age = u(28 if size < 5 else 33, 55)
            return [*self.couple(age), *self.children(age, size - 2, "head")]
        return self.three_generations(size)

    def elder_age(self, low: float) -> float:
        # Triangular with its mode near the low end: fewer survive to each older year.
        return self.rng.triangular(low, 97.0, low + 3)

    def couple(self, age: float) -> list[_Member]:
        return [("head", "M" if self.rng.random() < 0.85 else "F", age, "own"),
                ("spouse", "", age - self.rng.uniform(-3, 6), "own")]

    def children(self, parent_age: float, n: int, surname: str) -> list[_Member]:
        rng = self.rng
        first = parent_age - rng.uniform(22, 34)
        ages = [first - i * rng.uniform(1.5, 8) for i in range(n)]
        # A child the parents' ages leave no room for is a late baby, not a
        # pile-up of newborns on one birth date.
        ages = [a if a > 0.1 else rng.uniform(0.1, 4) for a in ages]
        if n >= 2 and rng.random() < TWIN_RATE:
            ages[1] = ages[0]
        return [("child", "", a, surname) for a in ages]

    def three_generations(self, size: int) -> list[_Member]:
        """Grandparents, a couple and their children; the household head is the
        middle generation's man or, as often in old registers, the grandfather."""
        rng = self.rng
        middle = rng.uniform(30, 48)
        grand = middle + rng.uniform(23, 32)
        kids = self.children(middle, size - 2 - (2 if size == 5 and rng.random() < 0.65 else 1),
                             "head")
        n_grand = size - 2 - len(kids)
        if rng.random() < 0.5:
            sexes = ("M", "F") if n_grand == 2 else ("",)
            olds = [("parent", sex, grand - i * rng.uniform(0, 5), "own")
                    for i, sex in enumerate(sexes)]
            return [("head", "M", middle, "own"), ("spouse", "F", middle - rng.uniform(-2, 5), "own"),
                    *olds, *kids]
        return [("head", "M", grand, "own"),
                *([("spouse", "F", grand - rng.uniform(0, 5), "own")] if n_grand == 2 else []),
                ("child", "M", middle, "head"),
                ("child_in_law", "F", middle - rng.uniform(-2, 5), "own"),
                *[("grandchild", g, a, "head") for _, g, a, _ in kids]]

    def residence(self, template: str) -> str:
        kind = ("elder" if template in _ELDER_TEMPLATES else
                "young" if template == "single_young" else
                "roommates" if template == "roommates" else "family")
        return _RESIDENCE[kind].pick(self.rng)

    def household_hukou(self, residence: str) -> str:
        if residence == "liudong":
            return _MIGRANT.pick(self.rng)
        if residence == "jingwai":
            return _ABROAD.pick(self.rng)
        return _OTHER_TIANJIN.pick(self.rng) if residence == "changzhu" else DONGLI

    def household_tags(self, template: str) -> list[tuple[str, date]]:
        # 低保 is granted to a household; everyone in it is on the list.
        p = 0.02 if template in ("elder_alone", "single_parent", "elder_with_child") else 0.006
        if self.rng.random() < p:
            since = date.fromordinal(self.today_ord - self.rng.randint(30, 3650))
            return [("dibao", since)]
        return []

    def add_household(self, size: int, room: tuple[str | None, str]) -> tuple[str, list[int]]:
        """Adds the household and its people; returns its residence type and pids."""
        rng = self.rng
        template = _TEMPLATES[size].pick(rng)
        plan, head_name, head_surname = self.namesake(self.genders(self.members(template, size)))
        hid = len(self.households) + 1
        residence = self.residence(template)
        hukou = self.household_hukou(residence)
        ethnicity = ETHNICITIES.pick(rng)
        household_tags = self.household_tags(template) if residence != "jingwai" else []
        surnames = {"own": "", "head": head_surname, "spouse": "", "father": SURNAMES.pick(rng)}
        pids = []
        for i, member in enumerate(plan):
            name = head_name if i == 0 and head_name else self.name_for(member, surnames)
            pids.append(self.add_person(hid, room, template, member, name, residence, hukou,
                                        ethnicity, household_tags, first=i == 0))
        if not head_name:
            self.note_head(self.people[pids[0] - 1].name, surnames["head"], plan[0][2], plan[0][1])
        self.households.append(Household(hid, pids[0], room[1], room[0]))
        return residence, pids

    def genders(self, plan: list[_Member]) -> list[_Member]:
        """Fills in open genders and the surname each member takes: spouses are of
        the other sex, children take the father's surname."""
        rng = self.rng
        head_gender = plan[0][1] or ("M" if rng.random() < 0.5 else "F")
        other = "F" if head_gender == "M" else "M"
        has_spouse = any(m[0] == "spouse" for m in plan)
        out = [(plan[0][0], head_gender, plan[0][2], plan[0][3])]
        for relation, gender, age, source in plan[1:]:
            gender = other if relation == "spouse" else gender or ("M" if rng.random() < 0.5 else "F")
            if source == "head" and head_gender == "F":
                source = "spouse" if has_spouse else "father"
            elif (source == "father" and head_gender == "M") or (relation == "parent" and gender == "M"):
                source = "head"
            out.append((relation, gender, age, source))
        return out

    def namesake(self, plan: list[_Member]) -> tuple[list[_Member], str, str]:
        """Now and then the head takes an earlier head's name and birth date: the
        hard case of two different people a resolver must not merge."""
        rng = self.rng
        if not self.heads or rng.random() >= NAMESAKE_RATE:
            return plan, "", ""
        head = plan[0]
        youngest = min(m[2] for m in plan)
        for _ in range(10):  # a few draws find an earlier head of like age and sex
            name, surname, age, gender = self.heads[int(rng.random() * len(self.heads))]
            shift = age - head[2]
            if abs(shift) <= 8 and youngest + shift >= 0.01 and head[1] == gender:
                rest = [(rel, g, a + shift, s) for rel, g, a, s in plan[1:]]
                return [(head[0], gender, age, head[3]), *rest], name, surname
        return plan, "", ""

    def name_for(self, member: _Member, surnames: dict[str, str]) -> str:
        relation, gender, age, source = member
        surname = surnames[source] or SURNAMES.pick(self.rng)
        if relation in ("head", "spouse"):
            surnames[relation] = surname
        return surname + given_name(self.rng, gender, self.today.year - int(age))

    def note_head(self, name: str, surname: str, age: float, gender: str) -> None:
        entry = (name, surname, age, gender)
        if len(self.heads) < 4000:
            self.heads.append(entry)
        else:
            self.heads[int(self.rng.random() * 4000)] = entry

    def add_person(self, hid: int, room: tuple[str | None, str], template: str, member: _Member,
                   name: str, residence: str, hukou: str, ethnicity: str,
                   household_tags: list[tuple[str, date]], *, first: bool) -> int:
        rng = self.rng
        relation, gender, age_f, _ = member
        birth = date.fromordinal(self.today_ord - int(age_f * DAYS_PER_YEAR))
        age = int(age_f)
        member_residence = residence
        if not first and residence == "huji" and age >= 16 and rng.random() < 0.03:
            member_residence = "jisu"
        area, id_region = self.regions(member_residence, hukou, birth.year)
        pid = len(self.people) + 1
        employer = self.employer(age, gender, member_residence)
        if employer is not None and age >= 28:
            self.org_reps.setdefault(employer, pid)
        if member_residence in ("huji", "changzhu") and age >= 30:
            self.owners.append(pid)
        if relation == "spouse" and rng.random() >= 0.9:
            ethnicity = ETHNICITIES.pick(rng)
        self.people.append(Person(
            pid=pid, name=name, id_number=self.id_number(id_region, birth, gender == "M"),
            gender=gender, birth_date=birth, phone=self.phone(age), ethnicity=ethnicity,
            residence_type=member_residence, hukou_area=area, address=room[1], room_code=room[0],
            household=hid, relation=relation,
            tags=() if member_residence == "jingwai" else self.tags(
                template, relation, gender, age, birth, household_tags),
            employer=employer))
        return pid


# --- organisations ---------------------------------------------------------------


@dataclass
class _OrgDraft:
    name: str
    org_type: str
    staff: int
    address: str
    credit_code: str = ""
    landline: bool = True


class _OrgNamer:
    """Registered names are unique within the district; a taken name gets the
    next candidate, and after the pools run dry a 分公司 ordinal."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = set()
        self.schools = itertools.count(1)
        self.government = iter([f"天津市东丽区{d}" for d in _GOV]
                               + [f"天津市东丽区人民政府{s}办事处" for s in names.STREETS[:-1]])

    def name(self, org_type: str) -> tuple[str, str]:
        """(name, possibly changed org type): the fixed pools of offices can run out."""
        if org_type == "government":
            office = next(self.government, None)
            if office is not None:
                return office, org_type
            org_type = "institution"
        if org_type == "institution":
            return self.institution(), org_type
        for _ in range(20):
            candidate = self.candidate(org_type)
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate, org_type
        branch = f"{candidate}第{len(self.taken)}分公司"
        self.taken.add(branch)
        return branch, org_type

    def candidate(self, org_type: str) -> str:
        rng = self.rng
        brand = rng.choice(_BRAND_A) + rng.choice(_BRAND_B)
        stem = rng.choice(names.PLACE_STEMS)
        if org_type == "individual":
            owner = rng.choice(("老", "小", "")) + SURNAMES.pick(rng) if rng.random() < 0.4 else brand
            return f"东丽区{stem}{owner}{rng.choice(_SHOPS)}"
        if org_type == "social":
            return f"天津市东丽区{stem}{rng.choice(('社区志愿者协会', '养老服务中心', '社会工作服务中心', '文体协会'))}"
        if org_type == "other":
            return f"天津市东丽区{stem}{rng.choice(('蔬菜', '水产', '花卉', '苗木'))}种植专业合作社"
        prefix = rng.choice(("天津", "天津市", "天津市东丽区"))
        return f"{prefix}{brand}{rng.choice(_INDUSTRIES)}有限公司"

    def institution(self) -> str:
        n = next(self.schools)
        kind = ("小学", "中学", "幼儿园", "社区卫生服务中心")[n % 4]
        return f"天津市东丽区第{names.chinese_number(n // 4 + 1) if n < 396 else n // 4 + 1}{kind}"


def _staff(rng: random.Random, org_type: str) -> int:
    if org_type == "enterprise":
        # Long tail: most firms are small, a few employ thousands.
        return min(20000, 3 + int(rng.lognormvariate(2.2, 1.3)))
    low, high = {"individual": (1, 8), "institution": (15, 300), "government": (30, 400),
                 "social": (3, 50), "other": (3, 30)}[org_type]
    return rng.randint(low, high)


def _credit_code(rng: random.Random, org_type: str, taken: set[str]) -> str:
    while True:
        if rng.random() < 0.6:  # codes issued since 2015 start with MA
            base = "MA" + "".join(rng.choice(_ORG_CODE_CHARS) for _ in range(6))
        else:
            base = f"{rng.randrange(10**8):08d}"
        body = f"{_CREDIT_KIND[org_type]}{DONGLI}{base}{org_code_check(base)}"
        if body not in taken:
            taken.add(body)
            return body + credit_check_char(body)


def _door_address(rng: random.Random) -> str:
    road, _ = rng.choice(names.ROADS)
    return f"{names.DISTRICT_NAME}{rng.choice(names.STREETS[:-1])}{road}{rng.randint(1, 400)}号"


def _draft_organisations(rng: random.Random, n: int) -> list[_OrgDraft]:
    namer = _OrgNamer(rng)
    codes: set[str] = set()
    out = []
    for _ in range(n):
        name, org_type = namer.name(ORG_TYPE_SHARES.pick(rng))
        out.append(_OrgDraft(name=name, org_type=org_type, staff=_staff(rng, org_type),
                             address=_door_address(rng),
                             credit_code=_credit_code(rng, org_type, codes),
                             landline=org_type != "individual" or rng.random() < 0.2))
    return out


def _finish_organisations(b: _Builder, drafts: list[_OrgDraft],
                          shops: list[str]) -> list[Organisation]:
    rng = b.rng
    out = []
    for oid, d in enumerate(drafts, start=1):
        rep = b.org_reps.get(oid) or _any_adult(b)
        # A shop stands in a converted flat now and then (住改商).
        address = shops.pop() if d.org_type == "individual" and shops else d.address
        rep_phone = b.people[rep - 1].phone
        phone = f"022-{rng.choice('2568')}{rng.randrange(10**7):07d}" if d.landline or not rep_phone \
            else rep_phone
        out.append(Organisation(oid=oid, name=d.name, credit_code=d.credit_code,
                                org_type=d.org_type, address=address, legal_rep_pid=rep,
                                phone=phone, staff=d.staff))
    return out


def _any_adult(b: _Builder) -> int:
    if b.owners:
        return b.owners[b.rng.randrange(len(b.owners))]
    adults = [p.pid for p in b.people if p.age_on(b.today) >= 18]
    return b.rng.choice(adults) if adults else 1


# --- houses ------------------------------------------------------------------------


@dataclass
class _Room:
    code: str | None
    address: str
    households: list[tuple[str, list[int]]] = field(default_factory=list)  # (residence, pids)
    use: str = "own"


def _tenancy(rng: random.Random, today: date) -> tuple[date, date | None]:
    """A lease that started up to five years ago and has been renewed since, so
    its end falls in the coming term; some have no fixed end."""
    start = today - timedelta(days=rng.randint(20, 5 * 365))
    term = rng.random()
    if term < 0.15:
        return start, None
    years = 1 if term < 0.75 else 2
    end = start
    while end <= today:
        end = date(end.year + years, end.month, min(end.day, 28))
    return start, end


def _house(b: _Builder, room: _Room) -> House:
    rng = b.rng
    if room.use in ("vacant", "business"):
        owner = None if rng.random() < 0.1 or not b.owners else _any_adult(b)
        return House(room.code, room.address, room.use, owner, ())
    renting = [pids for residence, pids in room.households
               if rng.random() < _RENTS[residence]]
    if not renting:
        return House(room.code, room.address, "own", _own_owner(b, room.households[0][1]), ())
    tenants = []
    for pids in renting:
        start, end = _tenancy(rng, b.today)
        tenants += [(pid, start, end) for pid in pids if b.people[pid - 1].age_on(b.today) >= 18]
    if not tenants:  # a household of minors still has a lease in someone's name
        start, end = _tenancy(rng, b.today)
        tenants = [(renting[0][0], start, end)]
    landlord = _landlord(b, {t[0] for t in tenants}) if rng.random() < 0.97 else None
    return House(room.code, room.address, "rented", landlord, tuple(tenants))


def _landlord(b: _Builder, tenants: set[int]) -> int | None:
    if not b.owners:
        return None
    for _ in range(5):
        pid = _any_adult(b)
        if pid not in tenants:
            return pid
    return None


def _own_owner(b: _Builder, pids: list[int]) -> int | None:
    r = b.rng.random()
    if r < 0.75 or (len(pids) == 1 and r < 0.9):
        return pids[0]
    if r < 0.9:
        return pids[1]
    # The deed is in the name of a parent living elsewhere, or nobody knows.
    return _any_adult(b) if r < 0.95 and b.owners else None


def _rooms(rng: random.Random, rooms: Sequence[tuple[str, str]] | None,
           n_households: int) -> tuple[list[_Room], list[_Room]]:
    """(rooms people live in, rooms standing empty or used as shops)."""
    pool: list[tuple[str | None, str]] = list(rooms) if rooms is not None else list(
        synthetic_rooms(rng, math.ceil(n_households / (1 - VACANT_SHARE - BUSINESS_SHARE)) + 1))
    n = len(pool)
    if n == 0:
        raise ValueError("rooms 为空，无法安置住户")
    spare = min(n - 1, max(round(n * (VACANT_SHARE + BUSINESS_SHARE)), n - n_households))
    empty = set(rng.sample(range(n), spare))
    lived: list[_Room] = []
    unused: list[_Room] = []
    for i, (code, text) in enumerate(pool):
        (unused if i in empty else lived).append(_Room(code, text))
    n_business = round(len(unused) * BUSINESS_SHARE / (VACANT_SHARE + BUSINESS_SHARE))
    for k, room in enumerate(unused):
        room.use = "business" if k < n_business else "vacant"
    return lived, unused


# --- the whole population -----------------------------------------------------------


def _household_sizes(rng: random.Random, n_people: int) -> list[int]:
    sizes = []
    left = n_people
    while left > 0:
        size = min(left, HOUSEHOLD_SIZES.pick(rng))
        sizes.append(size)
        left -= size
    return sizes


def generate_population(n_people: int, seed: int, *,
                        rooms: Sequence[tuple[str, str]] | None = None,
                        today: date = TODAY) -> Population:
    """The same seed (and rooms) gives the same population."""
    if n_people < 1:
        raise ValueError("n_people 必须为正数")
    with _no_gc():
        return _generate(n_people, seed, rooms, today)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Millions of small acyclic objects make the cyclic collector run over and
    over for nothing: a quarter of the time at a million people."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _generate(n_people: int, seed: int, rooms: Sequence[tuple[str, str]] | None,
              today: date) -> Population:
    rng = random.Random(seed)
    b = _Builder(rng, today)
    sizes = _household_sizes(rng, n_people)
    lived, unused = _rooms(rng, rooms, len(sizes))
    drafts = _draft_organisations(rng, max(1, round(n_people / 40)))
    b.org_cum = list(itertools.accumulate(d.staff for d in drafts))
    for k, size in enumerate(sizes):
        # More households than rooms: the extra ones share a flat (合租, 人户分离).
        room = lived[k] if k < len(lived) else lived[rng.randrange(len(lived))]
        room.households.append(b.add_household(size, (room.code, room.address)))
    houses = [_house(b, room) for room in lived if room.households]
    houses += [_house(b, room) for room in unused]
    shops = [h.address for h in houses if h.use == "business"]
    organisations = _finish_organisations(b, drafts, shops)
    return Population(b.people, b.households, houses, organisations, today)
