from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from wangge.testing import city

pytestmark = [
    pytest.mark.django_db,
    # Nothing is collected into STATIC_ROOT in tests; WhiteNoise says so.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PAGES = ["dashboard:map", "dashboard:areas", "dashboard:addresses", "dashboard:welcome"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(client, name):
    url = reverse(name)
    r = client.get(url)
    assert r.status_code == 302
    assert r["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("name", PAGES)
def test_each_page_renders_for_a_logged_in_user(client, viewer, name):
    client.force_login(viewer)
    r = client.get(reverse(name))
    assert r.status_code == 200
    html = r.content.decode()
    assert "wangge.css" in html
    assert "vendor/htmx.min.js" in html


def test_no_page_loads_scripts_from_another_site(client, viewer):
    client.force_login(viewer)
    for name in PAGES:
        html = client.get(reverse(name)).content.decode()
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") for s in sources), (name, sources)


def test_map_page_has_state_hooks_and_translated_strings(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("dashboard:map")).content.decode()
    assert 'id="map"' in html and 'data-drawn-count="0"' in html
    assert 'data-api="/api/v1/areas"' in html
    assert "vendor/echarts.min.js" in html and "js/map.js" in html
    found = re.search(r'<script id="map-strings" type="application/json">(.*?)</script>',
                      html, re.S)
    assert found is not None
    strings = json.loads(found.group(1))
    assert strings["levels"]["street"] == "街道"
    assert strings["households"] == "户数"


def test_area_tree_shows_the_top_area_and_its_children(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("dashboard:areas")).content.decode()
    assert "东丽区" in html and "西街道" in html and "东街道" in html
    assert f'hx-get="/areas/?root={city.STREET_WEST}"' in html
    # Grids are loaded on demand, not on the first page.
    assert "A网格" not in html


def test_area_tree_is_scoped_to_the_worker(client, worker_a):
    client.force_login(worker_a)
    html = client.get(reverse("dashboard:areas")).content.decode()
    assert "西街道" in html
    assert "东街道" not in html and city.STREET_EAST not in html


def test_htmx_expand_returns_the_row_and_its_children(client, viewer):
    client.force_login(viewer)
    r = client.get(reverse("dashboard:areas"), {"root": city.COMMUNITY_WEST},
                   HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" not in html
    assert html.count("<tr") == 3  # the community, grids A and B
    assert "A网格" in html and "B网格" in html
    assert "300" in html and "280" in html


def test_htmx_expand_outside_scope_is_404_with_message(client, worker_a):
    client.force_login(worker_a)
    r = client.get(reverse("dashboard:areas"), {"root": city.STREET_EAST},
                   HTTP_HX_REQUEST="true")
    assert r.status_code == 404
    assert "权限范围" in r.content.decode()


def test_unknown_root_page_is_404_with_message(client, viewer):
    client.force_login(viewer)
    r = client.get(reverse("dashboard:areas"), {"root": "999999"})
    assert r.status_code == 404
    assert "不存在" in r.content.decode()


def test_area_tree_stays_within_a_query_budget(client, viewer, django_assert_max_num_queries):
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        client.get(reverse("dashboard:areas"))


def test_address_page_keeps_the_query(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("dashboard:addresses"), {"q": "幸福路12号"}).content.decode()
    assert 'value="幸福路12号"' in html
    assert 'data-api="/api/v1/addresses"' in html


def test_welcome_greets_the_resident_by_name(client, small_city):
    from wangge.accounts.services import create_user

    resident = create_user("jumin", "pw-jumin-12345", role="resident", display_name="张三")
    client.force_login(resident)
    html = client.get(reverse("dashboard:welcome")).content.decode()
    assert "张三，您好" in html
