"""The gateway's part of a person's access report: every call that verified
or returned them, with the department, the items and the stated purpose."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Q

from wangge.core import access
from wangge.exchange.models import CallLog, CallSubject, Endpoint


def gateway_disclosures(person_id: int, since: datetime | None, until: datetime | None) -> Iterator[access.Access]:
    listed = CallSubject.objects.filter(person_id=person_id).values("call_id")
    calls = CallLog.objects.filter(Q(subject_id=person_id) | Q(pk__in=listed))
    if since:
        calls = calls.filter(at__gte=since)
    if until:
        calls = calls.filter(at__lt=until)
    labels = dict(Endpoint.choices)
    for call in calls.select_related("client__department", "catalog").order_by("-at")[:1000]:
        client = call.client
        who = f"{client.department.name}（{client.name}）" if client else call.key_id
        yield access.Access(
            at=call.at, who=who, channel="gateway", fields=tuple(call.items), purpose=call.purpose,
            ref=f"call:{call.pk}",
            extra={"endpoint": str(labels.get(call.endpoint, call.endpoint)),
                   "catalog": call.catalog.name if call.catalog else ""})


def register_sources() -> None:
    access.register("exchange.gateway", gateway_disclosures)
