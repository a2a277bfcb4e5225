"""What every spreadsheet export shares: cells a spreadsheet will not run,
and the download response with a Chinese file name."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_INJECTION = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """A text cell a spreadsheet will not run: =, +, -, @ (and tab, CR) at the
    start get an apostrophe, so a department named "=HYPERLINK(…)" stays text."""
    return "'" + text if text.startswith(_INJECTION) else text


def download(content: bytes, *, name: str, fallback: str) -> HttpResponse:
    """The workbook as an attachment: `name` may be Chinese, `fallback` is ASCII."""
    response = HttpResponse(content, content_type=XLSX_TYPE)
    # RFC 6266 / 5987: the ASCII name for old clients, the Chinese one for the rest.
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return response
