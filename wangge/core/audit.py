"""Append to and check the audit chain. Every write and every read of personal
details calls `record`; `wangge audit verify` calls `verify`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

from wangge.core import chain
from wangge.core.models import AuditEntry, AuditHead


def _payload(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "fields": entry.fields,
        "reason": entry.reason,
    }


def record(
    actor: Any,
    action: str,
    object_type: str,
    object_id: object = "",
    *,
    fields: Iterable[str] = (),
    reason: str = "",
) -> AuditEntry:
    """Append one entry. Runs inside the caller's transaction when there is one,
    so a rolled-back write leaves no audit entry behind."""
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_name = getattr(actor, "username", "") or ("system" if actor is None else str(actor))
    # No savepoint: a failed append must fail the caller's whole write anyway,
    # and a savepoint is two more round trips on every audited change.
    with transaction.atomic(savepoint=False):
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": chain.GENESIS}
        )
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor_id=actor_id,
            actor_name=actor_name[:150],
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            fields=sorted(set(fields)),
            reason=reason[:500],
            prev_hash=head.hash,
        )
        # Hash what the database will hand back: JSON round-trips lists as lists,
        # and the time is kept to the microsecond by both engines.
        entry.hash = chain.link_hash(entry.prev_hash, _payload(entry))
        entry.save(force_insert=True)
        head.seq = entry.seq
        head.hash = entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


def _links(batch: int = 5000) -> Iterator[chain.Link]:
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch):
        yield chain.Link(entry.seq, entry.prev_hash, entry.hash, _payload(entry))


def verify() -> chain.Break | None:
    head = AuditHead.objects.filter(id=1).first()
    return chain.first_break(
        _links(),
        head_seq=head.seq if head else None,
        head_hash=head.hash if head else None,
    )


def head() -> dict[str, Any]:
    """The chain head as a checkpoint to keep elsewhere."""
    h = AuditHead.objects.filter(id=1).first()
    return {"seq": h.seq if h else 0, "hash": h.hash if h else chain.GENESIS,
            "at": timezone.now().isoformat()}
