"""Writes on users, departments and tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wangge.accounts.models import ApiToken, Department, Role, User
from wangge.core import audit
from wangge.core.errors import DomainError

TOKEN_PREFIX_LEN = 8


class AccountLocked(DomainError):
    status = 403


def authenticate_with_lockout(username: str, password: str) -> User | None:
    """Check a password; after WANGGE_LOGIN_MAX_FAILURES misses the account is
    locked for WANGGE_LOGIN_LOCKOUT_SECONDS, even to the right password."""
    user = User.objects.filter(username=username).first()
    if user is None:
        # Hash anyway so that timing does not tell which usernames exist.
        User().set_password(password)
        return None
    now = timezone.now()
    if user.locked_until and user.locked_until > now:
        return None
    if user.check_password(password) and user.is_active:
        if user.failed_logins or user.locked_until:
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        return user
    _count_failure(user, now)
    return None


def _count_failure(user: User, now: Any) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins"])
        if user.failed_logins >= settings.WANGGE_LOGIN_MAX_FAILURES:
            until = now + timedelta(seconds=settings.WANGGE_LOGIN_LOCKOUT_SECONDS)
            User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
            audit.record(None, "lock_account", "user", user.pk, reason="连续登录失败")


def is_locked(username: str) -> bool:
    user = User.objects.filter(username=username).only("locked_until").first()
    return bool(user and user.locked_until and user.locked_until > timezone.now())


def unlock_user(actor: User, user: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    audit.record(actor, "unlock_account", "user", user.pk)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once; only its hash is stored


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_token(
    user: User, name: str, *, days: int | None = None, actor: User | None = None
) -> IssuedToken:
    key = "wg_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:TOKEN_PREFIX_LEN],
        key_hash=hash_token(key),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit.record(actor or user, "issue_token", "api_token", token.pk, fields=["user", "name"])
    return IssuedToken(token, key)


def revoke_token(actor: User, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    audit.record(actor, "revoke_token", "api_token", token.pk)


def user_for_token(key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__department")
        .filter(key_hash=hash_token(key), revoked=False)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at and token.expires_at <= now:
        return None
    # Touch at most once a minute: a token used in a tight loop should not
    # turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def create_user(
    username: str,
    password: str,
    *,
    role: str,
    area_code: str = "",
    department: Department | None = None,
    display_name: str = "",
    actor: User | None = None,
    **extra: Any,
) -> User:
    if role not in Role.values:
        raise DomainError("unknown_role", f"未知角色：{role}")
    user = User(
        username=username,
        role=role,
        area_code=area_code,
        department=department,
        display_name=display_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
        **extra,
    )
    user.set_password(password)
    user.save()
    audit.record(actor, "create_user", "user", user.pk, fields=["role", "area_code", "department"])
    return user
