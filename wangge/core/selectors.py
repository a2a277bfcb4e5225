"""Reads of what core keeps for everyone: the audit log.

The log names who read whose data and why, so it is itself sensitive: only
administrators and district staff (who answer for the district's data) read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from wangge.core.errors import OutOfScope
from wangge.core.masking import role_of
from wangge.core.models import AuditEntry

AUDIT_READERS = frozenset({"admin", "district_staff"})


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # username contains
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None  # local day, inclusive
    until: date | None = None  # local day, inclusive
    reason: str = ""  # contains


def may_read_audit(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "is_active", True) \
        and role_of(user) in AUDIT_READERS


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def audit_entries_for(user: Any, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """Audit entries matching `filters`, newest first. Raises OutOfScope for a
    reader who may not see the log."""
    if not may_read_audit(user):
        raise OutOfScope("audit_not_allowed", "审计日志仅供系统管理员和区级工作人员查看")
    f = filters or AuditFilters()
    qs = AuditEntry.objects.all()
    if f.actor.strip():
        qs = qs.filter(actor_name__icontains=f.actor.strip())
    if f.action.strip():
        qs = qs.filter(action=f.action.strip())
    if f.object_type.strip():
        qs = qs.filter(object_type=f.object_type.strip())
    if f.object_id.strip():
        qs = qs.filter(object_id=f.object_id.strip())
    if f.since is not None:
        qs = qs.filter(at__gte=_local_midnight(f.since))
    if f.until is not None:
        qs = qs.filter(at__lt=_local_midnight(f.until + timedelta(days=1)))
    if f.reason.strip():
        qs = qs.filter(reason__icontains=f.reason.strip())
    return qs.order_by("-seq")

