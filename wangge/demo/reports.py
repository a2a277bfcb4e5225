"""Free-text reports as grid workers and residents write them, for the demo's
cases and the classification benchmark. No Django here.

A report is built from one of its item's catalog phrases, reworded: a place in
Dongli (a crossing, a door number, a building of a compound), a time, a word
swapped for a synonym, a second phrase, a closing plea, sometimes all of it
in traditional script (a Hong Kong or Taiwan input method) or with full-width
digits. Only a few come out as the bare phrase, so a classifier trained on the
phrases is tested on text it has not seen. `sample_reports` draws items as
often as a district's platform receives them: litter, street stalls and
parking far ahead, governance matters rare.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Any

from wangge.cases.catalog import GROUPS, ITEMS, Item
from wangge.demo import names

TRADITIONAL_SHARE = 0.05
FULLWIDTH_SHARE = 0.08  # of reports that have digits
SYNONYM_SHARE = 0.35  # per matching word
TYPO_SHARE = 0.10  # of reports with a word below
OWNER_DROP_SHARE = 0.35  # of manhole reports
ALSO_SHARE = 0.10  # a second matter in the same report
BY_NAME_SHARE = 0.10  # written as the category's name, as workers who know the catalog do
VAGUE_SHARE = 0.02  # nothing to go on: the operator has to call back

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# Single pass, so a replacement is never replaced again ("破损" → "损坏" → "坏了").
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "无人": ("没人",),
    "没人管": ("也没人管", "无人管理"),
    "好几天": ("多日", "三四天"),
    "损坏": ("坏了", "破损了"),
    "破损": ("损坏", "破了"),
    "缺失": ("丢了", "没了"),
    "丢失": ("丢了", "被偷了"),
    "不亮": ("不亮了", "黑着"),
    "严重": ("很严重", "特别严重"),
    "居民": ("住户", "老百姓"),
    "路边": ("马路边", "道边上"),
    "马路": ("大马路", "道路"),
    "人行道": ("便道", "步道"),
    "发臭": ("发出臭味", "有异味"),
    "很大": ("特别大", "挺大"),
    "扰民": ("影响周边居民",),
    "电动车": ("电瓶车", "电动自行车"),
    "老人": ("老年人",),
    "孩子": ("小孩",),
    "漏水": ("渗水", "往外漏水"),
    "倾斜": ("歪了", "歪斜"),
    "断裂": ("断了",),
    "松动": ("松了", "活动了"),
    "下沉": ("下陷",),
    "异味": ("怪味",),
    "很多": ("不少", "好多"),
    "没有": ("没",),
    "到处": ("满处",),
    "井盖": ("井盖子", "窨井盖"),
}
_SYNONYM_RE = re.compile("|".join(sorted(map(re.escape, _SYNONYMS), key=len, reverse=True)))

# What a pinyin input method or a hurried hand writes instead; 拉圾 and 碴土
# are in every platform's records.
_TYPOS = {
    "垃圾": "拉圾", "噪音": "燥音", "车辆": "车俩", "楼道": "楼到", "反映": "反应",
    "摊贩": "滩贩", "占道": "站道", "渣土": "碴土", "暖气": "暖汽", "横幅": "横副",
    "已经": "以经", "处理": "处里", "积水": "集水", "扰民": "饶民", "施工": "施公",
}
_TYPO_RE = re.compile("|".join(map(re.escape, _TYPOS)))

# A passer-by sees a broken cover, not whose pipe is under it: most manhole
# reports name no owner, and the centre works it out on site.
_OWNER_RE = re.compile(
    r"(?:上水|污水|雨水|电力|通信|通讯|燃气|热力|供热|自来水|给水|煤气|天然气|联通|移动通信|"
    r"电信光缆|暖气管道)((?:检查|阀门)?井)")
_ALSO = ("旁边", "另外", "附近还有", "同时", "还有")
_COMPONENT_FAULTS = ("坏了", "损坏", "有问题", "出故障了", "需要维修", "破损")
_EVENT_WORDS = ("", "问题", "现象", "情况", "的问题")
_VAGUE = (
    "{place}有情况，请尽快来看看", "{place}这里出问题了", "{place}，居民有意见，请处理",
    "请到{place}查看一下", "{place}需要处理",
)

_OPENERS = (
    "网格员巡查发现：", "居民反映：", "接群众来电反映，", "巡查中发现", "【日常巡查】",
    "有居民反映", "12345转办：", "市民投诉：", "网格巡查：",
)
_TIMES = (
    "今天早上", "今天上午", "今天下午", "昨天晚上", "这几天", "连续三天", "最近一周",
    "每天晚上", "已经半个多月了", "从上周开始", "上午巡查时", "近期",
)
_URGENT_TIMES = ("刚才", "刚刚", "现在", "十分钟前", "今天凌晨", "半小时前")
_ADJUNCTS_GENERAL = (
    "请尽快处理", "请相关部门处理", "望尽快解决", "已拍照上报", "居民多次反映",
    "群众意见较大", "请派人查看", "麻烦尽快派人来看看",
)
_ADJUNCTS_STREET = (
    "影响居民出行", "影响市容", "存在安全隐患", "行人经过很危险", "影响通行",
    "路过的人都绕着走", "周边商户也有意见",
)
_ADJUNCTS_URGENT = ("情况紧急", "请马上派人", "已报警", "现场有人围观", "请立即处置", "已设置临时警示")
_ADJUNCTS_HAZARD = ("存在安全隐患", "请尽快排查", "一旦出事后果严重", "已口头提醒但没有整改")
_ADJUNCTS_PEOPLE = (
    "需要协调解决", "当事人情绪激动", "请社区介入", "已初步了解情况", "需要上门走访",
    "请帮忙协调", "已做好登记",
)
_ADJUNCTS_SERVICE = ("希望给个答复", "请相关部门给予帮助", "已登记情况", "居民来社区询问", "请帮忙联系")

_URGENT_GROUPS = frozenset({"E04"})
_HAZARD_GROUPS = frozenset({"E08"})
_PEOPLE_GROUPS = frozenset({"E07", "E09"})
_SERVICE_GROUPS = frozenset({"E10", "E11"})
# Households, not street corners, are where these happen.
_INDOOR_GROUPS = _PEOPLE_GROUPS | _SERVICE_GROUPS | frozenset({"C05"})

_BY_GROUP: dict[str, list[Item]] = {
    group: [i for i in ITEMS if i.code[:3] == group] for group in GROUPS
}

_DIRECTIONS = ("东", "南", "西", "北")
_ROADS = tuple(name for name, _ in names.ROADS)


@functools.cache
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def _compound(rng: random.Random) -> str:
    # 赵沽里 + 里 would read 赵沽里里, as names.name_stream avoids too.
    stem = rng.choice(names.COMPOUND_STEMS)
    ending = rng.choice([e for e in names.COMPOUND_ENDINGS if e[0] != stem[-1]])
    return stem + ending


def _street_place(rng: random.Random) -> str:
    road = rng.choice(_ROADS)
    match rng.randrange(6):
        case 0:
            other = rng.choice([r for r in _ROADS if r != road])
            return f"{road}与{other}交口"
        case 1:
            return f"{road}{rng.randint(1, 399)}号门前"
        case 2:
            return f"{road}{_compound(rng)}对面"
        case 3:
            return f"{road}{rng.choice(_DIRECTIONS)}侧"
        case 4:
            return f"{_compound(rng)}{rng.choice(_DIRECTIONS)}门"
        case _:
            return f"{_compound(rng)}{rng.randint(1, 30)}号楼{rng.choice(_DIRECTIONS)}侧"


def _home_place(rng: random.Random) -> str:
    compound = _compound(rng)
    match rng.randrange(4):
        case 0:
            return f"{compound}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}门"
        case 1:
            room = rng.randint(1, 18) * 100 + rng.randint(1, 4)
            return f"{compound}{rng.randint(1, 30)}-{rng.randint(1, 6)}-{room}"
        case 2:
            stem = rng.choice(names.PLACE_STEMS)
            return f"{names.short_street(rng.choice(names.STREETS))}{stem}社区"
        case _:
            return compound


def _place(rng: random.Random, group: str) -> str:
    home_share = 0.8 if group in _INDOOR_GROUPS else 0.2
    return _home_place(rng) if rng.random() < home_share else _street_place(rng)


def _reword(rng: random.Random, phrase: str) -> str:
    def swap(m: re.Match[str]) -> str:
        if rng.random() < SYNONYM_SHARE:
            return rng.choice(_SYNONYMS[m.group(0)])
        return m.group(0)

    return _SYNONYM_RE.sub(swap, phrase)


def _adjuncts(group: str) -> tuple[str, ...]:
    if group in _URGENT_GROUPS:
        return _ADJUNCTS_URGENT
    if group in _HAZARD_GROUPS:
        return _ADJUNCTS_HAZARD + _ADJUNCTS_GENERAL
    if group in _PEOPLE_GROUPS:
        return _ADJUNCTS_PEOPLE
    if group in _SERVICE_GROUPS:
        return _ADJUNCTS_SERVICE
    return _ADJUNCTS_STREET + _ADJUNCTS_GENERAL


def report_text(rng: random.Random, item: Item) -> str:
    """One report about `item`; the same rng state gives the same text."""
    text = _wording(rng, item)
    if rng.random() < TYPO_SHARE and (typos := _TYPO_RE.findall(text)):
        wrong = rng.choice(typos)
        text = text.replace(wrong, _TYPOS[wrong], 1)
    if rng.random() < FULLWIDTH_SHARE and any(c.isdigit() for c in text):
        text = text.translate(_FULLWIDTH)
    if rng.random() < TRADITIONAL_SHARE:
        text = str(_s2t().convert(text))
    return text


def _wording(rng: random.Random, item: Item) -> str:
    group = item.code[:3]
    if rng.random() < VAGUE_SHARE:
        return rng.choice(_VAGUE).format(place=_place(rng, group))
    phrase = rng.choice(item.phrases)
    if rng.random() < BY_NAME_SHARE:
        words = _COMPONENT_FAULTS if item.kind == "component" else _EVENT_WORDS
        core = item.name + rng.choice(words)
    else:
        core = _reword(rng, phrase)
    if item.name.endswith("井盖") and rng.random() < OWNER_DROP_SHARE:
        core = _OWNER_RE.sub(r"\1", core)
    style = rng.random()
    if style < 0.10:  # terse: what a worker types on a phone between two calls
        return core
    if style < 0.20:
        return _place(rng, group) + core
    return _sentence(rng, item, phrase, core)


def _sentence(rng: random.Random, item: Item, phrase: str, core: str) -> str:
    group = item.code[:3]
    place = _place(rng, group)
    times = _URGENT_TIMES if group in _URGENT_GROUPS else _TIMES
    when = rng.choice(times) if rng.random() < 0.45 else ""
    if rng.random() < 0.2 and len(item.phrases) > 1:
        second = rng.choice([p for p in item.phrases if p != phrase])
        core = f"{core}，{_reword(rng, second)}"
    elif rng.random() < ALSO_SHARE:
        other = rng.choice([i for i in _BY_GROUP[group] if i is not item] or [item])
        core = f"{core}，{rng.choice(_ALSO)}{_reword(rng, rng.choice(other.phrases))}"
    opener = rng.choice(_OPENERS) if rng.random() < 0.35 else ""
    match rng.randrange(4):
        case 0:
            body = f"{place}{when}{core}"
        case 1:
            body = f"{when}在{place}发现{core}" if when else f"{place}，{core}"
        case 2:
            body = f"{core}，地点：{place}"
        case _:
            # First person: an opener naming the reporter would contradict it.
            opener = ""
            lead = "我家住" if group in _INDOOR_GROUPS else "我在"
            body = f"{lead}{place}，{when}{core}"
    pleas = [p for p in rng.sample(_adjuncts(group), k=rng.choice((0, 1, 1, 2))) if p not in core]
    sep = "，" if rng.random() < 0.9 else " "
    end = rng.choice(("。", "。", "", "！"))
    return opener + sep.join([body, *pleas]) + end


# Relative frequencies of what a district platform receives; items not named
# get their kind's default below.
_FREQUENT = {
    "暴露垃圾": 40.0, "占道经营": 30.0, "乱堆物料": 25.0, "违章停车": 22.0,
    "非法小广告": 12.0, "店外经营": 10.0, "道路不洁": 8.0, "非机动车乱停放": 8.0,
    "路灯": 8.0, "道路破损": 7.0, "积存垃圾渣土": 6.0,
}
_COVER_WEIGHT = 6.0  # each 井盖 item; together they rank with 占道经营
_STREET_WEIGHT = 2.0
_GOVERNANCE_WEIGHT = 0.7  # 矛盾纠纷 … 民生服务 come mostly through other channels
_EPIDEMIC_WEIGHT = 0.3
_GOVERNANCE_GROUPS = frozenset({"E07", "E08", "E09", "E11"})


def item_weight(item: Item) -> float:
    if item.name in _FREQUENT:
        return _FREQUENT[item.name]
    if item.name.endswith("井盖"):
        return _COVER_WEIGHT
    group = item.code[:3]
    if group == "E10":
        return _EPIDEMIC_WEIGHT
    if group in _GOVERNANCE_GROUPS:
        return _GOVERNANCE_WEIGHT
    return _STREET_WEIGHT


def sample_reports(seed: int, n: int) -> list[tuple[str, str]]:
    """`n` (text, item code) pairs, the same for the same seed."""
    rng = random.Random(seed)
    weights = [item_weight(item) for item in ITEMS]
    picked = rng.choices(ITEMS, weights=weights, k=n)
    return [(report_text(rng, item), item.code) for item in picked]
