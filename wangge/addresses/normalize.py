"""Free-text Chinese address → canonical text and components.

Pure module (no Django): the matcher, the services that write the library and
the fusion imports all normalise through here, so a library entry and a query
typed by a resident end up in the same form. Garbage in gives empty components
out, never an exception: this runs on every imported row and every search box.

Pipeline: traditional → simplified (OpenCC) → NFKC (full-width → half-width) →
drop punctuation noise → strip administrative prefixes → Chinese numerals to
digits where they are numbers → split road / door number / compound /
building / unit / room.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Long enough for any real address with every prefix; caps regex work on junk.
MAX_LEN = 200

_CJK = "\u4e00-\u9fff\u3400-\u4dbf"
_NUMERAL_CHARS = "零〇○一二两三四五六七八九十百千幺"
_DASHES = "—–―‐‑−~～_/\\|"
_DASH_RE = re.compile(f"[{re.escape(_DASHES)}]")
# Spaces between two numbers separate them ("3 2 201"); elsewhere they are noise.
_SPACED_NUMBERS = re.compile(r"(?<=[0-9])\s+(?=[0-9])")
_NOISE = re.compile(f"[^{_CJK}{_NUMERAL_CHARS}0-9A-Z#-]")

# The compound is whatever text stands before the house numbers, whatever its
# ending (小区, 家园, 苑, 里 …). For comparison only "小区"/"社区" are dropped:
# "华明家园" vs "华明" would be too loose.
GENERIC_SUFFIXES = ("小区", "社区")


# The library's levels, coarse to fine, and the component that names each.
# Here rather than in `rules` because the standard spelling (`canonical`)
# needs them; `rules` and the matcher take them from here.
LEVEL_COMPONENT = {"road": "road", "door": "door_number", "compound": "compound",
                   "building": "building", "unit": "unit", "room": "room"}


@dataclass(frozen=True)
class Components:
    """The six parts of an address, normalised; empty strings where absent.

    One shape for a library entry's columns (`rules`, `services`) and for a
    parsed query (`ParsedAddress`), so the matcher compares them field by field."""

    road: str = ""
    door_number: str = ""
    compound: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(self.components().values())

    def components(self) -> dict[str, str]:
        return {"road": self.road, "door_number": self.door_number, "compound": self.compound,
                "building": self.building, "unit": self.unit, "room": self.room}


@dataclass(frozen=True)
class ParsedAddress(Components):
    """Components parsed from free text.

    `cleaned` is the text after script, width, noise, prefix and numeral
    normalisation; `normalised` the canonical spelling rebuilt from components
    (or `cleaned` when nothing could be parsed)."""

    cleaned: str = ""

    @property
    def normalised(self) -> str:
        return canonical(self) or self.cleaned


EMPTY = ParsedAddress()


# --- script, width, noise -------------------------------------------------

@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    # OpenCC is C++: lone surrogates and NULs would make it raise.
    text = text.encode("utf-8", "ignore").decode("utf-8").replace("\x00", "")
    return str(_t2s().convert(text)) if text else ""


def _basic(text: str) -> str:
    """Script, width, case and noise; no interpretation yet."""
    text = unicodedata.normalize("NFKC", _simplified(text[: MAX_LEN * 2]))
    text = _DASH_RE.sub("-", text.upper())
    text = _SPACED_NUMBERS.sub("-", text)
    text = _NOISE.sub("", text).replace("#", "号")
    return re.sub("-{2,}", "-", text)[:MAX_LEN]


# --- administrative prefixes ----------------------------------------------

_C = f"[{_CJK}]"
# "…区"/"…镇" at the very start is as likely a compound ("丽苑东区", "桃源小镇")
# as a district or town, so those patterns are held back unless a higher level
# (or a listed name) came first; see _strip_generic.
_PROVINCE = re.compile(f"^{_C}{{2,8}}?(?:省|自治区|特别行政区)")
_CITY = re.compile(f"^{_C}{{2,5}}?市(?![场民政])")
_DISTRICT = re.compile(f"^{_C}{{2,4}}?(?:新区|区|县|旗)")
_STREET = re.compile(f"^{_C}{{2,6}}?街道(?:办事处)?")
_TOWN = re.compile(f"^{_C}{{2,4}}?(?:镇|乡)")
_COMPOUND_AREA = re.compile("(?:小|社|园|校|厂|景|营|矿|片|街|宅|业|期|活|属|舍)区$")
_SECTION_AREA = re.compile(f"[东西南北中0-9{_NUMERAL_CHARS}]区$")


def admin_prefixes(names: Iterable[str]) -> tuple[str, ...]:
    """Administrative names to strip, longest first, with "天津" for "天津市".

    Only province and city names get a short form: "华明" for "华明街道" would
    eat the compound "华明家园"."""
    out: set[str] = set()
    for name in names:
        clean = _basic(name) if isinstance(name, str) else ""
        if len(clean) < 2:
            continue
        out.add(clean)
        if clean[-1] in "省市" and len(clean) >= 3:
            out.add(clean[:-1])
    return tuple(sorted(out, key=len, reverse=True))


def _keeps_something(rest: str) -> bool:
    # Stripping must leave a name to match, not just "3号楼…".
    return bool(rest) and bool(re.match(_C, rest))


def strip_admin(text: str, names: tuple[str, ...] = ()) -> str:
    """Drop leading province/city/district/street names, listed or generic."""
    higher = False  # a province/city (or listed name) was stripped before
    for _ in range(8):
        before = text
        for name in names:
            if text.startswith(name) and _keeps_something(text[len(name):]):
                text, higher = text[len(name):], True
                break
        else:
            text, higher = _strip_generic(text, higher)
        if text == before:
            return text
    return text


def _strip_generic(text: str, higher: bool) -> tuple[str, bool]:
    for pattern in (_PROVINCE, _CITY, _DISTRICT, _STREET, _TOWN):
        m = pattern.match(text)
        if not m or not _keeps_something(text[m.end():]):
            continue
        if pattern is _DISTRICT and _looks_like_compound_part(m.group(), higher):
            continue
        if pattern is _TOWN and not higher:
            continue
        return text[m.end():], True
    return text, higher


def _looks_like_compound_part(name: str, higher: bool) -> bool:
    """"丽苑小区" is never a district; "河东区" is one, but only after a city,
    since at the very start it reads like the compound "丽苑东区"."""
    return bool(_COMPOUND_AREA.search(name) or (not higher and _SECTION_AREA.search(name)))


# --- Chinese numerals ------------------------------------------------------

_DIGIT = {"零": 0, "〇": 0, "○": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
          "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_MARKERS = "号院楼|号楼|楼|栋|幢|座|单元|门|室|户|层|期|区|排|弄|号"
# A numeral run is a number when a unit marker or a dash follows it, or when it
# closes the text right after a marker ("二单元二〇一").
_NUMERAL_RUN = re.compile(
    f"[{_NUMERAL_CHARS}]+(?=(?:{_MARKERS}|-))"
    f"|(?<=[元门栋幢座楼号-])[{_NUMERAL_CHARS}]+$"
    f"|(?<=-)[{_NUMERAL_CHARS}]+(?=-|$)"
)


def chinese_number(run: str) -> str:
    """"二十三" → "23", "一〇二"/"幺零二" → "102", "十" → "10"; "" if not a number."""
    if not run or any(ch not in _DIGIT and ch not in _UNIT for ch in run):
        return ""
    if not any(ch in _UNIT for ch in run):
        return "".join(str(_DIGIT[ch]) for ch in run)
    total = digit = 0
    for ch in run:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        else:
            total += (digit or 1) * _UNIT[ch]
            digit = 0
    return str(total + digit)


def _numerals_to_digits(text: str) -> str:
    text = _NUMERAL_RUN.sub(lambda m: chinese_number(m.group()) or m.group(), text)
    # "第3单元" → "3单元"; the ordinal adds nothing.
    return re.sub("第(?=[0-9])", "", text)


def clean(text: object, admin_names: tuple[str, ...] = ()) -> str:
    """The normalised text: simplified, half-width, no noise, no admin prefix,
    numbers as digits. `admin_names` comes from `admin_prefixes`."""
    if not isinstance(text, str):
        return ""
    return _numerals_to_digits(strip_admin(_basic(text), admin_names))


@functools.lru_cache(maxsize=65536)
def clean_name(name: str) -> str:
    """A compound or road name from the library, in the form queries take."""
    return _numerals_to_digits(_basic(name)) if isinstance(name, str) else ""


def core_name(name: str) -> str:
    """Name without a generic "小区"/"社区" ending: "丽苑小区" ~ "丽苑"."""
    for suffix in GENERIC_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


# --- components ------------------------------------------------------------

_LEADING_ZEROS = re.compile("0+(?=[0-9])")
_KEY = re.compile(r"[0-9]+[A-Z]?(?:-[0-9]+)?|[A-Z][0-9]*")
_KEY_MARKERS = re.compile(f"^第|(?:{_MARKERS}|室|户)$")


def component_key(value: object) -> str:
    """"3号楼"/"三号楼"/"03" → "3", "A座" → "A", "201室" → "201"; "" if none."""
    return _component_key(value) if isinstance(value, str) else ""


# A bulk load asks for every room's key: a district's 400,000 rooms share a
# few thousand names ("201室"), and OpenCC on each would be most of the load.
@functools.lru_cache(maxsize=65536)
def _component_key(value: str) -> str:
    if value.isascii() and value.isalnum():
        text = value.upper()
    else:
        text = _KEY_MARKERS.sub("", _basic(value))
        text = chinese_number(text) or _numerals_to_digits(text)
    m = _KEY.search(text)
    return _strip_zeros(m.group()) if m else ""


def _strip_zeros(key: str) -> str:
    """"0201" → "201", "00" → "0"; letters first are left alone ("A01")."""
    m = _LEADING_ZEROS.match(key)
    return key[m.end():] if m else key


_ROAD_SUFFIX = "大街|大道|胡同|路|道|街|巷|里|弄"
# Road names are Chinese, or start with a number ("3号路", "11经路"); a road
# only counts when a door number follows it ("津塘路100号").
_ROAD_DOOR = re.compile(
    f"(?P<road>(?:[0-9]+|{_C})[{_CJK}0-9]{{0,10}}?(?:{_ROAD_SUFFIX}))"
    r"(?P<door>[0-9]+(?:-[0-9]+)?)号(?!楼)"
)
_NUM = r"(?:[0-9]+[A-Z]?|[A-Z][0-9]*)"
_TAIL_START = re.compile(
    f"{_NUM}(?:号院楼|号楼|栋|幢|座|单元|门|室|户|楼|号(?!院))|[0-9]+(?:-[0-9]+)+|[0-9]+$"
)
_TOKEN = re.compile(f"({_NUM})(号院楼|号楼|栋|幢|座|单元|门|室|户|层|楼|号(?!院))?")
_BUILDING_MARKERS = frozenset({"号院楼", "号楼", "栋", "幢", "座"})


def parse(text: object, admin_names: tuple[str, ...] = ()) -> ParsedAddress:
    """Split an address into components. Never raises; junk gives EMPTY."""
    cleaned = clean(text, admin_names)
    if not cleaned:
        return EMPTY
    road = door = ""
    rest = cleaned
    m = _ROAD_DOOR.search(cleaned)
    if m and not re.search("室|单元|号楼|栋|幢", m.group("road")):
        road, door = m.group("road"), _strip_zeros(m.group("door"))
        rest = cleaned[m.end():].removeprefix("院")
    tail = _TAIL_START.search(rest)
    compound = rest[: tail.start()] if tail else rest
    building, unit, room = _house_numbers(rest[tail.start():]) if tail else ("", "", "")
    return ParsedAddress(road, door, compound.strip("-"), building, unit, room, cleaned=cleaned)


def _house_numbers(tail: str) -> tuple[str, str, str]:
    """Building, unit and room from "3号楼2单元201室", "3-2-201", "3栋2门201"…"""
    slots = {"building": "", "unit": "", "room": ""}
    tokens = [(_strip_zeros(n), mark or "") for n, mark in _TOKEN.findall(tail)]
    bare: list[str] = []
    for i, (num, mark) in enumerate(tokens):
        more = i + 1 < len(tokens)
        slot = _slot_for(mark, slots, more)
        if slot is None:
            bare.append(num)
        elif slot and not slots[slot]:
            slots[slot] = num
    _fill_bare(slots, bare[-3:])
    return slots["building"], slots["unit"], slots["room"]


def _slot_for(mark: str, slots: dict[str, str], more: bool) -> str | None:
    if mark in _BUILDING_MARKERS:
        return "building"
    if mark in ("单元", "门"):
        return "unit"
    if mark in ("室", "户"):
        return "room"
    if mark == "楼":  # "3楼2单元" is a building; after one, "5楼" is a floor
        return "building" if not slots["building"] else ""
    if mark == "号":  # "3号2单元201号": 号 names whatever comes next in order
        if more and not slots["building"]:
            return "building"
        if more and not slots["unit"]:
            return "unit"
        return "room"
    return "" if mark else None  # 层 (floor): ignored


def _fill_bare(slots: dict[str, str], bare: list[str]) -> None:
    """Numbers without a marker: the last is the room once a building is known
    ("3栋201", "3-201", "3-2-201"); a lone number is a building ("华明家园3")."""
    if not bare:
        return
    if not slots["building"] and len(bare) == 1 and not slots["unit"]:
        slots["building"] = bare[0]
        return
    if not slots["room"]:
        slots["room"] = bare.pop()
    for name in ("building", "unit"):
        if bare and not slots[name]:
            slots[name] = bare.pop(0)


def canonical(p: Components) -> str:
    """The standard spelling of components: "津塘路100号华明家园3号楼2单元201室"."""
    keys = ((level, getattr(p, field)) for level, field in LEVEL_COMPONENT.items())
    return "".join(spelling(level, key) for level, key in keys if key)


def spelling(level: str, key: str) -> str:
    """A level's own part of a standard address, from its component key:
    "津塘路", "100号", "3号楼", "2单元", "201室"."""
    if level == "door":
        return f"{key}号"
    if level == "building":
        return building_name(key)
    if level == "unit":
        return f"{key}单元"
    if level == "room":
        return f"{key}室"
    return key


def building_name(key: str) -> str:
    """"3" → "3号楼", "A" → "A座" (letters are towers in a compound)."""
    if not key:
        return ""
    return f"{key}座" if key[0].isalpha() else f"{key}号楼"
