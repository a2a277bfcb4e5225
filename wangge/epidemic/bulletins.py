"""Publishable case notices that cannot single anyone out.

Pure module: no Django. The service passes the confirmed cases and the
registry population of the streets concerned; `make_bulletin` either returns a
`Bulletin` or raises `BulletinRefused`, and `render` writes the notice.

What is published about a case is a combination (location, age band, gender).
Each combination must match at least k people in the registry (k-anonymity
against the registry, default k=10), so nobody can be pointed at from the
notice alone. Names, ID numbers, phone numbers and family relations are never
taken in, and the text is checked for them before it goes out.

Generalisation is one scheme for the whole bulletin, so all cases read alike:

- location: room → building → compound → community → street (a level keeps
  the address from the street down to it);
- age: exact → 5-year → 10-year → 20-year → 成年/未成年 (18 and over is adult);
- gender: kept, or dropped as the last resort.

The search takes the least generalisation in LADDER order: with gender kept,
the fewest steps in total (location steps + age steps); on a tie the finer
location wins, because where a case lives is what readers act on. Only when no
scheme with gender works is gender dropped and the same order tried again. If
even street + 成年/未成年 + no gender leaves some case below k, publishing is
refused.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

ADDRESS_LEVELS = ("street", "community", "compound", "building", "room")  # coarse → fine
LOCATION_LADDER = ("room", "building", "compound", "community", "street")  # fine → coarse
LOCATION_NAMES = {"room": "房间", "building": "楼栋", "compound": "小区", "community": "社区",
                  "street": "街道"}
AGE_LADDER = ("exact", "5", "10", "20", "adult")
AGE_NAMES = {"exact": "精确年龄", "5": "5岁一段", "10": "10岁一段", "20": "20岁一段",
             "adult": "仅分成年/未成年"}
ADULT_AGE = 18
GENDERS = ("男", "女")
CASE_LABEL = re.compile(r"^(病例|无症状感染者)\d{1,4}$")

# (age, gender, street, community, compound, building, room)
Person = tuple[int, str, str, str, str, str, str]


@dataclass(frozen=True)
class Scheme:
    location: str  # one of LOCATION_LADDER
    age: str  # one of AGE_LADDER
    gender: bool  # kept

    @property
    def steps(self) -> int:
        return LOCATION_LADDER.index(self.location) + AGE_LADDER.index(self.age)

    def describe(self) -> str:
        gender = "保留性别" if self.gender else "隐去性别"
        return f"位置到{LOCATION_NAMES[self.location]}，年龄{AGE_NAMES[self.age]}，{gender}"


def _ladder() -> tuple[Scheme, ...]:
    schemes = [Scheme(loc, age, gender) for gender in (True, False)
               for loc in LOCATION_LADDER for age in AGE_LADDER]
    return tuple(sorted(schemes, key=lambda s: (not s.gender, s.steps,
                                                LOCATION_LADDER.index(s.location))))


LADDER = _ladder()


def age_band(age: int, level: str) -> str:
    if level == "exact":
        return f"{age}岁"
    if level == "adult":
        return "成年" if age >= ADULT_AGE else "未成年"
    width = int(level)
    low = age // width * width
    return f"{low}-{low + width - 1}岁"


@dataclass(frozen=True)
class Visit:
    place: str  # a public venue, published as it is
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class CaseReport:
    label: str  # 病例1; never a name
    age: int
    gender: str  # 男 / 女
    address: Mapping[str, str]  # ADDRESS_LEVELS → name; missing levels are ''
    confirmed_on: date
    visits: tuple[Visit, ...] = ()

    def __post_init__(self) -> None:
        if not CASE_LABEL.match(self.label):
            raise ValueError(f"case label must look like 病例1, not {self.label!r}")
        if self.gender not in GENDERS or not 0 <= self.age < 150:
            raise ValueError(f"{self.label}: bad gender or age")
        unknown = set(self.address) - set(ADDRESS_LEVELS)
        if unknown:
            raise ValueError(f"{self.label}: unknown address levels {sorted(unknown)}")

    def path(self) -> tuple[str, ...]:
        return tuple(self.address.get(level, "") for level in ADDRESS_LEVELS)


class Population:
    """Registry counts by (age, gender, street, community, compound, building, room)."""

    def __init__(self, counts: Counter[Person] | None = None) -> None:
        self.counts: Counter[Person] = counts if counts is not None else Counter()

    @classmethod
    def from_people(cls, people: Iterable[Person]) -> Population:
        return cls(Counter(people))

    @classmethod
    def from_counts(cls, counts: Mapping[Person, int] | Iterable[tuple[object, ...]]
                    ) -> Population:
        """A mapping person-key → count, or rows of the seven key fields and a count."""
        out: Counter[Person] = Counter()
        if isinstance(counts, Mapping):
            out.update(counts)
        else:
            for row in counts:
                *key, n = row
                out[cast(Person, tuple(key))] += int(cast(int, n))
        return cls(out)


@dataclass(frozen=True)
class PublishedCase:
    label: str
    gender: str | None  # None when the scheme drops it
    age_band: str
    location: tuple[str, ...]  # street first, down to the scheme's level
    confirmed_on: date
    visits: tuple[Visit, ...]
    k: int  # registry people matching this combination


@dataclass(frozen=True)
class Bulletin:
    issued_on: date
    area: str  # e.g. 东丽区, printed before each location
    k_required: int
    k_achieved: int  # the smallest per-case k
    scheme: Scheme
    cases: tuple[PublishedCase, ...]


class BulletinRefused(Exception):
    def __init__(self, code: str, message: str, per_case: Mapping[str, int] | None = None
                 ) -> None:
        self.code = code
        self.message = message
        # At the most general scheme: label → registry people matching.
        self.per_case = dict(per_case or {})
        super().__init__(message)


def _depth(location: str) -> int:
    # How many ADDRESS_LEVELS (street first) a location level keeps.
    return ADDRESS_LEVELS.index(location) + 1


class _Index:
    """(depth, address prefix) → Counter of (age, gender), for the streets asked about."""

    def __init__(self, population: Population, streets: set[str]) -> None:
        self.by_prefix: dict[tuple[str, ...], Counter[tuple[int, str]]] = {}
        for (age, gender, *path), n in population.counts.items():
            if path[0] not in streets:
                continue
            for depth in range(1, len(ADDRESS_LEVELS) + 1):
                self.by_prefix.setdefault(tuple(path[:depth]), Counter())[(age, gender)] += n

    def count(self, case: CaseReport, scheme: Scheme) -> int:
        people = self.by_prefix.get(case.path()[:_depth(scheme.location)], Counter())
        band = age_band(case.age, scheme.age)
        return sum(n for (age, gender), n in people.items()
                   if age_band(age, scheme.age) == band
                   and (not scheme.gender or gender == case.gender))


# Checked on every visit place and on the rendered text.
FORBIDDEN = (
    (re.compile(r"\d{17}[\dXx]|\d{15}"), "身份证号"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "手机号"),
    (re.compile(r"\d+\s*(室|户)|\d+-\d+-\d+"), "门牌号"),
    (re.compile(r"父亲|母亲|妻子|丈夫|儿子|女儿|爷爷|奶奶|外公|外婆|孙子|孙女|配偶|家属|家人"
                r"|亲属|之父|之母|之子|之女|其父|其母|其子|其女|其妻|其夫"), "家庭关系"),
)


def _leaks(text: str) -> list[str]:
    return [what for pattern, what in FORBIDDEN if pattern.search(text)]


def make_bulletin(cases: Sequence[CaseReport], registry: Population | Iterable[Person], *,
                  k: int = 10, issued_on: date | None = None, area: str = "",
                  ladder: Sequence[Scheme] = LADDER) -> Bulletin:
    """The least generalised bulletin in which every case matches at least `k`
    registry people; raises BulletinRefused when none does."""
    if not cases:
        raise ValueError("no cases to publish")
    if k < 1:
        raise ValueError("k must be at least 1")
    if len({c.label for c in cases}) != len(cases):
        raise ValueError("case labels must be unique")
    for case in cases:
        for visit in case.visits:
            found = _leaks(visit.place)
            if found:
                raise BulletinRefused(
                    "bulletin_unsafe_place",
                    f"{case.label}的活动场所“{visit.place}”含有{'、'.join(found)}，请改为公共场所名称")
    population = registry if isinstance(registry, Population) else Population.from_people(
        registry)
    index = _Index(population, {c.path()[0] for c in cases})

    counts: dict[str, int] = {}
    for scheme in ladder:
        counts = {c.label: index.count(c, scheme) for c in cases}
        if min(counts.values()) >= k:
            _refuse_hidden_parts(cases, scheme)
            return Bulletin(
                issued_on=issued_on or max(c.confirmed_on for c in cases), area=area,
                k_required=k, k_achieved=min(counts.values()), scheme=scheme,
                cases=tuple(_publish(c, scheme, counts[c.label]) for c in cases))
    short = {label: n for label, n in counts.items() if n < k}
    detail = "、".join(f"{label}仅{n}人" for label, n in short.items())
    raise BulletinRefused(
        "bulletin_k_unreachable",
        f"即使{ladder[-1].describe()}，{detail}与之相符，达不到每条信息至少对应{k}人的要求，"
        "不予发布。请改为只发布病例数，或扩大人口范围后重试。", counts)


def _refuse_hidden_parts(cases: Sequence[CaseReport], scheme: Scheme) -> None:
    # A visit place must not give back what the scheme hid, e.g. "詹滨西里3号楼底商"
    # when only the compound is published. One-character parts are too common to test.
    depth = _depth(scheme.location)
    hidden = {p for c in cases for p in c.path()[depth:] if len(p) >= 2}
    for case in cases:
        for visit in case.visits:
            for part in hidden:
                if part in visit.place:
                    raise BulletinRefused(
                        "bulletin_unsafe_place",
                        f"{case.label}的活动场所“{visit.place}”含有未公开的住址信息，"
                        "请改为不含楼栋、房号的场所名称")


def _publish(case: CaseReport, scheme: Scheme, k: int) -> PublishedCase:
    return PublishedCase(
        label=case.label, gender=case.gender if scheme.gender else None,
        age_band=age_band(case.age, scheme.age),
        location=tuple(p for p in case.path()[:_depth(scheme.location)] if p),
        confirmed_on=case.confirmed_on,
        visits=tuple(sorted(case.visits, key=lambda v: v.start)), k=k)


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _when(v: Visit) -> str:
    text = f"{_md(v.start)}{v.start:%H:%M}"
    if v.end is not None:
        text += f"至{_md(v.end) if v.end.date() != v.start.date() else ''}{v.end:%H:%M}"
    return text


def render(bulletin: Bulletin) -> str:
    """The notice; raises BulletinRefused if the text would carry anything FORBIDDEN."""
    b = bulletin
    lines = [f"{_md(b.issued_on)}，{b.area}新增确诊病例{len(b.cases)}例。"]
    for c in b.cases:
        who = "，".join(p for p in (c.label, c.gender, c.age_band) if p)
        text = f"{who}，现住{b.area}{''.join(c.location)}，{_md(c.confirmed_on)}确诊。"
        if c.visits:
            text += "活动轨迹：" + "；".join(f"{_when(v)}，{v.place}" for v in c.visits) + "。"
        lines.append(text)
    lines.append(f"（为保护个人隐私，住址和年龄已作概括：{b.scheme.describe()}；"
                 f"每条病例信息在登记人口中至少对应{b.k_achieved}人，要求不少于{b.k_required}人。）")
    text = "\n".join(lines)
    found = _leaks(text)
    if found:
        raise BulletinRefused("bulletin_unsafe_text", f"通报文本含有{'、'.join(found)}，不予发布")
    return text
