from __future__ import annotations

import pytest
from django.test import Client

from wangge.accounts.views import INBOX_PAGE
from wangge.core.models import Notification
from wangge.core.notify import notify

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def _some(users, n, prefix="k", link="/cases/{i}/"):
    for i in range(n):
        notify(users, key=f"{prefix}{i}", kind="case_warning", title=f"通知{i}",
               link=link.format(i=i))


def test_inbox_needs_login(client):
    r = client.get("/inbox/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_inbox_lists_own_with_unread_highlighted_and_count_in_top_bar(client, worker_a, outsider):
    _some([worker_a], 2)
    _some([outsider], 1, prefix="o")
    notify([outsider], key="secret", kind="x", title="别人的通知")
    Notification.objects.filter(key="k0").update(read_at="2026-01-01T00:00:00Z")
    body = _login(client, worker_a).get("/inbox/").content.decode()
    assert "通知1" in body and "通知0" in body and "别人的通知" not in body
    assert body.count('class="unread"') == 1 and body.count('class="read"') == 1
    assert 'id="inbox-unread" title="未读通知">1<' in body


def test_opening_marks_read_and_follows_the_link(client, worker_a):
    _some([worker_a], 1)
    item = Notification.objects.get()
    r = _login(client, worker_a).get(f"/inbox/{item.pk}/")
    assert r.status_code == 302 and r["Location"] == "/cases/0/"
    item.refresh_from_db()
    assert item.read_at is not None


def test_a_link_off_site_goes_back_to_the_inbox(client, worker_a):
    _some([worker_a], 1, link="https://evil.example/{i}")
    item = Notification.objects.get()
    r = _login(client, worker_a).get(f"/inbox/{item.pk}/")
    assert r["Location"] == "/inbox/"


def test_outsider_gets_404_for_another_users_notification(client, worker_a, outsider):
    _some([worker_a], 1)
    item = Notification.objects.get()
    r = _login(client, outsider).get(f"/inbox/{item.pk}/")
    assert r.status_code == 404
    client.post("/inbox/read/", {"id": [item.pk]})
    client.post("/inbox/read/")
    item.refresh_from_db()
    assert item.read_at is None


def test_mark_all_read(client, worker_a):
    _some([worker_a], 3)
    r = _login(client, worker_a).post("/inbox/read/", follow=True)
    assert "已将 3 条通知标为已读" in r.content.decode()
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert 'id="inbox-unread"' not in r.content.decode()


def test_mark_one_read_returns_to_the_page(client, worker_a):
    _some([worker_a], 2)
    one = Notification.objects.get(key="k1")
    r = _login(client, worker_a).post("/inbox/read/", {"id": one.pk, "next": "/inbox/?unread=1"})
    assert r["Location"] == "/inbox/?unread=1"
    assert list(Notification.objects.filter(read_at__isnull=True).values_list("key", flat=True)) == ["k0"]


def test_mark_read_needs_post_and_csrf(worker_a):
    _some([worker_a], 1)
    client = _login(Client(enforce_csrf_checks=True), worker_a)
    assert client.get("/inbox/read/").status_code == 405
    assert client.post("/inbox/read/").status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_unread_filter_and_pagination(client, worker_a):
    _some([worker_a], INBOX_PAGE + 2)
    Notification.objects.filter(key="k0").update(read_at="2026-01-01T00:00:00Z")
    _login(client, worker_a)
    first = client.get("/inbox/").content.decode()
    assert "1 / 2" in first and "?page=2" in first
    second = client.get("/inbox/", {"page": 2}).content.decode()
    assert "通知0" in second and "通知1<" in second
    unread = client.get("/inbox/", {"unread": "1", "page": 2}).content.decode()
    assert "通知1<" in unread and "通知0" not in unread


def test_inbox_in_english(client, worker_a):
    _some([worker_a], 1)
    client.cookies["django_language"] = "en"
    body = _login(client, worker_a).get("/inbox/").content.decode()
    assert "Mark all as read" in body and "Inbox" in body
