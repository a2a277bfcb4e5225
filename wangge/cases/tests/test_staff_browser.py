"""The staff case pages in a real browser: a department handles a case in its
workbench with a photo, the grid worker verifies it on the case page, and the
routing tool answers for a clicked and a typed point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wangge.testing import city
from wangge.testing.cases import make_case, png_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case(worker_a: Any, chengguan: Any) -> Any:
    # Filed before the browser starts: Django refuses database calls once
    # Playwright's event loop runs on this thread.
    return make_case(worker_a, address_text="东丽大道与先锋路交口")


def test_workbench_handles_with_a_photo_and_the_grid_worker_verifies(
        case: Any, page: Any, login: Any, screenshot: Any, tmp_path: Path) -> None:
    login("chengguan")
    page.goto("/cases/workbench/")
    item = page.locator(f"li.case-item[data-case='{case.pk}']")
    assert "剩余" in item.locator(".time-left").inner_text()
    with page.expect_navigation():
        item.locator("form[data-step=accept] button[type=submit]").click()
    assert "签收" in page.inner_text(".messages")

    item.locator("details[data-step=handle] summary").click()
    form = item.locator("form[data-step=handle]")
    form.locator("textarea[name=note]").fill("垃圾已清运，路面已冲洗")
    photo = tmp_path / "after.png"
    photo.write_bytes(png_bytes((40, 30)))
    form.locator("input[name=photos]").set_input_files(str(photo))
    screenshot("cases-workbench-handle")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "处置反馈" in page.inner_text(".messages")
    assert page.locator(f"li.case-item[data-case='{case.pk}']").count() == 0

    page.context.clear_cookies()
    login("worker_a")
    page.goto(f"/cases/{case.pk}/")
    page.wait_for_selector("#case-map[data-ready='1']")
    assert page.locator("#case-photos img").count() == 1
    assert page.evaluate("document.querySelector('#case-photos img').naturalWidth") == 40
    with page.expect_navigation():
        page.click("form[data-step=verify] button[type=submit]")
    screenshot("cases-detail-closed")
    assert page.inner_text("#case-state") == "已结案"
    timeline = page.inner_text("#timeline")
    assert "处置反馈" in timeline and "垃圾已清运" in timeline and "已结案" in timeline


def test_the_routing_tool_answers_for_a_clicked_and_a_typed_point(
        viewer: Any, catalog: None, page: Any, login: Any, screenshot: Any) -> None:
    login("viewer")
    page.goto("/cases/routing/")
    page.wait_for_selector("#route-map[data-ready='1']")
    page.select_option("#route-category", "E0101")
    x, y = page.evaluate("(p) => window.wanggeRouteMap.convertToPixel({geoIndex: 0}, p)",
                         list(city.POINT_A))
    box = page.locator("#route-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#route-department")
    assert page.inner_text("#route-department") == "东丽区城市管理委"
    assert page.inner_text("#route-grid") == city.GRID_A
    assert abs(float(page.input_value("#route-lon")) - city.POINT_A[0]) < 0.002
    screenshot("cases-routing-clicked")

    page.fill("#route-lon", str(city.POINT_OUTSIDE[0]))
    page.fill("#route-lat", str(city.POINT_OUTSIDE[1]))
    page.click("#route-form button[type=submit]")
    page.wait_for_function("document.querySelector('#route-grid').textContent.trim() === '—'")
    assert "不在任何网格内" in page.inner_text("#route-result")
