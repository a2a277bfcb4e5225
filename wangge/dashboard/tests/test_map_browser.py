"""The one map in a real browser: log in, draw, drill down by clicking, go back
up, and stay inside the user's scope. Runs on the tiny city (wangge/testing/city.py)."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.testing import city

pytestmark = [
    pytest.mark.browser,
    # Transactional, so the live server's thread sees the data; serialized
    # rollback keeps the layers created by migrations across the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Static files come from the finders (the live server's StaticFilesHandler);
    # WhiteNoise only notes that nothing was collected into STATIC_ROOT.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

MAP = "#map"

# The pixel of an area's centroid on the page, through ECharts' own projection,
# so the test clicks where a person would.
CENTROID_PIXEL = """(code) => {
  const chart = window.wanggeMap;
  const mapName = chart.getOption().series[0].map;
  const feature = echarts.getMap(mapName).geoJSON.features
    .find((f) => f.properties.code === code);
  if (!feature) { return null; }
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, feature.properties.centroid);
  const box = chart.getDom().getBoundingClientRect();
  return {x: box.left + x, y: box.top + y};
}"""

DRAWN = """() => {
  const option = window.wanggeMap.getOption();
  const mapName = option.series[0].map;
  return {
    data: option.series[0].data.map((d) => d.name).sort(),
    regions: echarts.getMap(mapName).geoJSON.features.map((f) => f.properties.code).sort(),
  };
}"""


def wait_for_map(page: Any, code: str, count: int) -> None:
    page.wait_for_function(
        """([code, count]) => {
          const el = document.querySelector('#map');
          return el.dataset.currentCode === code && el.dataset.drawnCount === String(count)
            && el.getAttribute('aria-busy') !== 'true';
        }""",
        arg=[code, count],
    )


def click_area(page: Any, code: str) -> None:
    point = page.evaluate(CENTROID_PIXEL, code)
    assert point is not None, f"{code} is not drawn"
    page.mouse.click(point["x"], point["y"])


def figure(page: Any, key: str) -> str:
    return str(page.inner_text(f"#map-summary [data-figure={key}]"))


def crumbs(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#map-breadcrumb li").all_inner_texts()]


def test_command_centre_drills_from_district_to_grid_and_back(
        viewer: Any, page: Any, login: Any, screenshot: Any) -> None:
    login("viewer")
    assert page.url.endswith("/map/")
    wait_for_map(page, city.DISTRICT, 2)

    # ECharts drew into a canvas, one region per street.
    assert page.locator(f"{MAP} canvas").count() >= 1
    box = page.locator(f"{MAP} canvas").first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300
    drawn = page.evaluate(DRAWN)
    assert drawn["regions"] == [city.STREET_WEST, city.STREET_EAST]
    assert drawn["data"] == drawn["regions"]
    assert crumbs(page) == ["东丽区"]
    assert figure(page, "households") == "890 户"
    assert figure(page, "level") == "区"
    # The side list is sorted by the indicator: west (300 + 280) above east (310).
    assert page.locator("#map-child-list .name").all_inner_texts() == ["西街道", "东街道"]
    screenshot("map-district")

    click_area(page, city.STREET_WEST)
    wait_for_map(page, city.STREET_WEST, 1)
    assert page.evaluate(DRAWN)["regions"] == [city.COMMUNITY_WEST]
    assert crumbs(page) == ["东丽区", "西街道"]
    assert "area=" + city.STREET_WEST in page.url

    click_area(page, city.COMMUNITY_WEST)
    wait_for_map(page, city.COMMUNITY_WEST, 2)
    assert page.evaluate(DRAWN)["regions"] == [city.GRID_A, city.GRID_B]
    assert page.inner_text("#panel-name") == "西社区"
    assert figure(page, "households") == "580 户"
    assert figure(page, "child_count") == "2 个"
    assert figure(page, "level") == "社区"
    assert crumbs(page) == ["东丽区", "西街道", "西社区"]
    screenshot("map-community")

    # A grid has no children: clicking it selects it and shows its figures.
    click_area(page, city.GRID_B)
    page.wait_for_function(
        "(code) => document.querySelector('#map').dataset.selectedCode === code",
        arg=city.GRID_B)
    assert page.get_attribute(MAP, "data-current-code") == city.COMMUNITY_WEST
    assert page.inner_text("#panel-name") == "B网格"
    assert figure(page, "households") == "280 户"
    assert crumbs(page) == ["东丽区", "西街道", "西社区", "B网格"]
    screenshot("map-grid-selected")

    # The indicator is a choice; the map redraws without asking the server.
    page.select_option("#map-indicator", "density")
    assert "户密度" in page.inner_text("#map-children h3")

    # Back up to the district through the breadcrumb.
    page.locator("#map-breadcrumb a", has_text="东丽区").click()
    wait_for_map(page, city.DISTRICT, 2)
    assert crumbs(page) == ["东丽区"]
    assert page.locator("#map-error").is_hidden()


def test_grid_worker_sees_only_their_own_path(
        worker_a: Any, page: Any, login: Any, screenshot: Any) -> None:
    login("worker_a")
    # A grid worker lands on their phone workbench; the map is one click away.
    assert page.url.endswith("/m/")
    page.goto("/map/")
    wait_for_map(page, city.DISTRICT, 1)
    assert page.evaluate(DRAWN)["regions"] == [city.STREET_WEST]

    click_area(page, city.STREET_WEST)
    wait_for_map(page, city.STREET_WEST, 1)
    assert page.evaluate(DRAWN)["regions"] == [city.COMMUNITY_WEST]

    click_area(page, city.COMMUNITY_WEST)
    wait_for_map(page, city.COMMUNITY_WEST, 1)
    assert page.evaluate(DRAWN)["regions"] == [city.GRID_A]
    # The community's figures are the community's, not only the visible grid's.
    assert figure(page, "households") == "580 户"

    click_area(page, city.GRID_A)
    page.wait_for_function(
        "(code) => document.querySelector('#map').dataset.selectedCode === code",
        arg=city.GRID_A)
    assert figure(page, "households") == "300 户"
    screenshot("map-worker")
    assert "东街道" not in page.inner_text("body")

    # Asking for the other street directly: the API refuses, the panel says why
    # in Chinese, and the map stays as it was.
    page.evaluate("(code) => window.wanggeDrill(code)", city.STREET_EAST)
    page.wait_for_selector("#map-error:not([hidden])")
    assert "权限范围" in page.inner_text("#map-error")
    assert page.get_attribute(MAP, "data-current-code") == city.COMMUNITY_WEST
    assert city.STREET_EAST not in page.evaluate(DRAWN)["regions"]
    assert "东街道" not in page.inner_text("body")

    # A link to it fares the same: the start view, with the reason.
    page.goto(f"/map/?area={city.STREET_EAST}")
    wait_for_map(page, city.DISTRICT, 1)
    assert "权限范围" in page.inner_text("#map-error")
    assert page.evaluate(DRAWN)["regions"] == [city.STREET_WEST]


def test_area_tree_expands_rows_through_htmx(viewer: Any, page: Any, login: Any) -> None:
    login("viewer")
    page.goto("/areas/")
    assert page.locator(f"#area-{city.COMMUNITY_WEST}").count() == 0
    page.click(f"#area-{city.STREET_WEST} .tree-toggle")
    page.wait_for_selector(f"#area-{city.COMMUNITY_WEST}")
    # The expanded row lost its button; the new row sits right under it.
    assert page.locator(f"#area-{city.STREET_WEST} .tree-toggle").count() == 0
    codes = page.locator("#area-tree tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert codes == [city.DISTRICT, city.STREET_WEST, city.COMMUNITY_WEST, city.STREET_EAST]
