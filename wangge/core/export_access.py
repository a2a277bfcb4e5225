"""Exports in a person's access report: every file (ExportLog) that held them.

Registered as the "core.exports" source of core.access from CoreConfig.ready.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from wangge.core import access
from wangge.core.exports import who
from wangge.core.models import ExportLog


def export_disclosures(person_id: int, since: datetime | None,
                       until: datetime | None) -> Iterator[access.Access]:
    logs = ExportLog.objects.filter(subjects__person_id=person_id).select_related("user")
    if since is not None:
        logs = logs.filter(at__gte=since)
    if until is not None:
        logs = logs.filter(at__lte=until)
    for log in logs.order_by("-at", "-pk"):
        extra = {"kind": log.kind, "rows": str(log.rows)}
        if log.approval_id:
            extra["approval"] = str(log.approval_id)
        yield access.Access(at=log.at, who=who(log.user), channel="export",
                            fields=tuple(log.fields), purpose=log.purpose,
                            ref=f"export:{log.pk}", extra=extra)


access.register("core.exports", export_disclosures)
