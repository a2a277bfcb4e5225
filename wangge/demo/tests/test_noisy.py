"""Department renditions of the population, without a database."""

from __future__ import annotations

import csv
import math
import random
import re
import unicodedata
from collections import Counter
from datetime import date

import pytest

from wangge.core.identity import id_number_is_valid, normalize_phone
from wangge.demo.noisy import (
    DEPARTMENTS,
    FIELDS,
    HOMOPHONES,
    Department,
    department_rows,
    homophone,
    noisy_address,
    noisy_records,
    write_department_file,
)
from wangge.demo.population import Population, generate_population
from wangge.registry import vocab

N_RECORDS = 20_000
BY_CODE = {d.code: d for d in DEPARTMENTS}


@pytest.fixture(scope="module")
def pop() -> Population:
    return generate_population(10_000, 21)


@pytest.fixture(scope="module")
def records(pop) -> list[dict[str, str]]:
    return list(noisy_records(pop, N_RECORDS, 8))


def _plain(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _close(observed: int, total: int, rate: float) -> bool:
    """Within four standard errors, plus a little for rates near zero."""
    return abs(observed / total - rate) <= 4 * math.sqrt(rate * (1 - rate) / total) + 0.005


def test_records_have_the_fields_unique_ids_and_true_people(pop, records):
    assert len(records) == N_RECORDS
    assert len({r["record_id"] for r in records}) == N_RECORDS
    assert all(list(r) == [*FIELDS, "person_id"] for r in records)
    assert all(1 <= int(r["person_id"]) <= len(pop.people) for r in records)
    assert {r["source"] for r in records} == set(BY_CODE)


def test_same_seed_same_records(pop, records):
    assert list(noisy_records(pop, 2_000, 8))[:50] != list(noisy_records(pop, 2_000, 9))[:50]
    assert list(noisy_records(pop, 2_000, 8)) == list(noisy_records(pop, 2_000, 8))


def test_people_appear_in_a_few_departments_some_twice_in_one(records):
    departments: dict[str, set[str]] = {}
    held = Counter((r["source"], r["person_id"]) for r in records)
    for source, pid in held:
        departments.setdefault(pid, set()).add(source)
    mean = sum(len(s) for s in departments.values()) / len(departments)
    assert 2 <= mean <= 4
    assert any(n > 1 for (source, _), n in held.items() if source != "housing")


def test_more_records_than_the_population_holds_are_duplicates():
    small = generate_population(50, 1)
    records = list(noisy_records(small, 1_000, 2))
    assert len(records) == 1_000 and len({r["record_id"] for r in records}) == 1_000


@pytest.mark.parametrize("code", list(BY_CODE))
def test_noise_rates_are_as_configured(pop, records, code):
    dept = BY_CODE[code]
    noise = dept.noise
    mine = [r for r in records if r["source"] == code]
    people = [pop.person(int(r["person_id"])) for r in mine]
    ids = [_plain(r["id_number"]) for r in mine]
    assert _close(sum(not i for i in ids), len(mine), noise.id_missing)
    present = [(i, r) for i, r in zip(ids, mine, strict=True) if i]
    wide = sum(bool(re.search("[０-９]", r["id_number"])) for _, r in present)
    assert _close(wide, len(present), noise.id_fullwidth)
    old = [i for i, p in zip(ids, people, strict=True) if i and p.birth_date.year < 1990]
    assert _close(sum(len(i) == 15 for i in old), len(old), noise.id_old15)
    own_phone = [r for r, p in zip(mine, people, strict=True) if p.phone]
    assert _close(sum(not r["phone"] for r in own_phone), len(own_phone), noise.phone_missing)
    spaced = sum(bool(re.search(r"\s", r["name"])) for r in mine)
    assert _close(spaced, len(mine), noise.name_space)
    if "gender" in dept.fields:
        assert _close(sum(not r["gender"] for r in mine), len(mine), noise.gender_missing)
        assert _close(sum(not r["birth_date"] for r in mine), len(mine), noise.birth_missing)
    else:
        assert not any(r["gender"] or r["birth_date"] for r in mine)


def test_the_hard_variants_all_occur(pop, records):
    names = [r["name"] for r in records]
    ids = [r["id_number"] for r in records]
    assert any("偉" in n or "麗" in n or "華" in n for n in names)
    assert any(len(_plain(i)) == 15 for i in ids)
    assert any(i.endswith("x") for i in ids)
    assert any(len(i) == 18 and not id_number_is_valid(i) for i in ids)
    births = {r["birth_date"] for r in records}
    assert any("年" in b for b in births) and any("/" in b for b in births)
    assert any(re.fullmatch(r"\d{8}", b) for b in births)
    assert any(re.fullmatch(r"\d{4}\.\d\d\.\d\d", b) for b in births)
    assert {r["gender"] for r in records} == {"", "男", "女", "1", "2"}
    addresses = [r["address"] for r in records]
    assert any(re.search(r"\d+-\d+-\d+$", a) for a in addresses)
    assert any("号楼" in a and "单元" in a and not a.startswith("东丽区") for a in addresses)
    renamed = [r for r in records if r["name"] and r["name"] != pop.person(int(r["person_id"])).name]
    assert len(renamed) > N_RECORDS * 0.01


def test_homophones_keep_the_surname_and_the_sound():
    rng = random.Random(1)
    for _ in range(50):
        changed = homophone("王伟", rng)
        assert changed[0] == "王" and changed[1] in HOMOPHONES["伟"]
    assert homophone("欧阳伟", rng).startswith("欧阳")
    assert homophone("王", rng) == "王"


def test_address_variants():
    dept = BY_CODE["grid"]
    rng = random.Random(3)
    seen = {noisy_address("东丽区张贵庄街道丽苑小区3号楼2单元301室", dept.noise, rng)
            for _ in range(400)}
    assert {"丽苑小区3-2-301", "丽苑小区三号楼二单元301"} <= seen
    assert "东丽区张贵庄街道丽苑小区3号楼2单元301室" in seen


def _bad_rows(dept: Department, headers: list[str], rows: list[list[str]],
              today: date) -> set[str]:
    col = {key: headers.index(header) for key, header in dept.columns}
    kinds = set()
    for row in rows:
        if "name" in col and not row[col["name"]]:
            kinds.add("empty_name")
        if "phone" in col and len(normalize_phone(row[col["phone"]])) == 10:
            kinds.add("short_phone")
        value = _plain(row[col["id_number"]]) if "id_number" in col else ""
        if len(value) == 18 and not id_number_is_valid(value):
            kinds.add("bad_id")
        if "birth_date" in col and row[col["birth_date"]]:
            digits = re.findall(r"\d+", row[col["birth_date"]])
            ymd = digits if len(digits) == 3 else [digits[0][:4], digits[0][4:6], digits[0][6:]]
            if date(*map(int, ymd)) > today:
                kinds.add("future_birth")
    return kinds


@pytest.mark.parametrize("code", list(BY_CODE))
def test_department_rows_use_own_headers_and_include_bad_rows(pop, code):
    dept = BY_CODE[code]
    headers, rows = department_rows(pop, dept, 4, limit=3_000)
    assert headers == dept.headers and 0 < len(rows) <= 3_000
    assert all(len(row) == len(headers) for row in rows)
    expected = {"empty_name", "short_phone", "bad_id"} | (
        {"future_birth"} if "birth_date" in dept.fields else set())
    assert _bad_rows(dept, headers, rows, pop.today) >= expected


def test_each_department_names_its_columns_its_own_way():
    id_headers = {dict(d.columns)["id_number"] for d in DEPARTMENTS}
    assert {"公民身份号码", "身份证号", "证件号码"} <= id_headers
    assert len({tuple(d.headers) for d in DEPARTMENTS}) == len(DEPARTMENTS)


def test_department_columns_use_spellings_the_vocabularies_accept(pop):
    spellings = {"relation": vocab.RELATION_SPELLINGS, "residence_type": vocab.RESIDENCE_SPELLINGS,
                 "house_use": vocab.HOUSE_USE_SPELLINGS, "gender": vocab.GENDER_SPELLINGS}
    for dept in (BY_CODE["police"], BY_CODE["grid"], BY_CODE["civil"]):
        rows = department_rows(pop, dept, 4, limit=2_000)[1]
        keys = [key for key, _ in dept.columns]
        for row in rows:
            for key, value in zip(keys, row, strict=True):
                if key in spellings and value:
                    assert vocab.lookup(spellings[key], value), (key, value)
                if key == "tags" and value:
                    assert all(vocab.lookup(vocab.TAG_SPELLINGS, t) for t in value.split("、"))
        assert any(row[keys.index("tags")] for row in rows if "tags" in keys) or "tags" not in keys


def test_files_round_trip_in_the_departments_encodings(pop, tmp_path):
    for dept in DEPARTMENTS:
        headers, rows = department_rows(pop, dept, 4, limit=200)
        path = tmp_path / f"{dept.code}.csv"
        write_department_file(path, headers, rows, encoding=dept.file_encoding)
        with path.open(encoding=dept.file_encoding, newline="") as f:
            back = list(csv.reader(f))
        assert back[0] == headers and len(back) == len(rows) + 1
