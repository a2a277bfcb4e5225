"""A user sees the areas of their scope and the path above it, nothing beside it."""

from __future__ import annotations

import pytest

from wangge.testing import city

pytestmark = pytest.mark.django_db


def _codes(fc):
    return {f["properties"]["code"] for f in fc["features"]}


def test_worker_cannot_read_another_streets_area(api_client, worker_a, auth_header):
    h = auth_header(worker_a)
    r = api_client.get(f"/api/v1/areas/{city.STREET_EAST}", **h)
    assert r.status_code == 403
    assert "权限" in r.json()["message"]
    assert api_client.get(f"/api/v1/areas/{city.GRID_C}", **h).status_code == 403
    assert api_client.get("/api/v1/areas/geojson", {"parent": city.STREET_EAST}, **h).status_code == 403


def test_worker_geojson_shows_own_path_only(api_client, worker_a, auth_header):
    h = auth_header(worker_a)
    grids = _codes(api_client.get("/api/v1/areas/geojson", {"level": "grid"}, **h).json())
    assert grids == {city.GRID_A}
    streets = _codes(api_client.get("/api/v1/areas/geojson", {"level": "street"}, **h).json())
    assert streets == {city.STREET_WEST}
    children = _codes(api_client.get("/api/v1/areas/geojson", {"parent": city.COMMUNITY_WEST},
                                     **h).json())
    assert children == {city.GRID_A}


def test_worker_tree_excludes_other_street(api_client, worker_a, auth_header):
    tree = api_client.get("/api/v1/areas/tree", {"depth": 4}, **auth_header(worker_a)).json()
    text = str(tree)
    assert city.GRID_A in text and city.STREET_EAST not in text and city.GRID_B not in text


def test_street_staff_sees_both_grids_of_their_street(api_client, street_admin, auth_header):
    h = auth_header(street_admin)
    grids = _codes(api_client.get("/api/v1/areas/geojson", {"level": "grid"}, **h).json())
    assert grids == {city.GRID_A, city.GRID_B}
    assert api_client.get(f"/api/v1/areas/{city.GRID_C}", **h).status_code == 403


def test_command_centre_sees_whole_district(api_client, viewer, auth_header):
    fc = api_client.get("/api/v1/areas/geojson", **auth_header(viewer)).json()
    assert _codes(fc) == {city.DISTRICT}
    detail = api_client.get(f"/api/v1/areas/{city.COMMUNITY_WEST}", **auth_header(viewer)).json()
    assert detail["households"] == 580
    assert [p["code"] for p in detail["path"]] == [city.DISTRICT, city.STREET_WEST]


def test_unknown_code_is_404(api_client, viewer, auth_header):
    r = api_client.get("/api/v1/areas/120110099099099", **auth_header(viewer))
    assert r.status_code == 404
    assert "不存在" in r.json()["message"]


def test_user_without_area_sees_nothing(api_client, small_city, auth_header):
    from wangge.accounts.services import create_user

    resident = create_user("res", "pw-res-12345", role="resident")
    h = auth_header(resident)
    assert api_client.get("/api/v1/areas/geojson", {"level": "grid"}, **h).json()["features"] == []
    assert api_client.get(f"/api/v1/areas/{city.DISTRICT}", **h).status_code == 403


def test_anonymous_gets_401(api_client, small_city):
    r = api_client.get("/api/v1/areas/tree")
    assert r.status_code == 401
    assert api_client.get("/api/v1/health").status_code == 200


def test_bad_token_gets_401(api_client, small_city):
    r = api_client.get("/api/v1/areas/tree", HTTP_AUTHORIZATION="Bearer wg_nonsense")
    assert r.status_code == 401
