from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from wangge.core import notify
from wangge.core.models import DeliveryStatus, Notification, NotificationDelivery
from wangge.core.tests.utils import BROKEN, RECORDER, Broken, Recorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder(settings):
    settings.WANGGE_NOTIFY_CHANNELS = {"sms": RECORDER, "email": RECORDER}
    Recorder.sent = []
    return Recorder.sent


def _notify(users, key="case:1:overdue", **extra):
    return notify.notify(users, key=key, kind=extra.pop("kind", "case_overdue"),
                         title=extra.pop("title", "案件已超期"), **extra)


def test_same_key_twice_makes_one_row_and_sends_once(
        worker_a, recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify([worker_a], channels=("sms",)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify([worker_a], channels=("sms",)) == 0
    assert Notification.objects.filter(recipient=worker_a).count() == 1
    assert recorder == [("sms", "worker_a", "案件已超期")]


def test_a_first_time_key_is_written_in_one_go_and_still_sent(
        worker_a, outsider, recorder, django_capture_on_commit_callbacks,
        django_assert_max_num_queries):
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(3):
        assert _notify([worker_a, outsider], key="case:9:dispatch:1", channels=("sms",),
                       first_time=True) == 2
    assert Notification.objects.filter(key="case:9:dispatch:1").count() == 2
    assert sorted(who for _, who, _ in recorder) == ["outsider", "worker_a"]


def test_only_new_recipients_are_counted_and_sent_to(
        worker_a, outsider, recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([worker_a], channels=("sms",))
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify([worker_a, outsider, outsider], channels=("sms",)) == 1
    assert [who for _, who, _ in recorder] == ["worker_a", "outsider"]


def test_a_concurrent_insert_between_check_and_insert_is_not_counted(
        worker_a, outsider, recorder, monkeypatch, django_capture_on_commit_callbacks):
    _notify([worker_a])
    # Another process inserted worker_a's row after this call looked: the
    # unique constraint absorbs the duplicate and the count stays honest.
    monkeypatch.setattr(notify, "_already_notified", lambda ids, key: set())
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify([worker_a, outsider], channels=("sms",)) == 1
    assert Notification.objects.filter(key="case:1:overdue").count() == 2
    assert [who for _, who, _ in recorder] == ["outsider"]


def test_nothing_is_sent_before_commit(worker_a, recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _notify([worker_a], channels=("sms",))
        assert recorder == []
    assert len(callbacks) == 1


def test_pending_delivery_after_a_crash_is_sent_exactly_once(
        worker_a, recorder, django_capture_on_commit_callbacks):
    # The process dies after the commit, before its on_commit hook runs.
    with django_capture_on_commit_callbacks(execute=False):
        _notify([worker_a], channels=("sms", "email"))
    assert recorder == []
    assert notify.deliver_pending() == {"sent": 2, "skipped": 0, "retry": 0, "failed": 0}
    assert notify.deliver_pending()["sent"] == 0
    assert len(recorder) == 2
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_delivery_claimed_by_a_dead_process_is_retried_after_the_lease(worker_a, recorder, settings):
    _notify([worker_a], channels=("sms",))
    delivery = NotificationDelivery.objects.get()
    now = timezone.now()
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=now - timedelta(seconds=10), attempts=1)
    assert notify.deliver_pending(now)["sent"] == 0  # still someone else's
    later = now + timedelta(seconds=settings.WANGGE_NOTIFY_LEASE_SECONDS)
    assert notify.deliver_pending(later)["sent"] == 1
    assert len(recorder) == 1


def test_failing_gateway_is_retried_then_given_up(worker_a, settings):
    settings.WANGGE_NOTIFY_CHANNELS = {"sms": BROKEN}
    settings.WANGGE_NOTIFY_MAX_ATTEMPTS = 2
    Broken.calls = 0
    _notify([worker_a], channels=("sms",))
    assert notify.deliver_pending()["retry"] == 1
    assert notify.deliver_pending()["failed"] == 1
    assert notify.deliver_pending() == {"sent": 0, "skipped": 0, "retry": 0, "failed": 0}
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    assert "gateway unreachable" in delivery.detail and Broken.calls == 2


def test_logging_sms_masks_the_phone(worker_a, caplog):
    worker_a.phone = "13812345678"
    worker_a.save(update_fields=["phone"])
    _notify([worker_a], channels=("sms",))
    with caplog.at_level(logging.INFO, logger="wangge.notify"):
        assert notify.deliver_pending()["sent"] == 1
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text


def test_sms_without_a_phone_is_skipped_with_the_reason(worker_a):
    _notify([worker_a], channels=("sms",))
    assert notify.deliver_pending()["skipped"] == 1
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SKIPPED and "手机" in delivery.detail
    assert notify.deliver_pending()["skipped"] == 0


def test_unconfigured_channel_is_skipped(worker_a, settings):
    settings.WANGGE_NOTIFY_CHANNELS = {}
    _notify([worker_a], channels=("wechat",))
    assert notify.deliver_pending()["skipped"] == 1


def test_email_channel_uses_django_mail(worker_a, settings):
    settings.WANGGE_NOTIFY_CHANNELS = {"email": "wangge.core.notify.EmailChannel"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WANGGE_SITE_URL = "https://wangge.example.cn/"
    worker_a.email = "a@example.cn"
    worker_a.save(update_fields=["email"])
    _notify([worker_a], channels=("email",), link="/cases/1/")
    assert notify.deliver_pending()["sent"] == 1
    assert mail.outbox[0].to == ["a@example.cn"]
    assert "https://wangge.example.cn/cases/1/" in mail.outbox[0].body


def test_key_must_fit(worker_a):
    with pytest.raises(ValueError):
        _notify([worker_a], key="k" * 201)
    assert _notify([], key="empty") == 0


def test_inbox_is_own_only_newest_first(worker_a, outsider):
    _notify([worker_a], key="one")
    _notify([worker_a, outsider], key="two")
    assert [n.key for n in notify.inbox_for(worker_a)] == ["two", "one"]
    assert [n.key for n in notify.inbox_for(outsider)] == ["two"]
    assert notify.unread_count(worker_a) == 2


def test_outsider_sees_nothing_of_others(worker_a, outsider):
    _notify([worker_a])
    assert not notify.inbox_for(outsider).exists()
    assert notify.unread_count(outsider) == 0
    mine = Notification.objects.get(recipient=worker_a)
    with pytest.raises(notify.NotFound):
        notify.notification_for(outsider, mine.pk)


def test_mark_read_touches_only_own(worker_a, outsider):
    _notify([worker_a, outsider], key="a")
    _notify([worker_a], key="b")
    theirs = Notification.objects.get(recipient=worker_a, key="a")
    assert notify.mark_read(by=outsider, ids=[theirs.pk]) == 0
    assert notify.unread_count(worker_a) == 2
    assert notify.mark_read(by=worker_a, ids=[theirs.pk]) == 1
    assert notify.mark_read(by=worker_a) == 1
    assert notify.unread_count(worker_a) == 0 and notify.unread_count(outsider) == 1
