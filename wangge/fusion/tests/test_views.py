"""The fusion pages as a clerk and a grid worker use them."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.fusion import collect
from wangge.fusion.models import ReviewPair
from wangge.registry.models import Batch, Person, SourceRecord
from wangge.testing import city
from wangge.testing import registry as reg
from wangge.testing.addresses import ROOM_3_2_201

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def clerk(small_city: None) -> Any:
    from wangge.accounts.services import create_user

    return create_user("clerk", "pw-123456789", role="district_staff", area_code=city.DISTRICT)


def test_a_file_imported_from_the_page_ends_in_linked_people_and_an_error_file(
        client, clerk, sources, police_file, immediate_tasks):
    client.force_login(clerk)
    with police_file.open("rb") as fh:
        response = client.post("/fusion/imports/", {"source": sources["police"].pk, "kind": "person", "file": fh})
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/fusion/imports/{batch.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "入库 3 行" in page and "错误 2 行" in page and "校验位错误" in page
    assert SourceRecord.objects.filter(batch=batch, person__isnull=False).count() == 3
    errors = client.get(f"/fusion/imports/{batch.pk}/errors.csv")
    body = b"".join(errors.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("行号,错误原因") and "GA-4" in body


def test_the_same_file_from_the_page_is_refused_with_a_message(client, clerk, sources, police_file, immediate_tasks):
    client.force_login(clerk)
    for _ in range(2):
        with police_file.open("rb") as fh:
            response = client.post("/fusion/imports/", {"source": sources["police"].pk, "kind": "person",
                                                        "file": fh}, follow=True)
    assert "未重复导入" in response.content.decode()
    assert Batch.objects.count() == 1


def test_grid_workers_cannot_import_or_see_others_batches(client, worker_a, fused):
    client.force_login(worker_a)
    assert client.get("/fusion/imports/").status_code == 404
    assert client.get(f"/fusion/imports/{fused['police_batch'].pk}/").status_code == 404


def test_people_pages_mask_and_scope(client, worker_a, outsider, fused):
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    client.force_login(worker_a)
    listing = client.get("/people/").content.decode()
    assert "王伟" in listing and reg.WANG_WEI not in listing and "赵六" not in listing
    detail = client.get(f"/people/{wang.pk}/").content.decode()
    assert "公安户籍" in detail and "卫健" in detail and reg.WANG_WEI not in detail
    assert reg.WANG_WEI in client.get(f"/people/{wang.pk}/?purpose=身份核实").content.decode()
    client.force_login(outsider)
    assert client.get(f"/people/{wang.pk}/").status_code == 404


def test_review_page_decides_a_pair_in_scope_only(client, street_admin, outsider, fused):
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    li = Person.objects.get(id_number=reg.LI_NA)
    a, b = sorted((wang.records.all()[0], li.records.all()[0]), key=lambda r: r.pk)
    pair = ReviewPair.objects.create(left=a, right=b, probability=0.4, grid_code=a.grid_code)
    client.force_login(street_admin)
    page = client.get(f"/fusion/review/{pair.pk}/").content.decode()
    assert "是同一人吗" in page and reg.LI_NA not in page
    client.force_login(outsider)
    assert client.post(f"/fusion/review/{pair.pk}/decide/", {"decision": "same"}).status_code == 404
    client.force_login(street_admin)
    client.post(f"/fusion/review/{pair.pk}/decide/", {"decision": "different"})
    pair.refresh_from_db()
    assert pair.decision == "different" and pair.decided_by == street_admin


def test_quality_page_and_api(client, viewer, fused, auth_header):
    client.force_login(viewer)
    page = client.get("/fusion/quality/").content.decode()
    assert "字段完整率" in page and "公安户籍" in page
    body = client.get(f"/api/v1/fusion/quality?area={city.DISTRICT}", **auth_header(viewer)).json()
    assert body["summary"]["people"] == 3
    geo = client.get(f"/api/v1/areas/geojson?parent={city.COMMUNITY_WEST}", **auth_header(viewer)).json()
    grid_a = next(f for f in geo["features"] if f["properties"]["code"] == city.GRID_A)
    assert grid_a["properties"]["people"] == 2 and 0 < grid_a["properties"]["completeness"] <= 1


def test_campaign_pages_collect_only_what_is_missing(client, street_admin, worker_a, fused):
    client.force_login(street_admin)
    client.post("/fusion/campaigns/", {"name": "民族核查", "fields": ["ethnicity"], "area_code": city.COMMUNITY_WEST,
                                       "max_age_days": "365"})
    campaign = collect.campaigns_for(street_admin).get()
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    client.force_login(worker_a)
    form = client.get(f"/fusion/campaigns/{campaign.pk}/people/{wang.pk}/").content.decode()
    assert 'name="ethnicity"' in form and 'name="phones"' not in form
    client.post(f"/fusion/campaigns/{campaign.pk}/people/{wang.pk}/", {"ethnicity": "满族"})
    wang.refresh_from_db()
    assert wang.ethnicity == "满族"


def test_qr_self_registration_page_is_public_but_needs_the_house_code(client, fused):
    token = collect.house_token(ROOM_3_2_201)
    assert client.get(f"/register/{ROOM_3_2_201}/{'0' * 16}/").status_code == 404
    page = client.get(f"/register/{ROOM_3_2_201}/{token}/")
    assert page.status_code == 200 and "华明家园" in page.content.decode()
    sent = client.post(f"/register/{ROOM_3_2_201}/{token}/", {"name": "王小宝",
                                                               "id_number": reg.make_id("12011020240301002")})
    assert "网格员确认后生效" in sent.content.decode()
