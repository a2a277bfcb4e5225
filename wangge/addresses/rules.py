"""How library entries nest, what their components and names are, how codes
are made. Pure (no Django): `add_address` and `bulk_load_addresses` both go
through here, so a row written one way looks exactly like a row written the
other, and the matcher can compare components directly."""

from __future__ import annotations

from dataclasses import replace

from wangge.addresses import normalize
from wangge.addresses.normalize import Components

LEVELS = tuple(normalize.LEVEL_COMPONENT)
LEVEL_NAMES = {"road": "街路巷", "door": "门牌", "compound": "小区", "building": "楼栋",
               "unit": "单元", "room": "户室"}

# Allowed parent levels (None: top of the library). A building may stand
# straight on a door number, a room straight in a building without units.
PARENT_LEVELS: dict[str, tuple[str | None, ...]] = {
    "road": (None,),
    "door": ("road",),
    "compound": (None, "door"),
    "building": ("compound", "door"),
    "unit": ("building",),
    "room": ("unit", "building"),
}
# Code letter for each level under its parent; see child_code.
_CODE_LETTER = {"road": "R", "door": "D", "compound": "C", "building": "B", "unit": "U",
                "room": "H"}
_CODE_WIDTH = {"road": 6, "door": 4, "compound": 4, "building": 3, "unit": 2, "room": 4}
MAX_CODE_LEN = 40


TOP = Components()


def nesting_problem(level: str, parent_level: str | None) -> str | None:
    """A Chinese sentence saying why `level` cannot sit under `parent_level`."""
    if level not in PARENT_LEVELS:
        return f"未知的地址层级 {level!r}，可用：{'、'.join(LEVELS)}"
    allowed = PARENT_LEVELS[level]
    if parent_level in allowed:
        return None
    names = "、".join(LEVEL_NAMES[p] if p else "顶层" for p in allowed)
    where = LEVEL_NAMES.get(parent_level or "", "顶层") if parent_level else "顶层"
    return f"{LEVEL_NAMES[level]}不能放在{where}之下，只能放在：{names}"


def components_for(level: str, name: str, parent: Components = TOP) -> Components:
    """The parent's components plus this level's own, normalised. The own
    component is "" when the name gives nothing usable ("楼" for a building)."""
    if level in ("road", "compound"):
        own = normalize.clean_name(name)
    else:
        own = normalize.component_key(name)
    return replace(parent, **{normalize.LEVEL_COMPONENT[level]: own})


def own_component(level: str, comps: Components) -> str:
    return str(getattr(comps, normalize.LEVEL_COMPONENT[level]))


def display_name(level: str, comps: Components) -> str:
    """This level's standard spelling: "津塘路", "100号", "3号楼", "2单元", "201室"."""
    return normalize.spelling(level, own_component(level, comps))


def full_name(parent_full_name: str, level: str, comps: Components, prefix: str = "") -> str:
    """The parent's full name and this level's own name. With a `prefix`
    (administrative names: "东丽区华明街道") the full name starts afresh: the
    prefix and the standard spelling of all components, whatever the parent's
    full name held; children carry it on through theirs."""
    if prefix:
        return prefix + normalize.canonical(comps)
    return f"{parent_full_name}{display_name(level, comps)}"


def child_code(level: str, seq: int, *, parent_code: str | None, grid_code: str) -> str:
    """A new entry's code. Compounds are numbered within their grid, so the
    code alone tells where a compound is; roads cross grids and get a plain
    number; everything else extends its parent's code."""
    tail = f"{_CODE_LETTER[level]}{seq:0{_CODE_WIDTH[level]}d}"
    if level == "road":
        return tail
    if level == "compound":
        return f"{grid_code}{tail}"
    return f"{parent_code}{tail}"
