"""Name pools for the demo city, and a seeded way to draw unique names from them.

The streets are Dongli's real ones; community and compound names are made of
parts that read like the district's (old village names, 里/苑/家园 endings), so
the demo looks familiar to a Tianjin user without copying a real register.
No Django here.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence

DISTRICT_CODE = "120110"
DISTRICT_NAME = "东丽区"

# In the order their codes are given: the first street is always 张贵庄街道 and
# the second 丰年村街道, which DEMO_ACCOUNTS' scope descriptions rely on.
STREETS: tuple[str, ...] = (
    "张贵庄街道", "丰年村街道", "万新街道", "无瑕街道", "新立街道", "华明街道",
    "金钟街道", "军粮城街道", "金桥街道", "东丽湖街道", "华新街道", "东丽开发区",
)

# Old village and place names of the kind Dongli's communities grew out of.
PLACE_STEMS: tuple[str, ...] = (
    "铁城", "詹庄", "利津", "新中", "程林", "欢坨", "东羽", "丽苑", "金河", "先锋",
    "雪莲", "翠阜", "昆俞", "泰来", "新袁", "登州", "杨台", "跃进", "成林", "赤土",
    "南大桥", "刘台", "小东庄", "大郑", "胡张庄", "务本", "驯海", "东杨场", "李庄子",
    "大毕庄", "新兴", "振华", "和顺", "春晓", "雅韵", "丽水", "宝元", "慧谷", "福荣",
    "海颂", "畅园", "金泰", "五经", "苗街", "赵北", "范庄", "徐庄", "卧河", "袁家河",
    "大杨", "永和", "么六桥", "南何庄", "北何庄", "塘洼", "中河", "赵沽里", "苏庄子",
    "李明庄", "西杨场", "金钟", "军粮城", "东堼", "落地", "杨北", "窑上", "于明庄", "程庄",
)
COMMUNITY_ENDINGS: tuple[str, ...] = (
    "里", "苑", "园", "新村", "花园", "家园", "公寓", "南里", "北里", "东里", "西里",
)

COMPOUND_STEMS: tuple[str, ...] = (
    *PLACE_STEMS,
    "华明", "万新", "丰年", "无瑕", "新立", "金桥", "东丽", "津门", "滨湖", "景欣",
    "瑞景", "馨华", "福瑞", "和谐", "晨曦", "怡然", "嘉泰", "博雅", "翰林", "锦绣",
    "盛世", "阳光", "碧水", "绿洲", "朝阳", "安居", "康宁", "润泽", "华盛", "荣华",
)
COMPOUND_ENDINGS: tuple[str, ...] = (
    "家园", "新苑", "花园", "雅苑", "嘉园", "名苑", "佳园", "景园", "丽园", "馨园",
    "华府", "新城", "小区", "公寓", "里", "佳苑", "秀苑", "园", "新村", "湾",
)

# (name, runs east–west?) Real Dongli roads; the generator lays each across the
# district in the direction given.
ROADS: tuple[tuple[str, bool], ...] = (
    ("津塘路", True), ("先锋路", False), ("跃进路", False), ("成林道", True),
    ("东丽大道", True), ("杨台大街", False), ("津滨大道", True), ("卫国道", True),
    ("昆仑路", False), ("驯海路", False), ("利津路", False), ("登州路", False),
    ("雪莲路", False), ("津汉公路", True), ("赤海路", False), ("华明大道", True),
    ("金钟河大街", True), ("栖霞道", True), ("詹滨西路", False), ("程永道", True),
    ("东金路", False), ("无瑕花园路", False), ("新立路", False), ("金桥大道", True),
    ("军丽路", False), ("东七道", True), ("航双路", False), ("津北公路", True),
    ("丽新路", False), ("顺达道", True),
)

# Numerals for "第一警务区" and the like.
CHINESE_NUMERALS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1–99 as Chinese numerals (第十二网格)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CHINESE_NUMERALS[tens] + "十")
    return head + (CHINESE_NUMERALS[ones] if ones else "")


def short_street(name: str) -> str:
    """张贵庄街道 → 张贵庄, for 张贵庄派出所."""
    return name.removesuffix("街道")


def name_stream(rng: random.Random, stems: Sequence[str], endings: Sequence[str],
                *, suffix: str = "") -> Iterator[str]:
    """Endless distinct stem+ending(+suffix) names in a seeded order.

    When the pool runs out, later rounds add 二期, 三期 … the way a developer
    names a second phase next to the first.
    """
    # 赵沽里 + 里 would read 赵沽里里: skip endings that repeat the stem's last character.
    pool = [s + e for s in stems for e in endings if s[-1] != e[0]]
    rng.shuffle(pool)
    for phase in itertools.count(1):
        tag = "" if phase == 1 else chinese_number(phase) + "期"
        for name in pool:
            yield name + tag + suffix


def unique_names(rng: random.Random, stems: Sequence[str], endings: Sequence[str],
                 n: int, *, suffix: str = "") -> list[str]:
    return list(itertools.islice(name_stream(rng, stems, endings, suffix=suffix), n))
