from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_pages_are_chinese_by_default(client):
    body = client.get("/login/").content.decode()
    assert "登录" in body and 'lang="zh-hans"' in body


def test_english_is_available(client):
    client.cookies["django_language"] = "en"
    body = client.get("/login/").content.decode()
    assert "Log in" in body and 'lang="en"' in body


def test_english_login_error(client, worker_a):
    client.cookies["django_language"] = "en"
    r = client.post("/login/", {"username": "worker_a", "password": "wrong"})
    assert "Wrong username or password" in r.content.decode()


def test_browser_language_alone_does_not_switch_to_english(client):
    body = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in body and 'lang="zh-hans"' in body
