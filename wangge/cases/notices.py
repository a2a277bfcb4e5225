"""Who hears about a case, and what they are told. Each notice has a key that
names exactly the occasion (the case, the kind, and the limit, round or step
count it concerns), so sending it again is a no-op."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from wangge.cases import rules
from wangge.cases.models import Case
from wangge.core.notify import notify

CENTRE_ROLES = {
    "community": ("community_staff", "street_staff", "district_staff", "command_centre"),
    "street": ("street_staff", "district_staff", "command_centre"),
    "district": ("district_staff", "command_centre"),
    "city": ("command_centre",),
}
URGENT_CHANNELS = ("sms",)


def _stamp(at: datetime | None) -> str:
    return f"{at.timestamp():.0f}" if at else "-"


def _prefixes(code: str) -> list[str]:
    return [code[:n] for n in (2, 4, 6, 9, 12, 15) if len(code) >= n]


def _active() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True)


def department_staff(case: Case) -> QuerySet[Any]:
    if not case.department_id:
        return _active().none()
    return _active().filter(department_id=case.department_id,
                            role__in=("department_staff", "police"))


def centre_staff(case: Case, level: str | None = None) -> QuerySet[Any]:
    """The staff of the level the case waits for, in whose area it lies."""
    roles = CENTRE_ROLES[level or case.level]
    if not case.area_code:
        return _active().filter(role="command_centre")
    return _active().filter(role__in=roles, area_code__in=_prefixes(case.area_code))


def supervisors(case: Case) -> QuerySet[Any]:
    return _active().filter(role__in=("command_centre", "district_staff"),
                            area_code__in=_prefixes(case.area_code or "--"))


def grid_workers(case: Case) -> QuerySet[Any]:
    if not case.grid_code:
        return _active().none()
    prefixes = _prefixes(case.grid_code)
    return _active().filter(role="grid_worker").filter(
        Q(area_code__in=prefixes) | Q(extra_areas__area_code__in=prefixes)).distinct()


def _send(users: Iterable[Any], case: Case, kind: str, occasion: str, title: str, body: str = "",
          urgent: bool = False, new_case: bool = False) -> int:
    return notify(users, key=f"case:{case.pk}:{occasion}", kind=kind,
                  title=f"【{case.code}】{title}", body=body or case.description[:120],
                  link=f"/cases/{case.pk}/", channels=URGENT_CHANNELS if urgent else (),
                  first_time=new_case)


def _due(case: Case) -> str:
    if case.handle_due is None:
        return ""
    due = timezone.localtime(case.handle_due)
    return f"处置时限 {due:%m-%d %H:%M}" + ("（节假日安排未公布，时限为暂定）" if case.provisional_due else "")


def dispatched(case: Case, *, new_case: bool = False) -> int:
    """`new_case`: the case was filed in this transaction (intake)."""
    urgent = case.urgency != "normal"
    return _send(department_staff(case), case, "case_dispatched",
                 f"dispatch:{_stamp(case.dispatched_at)}",
                 f"新派遣案件：{case.category.name if case.category else '待定类别'}，{_due(case)}",
                 urgent=urgent, new_case=new_case)


def waiting_for_centre(case: Case, *, new_case: bool = False) -> int:
    why = {
        "reported": "待受理" + ("（位置不在网格内）" if case.outside else "")
                    + ("（疑似重复）" if case.possible_duplicate_id else "")
                    + ("（类别待确认）" if not case.category_id else ""),
        "registered": f"已上报至{rules.LEVEL_NAMES[case.level]}级，待派遣",
        "returned": "被部门退回，待重新派遣",
    }.get(case.state, "待处理")
    return _send(centre_staff(case), case, "case_waiting",
                 f"centre:{case.state}:{case.level}:{case.return_count}", why, new_case=new_case)


def verify_needed(case: Case) -> int:
    return _send(grid_workers(case), case, "case_verify", f"verify:{_stamp(case.handled_at)}",
                 "部门已处置，请到现场核查")


def rework(case: Case) -> int:
    return _send(department_staff(case), case, "case_rework", f"rework:{case.rework_count}",
                 f"核查未通过，请返工。{_due(case)}", urgent=True)


def postpone_requested(case: Case) -> int:
    return _send(centre_staff(case), case, "case_postpone", f"postpone:{_stamp(case.postpone_until)}",
                 "部门申请延期，待审批", case.postpone_reason)


def supervised(case: Case, note: str, at: datetime) -> int:
    return _send(department_staff(case), case, "case_supervised", f"supervise:{_stamp(at)}",
                 "督办：请尽快处置", note, urgent=True)


def due_soon(case: Case) -> int:
    return _send(department_staff(case), case, "case_due_soon", f"warn:{_stamp(case.handle_due)}",
                 f"即将超期，{_due(case)}")


def overdue(case: Case) -> int:
    n = _send(department_staff(case), case, "case_overdue", f"overdue:{_stamp(case.handle_due)}",
              f"已超期，{_due(case)}", urgent=True)
    return n + _send(supervisors(case), case, "case_overdue",
                     f"overdue:{_stamp(case.handle_due)}",
                     f"案件超期未处置（{case.department or '未派遣'}），已自动督办")


def not_yet_handled(case: Case, since: datetime, turn: int) -> int:
    what = "尚未签收" if case.state == "dispatched" else "尚未处置完毕"
    return _send(department_staff(case), case, "case_reminder",
                 f"nudge:{case.state}:{_stamp(since)}:{turn}", f"催办（第 {turn} 次）：案件{what}。{_due(case)}")


def verify_soon(case: Case) -> int:
    due = timezone.localtime(case.verify_due) if case.verify_due else None
    return _send(grid_workers(case), case, "case_verify_soon", f"verify_warn:{_stamp(case.verify_due)}",
                 f"请在 {due:%m-%d %H:%M} 前完成现场核查" if due else "请尽快完成现场核查")


def verify_overdue(case: Case) -> int:
    n = _send(grid_workers(case), case, "case_verify_overdue", f"verify_overdue:{_stamp(case.verify_due)}",
              "核查已超期，请立即到现场核查")
    return n + _send(centre_staff(case, "community"), case, "case_verify_overdue",
                     f"verify_overdue:{_stamp(case.verify_due)}", "网格员核查超期")
