"""What every spreadsheet export shares: cells a spreadsheet will not run,
the download response with a Chinese file name, and the watermark that says
who exported the file and when (core.exports hands it out)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone

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


@dataclass(frozen=True)
class Watermark:
    """Who exported a file and when; `ref` is the export's number (core.ExportLog)."""

    who: str  # "网格员甲（worker_a）"
    at: datetime
    ref: str

    def __str__(self) -> str:
        at = timezone.localtime(self.at)
        return f"导出人：{self.who} 导出时间：{at:%Y-%m-%d %H:%M:%S} 编号：{self.ref}"


def _header_text(text: str) -> str:
    # "&" starts a header/footer code (&P, &D …); a doubled one prints itself.
    # Excel refuses a header or footer longer than 255 characters.
    return text.replace("&", "&&")[:240]


def stamp_workbook(wb: Any, mark: Watermark) -> None:
    """Put the watermark where it survives copying a sheet or printing it:
    every sheet's page header and footer, a note on every sheet's A1, and the
    workbook's creator and description. Cell values are left alone, so a
    sheet's layout (which the callers' tests read by row) does not move; an
    export that wants a visible first row writes `str(mark)` there itself."""
    from openpyxl.comments import Comment

    text = str(mark)
    wb.properties.creator = mark.who[:200]
    wb.properties.lastModifiedBy = mark.who[:200]
    wb.properties.description = text
    wb.properties.identifier = f"wangge-export-{mark.ref}"
    for ws in wb.worksheets:
        ws.oddHeader.center.text = _header_text(text)
        ws.oddFooter.center.text = f"编号：{_header_text(mark.ref)}　第 &P 页，共 &N 页"
        ws.oddFooter.right.text = _header_text(mark.who)
        if ws["A1"].comment is None:
            note = Comment(text, "wangge")
            note.width, note.height = 320, 60
            ws["A1"].comment = note


def csv_note(mark: Watermark) -> str:
    """The watermark as a CSV comment line; importers (fusion.reading among
    them) skip a lone one-cell line above the header as a title."""
    return f"# {mark}\r\n"


def stamped_csv(chunks: Iterable[bytes], mark: Watermark, *, last: bool = False) -> Iterator[bytes]:
    """A UTF-8 CSV (with or without a BOM) with the watermark as its first line,
    or its last with `last=True`; one BOM in front, so Excel reads Chinese."""
    bom = "\ufeff".encode()
    note = csv_note(mark).encode()
    yield bom
    if not last:
        yield note
    first = True
    for chunk in chunks:
        if first:
            chunk = chunk.removeprefix(bom)
            first = False
        yield chunk
    if last:
        yield note
