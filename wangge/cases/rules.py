"""The case workflow as one table, and the deadline arithmetic.

Pure module: no Django. Services ask `refusal(...)` before every step and
write nothing when it answers; pages ask `available(...)` to show only the
buttons that would work.

Who may take a step is a pair: a *party* (the centre that registers and
dispatches, the department that handles, the grid worker who verifies, the
reporter who rates, or the system) and, for the centre, a *level*: a street
centre may act on community cases of its street, not the reverse, and an
escalated case waits for the level it was sent to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from wangge.core import workcal

# --- states and levels ---------------------------------------------------------

REPORTED, REGISTERED, REJECTED = "reported", "registered", "rejected"
DISPATCHED, RETURNED, ACCEPTED = "dispatched", "returned", "accepted"
HANDLED, VERIFIED, CLOSED = "handled", "verified", "closed"
SUSPENDED, CANCELLED = "suspended", "cancelled"

FINAL = frozenset({CLOSED, REJECTED, CANCELLED})
OPEN = frozenset({REPORTED, REGISTERED, DISPATCHED, RETURNED, ACCEPTED, HANDLED, VERIFIED,
                  SUSPENDED})
# States in which the department's handling clock runs.
CLOCK_RUNS = frozenset({DISPATCHED, ACCEPTED})

LEVELS = ("community", "street", "district", "city")
LEVEL_NAMES = {"community": "社区", "street": "街道", "district": "区", "city": "市"}

CENTRE, DEPARTMENT, GRID, REPORTER, SYSTEM, SUPERVISOR = (
    "centre", "department", "grid", "reporter", "system", "supervisor")

PARTY_NAMES = {CENTRE: "受理派遣中心（社区、街道、区、市）", DEPARTMENT: "承办部门",
               GRID: "所在网格的网格员或社区", REPORTER: "上报人", SYSTEM: "系统",
               SUPERVISOR: "指挥中心"}


def next_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def level_rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    # None: the state does not change (postponement, supervision, rating) or is
    # computed (resume returns to the state the case was suspended from).
    target: str | None
    parties: frozenset[str]
    requires: tuple[str, ...] = ()


def _t(name: str, label: str, sources: set[str] | frozenset[str], target: str | None,
       parties: set[str], requires: tuple[str, ...] = ()) -> Transition:
    return Transition(name, label, frozenset(sources), target, frozenset(parties), requires)


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    _t("register", "立案", {REPORTED}, REGISTERED, {CENTRE, SYSTEM}, ("category",)),
    _t("reject", "不予立案", {REPORTED}, REJECTED, {CENTRE}, ("note",)),
    _t("merge", "合并为重复案件", {REPORTED, REGISTERED}, CANCELLED, {CENTRE, SYSTEM},
       ("duplicate_of",)),
    _t("dispatch", "派遣", {REGISTERED, RETURNED}, DISPATCHED, {CENTRE, SYSTEM},
       ("department",)),
    _t("return", "退回（非本部门职责）", {DISPATCHED}, RETURNED, {DEPARTMENT}, ("note",)),
    _t("accept", "签收", {DISPATCHED}, ACCEPTED, {DEPARTMENT}),
    _t("handle", "处置反馈", {ACCEPTED}, HANDLED, {DEPARTMENT}, ("note",)),
    _t("verify", "核查通过", {HANDLED}, VERIFIED, {GRID, CENTRE}),
    _t("rework", "核查不通过（返工）", {HANDLED}, ACCEPTED, {GRID, CENTRE}, ("note",)),
    _t("close", "结案", {VERIFIED}, CLOSED, {CENTRE, SYSTEM}),
    _t("request_postpone", "申请延期", {ACCEPTED}, None, {DEPARTMENT}, ("until", "note")),
    _t("approve_postpone", "同意延期", {ACCEPTED}, None, {CENTRE}, ("postpone_pending",)),
    _t("refuse_postpone", "不同意延期", {ACCEPTED}, None, {CENTRE},
       ("postpone_pending", "note")),
    _t("suspend", "挂起", {REGISTERED, DISPATCHED, ACCEPTED, RETURNED}, SUSPENDED, {CENTRE},
       ("note",)),
    _t("resume", "恢复", {SUSPENDED}, None, {CENTRE}),
    _t("escalate", "上报上级", {REPORTED, REGISTERED, RETURNED}, REGISTERED, {CENTRE},
       ("note", "higher_level")),
    _t("cancel", "撤销", {REPORTED, REGISTERED, RETURNED, DISPATCHED, SUSPENDED}, CANCELLED,
       {CENTRE}, ("note",)),
    _t("withdraw", "上报人撤回", {REPORTED}, CANCELLED, {REPORTER}),
    _t("supervise", "督办", OPEN - {REPORTED}, None, {SUPERVISOR, SYSTEM}, ("note",)),
    _t("rate", "评价", {CLOSED}, None, {REPORTER, CENTRE}, ("rating",)),
)}

STATE_NAMES = {
    REPORTED: "待受理", REGISTERED: "已立案", REJECTED: "不予立案", DISPATCHED: "已派遣",
    RETURNED: "已退回", ACCEPTED: "处置中", HANDLED: "已处置待核查", VERIFIED: "已核查",
    CLOSED: "已结案", SUSPENDED: "已挂起", CANCELLED: "已撤销",
}

REQUIREMENT_MESSAGES = {
    "category": "立案前须确定案件类别",
    "note": "请填写说明",
    "department": "请选择处置部门",
    "duplicate_of": "请指明与哪个案件重复",
    "until": "请填写申请延期到的时间",
    "postpone_pending": "该案件没有待审批的延期申请",
    "rating": "请给出 1 至 5 分的评价",
    "higher_level": "已是最高层级（市级），无法再上报",
}


@dataclass(frozen=True)
class Actor:
    """Who is asking, as far as the table cares."""

    parties: frozenset[str]
    level: str | None = None   # the centre's level, when CENTRE is among the parties


@dataclass(frozen=True)
class Facts:
    """What the step would have, as far as the table cares."""

    state: str
    level: str
    provided: frozenset[str] = frozenset()
    postpone_pending: bool = False
    rated: bool = False


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def refusal(name: str, actor: Actor, facts: Facts) -> Refusal | None:
    """Why `actor` may not take step `name` now, or None if they may."""
    t = TRANSITIONS.get(name)
    if t is None:
        return Refusal("unknown_transition", f"没有“{name}”这一操作")
    if facts.state not in t.sources:
        state = STATE_NAMES.get(facts.state, facts.state)
        allowed = "、".join(STATE_NAMES[s] for s in sorted(t.sources, key=list(STATE_NAMES).index))
        return Refusal("illegal_transition",
                       f"案件当前为“{state}”，不能“{t.label}”（仅在{allowed}时可以）")
    who = t.parties & actor.parties
    if not who:
        parties = "或".join(PARTY_NAMES[p] for p in sorted(t.parties))
        return Refusal("not_allowed", f"“{t.label}”须由{parties}办理，您无权操作")
    if who == {CENTRE} and actor.level is not None and level_rank(actor.level) < level_rank(facts.level):
        return Refusal("wrong_level", f"该案件已在{LEVEL_NAMES[facts.level]}级办理，"
                       f"{LEVEL_NAMES[actor.level]}级不能“{t.label}”")
    for need in t.requires:
        if not _satisfied(need, facts):
            return Refusal(f"missing_{need}", REQUIREMENT_MESSAGES[need])
    if name == "request_postpone" and facts.postpone_pending:
        return Refusal("postpone_pending", "已有一份延期申请待审批")
    if name == "rate" and facts.rated:
        return Refusal("already_rated", "该案件已评价过")
    return None


def _satisfied(need: str, facts: Facts) -> bool:
    if need == "postpone_pending":
        return facts.postpone_pending
    if need == "higher_level":
        return next_level(facts.level) is not None
    return need in facts.provided


def available(actor: Actor, facts: Facts) -> list[Transition]:
    """The steps this actor could take now if they give what each requires."""
    out = []
    for t in TRANSITIONS.values():
        inputs = frozenset(r for r in t.requires if r not in ("postpone_pending", "higher_level"))
        if refusal(t.name, actor, Facts(facts.state, facts.level, inputs, facts.postpone_pending,
                                        facts.rated)) is None:
            out.append(t)
    return out


# --- deadlines -------------------------------------------------------------------

_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hd])\s*$", re.IGNORECASE)


def parse_limit(text: str) -> tuple[float, str]:
    """"3d" → (3, "days") working days; "4h" → (4, "hours") working hours."""
    m = _LIMIT.match(text or "")
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"时限“{text}”无效：请写成如 4h（工作小时）或 3d（工作日），且大于 0")
    amount = float(m.group(1))
    unit = "hours" if m.group(2).lower() == "h" else "days"
    if unit == "days" and amount != int(amount):
        raise ValueError(f"时限“{text}”无效：工作日须为整数，或改用工作小时")
    return amount, unit


def due_at(start: datetime, limit: str, hours: workcal.WorkingHours = workcal.DEFAULT_HOURS) -> datetime:
    amount, unit = parse_limit(limit)
    if unit == "hours":
        return workcal.add_working_hours(start, amount, hours)
    return workcal.add_working_days(start, int(amount), hours)


# Warn when a fifth of the working time is left, but never later than one
# working hour before the limit: a 2-hour limit still gets a useful warning.
WARN_SHARE = 0.8


def warn_at(start: datetime, due: datetime,
            hours: workcal.WorkingHours = workcal.DEFAULT_HOURS) -> datetime:
    total = workcal.working_seconds_between(start, due, hours)
    lead = max(total * (1 - WARN_SHARE), min(3600.0, total / 2))
    return workcal.add_working_hours(start, max(total - lead, 0.0) / 3600, hours)


def shift_due(now: datetime, left_seconds: float,
              hours: workcal.WorkingHours = workcal.DEFAULT_HOURS) -> datetime:
    """The limit after a suspension: what was left, counted from now."""
    return workcal.add_working_hours(now, max(left_seconds, 0.0) / 3600, hours)


def reminder_round(since: datetime, now: datetime, every_hours: float,
                   hours: workcal.WorkingHours = workcal.DEFAULT_HOURS) -> int:
    """Which "not yet handled" reminder is due: 0 before the first interval of
    working time has passed, then 1, 2, … The round number makes each
    reminder's key, so a re-run of the same round sends nothing."""
    worked = workcal.working_seconds_between(since, now, hours)
    return int(worked // (every_hours * 3600))
