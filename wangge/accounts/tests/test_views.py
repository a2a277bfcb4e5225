from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese(client):
    r = client.get("/login/")
    assert r.status_code == 200
    assert "登录" in r.content.decode()


def test_login_then_home_redirects_by_role(client, viewer):
    r = client.post("/login/", {"username": "viewer", "password": "pass-viewer"})
    assert r.status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == "/map/"


def test_resident_lands_on_welcome(client, small_city):
    from wangge.accounts.services import create_user

    create_user("jumin", "pw-jumin-12345", role="resident")
    client.post("/login/", {"username": "jumin", "password": "pw-jumin-12345"})
    assert client.get("/")["Location"] == "/welcome/"


def test_locked_account_sees_lock_message(client, worker_a, settings):
    settings.WANGGE_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        client.post("/login/", {"username": "worker_a", "password": "wrong"})
    r = client.post("/login/", {"username": "worker_a", "password": "pass-worker_a"})
    assert r.status_code == 200
    assert "锁定" in r.content.decode()


def test_wrong_password_message_is_chinese(client, worker_a):
    r = client.post("/login/", {"username": "worker_a", "password": "wrong"})
    assert "用户名或密码错误" in r.content.decode()


def test_anonymous_home_redirects_to_login(client):
    r = client.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
