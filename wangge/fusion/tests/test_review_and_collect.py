"""Review decisions that survive later runs; campaigns that ask only for what
is missing; residents' QR self-registration confirmed by the grid worker;
the quality report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.core.errors import InvalidInput, NotFound, OutOfScope
from wangge.fusion import collect, selectors
from wangge.fusion.linking import link_pending
from wangge.fusion.models import Decision, ReviewPair
from wangge.fusion.services import decide_pair
from wangge.registry.models import Person, Provenance, SourceRecord
from wangge.testing import city
from wangge.testing import registry as reg
from wangge.testing.addresses import ROOM_3_2_201

pytestmark = pytest.mark.django_db


def _pair(a: SourceRecord, b: SourceRecord) -> ReviewPair:
    left, right = sorted((a, b), key=lambda r: r.pk)
    return ReviewPair.objects.create(left=left, right=right, probability=0.5, grid_code=left.grid_code)


def test_a_different_verdict_splits_and_survives_a_full_run(fused, street_admin):
    li = Person.objects.get(id_number=reg.LI_NA)
    police, health = sorted(li.records.all(), key=lambda r: r.source.code != "police")
    pair = _pair(police, health)
    decide_pair(street_admin, pair, Decision.DIFFERENT, "不同人")
    health.refresh_from_db()
    assert health.person_id != police.person_id
    link_pending(full=True)
    police.refresh_from_db()
    health.refresh_from_db()
    assert health.person_id != police.person_id, "a reviewer's verdict must survive a later run"


def test_a_same_verdict_merges_and_survives(fused, street_admin):
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    li = Person.objects.get(id_number=reg.LI_NA)
    a, b = wang.records.all()[0], li.records.all()[0]
    decide_pair(street_admin, _pair(a, b), Decision.SAME)
    link_pending(full=True)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.person_id == b.person_id


def test_a_pair_cannot_be_decided_twice_or_with_a_bad_verdict(fused, street_admin):
    records = list(SourceRecord.objects.order_by("pk")[:2])
    pair = _pair(*records)
    with pytest.raises(InvalidInput):
        decide_pair(street_admin, pair, "maybe")
    decide_pair(street_admin, pair, Decision.DIFFERENT)
    with pytest.raises(InvalidInput, match="已由他人处理"):
        decide_pair(street_admin, pair, Decision.SAME)


def test_review_queue_is_scoped(fused, outsider, worker_a):
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    pair = _pair(*wang.records.all()[:2])
    assert list(selectors.review_queue(worker_a)) == [pair]
    assert not selectors.review_queue(outsider).exists()
    with pytest.raises(NotFound):
        selectors.get_review_pair(outsider, pair.pk)


def _campaign(actor, **extra):
    return collect.create_campaign(actor, name="电话与民族核查", fields=["phones", "ethnicity"],
                                   area_code=city.COMMUNITY_WEST, **extra)


def test_campaign_asks_only_missing_or_stale_fields(fused, street_admin, worker_a):
    campaign = _campaign(street_admin, max_age_days=30)
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    asks = {a.field: a for a in collect.asks_for(worker_a, campaign, wang)}
    assert set(asks) == {"ethnicity"}, "the phone is known and fresh"
    Provenance.objects.filter(person=wang, field="phones").update(observed_at=timezone.now() - timedelta(days=90))
    asks = {a.field: a for a in collect.asks_for(worker_a, campaign, wang)}
    assert asks["phones"].current == "13812345678" and "过期" in asks["phones"].reason


def test_a_submission_becomes_a_grid_record_and_updates_the_golden_record(fused, street_admin, worker_a):
    campaign = _campaign(street_admin)
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    record = collect.submit_campaign(worker_a, campaign, wang, {"ethnicity": "回族", "phones": "13500001111"})
    assert record.source.channel == "grid_form" and record.person_id == wang.pk
    wang.refresh_from_db()
    assert wang.ethnicity == "回族" and "13500001111" in wang.phones
    assert collect.campaign_progress(worker_a, campaign) == [
        {"grid_code": city.GRID_A, "targets": 2, "done": 1, "share": 0.5}]


def test_grid_workers_cannot_start_campaigns_or_collect_outside_scope(fused, street_admin, worker_a, outsider):
    with pytest.raises(OutOfScope):
        _campaign(worker_a)
    campaign = _campaign(street_admin)
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    with pytest.raises(NotFound):
        collect.submit_campaign(outsider, campaign, wang, {"ethnicity": "汉族"})


def test_bad_campaign_answers_are_refused(fused, street_admin, worker_a):
    campaign = _campaign(street_admin)
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    with pytest.raises(InvalidInput, match="电话"):
        collect.submit_campaign(worker_a, campaign, wang, {"phones": "12345"})


def test_self_registration_by_qr_waits_for_the_grid_worker(fused, worker_a, outsider):
    address = collect.house_for_token(ROOM_3_2_201, collect.house_token(ROOM_3_2_201))
    newborn = reg.make_id("12011020240301002")
    registration = collect.submit_self_registration(
        address, {"name": "王小宝", "id_number": newborn, "relation": "子"}, client="c1")
    assert not Person.objects.filter(id_number=newborn).exists()
    with pytest.raises(NotFound):
        collect.decide_registration(outsider, registration.pk, confirm=True)
    collect.decide_registration(worker_a, registration.pk, confirm=True)
    assert Person.objects.get(id_number=newborn).grid_code == city.GRID_A


def test_self_registration_refuses_a_forged_code_bad_ids_and_floods(fused):
    with pytest.raises(NotFound):
        collect.house_for_token(ROOM_3_2_201, "0" * 16)
    address = collect.house_for_token(ROOM_3_2_201, collect.house_token(ROOM_3_2_201))
    with pytest.raises(InvalidInput, match="校验位"):
        collect.submit_self_registration(address, {"name": "甲", "id_number": reg.BAD_CHECKSUM}, client="c2")
    for i in range(collect.SELF_REPORT_PER_HOUR):
        collect.submit_self_registration(address, {"name": "乙" + "一二三四五六七八九十"[i], "id_number": reg.LI_NA},
                                         client="c3")
    with pytest.raises(InvalidInput, match="频繁"):
        collect.submit_self_registration(address, {"name": "丙", "id_number": reg.LI_NA}, client="c3")


def test_quality_report_counts_and_scope(fused, worker_a, viewer):
    summary = selectors.quality_summary(viewer)
    assert summary["people"] == 3 and summary["records"] == 5 and summary["duplicates"] == 2
    areas = selectors.quality_by_area(viewer, city.DISTRICT)
    assert {a["code"] for a in areas} == {city.STREET_WEST, city.STREET_EAST}
    west = next(a for a in areas if a["code"] == city.STREET_WEST)
    assert west["people"] == 2 and west["fields"]["id_number"] == 1.0
    assert selectors.quality_summary(worker_a)["people"] == 2
    with pytest.raises(NotFound):
        selectors.quality_by_area(worker_a, city.STREET_EAST)
    sources = {s["code"]: s for s in selectors.quality_by_source(viewer)}
    assert sources["police"]["bad_rows"] == 2 and sources["police"]["records"] == 3
