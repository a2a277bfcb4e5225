"""The phone pages in a real browser at a phone's size: a resident's report
goes round the whole loop to a rating, and a grid worker reports from where
they stand. Runs on the tiny city (wangge/testing/city.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wangge.cases.models import Case, Channel, State
from wangge.cases.services import StepInput, take_step
from wangge.testing import city
from wangge.testing.cases import png_bytes

pytestmark = [
    pytest.mark.browser,
    # Transactional, so the live server's thread sees the data; serialized
    # rollback keeps the layers created by migrations across the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PHONE = {"width": 390, "height": 844}

# The pixel of a WGS-84 point on the report map, through ECharts' own
# projection, so the test taps where a person would.
POINT_PIXEL = """([lon, lat]) => {
  const chart = window.wanggeReportMap;
  const [x, y] = chart.convertToPixel({geoIndex: 0}, [lon, lat]);
  const box = chart.getDom().getBoundingClientRect();
  return {x: box.left + x, y: box.top + y};
}"""


@pytest.fixture
def phone(page: Any, settings: Any, tmp_path: Path, monkeypatch: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    # Playwright's sync API keeps an event loop on this thread, and Django
    # refuses database calls under one; the story's middle steps go through
    # services here, between page loads, while the live server is idle.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    page.set_viewport_size(PHONE)
    return page


def tap_map(page: Any, point: tuple[float, float]) -> None:
    page.locator("#report-map").scroll_into_view_if_needed()
    at = page.evaluate(POINT_PIXEL, list(point))
    page.mouse.click(at["x"], at["y"])


def test_a_residents_report_goes_round_the_loop_to_a_rating(
        worker_a: Any, chengguan: Any, phone: Any, login: Any, tmp_path: Path,
        screenshot: Any) -> None:
    picture = tmp_path / "rubbish.png"
    picture.write_bytes(png_bytes((64, 48)))

    # A resident, not signed in, reports from their phone.
    phone.goto("/report/")
    phone.wait_for_selector("#report-map[data-ready='1']")
    phone.fill("#id_description", "小区门口垃圾成堆发臭")
    phone.wait_for_function(
        "(document.getElementById('report-form').dataset.suggested || '').startsWith('E0101')")
    assert phone.input_value("#id_category") == ""  # a resident's form suggests, never picks
    phone.select_option("#id_category", "E0101")
    tap_map(phone, city.POINT_A)
    phone.wait_for_selector(f"#location-status[data-grid='{city.GRID_A}']")
    assert "A网格" in phone.inner_text("#location-status")
    assert float(phone.input_value("#id_lon")) == pytest.approx(city.POINT_A[0], abs=2e-3)  # a few pixels
    assert float(phone.input_value("#id_lat")) == pytest.approx(city.POINT_A[1], abs=2e-3)  # a few pixels
    phone.set_input_files("#id_photos", str(picture))
    assert "1" in phone.inner_text("#photo-count")
    screenshot("report-filled")
    with phone.expect_navigation():
        phone.click("#report-submit")
    code = phone.inner_text("#tracking-code").strip()
    screenshot("report-sent")

    case = Case.objects.get(tracking_code=code)
    assert case.channel == Channel.RESIDENT and case.reporter is None
    assert case.grid_code == city.GRID_A and case.photos.count() == 1
    assert case.state == State.DISPATCHED

    # The department signs for it and handles it.
    take_step(case_id=case.pk, by=chengguan, step="accept")
    take_step(case_id=case.pk, by=chengguan, step="handle", given=StepInput(note="已清运"))

    # The grid worker checks on the spot and passes it.
    login("worker_a")
    phone.goto("/m/verify/")
    card = phone.locator(f"#verify-{case.pk}")
    assert "已清运" in card.inner_text()
    card.locator("textarea[name=note]").fill("现场已清理干净")
    with phone.expect_navigation():
        card.locator("button[value=verify]").click()
    assert "核查通过" in phone.inner_text("#messages")
    phone.wait_for_selector("#verify-empty")

    # The resident looks the code up and rates the result.
    phone.context.clear_cookies()
    phone.goto("/report/status/")
    phone.fill("#id_code", code.lower())
    with phone.expect_navigation():
        phone.click("#lookup-form button[type=submit]")
    assert phone.inner_text("#case-state") == "已结案"
    assert "网格员现场核查通过" in phone.inner_text("#case-steps")
    phone.click("label[for=star-4]")
    phone.fill("#id_comment", "处理得很及时")
    with phone.expect_navigation():
        phone.click("#rating-form button[type=submit]")
    assert "已评价" in phone.inner_text("#rated")
    screenshot("status-rated")
    case.refresh_from_db()
    assert case.rating == 4 and case.state == State.CLOSED


def test_a_grid_worker_reports_from_where_they_stand(
        worker_a: Any, catalog: None, phone: Any, login: Any) -> None:
    phone.context.grant_permissions(["geolocation"])
    phone.context.set_geolocation({"longitude": city.POINT_B[0], "latitude": city.POINT_B[1],
                                   "accuracy": 12})
    login("worker_a")
    phone.goto("/m/report/")
    phone.fill("#id_description", "窨井盖缺失很危险")
    # The worker's form preselects the classifier's first guess.
    phone.wait_for_function("document.getElementById('id_category').value === 'C0102'")
    phone.click("#use-location")
    phone.wait_for_selector(f"#location-status[data-grid='{city.GRID_B}']")
    assert "12" in phone.inner_text("#location-status")  # the accuracy in metres
    phone.check("input[name=urgency][value=urgent]")
    with phone.expect_navigation():
        phone.click("#report-submit")
    assert "已上报" in phone.inner_text("#messages")
    assert "窨井盖缺失很危险" in phone.inner_text("#my-cases")
    case = Case.objects.get()
    assert case.channel == Channel.GRID_WORKER and case.reporter == worker_a
    assert case.grid_code == city.GRID_B and case.category is not None
    assert case.category.code == "C0102" and case.urgency == "urgent"
