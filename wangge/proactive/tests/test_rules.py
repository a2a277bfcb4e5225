"""The pure rules and the feed parser: no database."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from wangge.proactive import feeds, rules
from wangge.proactive.tests.helpers import NOT_YET_60, TODAY, TURNING_60

CARD = {"age": 60, "days_ahead": 30, "days_after": 30}


def person(pid: int = 1, *, id_number: str | None = TURNING_60, birth: date | None = None) -> rules.PersonRow:
    return rules.PersonRow(pid, "张某", birth, id_number, "120110001001001")


def test_turning_60_without_a_card_is_explained_with_the_facts() -> None:
    [m] = rules.elderly_card([person()], set(), TODAY, **CARD)
    assert m.reason.startswith("张某（身份证出生日期 1966-12-10）将于 2026-12-10 年满 60 周岁，尚未办理老年人优待证")
    assert m.key == ("person", 1) and m.evidence["days_to_birthday"] == 20


@pytest.mark.parametrize(("row", "holders", "expected"), [
    (person(), {1}, 0),  # holds the card already
    (person(id_number=NOT_YET_60), set(), 0),  # turns 60 next March
    (person(id_number=None, birth=date(1966, 11, 1)), set(), 1),  # turned 60 19 days ago, registered date
    (person(id_number=None, birth=date(1966, 9, 1)), set(), 0),  # past the 30 days after
    (person(id_number=None, birth=None), set(), 0),  # nothing to tell the age by
    (person(id_number="120110196612101239", birth=None), set(), 0),  # bad check digit, no date
])
def test_elderly_card_window_and_card(row: rules.PersonRow, holders: set[int], expected: int) -> None:
    assert len(rules.elderly_card([row], holders, TODAY, **CARD)) == expected


def test_a_valid_id_number_outranks_the_registered_birth_date() -> None:
    assert rules.birth_of(date(1970, 1, 1), TURNING_60) == (date(1966, 12, 10), "身份证")
    assert rules.birth_of(date(1970, 1, 1), "bad") == (date(1970, 1, 1), "登记")
    [m] = rules.elderly_card([person(id_number=None, birth=date(1966, 11, 1))], set(), TODAY, **CARD)
    assert "（登记出生日期 1966-11-01）已于 2026-11-01 年满 60 周岁" in m.reason


def test_born_on_29_february_turns_60_on_1_march() -> None:
    assert rules.nth_birthday(date(1964, 2, 29), 61) == date(2025, 3, 1)
    lo, hi = rules.birth_window(date(2025, 3, 1), age=61, days_ahead=0, days_after=0)
    assert lo <= date(1964, 2, 29) <= hi


def tenancy(tid: int, end: date | None, *, house: int = 7, use: str = "rented", tenant: str = "李四"
            ) -> rules.TenancyRow:
    return rules.TenancyRow(tid, house, tenant, date(2025, 1, 1), end, "120110001001001", use, "华明家园1号楼1单元101室")


TEN = {"days_ahead": 7, "days_after": 30}


def test_a_lease_ending_in_five_days_asks_to_re_register_the_tenant() -> None:
    [m] = rules.tenancy_ending([tenancy(1, date(2026, 11, 25))], TODAY, **TEN)
    assert m.key == ("house", 7)
    assert m.reason == ("华明家园1号楼1单元101室的租约将于 2026-11-25 到期（还有 5 天），承租人：李四。"
                        "请核实承租人是否续租或更换，并重新登记。")


@pytest.mark.parametrize(("rows", "expected"), [
    ([tenancy(1, date(2026, 11, 10))], 1),  # ended ten days ago, nothing new registered
    ([tenancy(1, date(2026, 11, 25)), tenancy(2, date(2027, 11, 25), tenant="王五")], 0),  # renewed
    ([tenancy(1, date(2026, 11, 25)), tenancy(2, None, tenant="王五")], 0),  # open-ended lease follows
    ([tenancy(1, date(2026, 11, 25), use="vacant")], 0),  # the house is now recorded empty
    ([tenancy(1, date(2026, 10, 1))], 0),  # ended long ago
])
def test_tenancy_renewal_and_window(rows: list[rules.TenancyRow], expected: int) -> None:
    assert len(rules.tenancy_ending(rows, TODAY, **TEN)) == expected


def member(tag: str, *, hh: int = 3, pid: int = 9, name: str = "赵六") -> rules.TaggedMember:
    return rules.TaggedMember(hh, "丽苑小区1号楼1单元101室（户号 H1）", "120110002001001", pid, name, tag)


def test_special_group_never_visited_is_overdue_and_the_shortest_policy_applies() -> None:
    policies = {"elderly_alone": 30, "dibao": 90}
    [m] = rules.visit_overdue([member("elderly_alone"), member("dibao")], policies, {}, TODAY)
    assert m.key == ("household", 3) and m.evidence["every_days"] == 30
    # 低保 is a sensitive group: a task names it only as 特殊人群.
    assert "赵六（特殊人群、独居老人）" in m.reason and "每 30 天至少走访一次；尚无走访记录" in m.reason
    assert rules.visit_overdue([member("elderly_alone")], policies, {3: date(2026, 11, 1)}, TODAY) == []
    [late] = rules.visit_overdue([member("elderly_alone")], policies, {3: date(2026, 10, 1)}, TODAY)
    assert "上次走访为 2026-10-01，已 50 天未走访" in late.reason
    assert rules.visit_overdue([member("veteran")], policies, {}, TODAY) == []  # no policy for the tag


def test_somebody_newly_registered_in_a_vacant_house() -> None:
    house = rules.VacantHouse(5, "120110001001001", "华明家园2号楼1单元101室")
    new = rules.Resident(5, 1, "孙八", date(2026, 10, 1))
    old = rules.Resident(5, 2, "周九", date(2025, 1, 1))
    [m] = rules.vacant_newcomers([house], [new, old], TODAY, days=90)
    assert m.reason.startswith("华明家园2号楼1单元101室登记为空置房屋，但近 90 天有人员新登记居住于此：孙八（2026-10-01 首次登记）")
    assert rules.vacant_newcomers([house], [old], TODAY, days=90) == []


# --- water ------------------------------------------------------------------------


def series(rows: list[tuple[int, str, float | None, float | None]]) -> rules.WaterPeriods:
    nan = math.nan
    return rules.derive(rules.WaterSeries.build(
        [r[0] for r in rows], [rules.day_number(date.fromisoformat(r[1])) for r in rows],
        [nan if r[2] is None else r[2] for r in rows], [nan if r[3] is None else r[3] for r in rows]))


def test_use_is_derived_from_cumulative_readings_and_a_reset_is_no_use() -> None:
    p = series([(1, "2026-01-31", 100, None), (1, "2026-02-28", 110, None), (1, "2026-03-31", 5, None),
                (1, "2026-04-30", 9, None), (2, "2026-01-31", None, 3)])
    assert np.isnan(p.use[0]) and p.use[1] == 10 and np.isnan(p.use[2]) and p.use[3] == 4
    assert p.reset.tolist() == [False, False, True, False, False]
    assert p.daily[1] == pytest.approx(10 / 28) and np.isnan(p.daily[4])  # first reading: period unknown


def test_zero_use_covering_n_days_is_flagged_but_not_a_shorter_run() -> None:
    since = rules.day_number(date(2026, 1, 1))
    p = series([(1, "2026-01-31", None, 5), (1, "2026-02-28", None, 0), (1, "2026-03-31", None, 0),
                (2, "2026-02-28", None, 5), (2, "2026-03-31", None, 0),
                (3, "2026-02-28", None, 0), (3, "2026-03-31", None, 0)])
    runs = rules.zero_runs(p, n_days=30, since_day=since)
    # 1: two zero months, 31 Jan → 31 Mar. 2: one zero month of 31 days.
    # 3: its first reading is zero too, but over a period nobody knows: only
    # the 31 days from 28 Feb count, never more.
    assert [(r.account, rules.day_date(r.start_day), r.periods) for r in runs] == [
        (1, date(2026, 1, 31), 2), (2, date(2026, 2, 28), 1), (3, date(2026, 2, 28), 1)]
    assert [r.account for r in rules.zero_runs(p, n_days=32, since_day=since)] == [1]
    assert rules.zero_runs(p, n_days=30, since_day=rules.day_number(date(2026, 6, 1))) == []  # stale


def test_a_spike_against_the_accounts_own_history() -> None:
    history = [(1, f"2026-{m:02d}-28", None, 3.0 + (m % 2) * 0.2) for m in range(1, 10)]
    p = series([*history, (1, "2026-10-28", None, 12.0)])
    since = rules.day_number(date(2026, 8, 1))
    [s] = rules.spikes(p, sigma=3, min_history=6, min_std=0.01, since_day=since)
    assert s.history == 8 and s.z > 3 and s.latest_daily == pytest.approx(12 / 30)
    assert rules.spikes(p, sigma=3, min_history=9, min_std=0.01, since_day=since) == []
    flat = series([*[(2, f"2026-{m:02d}-28", None, 3.0) for m in range(1, 10)], (2, "2026-10-28", None, 3.3)])
    # The same use every month: the std floor keeps a 10 % change from being a 10σ event.
    assert rules.spikes(flat, sigma=3, min_history=6, min_std=0.05, since_day=since) == []
    zero = series([*history, (1, "2026-10-28", None, 0.0)])
    assert rules.spikes(zero, sigma=3, min_history=6, min_std=0.01, since_day=since) == []


def test_rule_parameters_are_checked_with_a_message_that_says_what_is_wrong() -> None:
    card = rules.CATALOGUE["elderly_card"]
    assert rules.effective_params(card, {"age": 65})["age"] == 65
    assert rules.effective_params(card, {})["days_ahead"] == 30
    with pytest.raises(rules.ParamError, match=r"参数 age（年龄）应为 1 到 120 之间的整数，现为 'abc'"):
        rules.effective_params(card, {"age": "abc"})
    with pytest.raises(rules.ParamError, match="没有参数 ag；可用参数：age"):
        rules.effective_params(card, {"ag": 60})


# --- water files ---------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    ["账号", "地址", "日期", "读数"], ["户号", "用水地址", "抄表日期", "表底数（吨）"],
    ["Account", "Address", "Reading_Date", "Use"], ["用户号", "装表地址", "抄表日期", "用水量(m³)"]])
def test_header_spellings(header: list[str]) -> None:
    mapping = feeds.map_columns(header)
    assert set(mapping) >= {"account", "address", "date"} and ({"reading", "use"} & set(mapping))


def test_missing_columns_are_named_with_the_spellings_accepted() -> None:
    with pytest.raises(feeds.FeedError, match="缺少必需的列：抄表日期（可写作 抄表日期、日期"):
        feeds.map_columns(["户号", "地址", "读数"])


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-31", date(2026, 1, 31)), ("2026/1/31", date(2026, 1, 31)), ("20260131", date(2026, 1, 31)),
    ("２０２６年１月３１日", date(2026, 1, 31)), ("2026-01-31 00:00:00", date(2026, 1, 31)),
    ("2026.1.31", date(2026, 1, 31))])
def test_date_spellings(text: str, expected: date) -> None:
    assert feeds.parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("2026-02-30", "不是有效日期"), ("31/01/2026", "无法识别"), ("46053", "Excel的日期序号"),
    ("2027-01-01", "晚于今天"), ("", "为空")])
def test_bad_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        feeds.parse_date(text, today=TODAY)
