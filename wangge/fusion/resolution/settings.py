"""The Splink model: comparisons and blocking rules over the `features` table.

Every level is plain DuckDB SQL on the precomputed feature columns, so scoring
a pair does no string normalisation at all.
"""

from __future__ import annotations

from typing import Any

# Each rule is an equi-join, so DuckDB hash-joins it; Splink removes pairs an
# earlier rule already produced. A rule exists for each way two records of one
# person can still agree exactly despite the noise. Cost follows the pairs: on
# the benchmark's 1,000,000 records they come to 2.4 million, 1.3 million from
# the ID, 0.76 million more from room + family name (mostly relatives, but 14
# thousand true pairs nothing else finds), 5 thousand from the three typo rules.
BLOCKING_RULES: tuple[str, ...] = (
    # same ID number (after 15→18, full-width, x)
    "l.id18 = r.id18",
    # same phone
    "l.phone = r.phone",
    # same name by sound and same birth date: traditional script, homophones
    "l.name_py = r.name_py and l.birth = r.birth",
    # A typo'd ID still agrees outside the digit that went wrong: one rule
    # per part it may have hit (region and year; month and day; sequence and
    # check digit), the name keeping each block small.
    "l.name_py = r.name_py and substr(l.id18, 11) = substr(r.id18, 11)",
    "l.name_py = r.name_py and substr(l.id18, 1, 6) = substr(r.id18, 1, 6) "
    "and substr(l.id18, 15) = substr(r.id18, 15)",
    "l.name_py = r.name_py and substr(l.id18, 1, 14) = substr(r.id18, 1, 14)",
    # same room and family name: a record with neither ID nor phone, or one
    # under a former name
    "l.addr_room = r.addr_room and l.surname_py = r.surname_py",
    "l.addr_code = r.addr_code and l.surname_py = r.surname_py",
    # same name in the same building: a move within the compound, or no room
    "l.name_py = r.name_py and l.addr_bldg = r.addr_bldg",
)

# EM sees pairs from these rules; each leaves the comparisons it does not use
# free to be estimated. Not the phone: a child's record often carries the
# parent's number, and EM would learn from those household pairs that names
# and birth dates of one person often disagree.
TRAINING_RULES: tuple[str, ...] = (
    "l.id18 = r.id18",
    "l.name_py = r.name_py and l.birth = r.birth",
)


def _level(sql: str, label: str, *, null: bool = False, **extra: Any) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    level.update(extra)
    return level


def _comparison(name: str, description: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"output_column_name": name, "comparison_description": description,
            "comparison_levels": [*levels, _level("ELSE", "else")]}


def _null(*cols: str) -> dict[str, Any]:
    return _level(" OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols), "null", null=True)


ID_COMPARISON = _comparison("id_number", "ID number", [
    _null("id18"),
    _level("id18_l = id18_r", "exact"),
    # One side fails its check digit: one wrong or swapped digit.
    _level("(NOT id_valid_l OR NOT id_valid_r) AND damerau_levenshtein(id18_l, id18_r) <= 1",
           "typo"),
    _level("(NOT id_valid_l OR NOT id_valid_r) AND levenshtein(id18_l, id18_r) <= 2", "two typos"),
    # Both pass the check digit yet differ: two people.
    _level("id_valid_l AND id_valid_r", "different valid IDs"),
])

NAME_COMPARISON = _comparison("name", "Name (simplified, pinyin)", [
    _null("name_s"),
    _level("name_s_l = name_s_r", "exact"),
    _level("name_py_l = name_py_r", "same pinyin"),
    _level("jaro_winkler_similarity(name_py_l, name_py_r) >= 0.9", "pinyin JW >= 0.9"),
])

BIRTH_COMPARISON = _comparison("birth_date", "Birth date", [
    _null("birth"),
    _level("birth_l = birth_r", "exact"),
    # What clerks get wrong: a digit, day and month swapped, a day off.
    _level("damerau_levenshtein(birth_l, birth_r) <= 1 OR "
           "(substr(birth_l, 1, 4) = substr(birth_r, 1, 4) AND "
           "substr(birth_l, 5, 2) = substr(birth_r, 7, 2) AND "
           "substr(birth_l, 7, 2) = substr(birth_r, 5, 2)) OR "
           "abs(date_diff('day', strptime(birth_l, '%Y%m%d'), strptime(birth_r, '%Y%m%d'))) <= 1",
           "one digit, day/month swapped or a day off"),
])

PHONE_COMPARISON = _comparison("phone", "Phone", [
    _null("phone"),
    _level("phone_l = phone_r", "exact"),
])

ADDRESS_COMPARISON = _comparison("address", "Address (library code, room, building, compound)", [
    _level("(addr_code_l IS NULL OR addr_code_r IS NULL) AND "
           "(addr_compound_l IS NULL OR addr_compound_r IS NULL)", "null", null=True),
    _level("addr_code_l = addr_code_r", "same library room"),
    _level("addr_room_l = addr_room_r", "same room"),
    _level("addr_bldg_l = addr_bldg_r", "same building"),
    _level("addr_compound_l = addr_compound_r", "same compound"),
])

GENDER_COMPARISON = _comparison("gender", "Gender", [
    _null("gender"),
    _level("gender_l = gender_r", "exact"),
])

COMPARISONS = (ID_COMPARISON, NAME_COMPARISON, BIRTH_COMPARISON, PHONE_COMPARISON,
               ADDRESS_COMPARISON, GENDER_COMPARISON)


def untrained_settings(probability_two_random_records_match: float = 1e-5) -> dict[str, Any]:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "probability_two_random_records_match": probability_two_random_records_match,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in BLOCKING_RULES],
        "comparisons": [dict(c) for c in COMPARISONS],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }
