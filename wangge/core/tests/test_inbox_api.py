from __future__ import annotations

import pytest

from wangge.core.models import Notification
from wangge.core.notify import notify

pytestmark = pytest.mark.django_db


def _some(users, n, prefix="k"):
    for i in range(n):
        notify(users, key=f"{prefix}{i}", kind="case_warning", title=f"通知{i}", link=f"/cases/{i}/")


def test_list_is_own_newest_first_and_paginated(
        client, worker_a, outsider, auth_header, django_assert_max_num_queries):
    _some([worker_a], 5)
    _some([outsider], 2, prefix="o")
    headers = auth_header(worker_a)
    with django_assert_max_num_queries(6):
        r = client.get("/api/v1/inbox", {"limit": 2, "offset": 1}, **headers)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 5 and body["unread"] == 5
    assert [i["title"] for i in body["items"]] == ["通知3", "通知2"]
    assert body["items"][0]["link"] == "/cases/3/" and body["items"][0]["read_at"] is None


def test_unread_filter(client, worker_a, auth_header):
    _some([worker_a], 3)
    first = Notification.objects.get(key="k0")
    client.post("/api/v1/inbox/read", {"ids": [first.pk]}, content_type="application/json",
                **auth_header(worker_a))
    body = client.get("/api/v1/inbox", {"unread": "true"}, **auth_header(worker_a)).json()
    assert body["count"] == 2 and body["unread"] == 2
    assert "通知0" not in [i["title"] for i in body["items"]]


def test_outsider_cannot_read_or_mark_another_users_notifications(
        client, worker_a, outsider, auth_header):
    _some([worker_a], 2)
    theirs = list(Notification.objects.filter(recipient=worker_a).values_list("pk", flat=True))
    listed = client.get("/api/v1/inbox", **auth_header(outsider)).json()
    assert listed["count"] == 0 and listed["items"] == []
    r = client.post("/api/v1/inbox/read", {"ids": theirs}, content_type="application/json",
                    **auth_header(outsider))
    assert r.status_code == 200 and r.json() == {"marked": 0, "unread": 0}
    r = client.post("/api/v1/inbox/read", {}, content_type="application/json",
                    **auth_header(outsider))
    assert r.json()["marked"] == 0
    assert Notification.objects.filter(recipient=worker_a, read_at__isnull=True).count() == 2


def test_mark_all_read(client, worker_a, auth_header):
    _some([worker_a], 3)
    r = client.post("/api/v1/inbox/read", {}, content_type="application/json",
                    **auth_header(worker_a))
    assert r.json() == {"marked": 3, "unread": 0}


def test_empty_id_list_marks_nothing(client, worker_a, auth_header):
    _some([worker_a], 1)
    r = client.post("/api/v1/inbox/read", {"ids": []}, content_type="application/json",
                    **auth_header(worker_a))
    assert r.json() == {"marked": 0, "unread": 1}


def test_anonymous_is_refused(client, small_city):
    r = client.get("/api/v1/inbox")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
