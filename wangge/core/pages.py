"""What the server-rendered pages share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

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


def photo_response(photo: Any) -> FileResponse:
    """A stored photo (anything with `file` and `content_type`) as the response,
    or a 404 when it is missing from the record or from the disk."""
    if photo is None:
        raise Http404(_("没有这张照片"))
    try:
        handle = photo.file.open("rb")
    except OSError:
        raise Http404(_("没有这张照片")) from None
    return FileResponse(handle, content_type=photo.content_type)
