from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from wangge.accounts.models import ApiToken
from wangge.accounts.services import (
    authenticate_with_lockout,
    create_user,
    issue_token,
    revoke_token,
    user_for_token,
)
from wangge.core.errors import DomainError
from wangge.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_production_settings_hash_passwords_with_argon2():
    # conftest swaps in a fast hasher for tests; the settings module keeps Argon2 first.
    import importlib

    import wangge.settings as production

    importlib.reload(production)
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert django_settings.AUTH_USER_MODEL == "accounts.User"


def test_argon2_hash_is_stored(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = create_user("a2", "correct horse battery", role="grid_worker")
    assert user.password.startswith("argon2")


def test_lockout_after_repeated_failures(settings):
    settings.WANGGE_LOGIN_MAX_FAILURES = 3
    create_user("w", "right-password-1", role="grid_worker")
    for _ in range(3):
        assert authenticate_with_lockout("w", "wrong") is None
    # Locked: even the right password is refused until the lock expires.
    assert authenticate_with_lockout("w", "right-password-1") is None
    assert AuditEntry.objects.filter(action="lock_account").count() == 1


def test_lock_expires(settings):
    settings.WANGGE_LOGIN_MAX_FAILURES = 2
    user = create_user("w2", "right-password-2", role="grid_worker")
    for _ in range(2):
        authenticate_with_lockout("w2", "nope")
    type(user).objects.filter(pk=user.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert authenticate_with_lockout("w2", "right-password-2") == user


def test_success_resets_failure_count(settings):
    settings.WANGGE_LOGIN_MAX_FAILURES = 3
    user = create_user("w3", "right-password-3", role="grid_worker")
    authenticate_with_lockout("w3", "nope")
    authenticate_with_lockout("w3", "nope")
    assert authenticate_with_lockout("w3", "right-password-3") == user
    user.refresh_from_db()
    assert user.failed_logins == 0


def test_token_is_stored_hashed_and_resolves_to_user():
    user = create_user("prog", "pw-prog-12345", role="department_staff")
    issued = issue_token(user, "对接程序")
    stored = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.key not in stored.key_hash and stored.prefix == issued.key[:8]
    assert user_for_token(issued.key) == user


def test_expired_and_revoked_tokens_are_refused():
    user = create_user("prog2", "pw-prog-12345", role="department_staff")
    expired = issue_token(user, "旧令牌", days=1)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now())
    assert user_for_token(expired.key) is None
    revoked = issue_token(user, "吊销")
    revoke_token(user, revoked.token)
    assert user_for_token(revoked.key) is None


def test_inactive_users_token_is_refused():
    user = create_user("gone", "pw-gone-12345", role="grid_worker")
    issued = issue_token(user, "x")
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert user_for_token(issued.key) is None


def test_unknown_role_is_refused():
    with pytest.raises(DomainError, match="未知角色"):
        create_user("x", "pw-x-12345678", role="mayor")
