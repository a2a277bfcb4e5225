"""How a catalog item's value is masked when a grant says so. Pure."""

from __future__ import annotations

from typing import Any

from wangge.core import identity

HIDDEN = "***"


def _one(kind: str, value: Any) -> Any:
    if value is None or value == "":
        return value
    text = str(value)
    if kind == "name":
        return identity.mask_name(text)
    if kind == "id_number":
        return identity.mask_id_number(text)
    if kind == "phone":
        return identity.mask_phone(text)
    if kind == "text":
        return identity.mask_text(text)
    if kind == "year":
        return text[:4] + "-**-**" if len(text) >= 4 else "*" * len(text)
    if kind == "hide":
        return HIDDEN
    return value


def apply(kind: str, value: Any) -> Any:
    """The value as a masked grant shows it; lists are masked element-wise."""
    if kind == "none":
        return value
    if isinstance(value, list):
        return [HIDDEN] if kind == "hide" and value else [_one(kind, v) for v in value]
    return _one(kind, value)
