"""Pure rules of the exchange: who may do what with a catalog, and whether a
grant is in force. No Django import."""

from __future__ import annotations

from datetime import date

MAX_PERIOD_DAYS = 3 * 366
MAX_COMPARE_VALUES = 10_000
MAX_PAGE = 1000
DEFAULT_PAGE = 100


def period_problem(starts: date, ends: date, today: date) -> str | None:
    """Why an application's period cannot be granted, in Chinese; None if it can."""
    if ends < starts:
        return "截止日期早于起始日期"
    if ends < today:
        return "截止日期已过"
    if (ends - starts).days > MAX_PERIOD_DAYS:
        return "共享期限最长三年，到期后可重新申请"
    return None


def grant_state(starts: date, ends: date, revoked: bool, today: date) -> str:
    """"active", "pending" (not started), "expired" or "revoked"."""
    if revoked:
        return "revoked"
    if today < starts:
        return "pending"
    if today > ends:
        return "expired"
    return "active"
