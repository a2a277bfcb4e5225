from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.cases.models import Case
from wangge.cases.services import register_device
from wangge.testing import city
from wangge.testing.cases import make_case, png_bytes

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases"


def post(client: Any, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_a_grid_worker_files_a_report_and_it_is_dispatched(
        api_client: Any, auth_header: Any, worker_a: Any, chengguan: Any) -> None:
    r = post(api_client, URL, {"description": "小区门口垃圾成堆发臭", "lon": city.POINT_A[0],
                               "lat": city.POINT_A[1]}, auth_header(worker_a))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["channel"] == "grid_worker" and body["state"] == "dispatched"
    assert body["category"] == "E0101" and body["department"] == "120110-CG"
    assert body["grid_code"] == city.GRID_A and body["handle_due"]


def test_gcj02_coordinates_are_converted(api_client: Any, auth_header: Any, worker_a: Any,
                                         chengguan: Any) -> None:
    from wangge.core.coords import wgs84_to_gcj02

    x, y = wgs84_to_gcj02([city.POINT_A[0]], [city.POINT_A[1]])
    r = post(api_client, URL, {"description": "垃圾桶满了溢出来", "lon": float(x[0]), "lat": float(y[0]),
                               "crs": "gcj02", "category": "E0101"}, auth_header(worker_a))
    assert r.status_code == 201
    assert abs(r.json()["lon"] - city.POINT_A[0]) < 1e-5 and r.json()["grid_code"] == city.GRID_A


@pytest.mark.parametrize(("body", "code"), [
    ({"description": "", "lon": 117.35, "lat": 39.02}, "description_required"),
    ({"description": "垃圾", "lon": 250.0, "lat": 39.02}, "invalid_coordinate"),
    ({"description": "垃圾", "lon": 117.35, "lat": 39.02, "category": "Z0000"}, "unknown_category"),
    ({"description": "垃圾"}, "location_required"),
])
def test_bad_reports_get_a_clear_error_and_write_nothing(
        api_client: Any, auth_header: Any, worker_a: Any, catalog: None,
        body: dict[str, Any], code: str) -> None:
    r = post(api_client, URL, body, auth_header(worker_a))
    assert r.status_code == 422 and r.json()["code"] == code and r.json()["message"]
    assert not Case.objects.exists()


def test_a_report_with_photos_over_multipart(api_client: Any, auth_header: Any, worker_a: Any,
                                             chengguan: Any) -> None:
    r = api_client.post(f"{URL}/upload", {
        "description": "井盖破了一个洞", "lon": city.POINT_A[0], "lat": city.POINT_A[1],
        "photos": [SimpleUploadedFile("a.png", png_bytes(), "image/png")],
    }, **auth_header(worker_a))
    assert r.status_code == 201, r.content
    assert Case.objects.get().photos.count() == 1


def test_a_device_files_with_its_key_and_a_wrong_key_is_refused(
        api_client: Any, chengguan: Any) -> None:
    _, key = register_device(by=None, name="东丽大道摄像头 1", area_code=city.GRID_A)
    body = {"description": "识别到暴露垃圾", "lon": city.POINT_A[0], "lat": city.POINT_A[1],
            "category": "E0101"}
    r = post(api_client, f"{URL}/device", body, {"HTTP_X_DEVICE_KEY": key})
    assert r.status_code == 201 and r.json()["channel"] == "sensor"
    r = post(api_client, f"{URL}/device", body, {"HTTP_X_DEVICE_KEY": "dev_wrong"})
    assert r.status_code == 401


def test_steps_over_the_api_and_an_illegal_one_refused(
        api_client: Any, auth_header: Any, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    url = f"{URL}/{case.pk}/steps"
    r = post(api_client, f"{url}/handle", {"note": "已处理"}, auth_header(chengguan))
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert post(api_client, f"{url}/accept", {}, auth_header(chengguan)).json()["state"] == "accepted"
    r = post(api_client, f"{url}/handle", {}, auth_header(chengguan))
    assert r.status_code == 422 and r.json()["code"] == "missing_note"
    r = post(api_client, f"{url}/fly", {}, auth_header(chengguan))
    assert r.status_code == 404


def test_outsiders_get_404_for_a_case_they_cannot_see(
        api_client: Any, auth_header: Any, worker_a: Any, outsider: Any, chengguan: Any) -> None:
    case = make_case(worker_a)
    assert api_client.get(f"{URL}/{case.pk}", **auth_header(outsider)).status_code == 404
    assert api_client.get(f"{URL}/{case.code}", **auth_header(worker_a)).status_code == 200
    assert api_client.get(URL, **auth_header(outsider)).json()["count"] == 0


def test_the_detail_shows_timeline_and_what_the_caller_may_do(
        api_client: Any, auth_header: Any, worker_a: Any, chengguan: Any) -> None:
    case = make_case(worker_a, channel="resident", contact_phone="13812345678")
    body = api_client.get(f"{URL}/{case.pk}", **auth_header(chengguan)).json()
    assert [e["action"] for e in body["timeline"]] == ["report", "register", "dispatch"]
    assert {s["name"] for s in body["steps"]} == {"accept", "return"}
    assert body["contact_phone"] != "13812345678"


def test_the_list_has_a_query_ceiling(api_client: Any, auth_header: Any, worker_a: Any,
                                      chengguan: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(5):
        make_case(worker_a, lon=city.POINT_A[0] + 0.002 * i)
    headers = auth_header(worker_a)
    with django_assert_max_num_queries(8):
        r = api_client.get(URL, **headers)
    assert r.json()["count"] == 5


def test_the_public_status_by_tracking_code_has_no_personal_data(
        api_client: Any, worker_a: Any, chengguan: Any) -> None:
    case = make_case(None, channel="resident", contact_name="周丽", contact_phone="13812345678")
    r = api_client.get(f"{URL}/public/{case.tracking_code}")
    assert r.status_code == 200 and "13812345678" not in r.content.decode()
    assert "周丽" not in r.content.decode()
    assert api_client.get(f"{URL}/public/NOPE123456").status_code == 404


def test_the_routing_tool_over_the_api(api_client: Any, auth_header: Any, viewer: Any,
                                       catalog: None) -> None:
    r = api_client.get(f"{URL}/routing/explain", {"category": "C0102", "lon": city.POINT_C[0],
                                                 "lat": city.POINT_C[1]}, **auth_header(viewer))
    assert r.status_code == 200 and r.json()["department"] == "120110-SW"


def test_handling_with_a_photo_over_multipart(api_client: Any, auth_header: Any, worker_a: Any,
                                              chengguan: Any) -> None:
    case = make_case(worker_a)
    url = f"{URL}/{case.pk}/steps"
    post(api_client, f"{url}/accept", {}, auth_header(chengguan))
    r = api_client.post(f"{url}/handle/upload", {
        "note": "已清运", "photos": [SimpleUploadedFile("b.png", png_bytes(), "image/png")]},
        **auth_header(chengguan))
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "handled" and case.photos.filter(stage="handle").count() == 1
