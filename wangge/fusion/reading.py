"""Department files (CSV or XLSX) → a table of raw text cells.

Pure module (no Django): the import pipeline reads an upload here, then maps
columns and validates rows in `validation`. Reading never interprets values; it
only turns cells into the text a clerk saw, and records what makes a row
untrustworthy (formulas, numbers Excel already truncated, stray cells) so that
the row can be refused with a line number the clerk can find.

A problem with the whole file (size, encoding, format, duplicate headers) raises
ReadError; a problem with one row goes to `Row.problems`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, NamedTuple

MAX_BYTES = 50 * 1024 * 1024
# Real workbooks compress 4–10×; past these a "workbook" is a zip bomb, and
# openpyxl would hold the shared strings of the unpacked size in memory.
MAX_UNPACKED_FACTOR = 8
MAX_RATIO = 100
_RATIO_FLOOR = 1024 * 1024  # tiny members (styles, rels) have meaningless ratios

Kind = Literal["csv", "xlsx"]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = ",\t;，"
_SNIFF_CHARS = 64 * 1024
# Excel keeps 15 significant digits: any longer number has lost its tail.
_EXCEL_DIGITS = 15
# "1.10105E+17": Excel's display, and so its CSV export, of a 12+ digit number.
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?[eE]\+?([0-9]+)")
# ="0123" is how exporters keep leading zeros in Excel; it holds plain text.
_TEXT_FORMULA = re.compile(r'="([^"]*)"')
# "+86 138…" and "-5" are data; "=…", "+A1", "-SUM(", "@SUM(" are formulas.
_FORMULA = re.compile(r"=.|[+\-@]\s*[A-Za-z(]", re.DOTALL)
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
_FORMULA_SHOWN = 40


class ReadError(Exception):
    """The whole file is refused; str(e) says why, in Chinese, and what to do."""


@dataclass
class Row:
    # As the clerk finds it: the sheet's row number, or the line a CSV record
    # starts on (a quoted line break makes a record span lines).
    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


@dataclass
class Table:
    columns: list[str]
    rows: list[Row]
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "gb18030", … or "xlsx"
    kind: Kind
    header_line: int = 1
    sheet: str = ""


def read_table(path: Path, *, max_bytes: int = MAX_BYTES, sheet: str | None = None) -> Table:
    """Read a department's CSV or XLSX file; the format is judged by content."""
    _check_size(path, max_bytes)
    with open(path, "rb") as fh:
        if sniff_kind(fh.read(4096)) == "xlsx":
            return _read_xlsx(path, max_unpacked=max_bytes * MAX_UNPACKED_FACTOR, sheet=sheet)
        fh.seek(0)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew since stat
        raise _too_big(len(data), max_bytes)
    return _read_csv(data)


def sniff_kind(head: bytes) -> Kind:
    """"xlsx" for a zip container (checked for workbook parts when opened),
    "csv" for anything else; the legacy .xls format is refused."""
    if head.startswith(_OLE2_MAGIC):
        # Password-protected .xlsx files are OLE2 containers too.
        raise ReadError("这是旧版Excel（.xls）文件或加了密码的Excel文件，系统无法直接读取；"
                        "请在Excel中取消密码，并“另存为”xlsx或csv格式后再导入")
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    return "csv"


def _check_size(path: Path, max_bytes: int) -> None:
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise ReadError("无法读取文件，请重新上传") from exc
    if size == 0:
        raise ReadError("文件为空")
    if size > max_bytes:
        raise _too_big(size, max_bytes)


def _too_big(size: int, max_bytes: int) -> ReadError:
    return ReadError(f"文件大小为{_human(size)}，超过上限{_human(max_bytes)}；"
                     "请拆分成几个较小的文件分批导入")


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}MB"
    if size >= 1024:
        return f"{size / 1024:.1f}KB"
    return f"{size}字节"


# --- records → table, shared by both formats ----------------------------------


class _Record(NamedTuple):
    line: int
    cells: list[str]
    # Cell index → (kind, detail) for what only the XLSX cell type reveals:
    # "formula", "error" or "digits".
    flags: dict[int, tuple[str, str]]


def _build_table(records: Iterator[_Record], ref: Callable[[int], str]
                 ) -> tuple[int, list[str], list[Row]]:
    header, body = _header_and_body(records)
    columns = _header_names(_trim_blank_tail(header.cells))
    rows = [_row(record, columns, ref) for record in body if not _is_blank(record.cells)]
    return header.line, columns, rows


def _header_and_body(records: Iterator[_Record]) -> tuple[_Record, list[_Record]]:
    """The header is the first non-blank row, unless that row is a lone title
    ("某某社区人口登记表") above a wider row."""
    header = next((r for r in records if not _is_blank(r.cells)), None)
    if header is None:
        raise ReadError("文件为空")
    body = list(records)
    second = next((i for i, r in enumerate(body) if not _is_blank(r.cells)), None)
    if second is not None and _filled(header.cells) == 1 and _filled(body[second].cells) > 1:
        return body[second], body[second + 1:]
    return header, body


def _is_blank(cells: list[str]) -> bool:
    return not any(cells)


def _filled(cells: list[str]) -> int:
    return sum(1 for c in cells if c)


def _trim_blank_tail(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _header_names(cells: list[str]) -> list[str]:
    """Cleaned header names; blanks become "第N列"; duplicates refuse the file."""
    names = [_clean_header(text) or f"第{i}列" for i, text in enumerate(cells, start=1)]
    dupes = [name for name, n in Counter(names).items() if n > 1]
    if dupes:
        listed = "、".join(f"“{name}”" for name in dupes)
        raise ReadError(f"表头有重复的列名：{listed}；请改成不同的名字或删掉多余的列后再导入")
    return names


def _clean_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for ch in _INVISIBLE:
        text = text.replace(ch, "")
    # A line break typed into a header cell ("身份证号\n（18位）") is layout.
    return " ".join(text.split())


def _row(record: _Record, columns: list[str], ref: Callable[[int], str]) -> Row:
    cells = list(record.cells)
    problems: list[str] = []
    for i, text in enumerate(cells):
        column = columns[i] if i < len(columns) else ""
        flag = record.flags.get(i)
        plain = _TEXT_FORMULA.fullmatch(text)
        if plain and flag is None:
            text = cells[i] = plain.group(1).strip()
        if text:
            problems.extend(_cell_problems(ref(i), column, text, flag))
    extra = [i for i in range(len(columns), len(cells)) if cells[i]]
    if extra:
        problems.append(f"本行比表头多出{len(extra)}个有内容的单元格（从{ref(extra[0])}起），"
                        "这些列没有列名；请补上列名或删除多余内容")
    padded = cells[: len(columns)] + [""] * (len(columns) - len(cells))
    return Row(line=record.line, values=dict(zip(columns, padded, strict=True)),
               problems=problems)


def _cell_problems(ref: str, column: str, text: str, flag: tuple[str, str] | None
                   ) -> list[str]:
    where = f"{ref}“{column}”" if column else ref
    kind, detail = flag or _text_flag(text) or ("", "")
    if kind == "formula":
        shown = detail if len(detail) <= _FORMULA_SHOWN else detail[:_FORMULA_SHOWN] + "…"
        return [f"{where}是公式（{shown}），请粘贴为数值后再导入"]
    if kind == "error":
        return [f"{where}是错误值{detail}，请改正后再导入"]
    if kind == "digits":
        return [f"{where}存成了数字（{detail}），Excel只保留15位有效数字，末尾几位已经丢失"
                "（身份证号常见）；请把该列设为文本格式，重新填写完整号码后再导入"]
    return []


def _text_flag(text: str) -> tuple[str, str] | None:
    """What a plain text cell would become once opened in Excel."""
    if _FORMULA.match(text):
        return "formula", text
    m = _SCIENTIFIC.fullmatch(text)
    if m and int(m.group(1)) >= 11:
        return "digits", text
    return None


# --- CSV --------------------------------------------------------------------


def _read_csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    if not text.replace("\ufeff", "").strip():
        raise ReadError("文件为空")
    if "\x00" in text:
        raise ReadError("文件含有二进制内容，不是文本表格；请在Excel中“另存为”xlsx或csv格式后再导入")
    records = _csv_records(text, _sniff_delimiter(text))
    header_line, columns, rows = _build_table(records, _csv_ref)
    return Table(columns=columns, rows=rows, encoding=encoding, kind="csv",
                 header_line=header_line)


def _csv_ref(index: int) -> str:
    return f"第{index + 1}列"


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-8 first (what modern systems write), then GB18030 (what Excel in a
    Chinese locale writes; a superset of GBK and GB2312), then a guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]  # Excel's "Unicode文本" export
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return _guess_encoding(data)


def _guess_encoding(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not best.encoding:
        raise ReadError("无法识别文件编码（支持UTF-8、GBK、GB18030）；"
                        "请在Excel中“另存为”“CSV UTF-8”格式后再导入")
    return str(best), best.encoding


def _sniff_delimiter(text: str) -> str:
    """csv.Sniffer restricted to the usual separators; it only counts ASCII
    characters, so a full-width comma is found from the header line."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    header_line = _first_line_with_delimiter(sample)
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in header_line:
        return sniffed
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_line_with_delimiter(sample: str) -> str:
    # Skips a bare title line ("华明社区人口登记表") above the header.
    lines = sample.splitlines()
    return next((line for line in lines if any(d in line for d in _DELIMITERS)), "")


class _LineTap:
    """The physical lines the csv reader consumed for the record in progress."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.current: list[str] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.current.append(line)
        return line


def _csv_records(text: str, delimiter: str) -> Iterator[_Record]:
    """A record with a quoted line break is numbered by the line it starts on,
    which is where the clerk's editor shows it."""
    tap = _LineTap(text)
    reader = csv.reader(tap, delimiter=delimiter)
    consumed = 0
    last: tuple[int, list[str]] = (0, [])
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            _refuse_open_quote(*last)
            return
        except csv.Error as exc:
            raise ReadError(f"第{consumed + 1}行起的单元格过长，通常是英文双引号没有闭合；"
                            "请检查该行后再导入") from exc
        start, consumed = consumed + 1, reader.line_num
        last, tap.current = (start, tap.current), []
        yield _Record(start, [cell.strip() for cell in cells], {})


def _refuse_open_quote(start: int, lines: list[str]) -> None:
    # A quote never closed swallows the rest of the file into the last record;
    # in a well-formed record quotes come in pairs.
    if len(lines) > 1 and "".join(lines).count('"') % 2:
        raise ReadError(f"第{start}行的英文双引号没有闭合，之后的内容都被当成了一个单元格；"
                        "请检查该行后再导入")


# --- XLSX -------------------------------------------------------------------


def _read_xlsx(path: Path, *, max_unpacked: int, sheet: str | None) -> Table:
    _check_zip(path, max_unpacked)
    from openpyxl import load_workbook

    # A file object, not the path: openpyxl refuses a workbook by its name's
    # extension, and uploads arrive named anything.
    with open(path, "rb") as fh:
        try:
            workbook = load_workbook(fh, read_only=True, data_only=False)
        except Exception as exc:
            raise _broken_workbook() from exc
        try:
            return _sheet_table(_pick_sheet(workbook, sheet))
        except ReadError:
            raise
        except Exception as exc:
            raise _broken_workbook() from exc
        finally:
            workbook.close()


def _broken_workbook() -> ReadError:
    return ReadError("Excel文件无法读取，可能已损坏；请用Excel打开后“另存为”xlsx格式再导入")


def _check_zip(path: Path, max_unpacked: int) -> None:
    """Refuse non-workbooks and zip bombs before openpyxl unpacks anything.
    zipfile stops each member at its declared size (a lie fails the CRC), so
    the declared sizes bound what will be unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _broken_workbook() from exc
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ReadError("这个文件是压缩包或其他Office文件，不是Excel表格；"
                        "请上传xlsx或csv格式的表格")
    total = sum(info.file_size for info in infos)
    if total > max_unpacked:
        raise ReadError(f"Excel文件解压后有{_human(total)}，超过上限{_human(max_unpacked)}；"
                        "请删掉空白行列或拆分成几个文件后再导入")
    if any(_suspicious_ratio(info) for info in infos):
        raise ReadError("Excel文件的压缩比异常，可能是恶意构造的文件，已拒绝；"
                        "请用Excel打开后“另存为”xlsx格式再导入")


def _suspicious_ratio(info: zipfile.ZipInfo) -> bool:
    return info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
        info.compress_size, 1)


def _pick_sheet(workbook: Any, sheet: str | None) -> Any:
    if sheet is None:
        if not workbook.worksheets:
            raise ReadError("Excel文件中没有工作表")
        ws = workbook.worksheets[0]
    elif sheet in workbook.sheetnames:
        ws = workbook[sheet]
    else:
        listed = "、".join(f"“{name}”" for name in workbook.sheetnames)
        raise ReadError(f"找不到工作表“{sheet}”；本文件的工作表有：{listed}")
    ws.reset_dimensions()  # a stale <dimension> would cut rows and columns off
    return ws


def _sheet_table(ws: Any) -> Table:
    records = (_xlsx_record(line, row) for line, row in enumerate(ws.iter_rows(), start=1))
    try:
        header_line, columns, rows = _build_table(records, _xlsx_ref)
    except ReadError as exc:
        if str(exc) != "文件为空":
            raise
        raise ReadError(f"文件为空：工作表“{ws.title}”没有内容") from exc
    return Table(columns=columns, rows=rows, encoding="xlsx", kind="xlsx",
                 header_line=header_line, sheet=ws.title)


def _xlsx_ref(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(index + 1)}列"


def _xlsx_record(line: int, row: tuple[Any, ...]) -> _Record:
    flags = {i: flag for i, cell in enumerate(row) if (flag := _xlsx_flag(cell))}
    return _Record(line, [_cell_text(cell) for cell in row], flags)


def _xlsx_flag(cell: Any) -> tuple[str, str] | None:
    value = getattr(cell, "value", None)
    kind = getattr(cell, "data_type", "n")
    if kind == "f":
        return "formula", _formula_text(value)
    if kind == "e":
        return "error", str(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and _lost_digits(value):
        return "digits", f"{value:.6G}"
    return None


def _lost_digits(value: float) -> bool:
    """Excel stores a long number as a float with its tail zeroed; a program
    writing the sheet may store an exact integer, which is kept."""
    if isinstance(value, float):
        return abs(value) >= 10**_EXCEL_DIGITS
    digits = len(str(abs(value)))
    return digits > _EXCEL_DIGITS and value % 10 ** (digits - _EXCEL_DIGITS) == 0


def _formula_text(value: Any) -> str:
    text = getattr(value, "text", value)  # array formulas are objects
    return str(text).strip() if text is not None else "="


def _cell_text(cell: Any) -> str:
    """What the clerk saw in the cell: integers without ".0", dates as ISO."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if getattr(cell, "data_type", "n") == "f":
        return _formula_text(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    return str(value).strip()
