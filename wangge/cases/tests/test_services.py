from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.cases.models import Case, CaseEvent, State
from wangge.cases.services import Report, StepInput, file_report, rate_by_tracking_code, take_step
from wangge.core.errors import DomainError, InvalidInput, NotFound
from wangge.core.models import AuditEntry
from wangge.testing import city
from wangge.testing.cases import department, make_case, png_bytes

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def step(case: Case, by: Any, name: str, **given: Any) -> Case:
    return take_step(case_id=case.pk, by=by, step=name, given=StepInput(**given))


def actions(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def test_a_grid_workers_report_is_located_and_dispatched_with_no_one_in_between(
        worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    assert case.state == State.DISPATCHED
    assert case.grid_code == city.GRID_A and case.layers == {"police": city.POLICE_BEAT}
    assert case.department == department("120110-CG")
    assert case.handle_due is not None and case.handle_warn_at < case.handle_due
    assert actions(case) == ["report", "register", "dispatch"]
    assert chengguan.notifications.filter(kind="case_dispatched").count() == 1


def test_the_whole_loop_reaches_closed_and_rated(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    case = step(case, chengguan, "accept")
    case = step(case, chengguan, "handle", note="已清运", photos=[
        SimpleUploadedFile("after.png", png_bytes(), "image/png")])
    assert case.state == State.HANDLED and case.verify_due is not None
    case = step(case, worker_a, "verify", note="现场已清理干净")
    assert case.state == State.CLOSED and case.closed_on_time is True
    assert case.verified_on_time is True
    assert case.photos.filter(stage="handle").count() == 1
    rated = rate_by_tracking_code(tracking_code=case.tracking_code.lower(), rating=5, comment="很快")
    assert rated.rating == 5
    assert actions(case)[-4:] == ["handle", "verify", "close", "rate"]
    with pytest.raises(DomainError) as again:
        rate_by_tracking_code(tracking_code=case.tracking_code, rating=1)
    assert again.value.code == "already_rated"


def test_every_step_is_audited(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    step(case, chengguan, "accept")
    logged = set(AuditEntry.objects.filter(object_type="case", object_id=str(case.pk))
                 .values_list("action", flat=True))
    assert {"case.report", "case.accept"} <= logged


def test_a_point_outside_every_grid_is_kept_flagged_and_sent_to_the_centre(
        worker_a: Any, viewer: Any, catalog: None) -> None:
    from wangge.cases.selectors import centre_queue

    case = make_case(worker_a, lon=city.POINT_OUTSIDE[0], lat=city.POINT_OUTSIDE[1])
    assert case.state == State.REPORTED and case.outside and case.grid_code == ""
    assert case.area_code == city.DISTRICT
    assert "不在任何网格内" in case.events.get(action="report").note
    assert case in centre_queue(viewer)
    assert viewer.notifications.filter(kind="case_waiting").exists()


def test_an_unknown_category_is_refused_and_nothing_is_written(worker_a: Any, catalog: None) -> None:
    with pytest.raises(InvalidInput) as err:
        make_case(worker_a, category_code="X9999")
    assert err.value.code == "unknown_category" and "X9999" in err.value.message
    assert not Case.objects.exists()


@pytest.mark.parametrize(("content", "code"), [
    (b"%PDF-1.4 not a photo", "photo_not_image"),
    (b"", "photo_empty"),
])
def test_a_photo_that_is_not_an_image_is_refused(worker_a: Any, catalog: None, content: bytes,
                                                 code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        make_case(worker_a, photos=[SimpleUploadedFile("x.jpg", content, "image/jpeg")])
    assert err.value.code == code
    assert not Case.objects.exists()


def test_a_photo_too_large_is_refused(worker_a: Any, catalog: None, settings: Any) -> None:
    settings.WANGGE_PHOTO_MAX_BYTES = 100
    with pytest.raises(InvalidInput) as err:
        make_case(worker_a, photos=[SimpleUploadedFile("x.png", png_bytes((64, 64)), "image/png")])
    assert err.value.code == "photo_too_large"
    assert not Case.objects.exists()


def test_an_illegal_step_is_refused_with_the_reason(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    with pytest.raises(InvalidInput) as err:
        step(case, chengguan, "handle", note="已处理")
    assert err.value.code == "illegal_transition" and err.value.status == 409
    assert Case.objects.get(pk=case.pk).state == State.DISPATCHED


def test_another_department_cannot_see_or_take_the_case(worker_a: Any, chengguan: Any,
                                                        shuiwu: Any) -> None:
    case = make_case(worker_a)
    with pytest.raises(NotFound):
        step(case, shuiwu, "accept")


def test_a_grid_worker_of_another_grid_cannot_verify(worker_a: Any, outsider: Any,
                                                     chengguan: Any) -> None:
    case = make_case(worker_a)
    step(case, chengguan, "accept")
    step(case, chengguan, "handle", note="已处理")
    with pytest.raises(NotFound):
        step(case, outsider, "verify")


def test_a_department_cannot_verify_its_own_work(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    step(case, chengguan, "accept")
    step(case, chengguan, "handle", note="已处理")
    with pytest.raises(InvalidInput) as err:
        step(case, chengguan, "verify")
    assert err.value.code == "not_allowed" and err.value.status == 403


def test_return_and_redispatch_to_the_right_department(worker_a: Any, street_admin: Any,
                                                       chengguan: Any, shuiwu: Any) -> None:
    case = make_case(worker_a)
    case = step(case, chengguan, "return", note="井盖归水务")
    assert case.state == State.RETURNED and case.return_count == 1
    case = step(case, street_admin, "dispatch", department_code="120110-SW", note="改派水务")
    assert case.state == State.DISPATCHED and case.department == department("120110-SW")
    assert step(case, shuiwu, "accept").state == State.ACCEPTED


def test_dispatch_to_a_department_outside_the_area_is_refused(worker_a: Any, street_admin: Any,
                                                              chengguan: Any) -> None:
    case = make_case(worker_a)
    step(case, chengguan, "return", note="不归我们")
    with pytest.raises(InvalidInput) as err:
        step(case, street_admin, "dispatch", department_code="120111-CG")
    assert err.value.code == "department_out_of_area"
    assert Case.objects.get(pk=case.pk).state == State.RETURNED


def test_rework_sends_it_back_to_the_department(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    step(case, chengguan, "accept")
    step(case, chengguan, "handle", note="已处理")
    case = step(case, worker_a, "rework", note="垃圾还在")
    assert case.state == State.ACCEPTED and case.rework_count == 1
    assert chengguan.notifications.filter(kind="case_rework").exists()


def test_a_nearby_report_of_the_same_category_is_offered_as_a_duplicate(
        worker_a: Any, street_admin: Any, chengguan: Any) -> None:
    first = make_case(worker_a)
    second = make_case(worker_a, lon=city.POINT_A[0] + 0.0002, description="这里垃圾很多")
    assert second.possible_duplicate == first and second.state == State.REPORTED
    merged = step(second, street_admin, "merge", duplicate_of=first.code)
    assert merged.state == State.CANCELLED and merged.duplicate_of == first
    assert "merged_in" in actions(first)
    far = make_case(worker_a, lon=city.POINT_A[0] + 0.01)
    assert far.possible_duplicate is None and far.state == State.DISPATCHED


def test_the_text_decides_the_category_and_the_route(worker_a: Any, shuiwu: Any) -> None:
    case = make_case(worker_a, category_code="", description="路口的井盖不见了，很危险")
    assert case.category is not None and case.category.code == "C0102"
    assert case.department == department("120110-SW")
    assert case.suggestions[0][0] == "C0102" and len(case.suggestions) == 3


def test_an_unclear_text_waits_for_an_operator(worker_a: Any, catalog: None) -> None:
    case = make_case(worker_a, category_code="", description="请来看一下")
    assert case.category is None and case.state == State.REPORTED
    assert case.suggestions


def test_an_anonymous_resident_is_rate_limited(catalog: None, settings: Any) -> None:
    settings.WANGGE_RESIDENT_REPORTS_PER_HOUR = 2
    for _ in range(2):
        make_case(None, channel="resident", client="10.0.0.9")
    with pytest.raises(InvalidInput) as err:
        make_case(None, channel="resident", client="10.0.0.9")
    assert err.value.status == 429
    make_case(None, channel="resident", client="10.0.0.10")


def test_postponement_extends_the_limit_when_approved(worker_a: Any, street_admin: Any,
                                                       chengguan: Any) -> None:
    case = make_case(worker_a)
    step(case, chengguan, "accept")
    assert case.handle_due is not None
    until = datetime(2031, 1, 10, 17, 0, tzinfo=TZ)
    case = step(case, chengguan, "request_postpone", until=until, note="需要采购设备")
    case = step(case, street_admin, "approve_postpone")
    assert case.handle_due == until and case.postpone_until is None
    with pytest.raises(InvalidInput):
        step(case, street_admin, "approve_postpone")


def test_suspension_stops_the_clock(worker_a: Any, street_admin: Any, chengguan: Any) -> None:
    at = datetime(2025, 6, 3, 9, 0, tzinfo=TZ)   # a Tuesday
    case = make_case(worker_a, at=at)
    assert case.handle_due == datetime(2025, 6, 6, 17, 30, tzinfo=TZ)   # 3 working days
    case = take_step(case_id=case.pk, by=street_admin, step="suspend",
                     given=StepInput(note="等待产权单位确认"), at=datetime(2025, 6, 3, 10, 0, tzinfo=TZ))
    assert case.handle_due is None
    case = take_step(case_id=case.pk, by=street_admin, step="resume",
                     at=datetime(2025, 6, 10, 10, 0, tzinfo=TZ))
    assert case.state == State.DISPATCHED
    # The hour of Tuesday morning was used; the rest runs from the next Tuesday.
    assert case.handle_due == datetime(2025, 6, 13, 17, 30, tzinfo=TZ)


def test_escalation_moves_the_case_up_and_out_of_the_lower_levels_hands(
        worker_a: Any, street_admin: Any, catalog: None) -> None:
    from wangge.accounts.services import create_user

    community = create_user("shequ", "pass-x", role="community_staff", area_code=city.COMMUNITY_WEST)
    case = make_case(worker_a, category_code="", description="请来看一下")
    case = step(case, community, "escalate", note="社区无法协调")
    assert case.level == "street" and case.state == State.REGISTERED
    with pytest.raises(InvalidInput) as err:
        step(case, community, "dispatch", department_code="120110-CG", category_code="E0101")
    assert err.value.code == "wrong_level"
    case = step(case, street_admin, "dispatch", department_code="120110-CG", category_code="E0101")
    assert case.state == State.DISPATCHED


def test_a_holiday_pushes_the_limit_past_it(worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a, at=datetime(2025, 9, 30, 10, 0, tzinfo=TZ))
    # 3 working days from the eve of the National Day holiday: the 9th, the
    # 10th and the make-up Saturday the 11th.
    assert case.handle_due == datetime(2025, 10, 11, 17, 30, tzinfo=TZ)


def test_the_contact_is_masked_for_the_department_and_shown_to_the_worker(
        worker_a: Any, chengguan: Any) -> None:
    from wangge.cases.selectors import contact_of

    case = make_case(None, channel="resident", contact_name="周丽", contact_phone="13812345678")
    masked = contact_of(chengguan, case)
    assert masked.phone != "13812345678" and not masked.full
    full = contact_of(worker_a, case)
    assert full.phone == "13812345678" and full.full
    assert AuditEntry.objects.filter(action="case.contact.read", actor=worker_a).exists()


def test_a_wrong_phone_number_is_refused(catalog: None) -> None:
    with pytest.raises(InvalidInput) as err:
        file_report(report=Report("垃圾很多", lon=city.POINT_A[0], lat=city.POINT_A[1],
                                  channel="resident", contact_phone="12345"))
    assert err.value.code == "invalid_phone"


def test_a_report_without_a_point_reaches_the_district_centre(viewer: Any, catalog: None) -> None:
    from wangge.cases.selectors import centre_queue

    case = make_case(None, channel="resident", lon=None, lat=None, address_text="东丽大道与津塘路交口")
    assert case.area_code == city.DISTRICT and case.outside
    assert case in centre_queue(viewer)
