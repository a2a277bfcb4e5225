"""Health-code and grid-push colours from one explicit rule table.

Pure module: no Django. The Django side stores a rule table, calls
`check_table` before saving it (a table with a gap or overlap is refused), and
calls `assess` for one person or `assess_frame` for a whole population.

Two colours per person and day:

- the health code (绿码/黄码/红码, after GB/T 38961-2020 个人健康信息码), which
  the person shows at checkpoints;
- the grid push (red: act now, yellow: check today, blue: visit and register,
  None: nothing for the grid worker).

The table is a list of `Rule`s tried in order; the first whose condition holds
decides both colours and the reason. Order the table most severe first (red
code before yellow before green; within one code colour, red push before
yellow, blue, none) and end it with a catch-all (`When(ALWAYS)`).

A condition (`When`) looks at one kind of fact and always at the *latest* fact
of that kind known on the day (for arrivals: the latest from an area of the
given level):

- `days=(lo, hi)`: that fact is lo..hi days before the day, both ends
  included (0 is the day itself; hi None means any time since);
- `not_released`: and no isolation order has ended since that fact (an order
  whose end date is on or after the fact's date and on or before the day);
- `negatives_below=n`: and fewer than n negative tests dated on or after that
  fact's date.

Two kinds take no window: ISOLATING (an isolation order runs on the day:
start <= day < end) and ALWAYS.

Facts dated after the day are not known on the day: a test taken on the 20th
does not change the colour of the 19th, and `until` (when the colours change by
themselves) assumes nothing new happens.

Window ladders: rules whose conditions are the same apart from the window
(same fact, level and qualifiers) form a ladder over days, e.g. a high-risk
arrival is red for days 0–13 and yellow for days 14–20. Their windows must
tile one range of days: an overlap means some days are decided by whichever
comes first (and the other rule is partly dead), a gap means some days fall
through to an unrelated rule. `validate_table` reports both, as it reports
duplicate codes, a missing catch-all (a person matching nothing would get no
colour) and rules that can never match (after the catch-all, or covered by an
earlier rule on the same fact).

`assess_frame` runs the same table as one DuckDB query over a long table of
facts (one row per fact, see FRAME_COLUMNS): the CASE expression is generated
from the rules, so the table stays the single source of truth, and the tests
check it against `assess` on a random population.
"""

# ruff: noqa: S608 -- SQL is assembled from the validated rule table; no user text goes in
from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

# --- colours -----------------------------------------------------------------

GREEN, YELLOW, RED, BLUE = "green", "yellow", "red", "blue"
CODE_COLOURS = (RED, YELLOW, GREEN)  # most severe first
PUSH_COLOURS = (RED, YELLOW, BLUE)  # and None: nothing to push
CODE_NAMES = {RED: "红码", YELLOW: "黄码", GREEN: "绿码"}
PUSH_NAMES: dict[str | None, str] = {
    RED: "红色推送（立即管控）", YELLOW: "黄色推送（当日核查）",
    BLUE: "蓝色推送（上门登记）", None: "不推送"}

HIGH, MEDIUM, LOW = "high", "medium", "low"
RISK_LEVELS = (HIGH, MEDIUM, LOW)
LEVEL_NAMES = {HIGH: "高风险", MEDIUM: "中风险", LOW: "低风险"}

# --- facts -------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    status: str  # "confirmed" or "suspected"
    on: date

    def __post_init__(self) -> None:
        if self.status not in ("confirmed", "suspected"):
            raise ValueError(f"unknown diagnosis status {self.status!r}")


@dataclass(frozen=True)
class Contact:
    case: str  # the case's public label, e.g. 病例3
    last_exposure: date
    degree: int = 1  # 1 close contact (密接), 2 second-degree (次密接)

    def __post_init__(self) -> None:
        if self.degree not in (1, 2):
            raise ValueError(f"contact degree must be 1 or 2, not {self.degree!r}")


@dataclass(frozen=True)
class Arrival:
    area_code: str
    level: str  # HIGH, MEDIUM or LOW
    on: date

    def __post_init__(self) -> None:
        if self.level not in RISK_LEVELS:
            raise ValueError(f"unknown risk level {self.level!r}")


@dataclass(frozen=True)
class Isolation:
    start: date
    end: date  # the day of release: isolated on start..end-1, free on end

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"isolation ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True)
class LabResult:
    on: date
    positive: bool


@dataclass(frozen=True)
class Fever:
    on: date
    checkpoint: str = ""


@dataclass(frozen=True)
class Facts:
    """Everything recorded about one person; each fact carries its own date."""

    diagnoses: tuple[Diagnosis, ...] = ()
    contacts: tuple[Contact, ...] = ()
    arrivals: tuple[Arrival, ...] = ()
    isolations: tuple[Isolation, ...] = ()
    tests: tuple[LabResult, ...] = ()
    fevers: tuple[Fever, ...] = ()

    def as_of(self, day: date) -> Facts:
        """The facts known on `day` (an isolation order is known from its start)."""
        return Facts(
            diagnoses=tuple(d for d in self.diagnoses if d.on <= day),
            contacts=tuple(c for c in self.contacts if c.last_exposure <= day),
            arrivals=tuple(a for a in self.arrivals if a.on <= day),
            isolations=tuple(i for i in self.isolations if i.start <= day),
            tests=tuple(t for t in self.tests if t.on <= day),
            fevers=tuple(f for f in self.fevers if f.on <= day))


# --- the rule table ----------------------------------------------------------

CONFIRMED, SUSPECTED, POSITIVE_TEST = "confirmed", "suspected", "positive_test"
CLOSE_CONTACT, SECOND_CONTACT, ARRIVAL, FEVER = (
    "close_contact", "second_contact", "arrival", "fever")
ISOLATION_END, ISOLATING, ALWAYS = "isolation_end", "isolating", "always"
# Kinds measured from a date, so they take a window and qualifiers.
DATED = (CONFIRMED, SUSPECTED, POSITIVE_TEST, CLOSE_CONTACT, SECOND_CONTACT, ARRIVAL, FEVER,
         ISOLATION_END)
FACT_KINDS = (*DATED, ISOLATING, ALWAYS)
FACT_NAMES = {
    CONFIRMED: "确诊", SUSPECTED: "疑似", POSITIVE_TEST: "核酸阳性", CLOSE_CONTACT: "密切接触",
    SECOND_CONTACT: "次密切接触", ARRIVAL: "来自风险地区", FEVER: "卡口发热",
    ISOLATION_END: "解除隔离", ISOLATING: "正在隔离", ALWAYS: "其他所有人"}

# What a reason template may use; `validate_table` refuses anything else.
PLACEHOLDERS = frozenset({
    "on",          # the fact's date, 3月1日
    "days",        # days since it
    "case",        # close / second-degree contacts: the case's label
    "area",        # arrivals: the area code
    "level",       # arrivals: 高风险 / 中风险 / 低风险
    "checkpoint",  # fevers
    "negatives",   # negative tests on or after the fact's date
    "iso_end",     # end of the running isolation order, '' when none
    "isolation",   # 隔离至3月15日 / 尚未落实隔离
})


@dataclass(frozen=True)
class When:
    fact: str
    days: tuple[int, int | None] = (0, None)
    level: str | None = None  # arrivals only; None: any level
    not_released: bool = False
    negatives_below: int | None = None

    def describe(self) -> str:
        if self.fact in (ALWAYS, ISOLATING):
            return FACT_NAMES.get(self.fact, self.fact)
        lo, hi = self.days
        what = FACT_NAMES.get(self.fact, self.fact)
        if self.level:
            what = f"来自{LEVEL_NAMES.get(self.level, self.level)}地区"
        span = f"第{lo}天起" if hi is None else f"第{lo}至{hi}天"
        text = f"{what}（{span}）"
        if self.not_released:
            text += "，未解除隔离"
        if self.negatives_below is not None:
            text += f"，此后阴性核酸少于{self.negatives_below}次"
        return text


@dataclass(frozen=True)
class Rule:
    code: str  # stable snake_case; stored with every assessment
    when: When
    code_colour: str
    push_colour: str | None
    reason: str  # str.format template over PLACEHOLDERS


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("confirmed", When(CONFIRMED, not_released=True), RED, RED,
         "{on}确诊，尚未解除隔离"),
    Rule("suspected", When(SUSPECTED, negatives_below=2), RED, RED,
         "{on}列为疑似病例，尚未排除（阴性核酸{negatives}次）"),
    Rule("positive_test", When(POSITIVE_TEST, days=(0, 13), negatives_below=2), RED, RED,
         "{on}核酸检测阳性，待复核"),
    Rule("close_contact", When(CLOSE_CONTACT, days=(0, 13), not_released=True), RED, RED,
         "系{case}的密切接触者，末次接触{on}，{isolation}"),
    Rule("arrival_high", When(ARRIVAL, days=(0, 13), level=HIGH), RED, RED,
         "{on}自{area}高风险地区抵达，未满14天"),
    Rule("isolating", When(ISOLATING), RED, None,
         "正在隔离，{isolation}"),
    Rule("arrival_medium", When(ARRIVAL, days=(0, 13), level=MEDIUM), YELLOW, YELLOW,
         "{on}自{area}中风险地区抵达，未满14天"),
    Rule("second_contact", When(SECOND_CONTACT, days=(0, 6)), YELLOW, YELLOW,
         "系{case}的次密切接触者，末次接触{on}，未满7天"),
    Rule("fever", When(FEVER, days=(0, 2), negatives_below=1), YELLOW, BLUE,
         "{on}在{checkpoint}测温发热，此后尚无阴性核酸结果"),
    # No upper bound: the yellow code clears with tests, not with time.
    Rule("after_isolation", When(ISOLATION_END, negatives_below=2), YELLOW, None,
         "{on}解除隔离，此后阴性核酸{negatives}次，满2次转绿码"),
    Rule("arrival_low", When(ARRIVAL, days=(0, 6), level=LOW), GREEN, BLUE,
         "{on}自{area}低风险地区抵达，待网格员上门登记"),
    Rule("none", When(ALWAYS), GREEN, None, "无风险记录"),
)


class RuleTableError(ValueError):
    code = "risk_rule_table_invalid"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("；".join(problems))


def _label(i: int, rule: Rule) -> str:
    return f"第{i + 1}条规则“{rule.code}”"


def _rule_problems(rule: Rule) -> list[str]:
    w, out = rule.when, []
    if rule.code_colour not in CODE_COLOURS:
        out.append(f"健康码颜色“{rule.code_colour}”无效")
    if rule.push_colour is not None and rule.push_colour not in PUSH_COLOURS:
        out.append(f"推送颜色“{rule.push_colour}”无效")
    if w.fact not in FACT_KINDS:
        out.append(f"未知的事实类型“{w.fact}”")
    elif w.fact in (ALWAYS, ISOLATING):
        if w != When(w.fact):
            out.append(f"“{FACT_NAMES[w.fact]}”不能带天数窗口或其他条件")
    else:
        lo, hi = w.days
        if lo < 0 or (hi is not None and hi < 0):
            out.append(f"天数窗口（{lo}至{hi}）为负")
        elif hi is not None and hi < lo:
            out.append(f"天数窗口起止颠倒（{lo}至{hi}）")
        if w.level is not None and (w.fact != ARRIVAL or w.level not in RISK_LEVELS):
            out.append(f"风险等级“{w.level}”只能用于来自风险地区，且须为high/medium/low")
        if w.negatives_below is not None and w.negatives_below < 1:
            out.append("阴性核酸次数须至少为1")
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(rule.reason) if f is not None}
    except ValueError:
        out.append("原因模板格式错误")
    else:
        for name in sorted(names - PLACEHOLDERS):
            out.append(f"原因模板含未知占位符“{{{name}}}”")
    return out


def _window_ok(w: When) -> bool:
    lo, hi = w.days
    return lo >= 0 and (hi is None or hi >= lo)


def _covers(earlier: When, later: When) -> bool:
    """Whenever `later` holds, `earlier` holds too (same fact, so the same anchor)."""
    if earlier.fact != later.fact or earlier.level != later.level:
        return False
    if earlier.fact in (ALWAYS, ISOLATING):
        return True
    (elo, ehi), (llo, lhi) = earlier.days, later.days
    inside = elo <= llo and (ehi is None or (lhi is not None and lhi <= ehi))
    released_ok = not earlier.not_released or later.not_released
    negatives_ok = earlier.negatives_below is None or (
        later.negatives_below is not None and later.negatives_below <= earlier.negatives_below)
    return inside and released_ok and negatives_ok


def validate_table(rules: Sequence[Rule]) -> list[str]:
    """Problems with the table, in Chinese, for the person editing it; [] when fine."""
    if not rules:
        return ["规则表为空，任何人都得不到颜色"]
    problems: list[str] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.code in seen:
            problems.append(f"{_label(i, rule)}：编码重复")
        seen.add(rule.code)
        problems.extend(f"{_label(i, rule)}：{p}" for p in _rule_problems(rule))

    catch_all = next((i for i, r in enumerate(rules) if r.when.fact == ALWAYS), None)
    if catch_all is None:
        problems.append("缺少兜底规则：最后一条应为“其他所有人”，否则不满足任何条件的人没有颜色")
    else:
        problems.extend(f"{_label(j, rules[j])}：在兜底规则之后，永远不会命中"
                        for j in range(catch_all + 1, len(rules)))
    reachable = len(rules) if catch_all is None else catch_all + 1
    shadowed: set[int] = set()
    for j in range(reachable):
        for i in range(j):
            if _window_ok(rules[i].when) and _covers(rules[i].when, rules[j].when):
                problems.append(f"{_label(j, rules[j])}：被{_label(i, rules[i])}完全覆盖，"
                                "永远不会命中")
                shadowed.add(j)
                break

    ladders: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, rule in enumerate(rules[:reachable]):
        w = rule.when
        if w.fact in DATED and _window_ok(w) and i not in shadowed:
            ladders[(w.fact, w.level, w.not_released, w.negatives_below)].append(i)
    for members in ladders.values():
        members.sort(key=lambda i: rules[i].when.days[0])
        for a, b in pairwise(members):
            a_hi, (b_lo, b_hi) = rules[a].when.days[1], rules[b].when.days
            if a_hi is None or b_lo <= a_hi:
                ends = [h for h in (a_hi, b_hi) if h is not None]
                span = f"第{b_lo}至{min(ends)}天" if ends else f"第{b_lo}天以后"
                problems.append(f"{_label(a, rules[a])}与{_label(b, rules[b])}的天数窗口重叠："
                                f"{span}两条都适用")
            elif b_lo > a_hi + 1:
                problems.append(f"{_label(a, rules[a])}与{_label(b, rules[b])}的天数窗口有空档："
                                f"第{a_hi + 1}至{b_lo - 1}天两条都不适用")
    return problems


def check_table(rules: Sequence[Rule]) -> None:
    problems = validate_table(rules)
    if problems:
        raise RuleTableError(problems)


# --- one person --------------------------------------------------------------


@dataclass(frozen=True)
class _Anchor:
    on: date
    ref: str = ""


@dataclass(frozen=True)
class _State:
    """What the conditions read, as of one day; mirrored column by column in `_features_sql`."""

    anchors: dict[tuple[str, str | None], _Anchor]
    last_end: date | None  # the latest isolation end on or before the day
    running: Isolation | None  # an order running on the day (the latest-ending one)
    negatives: tuple[date, ...]  # negative test dates on or before the day


def _latest(items: Iterable[tuple[date, str]], day: date) -> _Anchor | None:
    best = max(((on, ref) for on, ref in items if on <= day), default=None)
    return None if best is None else _Anchor(*best)


def _state(facts: Facts, day: date) -> _State:
    candidates: dict[tuple[str, str | None], list[tuple[date, str]]] = {
        (CONFIRMED, None): [(d.on, "") for d in facts.diagnoses if d.status == "confirmed"],
        (SUSPECTED, None): [(d.on, "") for d in facts.diagnoses if d.status == "suspected"],
        (POSITIVE_TEST, None): [(t.on, "") for t in facts.tests if t.positive],
        (CLOSE_CONTACT, None): [(c.last_exposure, c.case) for c in facts.contacts
                                if c.degree == 1],
        (SECOND_CONTACT, None): [(c.last_exposure, c.case) for c in facts.contacts
                                 if c.degree == 2],
        (ARRIVAL, None): [(a.on, a.area_code) for a in facts.arrivals],
        (FEVER, None): [(f.on, f.checkpoint) for f in facts.fevers],
        (ISOLATION_END, None): [(i.end, "") for i in facts.isolations],
    }
    for level in RISK_LEVELS:
        candidates[(ARRIVAL, level)] = [(a.on, a.area_code) for a in facts.arrivals
                                        if a.level == level]
    anchors = {key: a for key, items in candidates.items()
               if (a := _latest(items, day)) is not None}
    ended = anchors.get((ISOLATION_END, None))
    running = [i for i in facts.isolations if i.start <= day < i.end]
    return _State(
        anchors=anchors,
        last_end=ended.on if ended else None,
        running=max(running, key=lambda i: (i.end, i.start)) if running else None,
        negatives=tuple(t.on for t in facts.tests if not t.positive and t.on <= day))


def _holds(w: When, st: _State, day: date) -> tuple[bool, _Anchor | None]:
    """Whether `w` holds, and the fact it holds on (None for windowless kinds)."""
    if w.fact in (ALWAYS, ISOLATING):
        return (w.fact == ALWAYS or st.running is not None), None
    anchor = st.anchors.get((w.fact, w.level))
    if anchor is None:
        return False, None
    age = (day - anchor.on).days
    lo, hi = w.days
    if age < lo or (hi is not None and age > hi):
        return False, None
    if w.not_released and st.last_end is not None and st.last_end >= anchor.on:
        return False, None
    if w.negatives_below is not None and (
            sum(1 for d in st.negatives if d >= anchor.on) >= w.negatives_below):
        return False, None
    return True, anchor


def _decide(facts: Facts, day: date, rules: Sequence[Rule]
            ) -> tuple[Rule, _State, _Anchor | None]:
    st = _state(facts, day)
    for rule in rules:
        holds, anchor = _holds(rule.when, st, day)
        if holds:
            return rule, st, anchor
    raise RuleTableError([f"{day}：没有任何规则命中，规则表缺少兜底规则"])


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _reason(rule: Rule, st: _State, anchor: _Anchor | None, day: date) -> str:
    run = st.running
    ctx = {
        "on": "", "days": "", "case": "", "area": "", "checkpoint": "卡口", "negatives": 0,
        "level": LEVEL_NAMES.get(rule.when.level or "", ""),
        "iso_end": _md(run.end) if run else "",
        "isolation": f"隔离至{_md(run.end)}" if run else "尚未落实隔离",
    }
    if anchor is not None:
        ctx.update(on=_md(anchor.on), days=(day - anchor.on).days, case=anchor.ref,
                   area=anchor.ref, checkpoint=anchor.ref or "卡口",
                   negatives=sum(1 for d in st.negatives if d >= anchor.on))
    return rule.reason.format_map(ctx)


@dataclass(frozen=True)
class Assessment:
    day: date
    code_colour: str
    push_colour: str | None
    rule: Rule
    reason: str
    # The first day the colours change by themselves if nothing new is recorded
    # (a window runs out, an isolation order ends); None: they stay as they are.
    until: date | None


def _colours(facts: Facts, day: date, rules: Sequence[Rule]) -> tuple[str, str | None]:
    rule = _decide(facts, day, rules)[0]
    return rule.code_colour, rule.push_colour


def _plus(d: date, n: int) -> date:
    try:
        return d + timedelta(days=n)
    except OverflowError:
        return date.max


def _until(known: Facts, day: date, rules: Sequence[Rule]) -> date | None:
    # The colours are piecewise constant: with the facts fixed they can only change
    # where a window opens or closes (fact date + lo, + hi + 1) or an isolation
    # order starts or ends. Try those days in order.
    dates = {d.on for d in known.diagnoses} | {c.last_exposure for c in known.contacts}
    dates |= {a.on for a in known.arrivals} | {t.on for t in known.tests}
    dates |= {f.on for f in known.fevers}
    dates |= {i.start for i in known.isolations} | {i.end for i in known.isolations}
    offsets = {0}
    for rule in rules:
        lo, hi = rule.when.days
        offsets.add(lo)
        if hi is not None:
            offsets.add(hi + 1)
    now = _colours(known, day, rules)
    for candidate in sorted({_plus(d, o) for d in dates for o in offsets}):
        if candidate > day and _colours(known, candidate, rules) != now:
            return candidate
    return None


def assess(facts: Facts, day: date, rules: Sequence[Rule] = DEFAULT_RULES) -> Assessment:
    """Colours on `day` from the facts known on that day; the table is assumed
    checked (`check_table`) when it was saved."""
    known = facts.as_of(day)
    rule, st, anchor = _decide(known, day, rules)
    return Assessment(day=day, code_colour=rule.code_colour, push_colour=rule.push_colour,
                      rule=rule, reason=_reason(rule, st, anchor, day),
                      until=_until(known, day, rules))


@dataclass(frozen=True)
class Change:
    day: date
    code_colour: str
    push_colour: str | None
    rule: str
    reason: str


def timeline(facts: Facts, start: date, end: date,
             rules: Sequence[Rule] = DEFAULT_RULES) -> list[Change]:
    """The first day of each stretch with the same colours and reason, start..end
    inclusive; facts enter on their own dates, as they would have been known."""
    out: list[Change] = []
    day = start
    while day <= end:
        known = facts.as_of(day)
        rule, st, anchor = _decide(known, day, rules)
        change = Change(day, rule.code_colour, rule.push_colour, rule.code,
                        _reason(rule, st, anchor, day))
        if not out or (out[-1].code_colour, out[-1].push_colour, out[-1].reason) != (
                change.code_colour, change.push_colour, change.reason):
            out.append(change)
        day += timedelta(days=1)
    return out


# --- a whole population --------------------------------------------------------

# One row per fact. kind: confirmed | suspected | close_contact | second_contact |
# arrival | isolation | test | fever. on_date: the fact's date (an isolation's
# start); end_date: isolations only; level: arrivals only; ref: the case label,
# area code or checkpoint; positive: tests only (NOT NULL for tests).
FRAME_COLUMNS = ("person_id", "kind", "on_date", "end_date", "level", "ref", "positive")


def facts_frame(people: Mapping[Any, Facts] | Iterable[tuple[Any, Facts]]) -> pa.Table:
    """The long table `assess_frame` reads, from per-person `Facts`."""
    import pyarrow as pa

    items = people.items() if isinstance(people, Mapping) else people
    cols: dict[str, list[Any]] = {c: [] for c in FRAME_COLUMNS}

    def add(pid: Any, kind: str, on: date, end: date | None = None, level: str | None = None,
            ref: str | None = None, positive: bool | None = None) -> None:
        for col, value in zip(FRAME_COLUMNS, (pid, kind, on, end, level, ref, positive),
                              strict=True):
            cols[col].append(value)

    for pid, f in items:
        for d in f.diagnoses:
            add(pid, d.status, d.on)
        for c in f.contacts:
            add(pid, CLOSE_CONTACT if c.degree == 1 else SECOND_CONTACT, c.last_exposure,
                ref=c.case)
        for a in f.arrivals:
            add(pid, ARRIVAL, a.on, level=a.level, ref=a.area_code)
        for i in f.isolations:
            add(pid, "isolation", i.start, end=i.end)
        for t in f.tests:
            add(pid, "test", t.on, positive=t.positive)
        for fv in f.fevers:
            add(pid, FEVER, fv.on, ref=fv.checkpoint)
    return pa.table({
        "person_id": cols["person_id"], "kind": pa.array(cols["kind"], pa.string()),
        "on_date": pa.array(cols["on_date"], pa.date32()),
        "end_date": pa.array(cols["end_date"], pa.date32()),
        "level": pa.array(cols["level"], pa.string()), "ref": pa.array(cols["ref"], pa.string()),
        "positive": pa.array(cols["positive"], pa.bool_())})


def _lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _minus(day: date, n: int) -> date:
    try:
        return day - timedelta(days=n)
    except OverflowError:
        return date.min


def _anchor_column(fact: str, level: str | None) -> str:
    return f"arrival_{level or 'any'}_on" if fact == ARRIVAL else f"{fact}_on"


def _features_sql(source: str, day: date) -> str:
    d = _lit(day)

    def latest(name: str, where: str) -> str:
        return f"max(on_date) filter (where {where} and on_date <= {d}) as {name}"

    cols = [
        latest("confirmed_on", "kind = 'confirmed'"),
        latest("suspected_on", "kind = 'suspected'"),
        latest("positive_test_on", "kind = 'test' and positive"),
        latest("close_contact_on", "kind = 'close_contact'"),
        latest("second_contact_on", "kind = 'second_contact'"),
        latest("arrival_any_on", "kind = 'arrival'"),
        *(latest(f"arrival_{lv}_on", f"kind = 'arrival' and level = '{lv}'")
          for lv in RISK_LEVELS),
        latest("fever_on", "kind = 'fever'"),
        f"max(end_date) filter (where kind = 'isolation' and end_date <= {d}) "
        "as isolation_end_on",
        f"coalesce(bool_or(on_date <= {d} and end_date > {d}) filter (where kind = 'isolation'),"
        " false) as isolating",
        "list_sort(list(on_date) filter (where kind = 'test' and not positive "
        f"and on_date <= {d}), 'DESC') as negatives",
    ]
    return (f"select person_id, {', '.join(cols)} from {source} group by person_id")


def _condition_sql(w: When, day: date) -> str:
    if w.fact == ALWAYS:
        return "true"
    if w.fact == ISOLATING:
        return "isolating"
    col = _anchor_column(w.fact, w.level)
    lo, hi = w.days
    parts = [f"{col} <= {_lit(_minus(day, lo))}"]
    if hi is not None:
        parts.append(f"{col} >= {_lit(_minus(day, hi))}")
    if w.not_released:
        parts.append(f"(isolation_end_on is null or isolation_end_on < {col})")
    if w.negatives_below is not None:
        # negatives is sorted newest first: fewer than n on or after the anchor
        # means the n-th newest (NULL when there are fewer than n) is older.
        parts.append(f"coalesce(negatives[{int(w.negatives_below)}] < {col}, true)")
    return " and ".join(parts)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def frame_sql(rules: Sequence[Rule], day: date, source: str = "facts") -> str:
    """One query over the long facts table `source`: person_id, rule, code_colour,
    push_colour per person, ordered by person_id."""
    arms = " ".join(f"when {_condition_sql(r.when, day)} then {_quote(r.code)}" for r in rules)
    code = " ".join(f"when {_quote(r.code)} then {_quote(r.code_colour)}" for r in rules)
    push = " ".join(f"when {_quote(r.code)} then "
                    f"{'null' if r.push_colour is None else _quote(r.push_colour)}"
                    for r in rules)
    return (f"with features as ({_features_sql(source, day)}), "
            f"decided as (select person_id, case {arms} end as rule from features) "
            f"select person_id, rule, case rule {code} end as code_colour, "
            f"case rule {push} end as push_colour from decided order by person_id")


def assess_frame(facts: Any, day: date, rules: Sequence[Rule] = DEFAULT_RULES, *,
                 con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """Colours for everyone with at least one row in `facts` (a pyarrow Table, a
    pandas DataFrame or anything else DuckDB can scan, with FRAME_COLUMNS).

    People with no facts at all are not in the answer; they get the catch-all."""
    import duckdb

    check_table(rules)
    own = con is None
    con = duckdb.connect(":memory:") if con is None else con
    try:
        con.register("wangge_risk_facts_in", facts)
        con.execute(
            "create or replace temp view wangge_risk_facts as select person_id, "
            "cast(kind as varchar) as kind, cast(on_date as date) as on_date, "
            "cast(end_date as date) as end_date, cast(level as varchar) as level, "
            "cast(positive as boolean) as positive from wangge_risk_facts_in")
        return con.sql(frame_sql(rules, day, "wangge_risk_facts")).to_arrow_table()
    finally:
        con.execute("drop view if exists wangge_risk_facts")
        con.unregister("wangge_risk_facts_in")
        if own:
            con.close()
