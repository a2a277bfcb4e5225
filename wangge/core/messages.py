"""Compile every wangge/locale/*/LC_MESSAGES/*.po into .mo, with no GNU gettext.

Django's compilemessages needs the msgfmt binary, which a fresh machine may not
have; this writes the same GNU .mo format from the standard library alone.
Handles msgctxt, plural forms and multi-line strings; skips fuzzy entries.
"""

from __future__ import annotations

import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "locale"


def _unquote(line: str) -> str:
    return str(ast.literal_eval(line))


def parse_po(text: str) -> dict[str, str]:
    """Map of msgid (with context and plural joined as gettext does) → msgstr."""
    messages: dict[str, str] = {}
    entry: dict[str, list[str]] = {}
    key: str | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal entry, fuzzy
        if "msgid" in entry and not fuzzy:
            msgid = "".join(entry["msgid"])
            if "msgctxt" in entry:
                msgid = "".join(entry["msgctxt"]) + "\x04" + msgid
            if "msgid_plural" in entry:
                msgid += "\x00" + "".join(entry["msgid_plural"])
                forms = sorted(k for k in entry if k.startswith("msgstr["))
                msgstr = "\x00".join("".join(entry[k]) for k in forms)
            else:
                msgstr = "".join(entry.get("msgstr", []))
            if msgstr.replace("\x00", "") or msgid == "":
                messages[msgid] = msgstr
        entry, fuzzy = {}, False

    def complete() -> bool:
        return any(k == "msgstr" or k.startswith("msgstr[") for k in entry)

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                if complete():
                    flush()
                fuzzy = True
            continue
        if line.startswith('"'):
            if key is not None:
                entry[key].append(_unquote(line))
            continue
        word, _, rest = line.partition(" ")
        if word in ("msgctxt", "msgid") and complete():
            flush()
        key = word
        entry[key] = [_unquote(rest)]
    flush()
    return messages


def write_mo(messages: dict[str, str], path: Path) -> None:
    ids = sorted(messages)
    id_bytes = [i.encode("utf-8") for i in ids]
    str_bytes = [messages[i].encode("utf-8") for i in ids]
    n = len(ids)
    header = 7 * 4
    ids_table = header
    strs_table = ids_table + n * 8
    data_start = strs_table + n * 8
    offsets: list[tuple[int, int]] = []
    data = b""
    for b in id_bytes:
        offsets.append((len(b), data_start + len(data)))
        data += b + b"\x00"
    str_offsets: list[tuple[int, int]] = []
    for b in str_bytes:
        str_offsets.append((len(b), data_start + len(data)))
        data += b + b"\x00"
    out = struct.pack("<7I", 0x950412DE, 0, n, ids_table, strs_table, 0, 0)
    out += b"".join(struct.pack("<2I", *o) for o in offsets)
    out += b"".join(struct.pack("<2I", *o) for o in str_offsets)
    path.write_bytes(out + data)


def compile_all() -> int:
    """Compile the catalogues whose .mo is missing or older; returns how many."""
    count = 0
    for po in sorted(ROOT.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        write_mo(parse_po(po.read_text(encoding="utf-8")), mo)
        count += 1
    return count


if __name__ == "__main__":
    n = compile_all()
    if n:
        print(f"compiled {n} message catalogue(s)", file=sys.stderr)
