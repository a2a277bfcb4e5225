"""What the server-rendered pages share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import Http404

from wangge.core.errors import NotFound

V = TypeVar("V", bound=Callable[..., Any])


def not_found_as_404(view: V) -> V:
    """A selector's NotFound (missing, or outside the reader's scope: the two
    answer alike) becomes the page's 404 with the same message."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapped  # type: ignore[return-value]
