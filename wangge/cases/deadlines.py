"""Handling and verification limits, and the periodic scan that warns before
them, marks what is overdue, and keeps reminding until someone acts.

Limits count working time in the platform's zone (Asia/Shanghai): a case
dispatched on the eve of a holiday is due after it. Every reminder carries a
key made of the case, the kind and the limit or round it concerns, and the
inbox keeps one notification per key and recipient: a scan that runs twice,
or in a restarted worker, sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from wangge.cases import conf, notices, rules
from wangge.cases.models import Case, CaseEvent, State
from wangge.core import workcal


def _local(at: datetime) -> datetime:
    return timezone.localtime(at)


def start_handling(case: Case, at: datetime, *, keep_overdue: bool = False) -> None:
    hours = conf.working_hours()
    start = _local(at)
    limit = case.category.limit_for(case.urgency) if case.category else "5d"
    case.handle_due = rules.due_at(start, limit, hours)
    case.handle_warn_at = rules.warn_at(start, case.handle_due, hours)
    case.provisional_due = not (workcal.known_year(start.year)
                                and workcal.known_year(case.handle_due.year))
    if not keep_overdue:
        case.overdue, case.overdue_at = False, None


def stop_handling(case: Case) -> None:
    case.handle_due = case.handle_warn_at = None


def start_verifying(case: Case, at: datetime) -> None:
    hours = conf.working_hours()
    start = _local(at)
    limit = (case.category.verify_limit if case.category else "") or "1d"
    case.verify_due = rules.due_at(start, limit, hours)
    case.verify_warn_at = rules.warn_at(start, case.verify_due, hours)
    case.verify_overdue = False


def extend_handling(case: Case, until: datetime) -> None:
    """An approved postponement: the new limit, warned about as any other."""
    start = case.accepted_at or case.dispatched_at or until
    case.handle_due = until
    case.handle_warn_at = rules.warn_at(_local(start), _local(until), conf.working_hours())
    if case.overdue and (case.overdue_at is None or until > case.overdue_at):
        case.overdue, case.overdue_at = False, None


def pause(case: Case, at: datetime) -> None:
    if case.handle_due is not None:
        case.suspended_left = workcal.working_seconds_between(
            _local(at), _local(case.handle_due), conf.working_hours())
    case.handle_due = case.handle_warn_at = None


def unpause(case: Case, at: datetime) -> None:
    if case.suspended_left is None:
        return
    hours = conf.working_hours()
    start = _local(at)
    case.handle_due = rules.shift_due(start, case.suspended_left, hours)
    case.handle_warn_at = rules.warn_at(start, case.handle_due, hours)
    case.suspended_left = None


def remaining(case: Case, now: datetime | None = None) -> float | None:
    """Working seconds left before the handling limit (negative when past it)."""
    if case.handle_due is None:
        return None
    return workcal.working_seconds_between(_local(now or timezone.now()), _local(case.handle_due),
                                           conf.working_hours())


# --- the periodic scan ---------------------------------------------------------


def scan(now: datetime | None = None) -> dict[str, int]:
    """One pass over the open cases; safe to run as often and as many times as
    anyone likes. Returns how many of each kind it acted on."""
    now = now or timezone.now()
    return {
        "warned": _warn_handling(now),
        "overdue": _mark_overdue(now),
        "nudged": _nudge(now),
        "verify_warned": _warn_verifying(now),
        "verify_overdue": _mark_verify_overdue(now),
    }


def _clock_running() -> Any:
    return Case.objects.filter(state__in=rules.CLOCK_RUNS, handle_due__isnull=False)


def _warn_handling(now: datetime) -> int:
    n = 0
    for case in _clock_running().filter(handle_warn_at__lte=now, handle_due__gt=now).select_related(
            "department", "category"):
        n += notices.due_soon(case) > 0
    return n


def _mark_overdue(now: datetime) -> int:
    n = 0
    for pk in _clock_running().filter(handle_due__lte=now, overdue=False).values_list("pk", flat=True):
        with transaction.atomic():
            # The conditional update is the claim: of two scans only one wins.
            case = Case.objects.select_for_update().filter(pk=pk, overdue=False).first()
            if case is None or case.handle_due is None:
                continue
            case.overdue, case.overdue_at, case.supervised = True, case.handle_due, True
            case.save(update_fields=["overdue", "overdue_at", "supervised"])
            CaseEvent.objects.create(case=case, at=now, actor_name="系统", action="overdue",
                                     from_state=case.state, to_state=case.state,
                                     note="已超过处置时限，自动督办并报上级",
                                     data={"due": case.handle_due.isoformat()})
            notices.overdue(case)
            n += 1
    return n


def _nudge(now: datetime) -> int:
    every = float(conf.get("WANGGE_CASE_REMIND_EVERY_HOURS"))
    hours = conf.working_hours()
    n = 0
    # Clock time is at least working time, so this bound loses no case.
    cutoff = now - timedelta(hours=every)
    for case in _clock_running().filter(dispatched_at__lte=cutoff).select_related("department"):
        since = case.accepted_at if case.state == State.ACCEPTED and case.accepted_at else case.dispatched_at
        if since is None:
            continue
        turn = rules.reminder_round(_local(since), _local(now), every, hours)
        if turn >= 1:
            n += notices.not_yet_handled(case, since, turn) > 0
    return n


def _warn_verifying(now: datetime) -> int:
    n = 0
    for case in Case.objects.filter(state=State.HANDLED, verify_warn_at__lte=now,
                                    verify_due__gt=now):
        n += notices.verify_soon(case) > 0
    return n


def _mark_verify_overdue(now: datetime) -> int:
    n = 0
    for pk in Case.objects.filter(state=State.HANDLED, verify_due__lte=now,
                                  verify_overdue=False).values_list("pk", flat=True):
        with transaction.atomic():
            case = Case.objects.select_for_update().filter(pk=pk, verify_overdue=False).first()
            if case is None:
                continue
            case.verify_overdue = True
            case.save(update_fields=["verify_overdue"])
            CaseEvent.objects.create(case=case, at=now, actor_name="系统", action="verify_overdue",
                                     from_state=case.state, to_state=case.state,
                                     note="网格员超过核查时限未核查")
            notices.verify_overdue(case)
            n += 1
    return n
