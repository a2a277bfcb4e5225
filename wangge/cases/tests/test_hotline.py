"""热线录入: a centre operator types a citizen's call, through the Django test
client and once in a real browser. The call goes through the same intake as
every report, as channel "hotline" with the operator as reporter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from wangge.cases import selectors
from wangge.cases.models import Case, Channel, State
from wangge.testing import city

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

URL = "/cases/hotline/"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def html_of(response: Any) -> str:
    return str(response.content.decode())


def call(**overrides: str) -> dict[str, str]:
    """What an operator types for a call, with sensible defaults: no point, no category."""
    fields = {"description": "幸福路口有人占道摆摊卖水果，堵了半条人行道", "address_text": "幸福路与先锋路交口",
              "contact_name": "王先生", "contact_phone": "13800138000", "lon": "", "lat": "",
              "crs": "wgs84", "category": "", "urgency": "normal"}
    fields.update(overrides)
    return fields


def test_the_route_is_named_and_anonymous_is_sent_to_login(client: Client) -> None:
    assert reverse("cases:hotline") == URL
    r = client.get(URL)
    assert r.status_code == 302 and r["Location"] == f"{reverse('login')}?next={URL}"


def test_the_form_offers_the_catalog_the_map_and_the_suggestions(
        client: Client, street_admin: Any, catalog: None) -> None:
    r = logged_in(client, street_admin).get(URL)
    assert r.status_code == 200
    html = html_of(r)
    assert 'id="report-form"' in html and 'name="description"' in html
    assert '<option value="E0101"' in html and '<option value="gcj02"' in html
    # The operator's whole district on the map; the classifier behind the select.
    assert f'data-grids-url="{reverse("cases:report_grids")}?area={city.DISTRICT}"' in html
    assert f'data-classify-url="{reverse("cases:report_classify")}"' in html
    assert 'data-preselect="0"' in html and "js/report.js" in html
    assert 'id="report-strings"' in html


def test_a_call_without_a_point_goes_to_the_operators_centre(
        client: Client, street_admin: Any, catalog: None) -> None:
    r = logged_in(client, street_admin).post(URL, call())
    case = Case.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.channel == Channel.HOTLINE and case.reporter == street_admin
    assert case.contact_name == "王先生" and case.contact_phone == "13800138000"
    assert case.address_text == "幸福路与先锋路交口"
    assert case.lon is None and case.grid_code == "" and case.area_code == city.STREET_WEST
    assert case.state == State.REPORTED
    assert case in selectors.centre_queue(street_admin)
    message = " ".join(str(m) for m in get_messages(r.wsgi_request))
    assert case.code in message and case.tracking_code in message and "查询码" in message


def test_a_call_with_a_point_in_grid_a_is_dispatched(
        client: Client, street_admin: Any, catalog: None) -> None:
    r = logged_in(client, street_admin).post(URL, call(
        description="路边垃圾堆积无人清运", lon=str(city.POINT_A[0]), lat=str(city.POINT_A[1]),
        category="E0101", urgency="urgent"), follow=True)
    case = Case.objects.get()
    assert case.grid_code == city.GRID_A and not case.outside
    assert case.state == State.DISPATCHED and case.department is not None
    assert case.department.code == "120110-CG"
    assert case.channel == Channel.HOTLINE and case.urgency == "urgent"
    html = html_of(r)
    assert r.redirect_chain[-1][0] == reverse("cases:detail", args=[case.pk])
    assert case.code in html and case.tracking_code in html


def test_coordinates_copied_from_amap_are_converted(
        client: Client, street_admin: Any, catalog: None) -> None:
    from wangge.core.coords import to_wgs84

    # A GCJ-02 point whose WGS-84 is in grid A: the offset is a few hundred metres.
    x, y = to_wgs84([city.POINT_A[0]], [city.POINT_A[1]], "gcj02")
    logged_in(client, street_admin).post(URL, call(lon=str(city.POINT_A[0]), lat=str(city.POINT_A[1]),
                                                   crs="gcj02", category="E0501"))
    case = Case.objects.get()
    assert case.lon == pytest.approx(float(x[0]), abs=1e-6)
    assert case.lat == pytest.approx(float(y[0]), abs=1e-6)
    assert case.grid_code == city.GRID_A


def test_a_bad_phone_shows_an_error_and_writes_nothing(
        client: Client, street_admin: Any, catalog: None) -> None:
    r = logged_in(client, street_admin).post(URL, call(contact_phone="12345"))
    assert r.status_code == 422
    assert not Case.objects.exists()
    html = html_of(r)
    assert 'id="form-error"' in html
    error = re.search(r'id="err-contact_phone">([^<]*)<', html)
    assert error and "电话号码无效" in error.group(1)
    assert 'value="12345"' in html and "幸福路口有人占道摆摊卖水果" in html and 'value="王先生"' in html


@pytest.mark.parametrize(("typed", "field", "words"), [
    ({"lon": "东经117", "lat": "39.02"}, "location", "经纬度须为数字"),
    ({"lon": "217.35", "lat": "39.02"}, "location", "超出范围"),
    ({"lon": "117.35", "lat": ""}, "location", "同时提供"),
    ({"category": "X9999"}, "category", "X9999"),
    ({"description": "   "}, "description", "请描述"),
])
def test_a_refused_field_is_shown_next_to_it_with_the_typed_values(
        client: Client, street_admin: Any, catalog: None, typed: dict[str, str], field: str,
        words: str) -> None:
    r = logged_in(client, street_admin).post(URL, call(**typed))
    assert 400 <= r.status_code < 500
    assert not Case.objects.exists()
    html = html_of(r)
    error = re.search(rf'id="err-{field}">([^<]*)<', html)
    assert error and words in error.group(1)
    assert 'value="13800138000"' in html and 'value="幸福路与先锋路交口"' in html
    if "lon" in typed:
        assert f'value="{typed["lon"]}"' in html
    if "category" in typed:
        # An unknown code cannot be selected again; the select is back to "let the system decide".
        assert "selected" not in html.split('id="id_category"')[1].split("</select>")[0]


def test_the_urgency_and_category_typed_are_kept_after_a_refusal(
        client: Client, street_admin: Any, catalog: None) -> None:
    r = logged_in(client, street_admin).post(URL, call(category="E0101", urgency="emergency",
                                                       contact_phone="abc"))
    html = html_of(r)
    assert '<option value="E0101" selected>' in html
    assert 'value="emergency" checked' in html


@pytest.mark.parametrize("persona", ["worker_a", "chengguan"])
def test_a_grid_worker_or_department_user_is_refused(
        client: Client, persona: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(persona)
    logged_in(client, user)
    r = client.get(URL)
    assert r.status_code == 403 and 'id="forbidden"' in html_of(r)
    r = client.post(URL, call())
    assert r.status_code == 403 and not Case.objects.exists()


def test_the_navigation_offers_it_to_centres_only(
        client: Client, street_admin: Any, viewer: Any, worker_a: Any, chengguan: Any) -> None:
    from wangge.accounts.navigation import items_for

    assert "cases:hotline" in {i.url_name for i in items_for(street_admin)}
    assert "cases:hotline" in {i.url_name for i in items_for(viewer)}
    assert "cases:hotline" not in {i.url_name for i in items_for(worker_a)}
    assert "cases:hotline" not in {i.url_name for i in items_for(chengguan)}
    html = html_of(logged_in(client, street_admin).get(URL))
    assert f'href="{URL}" aria-current="page">热线录入<' in html


def test_the_page_speaks_english_when_asked(client: Client, street_admin: Any, catalog: None) -> None:
    client.cookies["django_language"] = "en"
    html = html_of(logged_in(client, street_admin).get(URL))
    assert "Hotline entry" in html and "Caller" in html
    r = client.post(URL, call())
    case = Case.objects.get()
    message = " ".join(str(m) for m in get_messages(r.wsgi_request))
    assert "tracking code" in message and case.tracking_code in message


# --- in a real browser ---------------------------------------------------------------

# The pixel of a WGS-84 point on the map, through ECharts' own projection.
POINT_PIXEL = """([lon, lat]) => {
  const chart = window.wanggeReportMap;
  const [x, y] = chart.convertToPixel({geoIndex: 0}, [lon, lat]);
  const box = chart.getDom().getBoundingClientRect();
  return {x: box.left + x, y: box.top + y};
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_operator_files_a_call_in_the_browser(
        street_admin: Any, catalog: None, page: Any, login: Any, monkeypatch: Any,
        screenshot: Any) -> None:
    # The case is read back after the page loads, while the live server is
    # idle; Django refuses database calls under Playwright's event loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    login("street_admin")
    page.goto(URL)
    page.wait_for_selector("#report-map[data-ready='1']")
    assert page.locator("#use-location").is_hidden()
    page.fill("#id_description", "小区门口垃圾成堆发臭")
    page.wait_for_function(
        "(document.getElementById('report-form').dataset.suggested || '').startsWith('E0101')")
    assert page.input_value("#id_category") == ""  # suggested, never picked for the operator
    page.select_option("#id_category", "E0101")
    page.locator("#report-map").scroll_into_view_if_needed()
    at = page.evaluate(POINT_PIXEL, list(city.POINT_A))
    page.mouse.click(at["x"], at["y"])
    page.wait_for_selector(f"#location-status[data-grid='{city.GRID_A}']")
    page.fill("#id_contact_name", "李女士")
    page.fill("#id_contact_phone", "022-24391234")
    page.check("input[name=urgency][value=urgent]")
    screenshot("hotline-filled")
    with page.expect_navigation():
        page.click("#report-submit")
    screenshot("hotline-filed")

    case = Case.objects.get()
    assert page.url.endswith(reverse("cases:detail", args=[case.pk]))
    shown = page.inner_text(".messages")
    assert case.code in shown and case.tracking_code in shown
    assert case.channel == Channel.HOTLINE and case.reporter == street_admin
    assert case.grid_code == city.GRID_A and case.state == State.DISPATCHED
    assert case.contact_name == "李女士" and case.contact_phone == "02224391234"
    assert case.urgency == "urgent"
