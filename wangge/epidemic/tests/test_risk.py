"""The colour rule table: each rule, time, table validation, and the DuckDB path."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from wangge.epidemic import risk
from wangge.epidemic.risk import (
    ALWAYS,
    ARRIVAL,
    BLUE,
    DEFAULT_RULES,
    GREEN,
    HIGH,
    LOW,
    MEDIUM,
    RED,
    YELLOW,
    Arrival,
    Contact,
    Diagnosis,
    Facts,
    Fever,
    Isolation,
    LabResult,
    Rule,
    RuleTableError,
    When,
    assess,
    assess_frame,
    check_table,
    facts_frame,
    timeline,
    validate_table,
)

DAY = date(2022, 3, 20)


def ago(n: int) -> date:
    return DAY - timedelta(days=n)


def neg(n: int) -> LabResult:
    return LabResult(ago(n), positive=False)


@pytest.mark.parametrize(("facts", "rule", "code", "push"), [
    (Facts(diagnoses=(Diagnosis("confirmed", ago(3)),)), "confirmed", RED, RED),
    (Facts(diagnoses=(Diagnosis("suspected", ago(2)),), tests=(neg(1),)), "suspected", RED, RED),
    (Facts(tests=(LabResult(ago(1), positive=True),)), "positive_test", RED, RED),
    (Facts(contacts=(Contact("病例3", ago(5)),)), "close_contact", RED, RED),
    (Facts(arrivals=(Arrival("120101", HIGH, ago(13)),)), "arrival_high", RED, RED),
    (Facts(isolations=(Isolation(ago(20), ago(-1)),)), "isolating", RED, None),
    (Facts(arrivals=(Arrival("120102", MEDIUM, ago(10)),)), "arrival_medium", YELLOW, YELLOW),
    (Facts(contacts=(Contact("病例3", ago(6), degree=2),)), "second_contact", YELLOW, YELLOW),
    (Facts(fevers=(Fever(ago(2), "津塘路卡口"),)), "fever", YELLOW, BLUE),
    (Facts(isolations=(Isolation(ago(16), ago(2)),), tests=(neg(1),)),
     "after_isolation", YELLOW, None),
    (Facts(arrivals=(Arrival("120103", LOW, ago(6)),)), "arrival_low", GREEN, BLUE),
    (Facts(), "none", GREEN, None),
])
def test_each_default_rule(facts: Facts, rule: str, code: str, push: str | None) -> None:
    a = assess(facts, DAY)
    assert (a.rule.code, a.code_colour, a.push_colour) == (rule, code, push)


@pytest.mark.parametrize(("facts", "rule"), [
    # windows end: 14 days for high/medium arrivals and close contacts, 7 for the rest
    (Facts(arrivals=(Arrival("120101", HIGH, ago(14)),)), "none"),
    (Facts(arrivals=(Arrival("120102", MEDIUM, ago(14)),)), "none"),
    (Facts(contacts=(Contact("病例3", ago(7), degree=2),)), "none"),
    (Facts(arrivals=(Arrival("120103", LOW, ago(7)),)), "none"),
    (Facts(fevers=(Fever(ago(3)),)), "none"),
    # cleared by tests
    (Facts(fevers=(Fever(ago(2)),), tests=(neg(2),)), "none"),
    (Facts(diagnoses=(Diagnosis("suspected", ago(4)),), tests=(neg(3), neg(1))), "none"),
    (Facts(isolations=(Isolation(ago(16), ago(2)),), tests=(neg(1), neg(0))), "none"),
    # tests before the release do not count towards it
    (Facts(isolations=(Isolation(ago(16), ago(2)),), tests=(neg(5), neg(3))), "after_isolation"),
    # a released confirmed case moves on to the post-isolation rule
    (Facts(diagnoses=(Diagnosis("confirmed", ago(20)),), isolations=(Isolation(ago(20), ago(1)),)),
     "after_isolation"),
    # an isolation that ended before the exposure does not release the contact
    (Facts(contacts=(Contact("病例3", ago(5)),), isolations=(Isolation(ago(30), ago(10)),)),
     "close_contact"),
    # the first matching rule wins: most severe first
    (Facts(diagnoses=(Diagnosis("confirmed", ago(1)),), arrivals=(Arrival("1", LOW, ago(1)),)),
     "confirmed"),
    # facts dated after the day are not known yet
    (Facts(diagnoses=(Diagnosis("confirmed", ago(-1)),)), "none"),
])
def test_windows_and_qualifiers(facts: Facts, rule: str) -> None:
    assert assess(facts, DAY).rule.code == rule


def test_reasons_name_the_area_the_case_and_the_isolation_end() -> None:
    arrived = assess(Facts(arrivals=(Arrival("120101", HIGH, ago(2)),)), DAY)
    assert arrived.reason == "3月18日自120101高风险地区抵达，未满14天"
    contact = Facts(contacts=(Contact("病例3", ago(5)),))
    assert assess(contact, DAY).reason == "系病例3的密切接触者，末次接触3月15日，尚未落实隔离"
    isolated = replace(contact, isolations=(Isolation(ago(4), ago(-10)),))
    assert "隔离至3月30日" in assess(isolated, DAY).reason


def test_until_is_when_the_colours_change_by_themselves() -> None:
    assert assess(Facts(arrivals=(Arrival("120101", HIGH, ago(2)),)), DAY).until == ago(-12)
    isolated = Facts(contacts=(Contact("病例3", ago(1)),), isolations=(Isolation(ago(1), ago(-13)),))
    assert assess(isolated, DAY).until == ago(-13)  # release: red → yellow
    # Waiting for tests: nothing changes by itself.
    assert assess(Facts(isolations=(Isolation(ago(16), ago(2)),)), DAY).until is None
    assert assess(Facts(), DAY).until is None


def test_timeline_red_yellow_green_after_isolation_and_two_negative_tests() -> None:
    exposed = date(2022, 3, 1)
    facts = Facts(
        contacts=(Contact("病例3", exposed),),
        isolations=(Isolation(exposed, exposed + timedelta(days=14)),),
        tests=tuple(LabResult(exposed + timedelta(days=n), positive=False) for n in (7, 16, 19)))
    changes = timeline(facts, exposed - timedelta(days=1), exposed + timedelta(days=25))
    assert [(c.day.day, c.code_colour, c.push_colour, c.rule) for c in changes] == [
        (28, GREEN, None, "none"),
        (1, RED, RED, "close_contact"),
        (15, YELLOW, None, "after_isolation"),  # released; the test on day 7 does not count
        (17, YELLOW, None, "after_isolation"),  # first negative after release
        (20, GREEN, None, "none"),  # second negative
    ]
    assert changes[2].reason == "3月15日解除隔离，此后阴性核酸0次，满2次转绿码"
    assert changes[3].reason == "3月15日解除隔离，此后阴性核酸1次，满2次转绿码"


# --- the table -----------------------------------------------------------------


def test_default_table_is_valid() -> None:
    assert validate_table(DEFAULT_RULES) == []
    check_table(DEFAULT_RULES)


def _with(*rules: Rule) -> list[Rule]:
    return [*rules, Rule("none", When(ALWAYS), GREEN, None, "无风险记录")]


HIGH_RED = Rule("high", When(ARRIVAL, days=(0, 13), level=HIGH), RED, RED, "{on}")


@pytest.mark.parametrize(("rules", "fragment"), [
    ([], "规则表为空"),
    (DEFAULT_RULES[:-1], "缺少兜底规则"),
    ([*DEFAULT_RULES, Rule("late", When(ARRIVAL, level=LOW), GREEN, BLUE, "")], "在兜底规则之后"),
    ([*DEFAULT_RULES[:-1], DEFAULT_RULES[0], DEFAULT_RULES[-1]], "编码重复"),
    (_with(HIGH_RED, replace(HIGH_RED, code="high2", when=When(ARRIVAL, (2, 5), HIGH))),
     "完全覆盖"),
    (_with(HIGH_RED, Rule("high_later", When(ARRIVAL, (21, 27), HIGH), YELLOW, None, "")),
     "空档：第14至20天"),
    (_with(HIGH_RED, Rule("high_later", When(ARRIVAL, (10, 20), HIGH), YELLOW, None, "")),
     "重叠：第10至13天"),
    (_with(Rule("bad", When(ARRIVAL, (-1, 3), HIGH), RED, RED, "")), "为负"),
    (_with(Rule("bad", When(ARRIVAL, (5, 3), HIGH), RED, RED, "")), "起止颠倒"),
    (_with(Rule("bad", When(ARRIVAL, (0, 3), "extreme"), RED, RED, "")), "风险等级"),
    (_with(Rule("bad", When(ALWAYS, (0, 3)), RED, RED, "")), "不能带天数窗口"),
    (_with(Rule("bad", When(ARRIVAL, (0, 3)), "purple", RED, "")), "健康码颜色"),
    (_with(Rule("bad", When(ARRIVAL, (0, 3)), RED, RED, "{name}")), "未知占位符“{name}”"),
])
def test_validate_table_reports(rules: list[Rule], fragment: str) -> None:
    problems = validate_table(rules)
    assert any(fragment in p for p in problems), problems
    with pytest.raises(RuleTableError) as err:
        check_table(rules)
    assert err.value.problems == problems


def test_a_contiguous_ladder_is_fine() -> None:
    rules = _with(HIGH_RED, Rule("high_later", When(ARRIVAL, (14, 20), HIGH), YELLOW, None, ""))
    assert validate_table(rules) == []
    assert assess(Facts(arrivals=(Arrival("1", HIGH, ago(15)),)), DAY, rules).rule.code == (
        "high_later")


def test_a_table_without_catch_all_fails_loudly_when_nobody_matches() -> None:
    with pytest.raises(RuleTableError):
        assess(Facts(), DAY, DEFAULT_RULES[:-1])
    with pytest.raises(RuleTableError):
        assess_frame(facts_frame({1: Facts()}), DAY, DEFAULT_RULES[:-1])


# --- the frame path ----------------------------------------------------------------


def _random_facts(rng: random.Random) -> Facts:
    def day() -> date:
        return ago(rng.randint(-3, 25))

    def some(make: Callable[[], Any], p: float, most: int = 3) -> tuple[Any, ...]:
        return tuple(make() for _ in range(rng.randint(1, most))) if rng.random() < p else ()

    def isolation() -> Isolation:
        start = day()
        return Isolation(start, start + timedelta(days=rng.randint(0, 21)))

    return Facts(
        diagnoses=some(lambda: Diagnosis(rng.choice(["confirmed", "suspected"]), day()), 0.05, 1),
        contacts=some(lambda: Contact(f"病例{rng.randint(1, 9)}", day(), rng.choice([1, 2])), 0.3),
        arrivals=some(lambda: Arrival(f"1201{rng.randint(1, 16):02d}",
                                      rng.choice([HIGH, MEDIUM, LOW]), day()), 0.3),
        isolations=some(isolation, 0.3, 2),
        tests=some(lambda: LabResult(day(), rng.random() < 0.05), 0.6, 5),
        fevers=some(lambda: Fever(day(), "卡口"), 0.15, 2))


def test_assess_frame_agrees_with_assess_on_a_random_population() -> None:
    rng = random.Random(20220320)
    people = {pid: _random_facts(rng) for pid in range(2000)}
    frame = facts_frame(people)
    seen_rules = set()
    for day in (DAY, DAY + timedelta(days=4)):
        got = {row["person_id"]: (row["rule"], row["code_colour"], row["push_colour"])
               for row in assess_frame(frame, day).to_pylist()}
        for pid, facts in people.items():
            a = assess(facts, day)
            expected = (a.rule.code, a.code_colour, a.push_colour)
            if pid in got:
                assert got[pid] == expected, (pid, facts)
            else:  # no fact rows at all
                assert expected == ("none", GREEN, None)
            seen_rules.add(a.rule.code)
    # the random population exercises every rule, so the comparison means something
    assert seen_rules == {r.code for r in DEFAULT_RULES}


def test_frame_sql_is_built_from_the_table() -> None:
    sql = risk.frame_sql(DEFAULT_RULES, DAY)
    assert sql.count(" then 'arrival_high'") == 1
    assert "arrival_high_on >= DATE '2022-03-07'" in sql
