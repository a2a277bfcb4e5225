"""The audit log as a source of the access report (core.access): every audited
read, reveal or other action on a person, as one Access each.

Registered from CoreConfig.ready(); the exchange and exports register their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from wangge.core import access
from wangge.core.models import AuditEntry

# How each channel reads on the report page; an unknown channel shows as is.
CHANNEL_LABELS = {
    "read": _("查看详情"),
    "reveal": _("查看完整信息"),
    "read_access_report": _("查阅访问记录"),
    "export": _("导出"),
    "gateway": _("数据共享接口"),
}


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def audit_accesses(person_id: int, since: datetime | None = None,
                   until: datetime | None = None) -> Iterator[access.Access]:
    entries = AuditEntry.objects.filter(object_type="registry.Person", object_id=str(person_id))
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lte=until)
    for e in entries.order_by("-seq").iterator(chunk_size=500):
        yield access.Access(at=e.at, who=e.actor_name, channel=e.action, fields=tuple(e.fields or ()),
                            purpose=e.reason, ref=f"audit:{e.seq}")


def register() -> None:
    access.register("core.audit", audit_accesses)
