"""Parsed free text → the standard address it most likely means.

Pure module (no Django), held in memory per process by the selectors. Every
lookup is a dict access; only a compound name that matches nothing exactly
falls back to containment and then to character-bigram similarity, so a match
stays well under a millisecond on a district's library (10,000 compounds,
400,000 rooms; see tests/test_matcher.py::test_match_is_fast_on_a_district).

The answer is the deepest entry the text resolves to. Parts of the text the
library does not know are reported in `unmatched` ("room 1801") rather than
guessed, and close alternatives come back as `candidates`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from wangge.addresses import normalize
from wangge.addresses.normalize import ParsedAddress

LEVELS = tuple(normalize.LEVEL_COMPONENT)
RANK = {level: i for i, level in enumerate(LEVELS)}

# How much each kind of evidence for a compound is worth; the order matters
# more than the values (exact > alias > containment > fuzzy).
EXACT, CORE, ALIAS, ALIAS_CORE = 1.0, 0.97, 0.95, 0.93
CONTAINS, CONTAINED, FUZZY_MAX = 0.85, 0.75, 0.7
FUZZY_MIN_DICE = 0.5
# A step that skipped a level the text did not name ("3-201" with units in
# the library), and the cost of each part of the text left unresolved.
SKIPPED_LEVEL, PER_UNMATCHED = 0.9, 0.85
TIE = 0.02
# Other readings this close to the best are listed as candidates.
CLOSE = 0.15
MAX_ANCHORS, MAX_CANDIDATES = 8, 10
# Most compounds scored by similarity for one text (bounds the slow path).
FUZZY_POOL = 300
_CONTAIN_SCAN = 40


@dataclass(frozen=True, slots=True)
class AddressRow:
    """One library entry; components already normalised (see services).

    `full_name` may be left empty below compound level: it is rebuilt from
    the parent's, which saves most of the index's memory on 400,000 rooms.
    The component fields repeat `normalize.Components` on purpose: a dataclass
    puts inherited fields first, and the selectors and tests build rows
    positionally with `code` first; slots keep 400,000 of them small."""

    code: str
    level: str
    parent_code: str | None = None
    full_name: str = ""
    road: str = ""
    door_number: str = ""
    compound: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    aliases: tuple[str, ...] = ()
    grid_code: str = ""
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class Candidate:
    code: str
    level: str
    full_name: str
    grid_code: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    match: AddressRow | None
    full_name: str = ""
    confidence: float = 0.0
    resolved_level: str | None = None
    unmatched: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()


NO_MATCH = MatchResult(None)
Allow = Callable[[AddressRow], bool]


@dataclass
class _Outcome:
    code: str
    confidence: float
    unmatched: tuple[str, ...] = ()
    alternatives: list[tuple[str, float]] = field(default_factory=list)


def own_key(row: AddressRow) -> str:
    """The component that names a row among its siblings."""
    name = normalize.LEVEL_COMPONENT.get(row.level)
    return str(getattr(row, name)) if name else ""


def bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


class AddressIndex:
    def __init__(self, rows: Iterable[AddressRow], admin_names: Iterable[str] = ()) -> None:
        self.admin = normalize.admin_prefixes(admin_names)
        self._rows: dict[str, AddressRow] = {}
        self._kids: dict[str, dict[tuple[str, str], str]] = {}
        self._names: dict[str, dict[str, float]] = {}   # compound key → {code: score}
        self._roads: dict[str, list[str]] = {}          # road name → road codes
        self._doors: dict[tuple[str, str], list[str]] = {}  # (road, door) → door/compound codes
        self._road_names: set[str] = set()
        self._entries: list[tuple[str, str, frozenset[str]]] = []  # (code, name, bigrams)
        self._postings: dict[str, list[int]] = {}
        # Hundreds of thousands of small objects: the cyclic GC would rescan
        # them over and over while they are created and none of them is garbage.
        paused = gc.isenabled()
        gc.disable()
        try:
            for row in rows:
                self._add(row)
        finally:
            if paused:
                gc.enable()

    def __len__(self) -> int:
        return len(self._rows)

    # --- building -------------------------------------------------------

    def _add(self, row: AddressRow) -> None:
        self._rows[row.code] = row
        if row.parent_code:
            key = (row.level, own_key(row))
            self._kids.setdefault(row.parent_code, {}).setdefault(key, row.code)
        if row.level == "compound":
            self._add_compound_names(row)
        elif row.level == "road":
            for name in {normalize.clean_name(n) for n in (row.road, *row.aliases)} - {""}:
                self._roads.setdefault(name, []).append(row.code)
                self._road_names.add(name)
        if row.level in ("door", "compound") and row.road and row.door_number:
            road = normalize.clean_name(row.road)
            self._road_names.add(road)
            self._doors.setdefault((road, row.door_number), []).append(row.code)

    def _add_compound_names(self, row: AddressRow) -> None:
        variants = [(row.compound, EXACT, CORE)] + [(a, ALIAS, ALIAS_CORE) for a in row.aliases]
        for raw, full_score, core_score in variants:
            name = normalize.clean_name(raw)
            if not name:
                continue
            core = normalize.core_name(name)
            self._name(name, row.code, full_score)
            self._name(core, row.code, core_score)
            grams = frozenset(bigrams(core))
            entry = len(self._entries)
            self._entries.append((row.code, core, grams))
            for g in grams:
                self._postings.setdefault(g, []).append(entry)

    def _name(self, key: str, code: str, score: float) -> None:
        scores = self._names.setdefault(key, {})
        scores[code] = max(score, scores.get(code, 0.0))

    # --- reading --------------------------------------------------------

    def get(self, code: str) -> AddressRow | None:
        return self._rows.get(code)

    def children(self, code: str) -> list[str]:
        return list(self._kids.get(code, {}).values())

    def full_name(self, code: str) -> str:
        row = self._rows.get(code)
        if row is None:
            return ""
        if row.full_name:
            return row.full_name
        parent = self.full_name(row.parent_code) if row.parent_code else ""
        return parent + label(row)

    def parse(self, text: object) -> ParsedAddress:
        return normalize.parse(text, self.admin)

    def match_text(self, text: object, allow: Allow | None = None
                   ) -> tuple[ParsedAddress, MatchResult]:
        parsed = self.parse(text)
        return parsed, self.match(parsed, allow)

    # --- matching -------------------------------------------------------

    def match(self, q: ParsedAddress, allow: Allow | None = None) -> MatchResult:
        """Best entry for `q`. `allow` (scope) is applied to what would be
        returned, so an entry the caller may not see is neither the match nor
        a candidate, and cannot make an allowed one look ambiguous."""
        if q.is_empty:
            return NO_MATCH
        anchors = self._anchors(q)
        outcomes = [self._descend(code, score, q) for code, score in anchors]
        if not outcomes:
            outcomes = self._road_only(q)
        ok = [o for o in outcomes if allow is None or allow(self._rows[o.code])]
        if not ok:
            return NO_MATCH
        ok.sort(key=lambda o: (-o.confidence, -RANK[self._rows[o.code].level], o.code))
        best = ok[0]
        tied = [o for o in ok if best.confidence - o.confidence <= TIE
                and self._rows[o.code].level == self._rows[best.code].level]
        if len({o.code for o in tied}) > 1:
            return MatchResult(None, candidates=self._candidates(
                [(o.code, o.confidence) for o in tied], allow))
        return self._result(best, ok[1:], allow)

    def _result(self, best: _Outcome, others: list[_Outcome], allow: Allow | None) -> MatchResult:
        row = self._rows[best.code]
        alternatives = best.alternatives or _close_readings(best, others)
        if not alternatives:
            # The text stopped here (or below here is unknown): what lies below,
            # each as consistent with the text as the match itself.
            alternatives = [(c, best.confidence)
                            for c in self.children(row.code)[:MAX_CANDIDATES]]
        return MatchResult(
            match=row, full_name=self.full_name(row.code),
            confidence=round(min(best.confidence, 1.0), 3), resolved_level=row.level,
            unmatched=best.unmatched, candidates=self._candidates(alternatives, allow))

    def _candidates(self, scored: list[tuple[str, float]], allow: Allow | None
                    ) -> tuple[Candidate, ...]:
        out: list[Candidate] = []
        for code, score in scored:
            row = self._rows[code]
            if allow is not None and not allow(row):
                continue
            out.append(Candidate(code, row.level, self.full_name(code), row.grid_code,
                                 round(score, 3)))
        return tuple(out[:MAX_CANDIDATES])

    # --- anchors: the compound or door the text starts from -------------

    def _anchors(self, q: ParsedAddress) -> list[tuple[str, float]]:
        doors, at_door = self._at_door(q) if q.road and q.door_number else ([], [])
        named = self.compound_scores(q.compound) if q.compound else []
        if at_door and named:
            by_name = dict(named)
            both = [c for c in at_door if c in by_name]
            if both:
                return [(c, max(0.95, by_name[c])) for c in both]
            # Door and name disagree: keep both readings, neither trusted much.
            return [(c, s * 0.7) for c, s in _door_reading(doors, at_door) + named][:MAX_ANCHORS]
        if doors or at_door:
            # Text after the door that names nothing ("东侧") costs a little.
            factor = 0.9 if q.compound else 1.0
            return [(c, s * factor) for c, s in _door_reading(doors, at_door)]
        return named[:MAX_ANCHORS]

    def _at_door(self, q: ParsedAddress) -> tuple[list[str], list[str]]:
        """Door entries at the road and number, and the compounds behind them."""
        road = self._known_road(q.road)
        codes = self._doors.get((road, q.door_number), []) if road else []
        doors = [c for c in codes if self._rows[c].level == "door"]
        compounds = [c for c in codes if self._rows[c].level == "compound"]
        for door in doors:
            compounds += [c for c in self.children(door)
                          if self._rows[c].level == "compound" and c not in compounds]
        return doors, compounds

    def _known_road(self, road: str) -> str:
        """The road as the library names it; admin text left in front of it
        ("东丽区津塘路") is dropped by trying ever shorter tails."""
        for i in range(max(len(road) - 1, 0)):
            if road[i:] in self._road_names:
                return road[i:]
        return ""

    def compound_scores(self, text: str) -> list[tuple[str, float]]:
        """Compounds the text may name, best first: exact or alias, then
        containment either way, then bigram similarity."""
        name = normalize.core_name(text)
        for key in (text, name):
            if key in self._names:
                return _ranked(self._names[key])
        merged: dict[str, float] = {}
        for found in (self._containing(text), self._contained(name), self._fuzzy(name)):
            for code, score in found:
                merged[code] = max(score, merged.get(code, 0.0))
        return _ranked(merged)

    def _containing(self, text: str) -> list[tuple[str, float]]:
        """Known names inside the text ("东丽华明家园东侧" → 华明家园), longest
        first. A two-character name must cover half the text to count: "华明"
        inside "华明家苑" is not evidence for the compound called "华明"."""
        text = text[:_CONTAIN_SCAN]
        for size in range(len(text) - 1, 1, -1):
            if size == 2 and len(text) > 4:
                break
            found: dict[str, float] = {}
            for i in range(len(text) - size + 1):
                for code, score in self._names.get(text[i:i + size], {}).items():
                    found[code] = max(found.get(code, 0.0), score * CONTAINS)
            if found:
                return _ranked(found)
        return []

    def _contained(self, name: str) -> list[tuple[str, float]]:
        """Known names that contain the text ("华明" → 华明家园)."""
        if len(name) < 2:
            return []
        posting = min((self._postings.get(g, []) for g in bigrams(name)), key=len)
        found = {self._entries[e][0]: CONTAINED for e in posting if name in self._entries[e][1]}
        return _ranked(found)

    def _fuzzy(self, name: str) -> list[tuple[str, float]]:
        """Dice similarity on character bigrams. Candidates come from the
        rarest bigrams only, so "家园" (shared by hundreds) costs nothing;
        a name sharing nothing but "家园" with the text is no match anyway."""
        grams = bigrams(name)
        pool: set[int] = set()
        for posting in sorted((self._postings.get(g, []) for g in grams), key=len):
            if pool and len(pool) + len(posting) > FUZZY_POOL:
                break
            pool.update(posting[:FUZZY_POOL])
        found: dict[str, float] = {}
        for entry in pool:
            code, _, other = self._entries[entry]
            dice = 2 * len(grams & other) / (len(grams) + len(other))
            if dice >= FUZZY_MIN_DICE:
                found[code] = max(found.get(code, 0.0), FUZZY_MAX * dice)
        return _ranked(found)

    # --- descent: building → unit → room --------------------------------

    def _descend(self, anchor: str, score: float, q: ParsedAddress) -> _Outcome:
        parts = [(lv, key) for lv, key in
                 (("building", q.building), ("unit", q.unit), ("room", q.room)) if key]
        node, conf, i = anchor, score, 0
        while i < len(parts):
            level, key = parts[i]
            hits = self._below(node, level, key)
            if not hits and level == "unit" and i + 1 < len(parts):
                # Rooms hang straight on the building here: the unit is not kept.
                hits = [(c, f * SKIPPED_LEVEL) for c, f in self._below(node, *parts[i + 1])]
                i += 1 if hits else 0
            if len(hits) != 1:
                unmatched = tuple(f"{lv} {k}" for lv, k in parts[i:])
                return _Outcome(node, conf * PER_UNMATCHED ** len(unmatched),
                                () if len(hits) > 1 else unmatched, hits)
            node, conf, i = hits[0][0], conf * hits[0][1], i + 1
        return _Outcome(node, conf)

    def _below(self, node: str, level: str, key: str) -> list[tuple[str, float]]:
        """The child of `node` at `level` named `key`, or, one level further
        down, every such grandchild ("3-201": a room under one of the units)."""
        direct = self._kids.get(node, {}).get((level, key))
        if direct:
            return [(direct, 1.0)]
        hits: list[tuple[str, float]] = []
        for child in self.children(node):
            if RANK[self._rows[child].level] < RANK[level]:
                found = self._kids.get(child, {}).get((level, key))
                if found:
                    hits.append((found, SKIPPED_LEVEL))
        return hits

    def _road_only(self, q: ParsedAddress) -> list[_Outcome]:
        """A road the library knows, when nothing finer resolved."""
        road = self._known_road(q.road) if q.road else ""
        if not road and q.compound in self._roads:
            road = q.compound
        codes = self._roads.get(road, [])
        parts = [("door", q.door_number), ("building", q.building), ("unit", q.unit),
                 ("room", q.room)]
        unmatched = tuple(f"{lv} {k}" for lv, k in parts if k)
        conf = 0.9 * PER_UNMATCHED ** len(unmatched)
        return [_Outcome(code, conf, unmatched) for code in codes]


def _close_readings(best: _Outcome, others: list[_Outcome]) -> list[tuple[str, float]]:
    """Other readings nearly as good as the best, each once (`others` is sorted)."""
    seen = {best.code}
    out: list[tuple[str, float]] = []
    for o in others:
        if o.code not in seen and best.confidence - o.confidence < CLOSE:
            seen.add(o.code)
            out.append((o.code, o.confidence))
    return out


def _door_reading(doors: list[str], compounds: list[str]) -> list[tuple[str, float]]:
    """One compound behind the door is the door's meaning; with several, start
    from the door and let the building number pick among them."""
    if len(compounds) == 1 or (compounds and not doors):
        return [(c, 0.95) for c in compounds]
    return [(c, 0.95) for c in doors]


def _ranked(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def label(row: AddressRow) -> str:
    """This level's part of the full name: "3号楼", "2单元", "201室"…"""
    return normalize.spelling(row.level, own_key(row))
