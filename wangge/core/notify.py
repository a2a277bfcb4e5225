"""Notifications: every user's in-app inbox, and optional external channels.

    notify(users, key="case:12:overdue:1767225600", kind="case_overdue",
           title="【A123】已超期", link="/cases/12/", channels=("sms",))

A user gets each `key` once: calling notify() again with the same key, from a
re-run job or a second worker, adds nothing and sends nothing. External
channels are named in WANGGE_NOTIFY_CHANNELS (name → dotted path of a Channel
class). Each new notification gets one NotificationDelivery row per channel,
sent after the caller's transaction commits; the `notify.deliver_pending` tick
sends whatever a crash or a failing gateway left behind. A delivery marked sent
is never sent again. The one gap: a process that dies after the gateway accepted
a message but before the row says so sends it again after the lease runs out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from wangge.core import identity
from wangge.core.errors import NotFound
from wangge.core.models import DeliveryStatus, Notification, NotificationDelivery
from wangge.core.ticks import periodic

logger = logging.getLogger("wangge.notify")

KEY_MAX = 200
DELIVER_BATCH = 500


class Channel(Protocol):
    """An external way to reach a person. `send` returns once the message is
    handed over, raises DeliverySkipped when this person cannot be reached this
    way (no phone, say), and raises anything else to be retried later."""

    name: str

    def send(self, recipient: Any, notification: Notification) -> None: ...


class DeliverySkipped(Exception):
    """The recipient cannot be reached on this channel; the reason is recorded."""


def _text(notification: Notification) -> str:
    return f"{notification.title}：{notification.body}" if notification.body else notification.title


class LoggingSms:
    """Writes the SMS to the log instead of a gateway: the default, and the demo's."""

    name = "sms"

    def send(self, recipient: Any, notification: Notification) -> None:
        phone = str(getattr(recipient, "phone", "") or "").strip()
        if not phone:
            raise DeliverySkipped("收件人未登记手机号")
        logger.info("sms to %s: %s", identity.mask_phone(phone), _text(notification)[:140])


class LoggingEmail:
    """Writes the email to the log instead of sending it."""

    name = "email"

    def send(self, recipient: Any, notification: Notification) -> None:
        address = str(getattr(recipient, "email", "") or "").strip()
        if not address:
            raise DeliverySkipped("收件人未登记邮箱")
        logger.info("email to user %s: %s", recipient.pk, notification.title)


class EmailChannel:
    """Sends through django.core.mail, so EMAIL_BACKEND / EMAIL_HOST decide how."""

    name = "email"

    def send(self, recipient: Any, notification: Notification) -> None:
        address = str(getattr(recipient, "email", "") or "").strip()
        if not address:
            raise DeliverySkipped("收件人未登记邮箱")
        body = notification.body
        if notification.link:
            site = str(getattr(settings, "WANGGE_SITE_URL", "")).rstrip("/")
            body = f"{body}\n\n{site}{notification.link}".strip()
        send_mail(notification.title, body or notification.title, None, [address])


def channel(name: str) -> Channel | None:
    """The configured backend for a channel name, or None if there is none."""
    path = getattr(settings, "WANGGE_NOTIFY_CHANNELS", {}).get(name)
    return import_string(path)() if path else None


# ---- writes -------------------------------------------------------------------

def notify(
    recipients: Iterable[Any],
    *,
    key: str,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    channels: Sequence[str] = (),
    first_time: bool = False,
) -> int:
    """Put a notification in each recipient's inbox unless they already have
    `key`; returns how many were new. Only new ones go out on `channels`.

    `first_time`: the caller knows nobody can have `key` yet (it names a row
    written in the same transaction), so the checks for an earlier copy are
    skipped: one round trip instead of three, on the busiest path (intake)."""
    if not key or len(key) > KEY_MAX:
        raise ValueError(f"notification key must be 1–{KEY_MAX} characters: {key!r}")
    user_ids = sorted({u.pk for u in recipients if u is not None and u.pk is not None})
    if not user_ids:
        return 0
    channels = tuple(dict.fromkeys(channels))
    token = uuid.uuid4()
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        if first_time and connection.features.can_return_rows_from_bulk_insert:
            created = Notification.objects.bulk_create(
                [Notification(recipient_id=uid, key=key, kind=kind[:40], title=title[:200],
                              body=body, link=link[:500], created_at=now, batch=token)
                 for uid in user_ids])
            new_ids = [n.pk for n in created]
            _queue_deliveries(new_ids, channels)
            return len(new_ids)
        taken = _already_notified(user_ids, key)
        rows = [Notification(recipient_id=uid, key=key, kind=kind[:40], title=title[:200],
                             body=body, link=link[:500], created_at=now, batch=token)
                for uid in user_ids if uid not in taken]
        if not rows:
            return 0
        # A concurrent notify() with the same key may insert between the read
        # above and here; the unique constraint turns its rows into no-ops, and
        # our token then finds exactly the rows this call inserted.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        new_ids = list(Notification.objects.filter(recipient_id__in=user_ids, key=key, batch=token)
                       .values_list("pk", flat=True))
        _queue_deliveries(new_ids, channels)
    return len(new_ids)


def _queue_deliveries(new_ids: list[int], channels: Sequence[str]) -> None:
    if new_ids and channels:
        NotificationDelivery.objects.bulk_create(
            [NotificationDelivery(notification_id=nid, channel=ch)
             for nid in new_ids for ch in channels],
            ignore_conflicts=True)
        transaction.on_commit(lambda: _deliver_after_commit(new_ids))


def _already_notified(user_ids: list[int], key: str) -> set[int]:
    return set(Notification.objects.filter(recipient_id__in=user_ids, key=key)
               .values_list("recipient_id", flat=True))


def _deliver_after_commit(notification_ids: list[int]) -> None:
    # Runs in the caller's process right after its commit; anything that goes
    # wrong here is left pending for the deliver_pending tick.
    try:
        deliver_pending(notification_ids=notification_ids)
    except Exception:
        logger.exception("delivering notifications after commit failed; the tick will retry")


def mark_read(*, by: Any, ids: Iterable[int] | None = None) -> int:
    """Mark `by`'s own notifications read (all of them when ids is None);
    others' ids are ignored. Returns how many changed."""
    qs = Notification.objects.filter(recipient=by, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


@periodic("notify.deliver_pending", every=60)
def deliver_pending(now: datetime | None = None, *,
                    notification_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Send every delivery that is pending (or whose sender died mid-way).
    Returns counts by outcome: sent, skipped, retry, failed."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.WANGGE_NOTIFY_LEASE_SECONDS)
    ready = Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING,
                                                 claimed_at__lt=now - lease)
    qs = NotificationDelivery.objects.filter(ready)
    if notification_ids is not None:
        qs = qs.filter(notification_id__in=list(notification_ids))
    counts = {"sent": 0, "skipped": 0, "retry": 0, "failed": 0}
    for pk in list(qs.order_by("pk").values_list("pk", flat=True)[:DELIVER_BATCH]):
        outcome = _deliver_one(pk, ready, now)
        if outcome:
            counts[outcome] += 1
    return counts


def _deliver_one(pk: int, ready: Q, now: datetime) -> str | None:
    # The claim: whoever moves the row to SENDING sends it; anyone else updates 0 rows.
    claimed = NotificationDelivery.objects.filter(ready, pk=pk).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = (NotificationDelivery.objects.select_related("notification__recipient")
                .get(pk=pk))
    backend = channel(delivery.channel)
    status, detail, outcome = DeliveryStatus.SENT, "", "sent"
    try:
        if backend is None:
            raise DeliverySkipped(f"未配置发送渠道：{delivery.channel}")
        backend.send(delivery.notification.recipient, delivery.notification)
    except DeliverySkipped as exc:
        status, detail, outcome = DeliveryStatus.SKIPPED, str(exc), "skipped"
    except Exception as exc:
        logger.warning("%s delivery %s failed (attempt %d): %s",
                       delivery.channel, pk, delivery.attempts, exc)
        detail = f"{type(exc).__name__}: {exc}"
        if delivery.attempts >= settings.WANGGE_NOTIFY_MAX_ATTEMPTS:
            status, outcome = DeliveryStatus.FAILED, "failed"
        else:
            status, outcome = DeliveryStatus.PENDING, "retry"
    NotificationDelivery.objects.filter(pk=pk).update(
        status=status, detail=detail[:500],
        done_at=None if status == DeliveryStatus.PENDING else timezone.now())
    return outcome


# ---- reads --------------------------------------------------------------------

def _own(user: Any) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def inbox_for(user: Any, *, unread: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    qs = _own(user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-pk")


def unread_count(user: Any) -> int:
    return _own(user).filter(read_at__isnull=True).count()


def notification_for(user: Any, pk: int) -> Notification:
    """One of the user's own notifications; someone else's is as missing as a missing one."""
    found = _own(user).filter(pk=pk).first()
    if found is None:
        raise NotFound("notification_not_found", "没有这条通知")
    return found
