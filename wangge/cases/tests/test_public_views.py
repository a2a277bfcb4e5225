"""The phone pages through Django's test client: the resident's 随手拍 and
progress lookup (public), and the grid worker's report, own reports and
verification."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.cases.models import Case, Channel, State
from wangge.cases.services import StepInput, take_step
from wangge.testing import city
from wangge.testing.cases import make_case, png_bytes

pytestmark = [
    pytest.mark.django_db,
    # Static files come from the finders; WhiteNoise only notes that nothing
    # was collected into STATIC_ROOT.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def photo(name: str = "p.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), "image/png")


def handled_case(worker: Any, department: Any, **overrides: Any) -> Case:
    case = make_case(worker, **overrides)
    take_step(case_id=case.pk, by=department, step="accept")
    return take_step(case_id=case.pk, by=department, step="handle",
                     given=StepInput(note="已清运干净"))


def closed_case(worker: Any, department: Any, **overrides: Any) -> Case:
    case = handled_case(worker, department, **overrides)
    return take_step(case_id=case.pk, by=worker, step="verify")


def text_of(response: Any) -> str:
    return response.content.decode()


def error_in(response: Any, field: str) -> str:
    m = re.search(rf'id="err-{field}"[^>]*>([^<]*)<', text_of(response))
    return m.group(1) if m else ""


# --- 居民随手拍 ---------------------------------------------------------------------


def test_anonymous_report_with_a_photo_lands_and_shows_the_tracking_code(
        catalog: None, client: Client) -> None:
    page = client.get("/report/")
    assert page.status_code == 200
    assert 'name="viewport"' in text_of(page)
    assert 'capture="environment"' in text_of(page)

    sent = client.post("/report/", {
        "description": "小区门口垃圾成堆发臭", "lon": city.POINT_A[0], "lat": city.POINT_A[1],
        "crs": "wgs84", "contact_phone": "13800138000", "photos": [photo()]}, follow=True)
    case = Case.objects.get()
    assert case.channel == Channel.RESIDENT and case.reporter is None
    assert case.grid_code == city.GRID_A and case.contact_phone == "13800138000"
    stored = case.photos.get()
    assert stored.stage == "report" and Path(stored.file.path).read_bytes() == png_bytes()
    assert sent.redirect_chain[-1][0] == f"/report/sent/{case.tracking_code}/"
    assert re.search(rf'id="tracking-code">{case.tracking_code}<', text_of(sent))
    assert f"/report/status/?code={case.tracking_code}" in text_of(sent)


def test_a_photo_that_is_not_an_image_is_refused_next_to_the_field(
        catalog: None, client: Client) -> None:
    fake = SimpleUploadedFile("p.jpg", b"not a picture at all", "image/jpeg")
    page = client.post("/report/", {"description": "井盖破了一个洞", "photos": [fake]})
    assert page.status_code == 422
    assert "不是可识别的图片" in error_in(page, "photos")
    assert "井盖破了一个洞</textarea>" in text_of(page)
    assert not Case.objects.exists()


def test_missing_description_is_shown_at_the_field_and_the_typed_values_kept(
        catalog: None, client: Client) -> None:
    page = client.post("/report/", {
        "description": "  ", "lon": "117.35", "lat": "39.025", "crs": "gcj02",
        "address_text": "幸福路 12 号门口", "category": "C0102", "contact_name": "王先生",
        "contact_phone": "13800138000", "photos": [photo()]})
    assert page.status_code == 422
    assert error_in(page, "description") == "请描述发现的问题"
    body = text_of(page)
    for kept in ('value="117.35"', 'value="39.025"', 'value="幸福路 12 号门口"',
                 'value="王先生"', 'value="13800138000"', '<option value="C0102" selected>',
                 '<option value="gcj02" selected>'):
        assert kept in body
    assert 'id="photos-again"' in body  # the browser cannot keep chosen files
    assert not Case.objects.exists()


def test_a_bad_phone_and_bad_coordinates_are_shown_at_their_fields(
        catalog: None, client: Client) -> None:
    phone = client.post("/report/", {"description": "路灯不亮了", "contact_phone": "12345"})
    assert phone.status_code == 422 and error_in(phone, "contact_phone")
    place = client.post("/report/", {"description": "路灯不亮了", "lon": "东经", "lat": "39"})
    assert place.status_code == 422 and "经纬度须为数字" in error_in(place, "location")
    assert not Case.objects.exists()


def test_too_many_reports_from_one_address_get_a_clear_429(
        catalog: None, client: Client, settings: Any) -> None:
    settings.WANGGE_RESIDENT_REPORTS_PER_HOUR = 1
    first = client.post("/report/", {"description": "路灯不亮了"})
    assert first.status_code == 302
    second = client.post("/report/", {"description": "路灯坏了一直闪"})
    assert second.status_code == 429
    assert re.search(r'id="form-error"[^>]*>\s*<strong>提交过于频繁', text_of(second))
    assert "路灯坏了一直闪</textarea>" in text_of(second)
    assert Case.objects.count() == 1


def test_a_point_outside_every_grid_is_accepted_for_the_centre(
        catalog: None, client: Client) -> None:
    sent = client.post("/report/", {"description": "路边垃圾堆积无人清运",
                                     "lon": city.POINT_OUTSIDE[0], "lat": city.POINT_OUTSIDE[1]},
                       follow=True)
    case = Case.objects.get()
    assert case.outside and case.area_code == city.DISTRICT
    assert "不在任何网格内，已转指挥中心处理" in text_of(sent)


def test_a_signed_in_resident_files_as_themselves_without_the_rate_limit(
        catalog: None, client: Client, settings: Any) -> None:
    from wangge.accounts.services import create_user

    settings.WANGGE_RESIDENT_REPORTS_PER_HOUR = 0
    resident = create_user("jumin", "pass-jumin", role="resident")
    client.force_login(resident)
    assert client.post("/report/", {"description": "路灯不亮了"}).status_code == 302
    assert Case.objects.get().reporter == resident


# --- public JSON ----------------------------------------------------------------------


def test_the_classifier_suggests_without_a_login(catalog: None, client: Client) -> None:
    answer = client.post("/report/classify/", {"text": "窨井盖缺失很危险"})
    guesses = answer.json()
    assert answer.status_code == 200 and guesses[0]["code"] == "C0102"
    assert guesses[0]["name"] == "井盖破损" and len(guesses) <= 3
    assert client.post("/report/classify/", {"text": " "}).json() == []
    assert client.get("/report/classify/").status_code == 405


def test_grid_outlines_are_public_and_in_degrees(small_city: None, client: Client) -> None:
    answer = client.get("/report/grids.json")
    assert answer.status_code == 200 and "max-age" in answer["Cache-Control"]
    features = json.loads(answer.content)["features"]
    assert [f["properties"] for f in features] == [
        {"code": city.GRID_A, "name": "A网格"}, {"code": city.GRID_B, "name": "B网格"},
        {"code": city.GRID_C, "name": "C网格"}]
    xs = [pt[0] for pt in features[0]["geometry"]["coordinates"][0]]
    ys = [pt[1] for pt in features[0]["geometry"]["coordinates"][0]]
    assert (min(xs), max(xs), min(ys), max(ys)) == pytest.approx((117.30, 117.40, 39.00, 39.05))
    east = json.loads(client.get(f"/report/grids.json?area={city.STREET_EAST}").content)
    assert [f["properties"]["code"] for f in east["features"]] == [city.GRID_C]


# --- 进度查询 and rating ---------------------------------------------------------------


def test_the_status_page_shows_the_steps_and_never_the_contact(
        worker_a: Any, chengguan: Any, client: Client) -> None:
    case = handled_case(worker_a, chengguan, channel=Channel.RESIDENT, contact_name="张三丰",
                        contact_phone="13800138000")
    page = client.get(f"/report/status/?code={case.tracking_code.lower()}")
    assert page.status_code == 200
    body = text_of(page)
    steps = re.search(r'id="case-steps">(.*?)</ol>', body, re.S)
    assert steps is not None
    for label in ("已收到您的上报", "已派遣至处置部门", "部门已签收", "部门已处置", "已清运干净"):
        assert label in steps.group(1)
    assert re.search(r'id="case-state">已处置待核查<', body)
    for private in ("13800138000", "张三丰", "城管队员", "网格员甲"):
        assert private not in body
    assert 'id="rating-form"' not in body  # not closed yet


def test_an_unknown_code_gets_a_clear_message(small_city: None, client: Client) -> None:
    page = client.get("/report/status/?code=NOPE123")
    assert page.status_code == 404
    assert error_in(page, "code") == "查询码无效，请核对后重试"
    assert 'value="NOPE123"' in text_of(page)


def test_rating_through_the_page_works_once(worker_a: Any, chengguan: Any, client: Client) -> None:
    case = closed_case(worker_a, chengguan, channel=Channel.RESIDENT)
    page = client.get(f"/report/status/?code={case.tracking_code}")
    assert 'id="rating-form"' in text_of(page) and "已结案" in text_of(page)

    missing = client.post("/report/status/", {"code": case.tracking_code, "comment": "还行"})
    assert missing.status_code == 422 and error_in(missing, "rating")
    assert "还行</textarea>" in text_of(missing)

    rated = client.post("/report/status/", {"code": case.tracking_code, "rating": "5",
                                            "comment": "处理得很快"}, follow=True)
    assert rated.redirect_chain[-1][0] == f"/report/status/?code={case.tracking_code}"
    assert "感谢您的评价" in text_of(rated) and 'id="rated"' in text_of(rated)
    case.refresh_from_db()
    assert case.rating == 5 and case.rating_comment == "处理得很快"

    again = client.post("/report/status/", {"code": case.tracking_code, "rating": "1"})
    assert again.status_code == 409
    assert "已评价" in text_of(again) and error_in(again, "rating") == "该案件已评价过"
    case.refresh_from_db()
    assert case.rating == 5


# --- the grid worker's pages -------------------------------------------------------------


def test_worker_pages_need_a_login_and_the_role(
        worker_a: Any, chengguan: Any, client: Client) -> None:
    for url in ("/m/report/", "/m/cases/", "/m/verify/"):
        assert client.get(url)["Location"].startswith("/login/?next=")
    client.force_login(chengguan)
    for url in ("/m/report/", "/m/cases/", "/m/verify/"):
        assert client.get(url).status_code == 404


def test_a_grid_worker_files_a_case_and_finds_it_in_their_list(
        worker_a: Any, chengguan: Any, client: Client) -> None:
    client.force_login(worker_a)
    page = client.get("/m/report/")
    assert page.status_code == 200 and 'name="urgency"' in text_of(page)
    done = client.post("/m/report/", {
        "description": "路边垃圾堆积无人清运", "lon": city.POINT_A[0], "lat": city.POINT_A[1],
        "crs": "wgs84", "category": "E0101", "urgency": "urgent", "photos": [photo()]},
        follow=True)
    case = Case.objects.get()
    assert case.channel == Channel.GRID_WORKER and case.reporter == worker_a
    assert case.urgency == "urgent" and case.state == State.DISPATCHED
    assert case.photos.count() == 1
    assert done.redirect_chain[-1][0] == "/m/cases/"
    body = text_of(done)
    assert case.code in body and "已派遣" in body and "剩余" in body


def test_a_grid_workers_report_needs_a_location(worker_a: Any, catalog: None,
                                                client: Client) -> None:
    client.force_login(worker_a)
    page = client.post("/m/report/", {"description": "路灯不亮了", "urgency": "emergency"})
    assert page.status_code == 422
    assert error_in(page, "location") == "请提供问题位置（经纬度）"
    assert re.search(r'value="emergency" checked', text_of(page))
    assert not Case.objects.exists()


def test_my_cases_lists_only_my_reports_within_a_query_ceiling(
        worker_a: Any, outsider: Any, catalog: None, client: Client,
        django_assert_max_num_queries: Any) -> None:
    mine = [make_case(worker_a) for _ in range(3)]
    theirs = make_case(outsider, lon=city.POINT_C[0], lat=city.POINT_C[1])
    client.force_login(worker_a)
    with django_assert_max_num_queries(10):
        page = client.get("/m/cases/")
    body = text_of(page)
    assert all(c.code in body for c in mine) and theirs.code not in body


def test_the_verify_list_shows_only_the_workers_grid(
        worker_a: Any, outsider: Any, chengguan: Any, client: Client) -> None:
    case = handled_case(worker_a, chengguan)
    client.force_login(outsider)
    page = client.get("/m/verify/")
    assert 'id="verify-empty"' in text_of(page) and case.code not in text_of(page)
    refused = client.post("/m/verify/", {"case": case.pk, "step": "verify"})
    assert refused.status_code == 404 and "未找到该案件" in text_of(refused)
    case.refresh_from_db()
    assert case.state == State.HANDLED

    client.force_login(worker_a)
    page = client.get("/m/verify/")
    assert f'id="verify-{case.pk}"' in text_of(page) and "已清运干净" in text_of(page)


def test_verifying_closes_the_case(worker_a: Any, chengguan: Any, client: Client) -> None:
    case = handled_case(worker_a, chengguan)
    client.force_login(worker_a)
    done = client.post("/m/verify/", {"case": case.pk, "step": "verify", "note": "现场已清理",
                                      "photos": [photo()]}, follow=True)
    case.refresh_from_db()
    assert case.state == State.CLOSED
    assert case.photos.filter(stage="verify").count() == 1
    assert "核查通过" in text_of(done) and 'id="verify-empty"' in text_of(done)


def test_sending_back_needs_a_note_and_then_returns_to_the_department(
        worker_a: Any, chengguan: Any, client: Client) -> None:
    case = handled_case(worker_a, chengguan)
    client.force_login(worker_a)
    refused = client.post("/m/verify/", {"case": case.pk, "step": "rework", "note": " "})
    assert refused.status_code == 422 and error_in(refused, str(case.pk)) == "请填写说明"
    case.refresh_from_db()
    assert case.state == State.HANDLED
    client.post("/m/verify/", {"case": case.pk, "step": "rework", "note": "垃圾还在"})
    case.refresh_from_db()
    assert case.state == State.ACCEPTED and case.rework_count == 1
