"""Area levels and the rules their codes follow. No Django here.

district = GB/T 2260 six digits; street adds three (GB/T 10114 style); community
three more; unit grid three more: a 15-digit grid code whose prefixes are its
community, street and district. A city is a six-digit GB/T 2260 code ending in
00 whose significant prefix (1201 for 120100) its districts start with.
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("city", "district", "street", "community", "grid")
LEVEL_NAMES = {"city": "市", "district": "区", "street": "街道", "community": "社区", "grid": "网格"}
CODE_LENGTH = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}


def parent_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i - 1] if i > 0 else None


def child_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def significant_prefix(code: str, level: str) -> str:
    """What a child's code must start with."""
    if level == "city":
        if code.endswith("0000"):
            return code[:2]
        return code[:4] if code.endswith("00") else code
    return code


def level_for_code(code: str) -> str | None:
    """The base-layer level a code's length implies (city and district share 6)."""
    for level in ("grid", "community", "street"):
        if len(code) == CODE_LENGTH[level]:
            return level
    if len(code) == 6:
        return "city" if code.endswith("00") else "district"
    return None


def code_problem(code: str, level: str) -> str | None:
    if level not in CODE_LENGTH:
        return f"未知层级 {level!r}，应为 {'、'.join(LEVELS)} 之一"
    if not code.isascii() or not code.isdigit():
        return f"编码 {code!r} 只能由数字组成"
    if len(code) != CODE_LENGTH[level]:
        return f"{LEVEL_NAMES[level]}级编码应为 {CODE_LENGTH[level]} 位，{code!r} 为 {len(code)} 位"
    if level == "city" and not code.endswith("00"):
        return f"市级编码 {code!r} 应以 00 结尾"
    if level == "district" and code.endswith("00"):
        return f"区级编码 {code!r} 不应以 00 结尾"
    if level in ("street", "community", "grid") and code.endswith("000"):
        return f"编码 {code!r} 的本级段不能为 000"
    return None


def extends(child_code: str, parent_code: str, parent_level_name: str) -> bool:
    prefix = significant_prefix(parent_code, parent_level_name)
    return child_code.startswith(prefix) and len(child_code) > len(prefix)


def ancestors(code: str) -> list[str]:
    """Base-layer ancestor codes of a grid, community or street code, nearest last."""
    out = []
    for level in ("district", "street", "community"):
        n = CODE_LENGTH[level]
        if len(code) > n:
            out.append(code[:n])
    return out
