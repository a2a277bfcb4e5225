from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from wangge.cases import rules
from wangge.cases.rules import CENTRE, DEPARTMENT, GRID, REPORTER, SYSTEM, Actor, Facts

TZ = ZoneInfo("Asia/Shanghai")
centre = Actor(frozenset({CENTRE}), "street")
department = Actor(frozenset({DEPARTMENT}))
grid = Actor(frozenset({GRID}))


def refused(step: str, actor: Actor, f: Facts) -> str:
    r = rules.refusal(step, actor, f)
    return r.code if r else ""


def facts(state: str, *provided: str, level: str = "community", **kw: bool) -> Facts:
    return Facts(state, level, frozenset(provided), **kw)


@pytest.mark.parametrize(("step", "actor", "state", "given"), [
    ("register", centre, "reported", ("category",)),
    ("dispatch", centre, "registered", ("department",)),
    ("dispatch", Actor(frozenset({SYSTEM})), "registered", ("department",)),
    ("accept", department, "dispatched", ()),
    ("return", department, "dispatched", ("note",)),
    ("dispatch", centre, "returned", ("department",)),
    ("handle", department, "accepted", ("note",)),
    ("verify", grid, "handled", ()),
    ("rework", grid, "handled", ("note",)),
    ("close", centre, "verified", ()),
    ("rate", Actor(frozenset({REPORTER})), "closed", ("rating",)),
])
def test_the_happy_paths_are_allowed(step: str, actor: Actor, state: str, given: tuple[str, ...]) -> None:
    assert rules.refusal(step, actor, facts(state, *given)) is None


def test_a_step_from_the_wrong_state_names_the_state_and_when_it_is_possible() -> None:
    r = rules.refusal("handle", department, facts("dispatched", "note"))
    assert r is not None and r.code == "illegal_transition"
    assert "已派遣" in r.message and "处置中" in r.message


def test_a_department_cannot_register_or_verify() -> None:
    assert refused("register", department, facts("reported", "category")) == "not_allowed"
    assert refused("verify", department, facts("handled")) == "not_allowed"


def test_a_grid_worker_cannot_handle_what_they_verify() -> None:
    assert refused("handle", grid, facts("accepted", "note")) == "not_allowed"


def test_a_lower_centre_cannot_act_on_an_escalated_case() -> None:
    community = Actor(frozenset({CENTRE}), "community")
    r = rules.refusal("dispatch", community, facts("registered", "department", level="street"))
    assert r is not None and r.code == "wrong_level"
    assert rules.refusal("dispatch", centre, facts("registered", "department", level="community")) is None


@pytest.mark.parametrize(("step", "state", "missing"), [
    ("register", "reported", "category"),
    ("reject", "reported", "note"),
    ("dispatch", "registered", "department"),
    ("handle", "accepted", "note"),
    ("request_postpone", "accepted", "until"),
])
def test_what_a_step_requires_is_asked_for(step: str, state: str, missing: str) -> None:
    actor = Actor(frozenset({CENTRE, DEPARTMENT}), "city")
    r = rules.refusal(step, actor, facts(state))
    assert r is not None and r.code == f"missing_{missing}"


def test_postponement_needs_a_pending_request_and_only_one_at_a_time() -> None:
    assert refused("approve_postpone", centre, facts("accepted")) == "missing_postpone_pending"
    assert rules.refusal("approve_postpone", centre, facts("accepted", postpone_pending=True)) is None
    again = rules.refusal("request_postpone", department,
                          facts("accepted", "until", "note", postpone_pending=True))
    assert again is not None and again.code == "postpone_pending"


def test_escalation_stops_at_the_city() -> None:
    top = Actor(frozenset({CENTRE}), "city")
    assert rules.refusal("escalate", top, facts("registered", "note", level="district")) is None
    assert refused("escalate", top, facts("registered", "note", level="city")) == \
        "missing_higher_level"


def test_a_case_is_rated_once() -> None:
    reporter = Actor(frozenset({REPORTER}))
    assert refused("rate", reporter, facts("closed", "rating", rated=True)) == "already_rated"


def test_closed_rejected_and_cancelled_cases_take_no_workflow_step() -> None:
    everyone = Actor(frozenset({CENTRE, DEPARTMENT, GRID, SYSTEM}), "city")
    for state in rules.FINAL:
        allowed = {t.name for t in rules.available(everyone, facts(state))}
        assert allowed <= {"rate"}


def test_available_offers_only_what_the_actor_could_do() -> None:
    names = {t.name for t in rules.available(department, facts("dispatched"))}
    assert names == {"accept", "return"}


def test_every_transition_target_and_source_is_a_known_state() -> None:
    for t in rules.TRANSITIONS.values():
        assert t.sources <= set(rules.STATE_NAMES)
        assert t.target is None or t.target in rules.STATE_NAMES


@pytest.mark.parametrize(("text", "expected"), [("3d", (3, "days")), ("4h", (4, "hours")),
                                                ("1.5h", (1.5, "hours")), (" 2D ", (2, "days"))])
def test_limits_parse(text: str, expected: tuple[float, str]) -> None:
    assert rules.parse_limit(text) == expected


@pytest.mark.parametrize("text", ["", "0h", "-1d", "3", "1.5d", "3w"])
def test_bad_limits_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="时限"):
        rules.parse_limit(text)


def test_a_limit_in_days_spans_the_national_day_holiday() -> None:
    # Dispatched on Tuesday 30 September 2025; 1 October–8 October is the
    # holiday, 11 October (Saturday) a make-up working day.
    due = rules.due_at(datetime(2025, 9, 30, 10, 0, tzinfo=TZ), "2d")
    assert due == datetime(2025, 10, 10, 17, 30, tzinfo=TZ)
    due = rules.due_at(datetime(2025, 9, 30, 10, 0, tzinfo=TZ), "3d")
    assert due == datetime(2025, 10, 11, 17, 30, tzinfo=TZ)


def test_a_limit_in_hours_skips_the_night_and_the_holiday() -> None:
    due = rules.due_at(datetime(2025, 9, 30, 16, 30, tzinfo=TZ), "2h")
    assert due == datetime(2025, 10, 9, 10, 0, tzinfo=TZ)


def test_the_warning_comes_before_the_limit_with_a_working_hour_at_least() -> None:
    start = datetime(2025, 6, 3, 9, 0, tzinfo=TZ)
    due = rules.due_at(start, "2h")
    warn = rules.warn_at(start, due)
    assert start < warn < due
    assert (due - warn).total_seconds() >= 3600 * 0.99 or (due - warn).total_seconds() == 3600


def test_reminder_rounds_count_working_time_only() -> None:
    since = datetime(2025, 6, 6, 16, 0, tzinfo=TZ)   # a Friday afternoon
    monday = datetime(2025, 6, 9, 9, 30, tzinfo=TZ)
    assert rules.reminder_round(since, monday, 2) == 1   # 1.5 h on Friday + 0.5 h on Monday
    assert rules.reminder_round(since, datetime(2025, 6, 7, 20, 0, tzinfo=TZ), 2) == 0
