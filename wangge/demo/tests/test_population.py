"""The true population, without a database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest

from wangge.core.identity import parse_credit_code, parse_id_number
from wangge.demo.population import Population, generate_population, org_code_check, split_name
from wangge.registry import vocab


@pytest.fixture(scope="module")
def pop() -> Population:
    return generate_population(12_000, 11)


def test_same_seed_same_population_other_seed_other():
    a = generate_population(1_500, 3)
    b = generate_population(1_500, 3)
    c = generate_population(1_500, 4)
    assert a == b
    assert a.people != c.people


def test_exactly_n_people_and_ids_index_their_lists(pop):
    assert len(pop.people) == 12_000
    assert all(p.pid == i for i, p in enumerate(pop.people, start=1))
    assert all(h.hid == i for i, h in enumerate(pop.households, start=1))
    assert all(o.oid == i for i, o in enumerate(pop.organisations, start=1))


def test_id_numbers_are_valid_unique_and_agree_with_gender_and_birth(pop):
    assert len({p.id_number for p in pop.people}) == len(pop.people)
    for p in pop.people:
        parsed = parse_id_number(p.id_number, today=pop.today)
        assert (parsed.birth_date, parsed.gender) == (p.birth_date, p.gender)


def test_values_come_from_the_vocabularies(pop):
    for p in pop.people:
        assert p.residence_type in vocab.RESIDENCE_TYPES
        assert p.relation in vocab.RELATIONS
        assert len(p.hukou_area) == 6 and p.hukou_area.isdigit()
        for tag, since in p.tags:
            assert tag in vocab.TAGS
            assert p.birth_date <= since <= pop.today
    assert {h.use for h in pop.houses} == set(vocab.HOUSE_USES)
    assert {o.org_type for o in pop.organisations} <= set(vocab.ORG_TYPES)


def test_households_hold_together(pop):
    members: dict[int, list[int]] = {}
    for p in pop.people:
        members.setdefault(p.household, []).append(p.pid)
    for h in pop.households:
        head = pop.person(h.head_pid)
        assert head.relation == "head" and head.household == h.hid
        assert all(pop.person(pid).address == h.address for pid in members[h.hid])
        assert 1 <= len(members[h.hid]) <= 5


def test_shares_look_like_a_tianjin_district(pop):
    n = len(pop.people)
    share = Counter(p.residence_type for p in pop.people)
    tags = Counter(t for p in pop.people for t, _ in p.tags)
    assert 0.17 <= sum(p.age_on(pop.today) >= 60 for p in pop.people) / n <= 0.26
    assert 0.16 <= share["liudong"] / n <= 0.25
    assert 0 < share["jingwai"] / n < 0.01
    assert 0.03 <= tags["elderly_alone"] / n <= 0.05
    assert tags["empty_nest"] and tags["dibao"] and tags["disabled"]
    rented = sum(h.use == "rented" for h in pop.houses) / len(pop.houses)
    assert 0.1 <= rented <= 0.2
    assert any(h.use == "vacant" for h in pop.houses)


def test_common_names_namesakes_and_twins_are_there(pop):
    names = Counter(p.name for p in pop.people)
    assert names["王伟"] > 10 and names["张伟"] > 10 and names["李娜"] > 5
    by_name_birth = Counter((p.name, p.birth_date) for p in pop.people)
    assert sum(1 for n in by_name_birth.values() if n > 1) >= 10
    twins = Counter((p.household, p.birth_date, split_name(p.name)[0]) for p in pop.people
                    if p.relation in ("child", "grandchild"))
    assert sum(1 for n in twins.values() if n > 1) >= 10


def test_tenancies_run_on_and_some_end_soon(pop):
    leases = [t for h in pop.houses if h.use == "rented" for t in h.tenants]
    assert leases and all(start <= pop.today for _, start, _ in leases)
    ends = [end for _, _, end in leases if end is not None]
    assert all(end > pop.today for end in ends)
    assert any(end <= pop.today + timedelta(days=60) for end in ends)
    assert any(end is None for _, _, end in leases)


def test_organisations_have_valid_codes_reps_and_a_long_tail(pop):
    assert len(pop.organisations) == 12_000 // 40
    for o in pop.organisations:
        assert parse_credit_code(o.credit_code) == o.credit_code
        assert org_code_check(o.credit_code[8:16]) == o.credit_code[16]
        assert pop.person(o.legal_rep_pid).age_on(pop.today) >= 18
    assert len({o.name for o in pop.organisations}) == len(pop.organisations)
    staff = sorted(o.staff for o in pop.organisations)
    assert staff[0] >= 1 and staff[-1] > 20 * staff[len(staff) // 2]
    employed = [p for p in pop.people if p.employer is not None]
    assert all(18 <= p.age_on(pop.today) < 65 for p in employed)


def test_given_rooms_are_used_and_some_stand_empty():
    rooms = [(f"R{i:04d}", f"东丽区华明街道华明家园{i // 20 + 1}号楼1单元{i % 20 + 1}01室")
             for i in range(400)]
    pop = generate_population(900, 5, rooms=rooms)
    codes = dict(rooms)
    assert all(p.room_code in codes and codes[p.room_code] == p.address for p in pop.people)
    assert {h.room_code for h in pop.houses} == set(codes)
    assert any(h.use == "vacant" for h in pop.houses)


def test_the_modules_do_not_need_django():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = ("import sys, wangge.demo.population, wangge.demo.noisy;"
            "sys.exit('django' in sys.modules)")
    # A fresh interpreter: this one has Django loaded by pytest-django.
    done = subprocess.run([sys.executable, "-c", code], env=env, check=False)  # noqa: S603
    assert done.returncode == 0
