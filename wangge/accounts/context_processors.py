from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from wangge.accounts.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "nav_items": items_for(user) if user is not None else [],
        # Lazy: counted only when a page's top bar shows it (one indexed query).
        "inbox_unread": SimpleLazyObject(lambda: _unread(user)),
    }


def _unread(user: Any) -> int:
    from wangge.core.notify import unread_count

    return unread_count(user) if getattr(user, "is_authenticated", False) else 0
