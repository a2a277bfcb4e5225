from __future__ import annotations

import pytest

from wangge.core.coords import from_wgs84
from wangge.testing import city

pytestmark = pytest.mark.django_db


def test_locate_finds_grid_a(api_client, worker_a, auth_header):
    lon, lat = city.POINT_A
    r = api_client.get("/api/v1/locate", {"lon": lon, "lat": lat}, **auth_header(worker_a))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["inside"] is True
    assert body["grid_code"] == city.GRID_A
    police = next(h for h in body["layers"] if h["layer"] == "police")
    assert police["code"] == city.POLICE_BEAT


def test_gcj02_input_locates_to_same_grid_as_wgs84(api_client, worker_a, auth_header):
    # A point 30 m inside grid A's northern edge: GCJ-02's offset (several
    # hundred metres near Tianjin) would put the raw value in grid B.
    lon, lat = 117.35, 39.0497
    glon, glat = from_wgs84(lon, lat, "gcj02")
    headers = auth_header(worker_a)
    raw = api_client.get("/api/v1/locate", {"lon": float(glon), "lat": float(glat)}, **headers)
    assert raw.json()["grid_code"] != city.GRID_A  # the offset matters here
    r = api_client.get("/api/v1/locate",
                       {"lon": float(glon), "lat": float(glat), "crs": "gcj02"}, **headers)
    assert r.json()["grid_code"] == city.GRID_A
    assert abs(r.json()["lat"] - lat) < 1e-6


def test_point_outside_every_grid_names_nearest_with_distance(api_client, worker_a, auth_header):
    lon, lat = city.POINT_OUTSIDE
    r = api_client.get("/api/v1/locate", {"lon": lon, "lat": lat}, **auth_header(worker_a))
    body = r.json()
    assert body["inside"] is False and body["grid_code"] is None
    base = next(h for h in body["layers"] if h["layer"] == "base")
    assert base["nearest_code"] == city.GRID_C
    assert 8_000 < base["distance_m"] < 9_000


def test_latitude_out_of_range_is_422_with_message(api_client, worker_a, auth_header):
    r = api_client.get("/api/v1/locate", {"lon": 117.3, "lat": 95}, **auth_header(worker_a))
    assert r.status_code == 422
    assert "纬度" in r.json()["message"]


def test_batch_locate_returns_codes_in_input_order(api_client, worker_a, auth_header):
    points = [city.POINT_C, city.POINT_A, city.POINT_OUTSIDE, city.POINT_B]
    payload = {"lons": [p[0] for p in points], "lats": [p[1] for p in points]}
    r = api_client.post("/api/v1/locate/batch", payload, content_type="application/json",
                        **auth_header(worker_a))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["grid_codes"] == [city.GRID_C, city.GRID_A, None, city.GRID_B]
    assert body["outside"] == 1 and body["results"] is None


def test_batch_locate_detail_in_gcj02(api_client, worker_a, auth_header):
    glon, glat = from_wgs84([city.POINT_A[0], city.POINT_OUTSIDE[0]],
                            [city.POINT_A[1], city.POINT_OUTSIDE[1]], "gcj02")
    payload = {"crs": "gcj02", "lons": glon.tolist(), "lats": glat.tolist()}
    r = api_client.post("/api/v1/locate/batch?detail=true", payload,
                        content_type="application/json", **auth_header(worker_a))
    results = r.json()["results"]
    assert results[0]["grid_code"] == city.GRID_A
    base = next(h for h in results[1]["layers"] if h["layer"] == "base")
    assert base["nearest_code"] == city.GRID_C


@pytest.mark.parametrize("payload,needle", [
    ({"lons": [117.3, 117.4], "lats": [39.0]}, "等长"),
    ({"lons": [117.3], "lats": [91.0]}, "第 1 个点"),
    ({"lons": [117.3], "lats": [39.0], "crs": "utm"}, "crs"),
])
def test_batch_locate_bad_input_is_422(api_client, worker_a, auth_header, payload, needle):
    r = api_client.post("/api/v1/locate/batch", payload, content_type="application/json",
                        **auth_header(worker_a))
    assert r.status_code == 422
    assert needle in r.json()["message"]


def test_locator_sees_reimported_areas(api_client, viewer, auth_header):
    from wangge.areas.services import import_areas
    from wangge.testing.city import box, feature

    # Split grid C in two; the point in its north half must now locate to the new grid.
    import_areas(None, {"type": "FeatureCollection", "features": [
        feature(city.GRID_C, "C网格", "grid", city.COMMUNITY_EAST, box(117.40, 39.00, 117.50, 39.05)),
        feature("120110002001002", "D网格", "grid", city.COMMUNITY_EAST,
                box(117.40, 39.05, 117.50, 39.10)),
    ]})
    r = api_client.get("/api/v1/locate", {"lon": 117.45, "lat": 39.08}, **auth_header(viewer))
    assert r.json()["grid_code"] == "120110002001002"
