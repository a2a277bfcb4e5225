"""A grid worker's day in a real browser, on the tiny city: land on the phone
workbench, read why a task exists, patrol with the phone's (faked) position
while the fixes upload, be seen on the command centre's map with the day's
track, and file the visit the task asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from wangge.testing import city
from wangge.testing.cases import png_bytes
from wangge.workforce import services
from wangge.workforce.models import Patrol, PatrolStatus, Task, TaskStatus, Visit
from wangge.workforce.tests.conftest import make_household
from wangge.workforce.tests.test_views import REASON, visit_task

pytestmark = [
    pytest.mark.browser,
    # Transactional, so the live server's thread sees the data; serialized
    # rollback keeps the rows created by migrations across the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1400, "height": 860}
# About ten metres north of POINT_A: a walk, not a jump the speed check flags.
STEP_A = (city.POINT_A[0], city.POINT_A[1] + 0.00009)

# The pixel of a WGS-84 point on the one map, through the overlay's projection.
POINT_PIXEL = """([lon, lat]) => {
  const chart = window.wanggeMap;
  const [x, y] = chart.convertToPixel({geoIndex: 0}, [lon, lat]);
  const box = chart.getDom().getBoundingClientRect();
  return {x: box.left + x, y: box.top + y};
}"""

LIVE_NAMES = """() => window.wanggeMap.getOption().series
  .find((s) => s.id === 'wf-live').data.map((d) => d.name)"""


@pytest.fixture
def phone(page: Any, settings: Any, tmp_path: Path, monkeypatch: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    # Playwright's sync API keeps an event loop on this thread, and Django
    # refuses database calls under one; the checks between page loads read
    # the database here while the live server is idle.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    page.set_viewport_size(PHONE)
    return page


def where(page: Any, lon_lat: tuple[float, float]) -> None:
    page.context.set_geolocation({"longitude": lon_lat[0], "latitude": lon_lat[1], "accuracy": 8})


def test_a_grid_workers_day_from_task_to_patrol_to_visit(
        worker: Any, viewer: Any, phone: Any, login: Any, tmp_path: Path, screenshot: Any) -> None:
    household = make_household(city.GRID_A, tag="elderly_alone", name="王大爷")
    task = visit_task(household)
    phone.context.grant_permissions(["geolocation"])
    where(phone, city.POINT_A)

    # The worker lands on the phone workbench and reads why the task exists.
    login("worker_a")
    assert phone.url.endswith("/m/")
    assert phone.inner_text("#count-open strong") == "1"
    screenshot("workforce-home")
    with phone.expect_navigation():
        phone.click("#go-tasks")
    assert REASON in phone.inner_text(f"#task-{task.pk}")

    # Patrol: the first fix, a few steps, upload now, stop.
    phone.goto("/m/patrol/")
    phone.click("#patrol-start")
    phone.wait_for_selector("#patrol[data-status='active']")
    phone.wait_for_function(
        "Number(document.getElementById('patrol-pending').dataset.pending)"
        " + Number(document.getElementById('patrol-sent').dataset.accepted) >= 1")
    phone.wait_for_timeout(1500)
    where(phone, STEP_A)
    phone.wait_for_function(
        "Number(document.getElementById('patrol-pending').dataset.pending)"
        " + Number(document.getElementById('patrol-sent').dataset.accepted) >= 2")
    phone.click("#patrol-flush")
    phone.wait_for_selector("#patrol-pending[data-pending='0']")
    phone.wait_for_function("Number(document.getElementById('patrol-sent').dataset.accepted) >= 2")
    assert "待上传 0 个点" in phone.inner_text("#patrol-pending")
    assert phone.inner_text("#patrol-points") == "2 个"
    screenshot("workforce-patrol")
    phone.click("#patrol-stop")
    phone.wait_for_selector("#patrol[data-status='ended']")
    assert "公里" in phone.inner_text("#patrol-distance")
    patrol = Patrol.objects.get()
    assert patrol.status == PatrolStatus.ENDED and patrol.points == 2 and patrol.distance_m > 5
    assert phone.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('wangge.patrol.'))") == []

    # The command centre sees the worker on the map, and their day's track.
    services.compute_days(timezone.localdate())
    phone.context.clear_cookies()
    phone.set_viewport_size(DESK)
    login("viewer")
    assert phone.url.endswith("/map/")
    phone.wait_for_function("document.querySelector('#map').dataset.drawnCount === '2'")
    phone.check("#map-live")
    phone.wait_for_selector("#map[data-live-count='1']")
    assert phone.evaluate(LIVE_NAMES) == ["网格员甲"]
    assert "在线 1 人" in phone.inner_text("#map-live-status")
    at = phone.evaluate(POINT_PIXEL, list(STEP_A))
    phone.mouse.click(at["x"], at["y"])
    phone.wait_for_selector(f"#map[data-track-worker='{worker.pk}']")
    assert phone.inner_text("#track-name") == "网格员甲"
    assert "公里" in phone.inner_text("#track-figures [data-figure=distance]")
    assert f"worker={worker.pk}" in phone.url
    screenshot("workforce-map-track")

    # Back on the phone, the worker files the visit the task asked for.
    phone.context.clear_cookies()
    phone.set_viewport_size(PHONE)
    login("worker_a")
    phone.goto("/m/tasks/")
    with phone.expect_navigation():
        phone.click(f"#task-{task.pk} >> text=去走访")
    phone.check("input[name=outcome][value=met]")
    phone.select_option("#id_person", str(household.head_id))
    phone.fill("#id_notes", "老人精神很好，冰箱里有菜")
    picture = tmp_path / "visit.png"
    picture.write_bytes(png_bytes((48, 36)))
    phone.set_input_files("#id_photos", str(picture))
    with phone.expect_navigation():
        phone.click("#visit-submit")
    assert "已记录走访" in phone.inner_text("#messages")
    assert "老人精神很好" in phone.inner_text("#recent-visits")
    screenshot("workforce-visit")
    visit = Visit.objects.get()
    assert visit.household == household and visit.photos.count() == 1 and visit.task_id == task.pk
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
