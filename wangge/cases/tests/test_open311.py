"""Open311 GeoReport v2 over real HTTP (django.test.Client), as a third-party
311 app would use it: form-encoded posts, XML and JSON answers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from defusedxml import ElementTree as defused
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from wangge.accounts.services import create_user, issue_token
from wangge.cases.models import Case, Channel, State
from wangge.cases.services import StepInput, take_step
from wangge.core.coords import from_wgs84
from wangge.testing import city
from wangge.testing.cases import make_case, png_bytes

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
PHONE = "13912345678"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client() -> Client:
    # A third-party app sends no CSRF token: posting must work regardless.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def app_user(catalog: None) -> Any:
    return create_user("street_app", "pass-street_app", role="resident", display_name="街拍应用")


@pytest.fixture
def api_key(app_user: Any) -> str:
    return issue_token(app_user, "open311").key


def form(api_key: str, **fields: Any) -> dict[str, Any]:
    data = {"api_key": api_key, "service_code": "E0101", "lat": city.POINT_A[1],
            "long": city.POINT_A[0], "description": "路口垃圾堆积三天无人清运"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def post(client: Client, data: dict[str, Any], fmt: str = "json", multipart: bool = False) -> Any:
    if multipart:
        return client.post(f"{BASE}/requests.{fmt}", data)
    from urllib.parse import urlencode

    return client.post(f"{BASE}/requests.{fmt}", urlencode(data, doseq=True),
                       content_type="application/x-www-form-urlencoded; charset=utf-8")


def filed(client: Client, api_key: str, **fields: Any) -> Case:
    response = post(client, form(api_key, **fields))
    assert response.status_code == 200, response.content.decode()
    return Case.objects.get(tracking_code=response.json()[0]["service_request_id"])


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return defused.fromstring(response.content)


def listed(client: Client, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 200, response.content.decode()
    return list(response.json())


def step(case: Case, by: Any, name: str, **given: Any) -> Case:
    return take_step(case_id=case.pk, by=by, step=name, given=StepInput(**given))


# --- services ----------------------------------------------------------------------


def test_service_list_in_json_is_the_active_catalog(client: Client, catalog: None) -> None:
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in response.json()}
    assert set(services) == {"C0102", "C0201", "E0101", "E0301", "E0501", "E0701"}
    assert services["E0101"] == {
        "service_code": "E0101", "service_name": "暴露垃圾", "description": "市容环境 / 事件",
        "metadata": False, "type": "realtime", "keywords": "暴露垃圾,市容环境,事件",
        "group": "市容环境"}


def test_service_list_in_xml_follows_the_spec_elements(client: Client, catalog: None) -> None:
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    items = root.findall("service")
    assert [s.findtext("service_code") for s in items][:2] == ["C0102", "C0201"]
    garbage = next(s for s in items if s.findtext("service_code") == "E0101")
    assert garbage.findtext("service_name") == "暴露垃圾"
    assert garbage.findtext("metadata") == "false" and garbage.findtext("type") == "realtime"
    assert garbage.findtext("group") == "市容环境"


def test_an_inactive_category_is_not_offered(client: Client, catalog: None) -> None:
    from wangge.cases.models import Category

    Category.objects.filter(code="E0301").update(active=False)
    codes = [s["service_code"] for s in client.get(f"{BASE}/services.json").json()]
    assert "E0301" not in codes
    assert client.get(f"{BASE}/services/E0301.json").status_code == 404


def test_service_definition_is_a_valid_document_without_attributes(client: Client,
                                                                   catalog: None) -> None:
    assert client.get(f"{BASE}/services/E0101.json").json() == {
        "service_code": "E0101", "attributes": []}
    root = xml(client.get(f"{BASE}/services/E0101.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "E0101"
    attributes = root.find("attributes")
    assert attributes is not None and list(attributes) == []


def test_an_unknown_service_definition_is_a_404_in_open311_format(client: Client,
                                                                  catalog: None) -> None:
    response = client.get(f"{BASE}/services/X9999.xml")
    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "service_not_found"
    assert "X9999" in (root.findtext("error/description") or "")


def test_discovery_points_at_this_endpoint(client: Client, catalog: None) -> None:
    body = client.get(f"{BASE}/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json"]


# --- filing -------------------------------------------------------------------------


def test_a_request_with_a_valid_key_reaches_the_right_department(
        client: Client, api_key: str, app_user: Any) -> None:
    response = post(client, form(api_key, first_name="小明", last_name="王", phone=PHONE,
                                 account_id="u-42", address_string="东丽大道与先锋路交口"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [answer] = response.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] == "u-42"
    assert answer["service_notice"].startswith("已派遣至东丽区城市管理委，处置时限 ")
    case = Case.objects.get(tracking_code=answer["service_request_id"])
    assert answer["service_request_id"] != str(case.pk)
    assert case.channel == Channel.OPEN311 and case.reporter == app_user
    assert case.state == State.DISPATCHED
    assert case.department is not None and case.department.code == "120110-CG"
    assert case.grid_code == city.GRID_A
    assert (case.contact_name, case.contact_phone) == ("王小明", PHONE)
    assert case.address_text == "东丽大道与先锋路交口"


def test_xml_post_answers_with_service_requests(client: Client, api_key: str) -> None:
    root = xml(post(client, form(api_key), fmt="xml"))
    assert root.tag == "service_requests"
    code = root.findtext("request/service_request_id")
    assert Case.objects.filter(tracking_code=code).exists()
    account = root.find("request/account_id")
    assert account is not None and account.text is None


def test_a_bad_api_key_is_refused_with_403_and_nothing_is_filed(client: Client,
                                                               api_key: str) -> None:
    response = post(client, form("wg_not-a-real-key"))
    assert response.status_code == 403
    assert response.json() == [{"code": "invalid_api_key",
                                "description": "api_key 无效、已吊销或已过期，无法提交"}]
    root = xml(post(client, form(""), fmt="xml"))
    assert root.findtext("error/code") == "api_key_required"
    assert not Case.objects.exists()


def test_a_revoked_key_is_refused(client: Client, app_user: Any) -> None:
    from wangge.accounts.services import revoke_token

    issued = issue_token(app_user, "open311")
    revoke_token(app_user, issued.token)
    assert post(client, form(issued.key)).status_code == 403


def test_an_unknown_service_code_is_a_404(client: Client, api_key: str) -> None:
    response = post(client, form(api_key, service_code="X9999"))
    assert response.status_code == 404
    assert response.json()[0]["code"] == "service_not_found"
    missing = post(client, form(api_key, service_code=""))
    assert missing.status_code == 400
    assert missing.json()[0]["code"] == "service_code_required"


def test_a_request_without_location_is_a_400(client: Client, api_key: str) -> None:
    response = post(client, form(api_key, lat=None, long=None))
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == "location_required"
    assert "lat" in error["description"] and "address_string" in error["description"]
    half = post(client, form(api_key, long=None))
    assert half.status_code == 400 and half.json()[0]["code"] == "location_incomplete"
    junk = post(client, form(api_key, lat="north"))
    assert junk.status_code == 400 and junk.json()[0]["code"] == "invalid_coordinate"
    assert not Case.objects.exists()


def test_an_address_alone_is_accepted_and_waits_for_the_centre(client: Client,
                                                               api_key: str) -> None:
    case = filed(client, api_key, lat=None, long=None, address_string="金桥街道新立村东口",
                 address_id="120110-0001")
    assert case.state == State.REPORTED and case.lon is None and case.outside
    assert case.address_text == "金桥街道新立村东口；地址编码 120110-0001"


def test_a_point_outside_every_grid_is_accepted_and_flagged(client: Client,
                                                            api_key: str) -> None:
    response = post(client, form(api_key, lat=city.POINT_OUTSIDE[1], long=city.POINT_OUTSIDE[0]))
    assert response.status_code == 200
    [answer] = response.json()
    assert "不在任何网格内" in answer["service_notice"]
    case = Case.objects.get(tracking_code=answer["service_request_id"])
    assert case.outside and case.state == State.REPORTED and case.area_code == city.DISTRICT


def test_gcj02_coordinates_are_accepted_with_crs(client: Client, api_key: str) -> None:
    x, y = from_wgs84([city.POINT_A[0]], [city.POINT_A[1]], "gcj02")
    case = filed(client, api_key, long=float(x[0]), lat=float(y[0]), crs="GCJ02")
    assert case.lon == pytest.approx(city.POINT_A[0], abs=1e-5)
    assert case.lat == pytest.approx(city.POINT_A[1], abs=1e-5)
    assert case.grid_code == city.GRID_A
    bad = post(client, form(api_key, crs="epsg3857"))
    assert bad.status_code == 400 and bad.json()[0]["code"] == "invalid_crs"


def test_domain_errors_become_400s(client: Client, api_key: str) -> None:
    phone = post(client, form(api_key, phone="12345"))
    assert phone.status_code == 400 and phone.json()[0]["code"] == "invalid_phone"
    long_text = post(client, form(api_key, description="垃" * 2001))
    assert long_text.status_code == 400 and long_text.json()[0]["code"] == "description_too_long"


def test_without_description_the_service_name_describes_it(client: Client, api_key: str) -> None:
    case = filed(client, api_key, description=None,
                 media_url="https://img.example.org/p/1.jpg")
    assert case.description == "暴露垃圾\n\n图片链接：https://img.example.org/p/1.jpg"


def test_a_json_body_is_refused_with_a_hint(client: Client, api_key: str) -> None:
    response = client.post(f"{BASE}/requests.json", json.dumps(form(api_key)),
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()[0]["code"] == "form_encoding_required"


def test_multipart_with_a_media_photo(client: Client, api_key: str) -> None:
    photo = SimpleUploadedFile("scene.png", png_bytes((40, 30)), "image/png")
    response = post(client, form(api_key, media=photo), multipart=True)
    assert response.status_code == 200, response.content.decode()
    code = response.json()[0]["service_request_id"]
    case = Case.objects.get(tracking_code=code)
    assert case.photos.filter(stage="report").count() == 1
    [shown] = listed(client, service_request_id=code)
    assert shown["media_url"] == f"http://testserver/open311/v2/media/{code}.png"
    image = client.get(shown["media_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.getvalue() == png_bytes((40, 30))


def test_a_file_that_is_not_an_image_is_refused(client: Client, api_key: str) -> None:
    junk = SimpleUploadedFile("scene.png", b"not an image", "image/png")
    response = post(client, form(api_key, media=junk), multipart=True)
    assert response.status_code == 400 and response.json()[0]["code"] == "photo_not_image"
    assert not Case.objects.exists()


# --- jurisdiction -------------------------------------------------------------------


def test_the_configured_jurisdiction_is_accepted_and_others_refused(
        client: Client, api_key: str, settings: Any) -> None:
    assert post(client, form(api_key, jurisdiction_id="dongli.wangge")).status_code == 200
    wrong = post(client, form(api_key, jurisdiction_id="sfgov.org"))
    assert wrong.status_code == 404
    assert wrong.json()[0]["code"] == "jurisdiction_not_found"
    root = xml(client.get(f"{BASE}/services.xml", {"jurisdiction_id": "sfgov.org"}))
    assert root.findtext("error/code") == "jurisdiction_not_found"
    assert client.get(f"{BASE}/requests.json", {"jurisdiction_id": "sfgov.org"}).status_code == 404
    settings.WANGGE_OPEN311_JURISDICTION = "tj-dongli.gov.cn"
    assert client.get(f"{BASE}/services.json",
                      {"jurisdiction_id": "tj-dongli.gov.cn"}).status_code == 200
    assert client.get(f"{BASE}/services.json",
                      {"jurisdiction_id": "dongli.wangge"}).status_code == 404


# --- reading ------------------------------------------------------------------------


def test_a_request_by_id_shows_status_and_agency(client: Client, api_key: str) -> None:
    case = filed(client, api_key)
    response = client.get(f"{BASE}/requests/{case.tracking_code}.json")
    assert response.status_code == 200
    [shown] = response.json()
    assert shown["service_request_id"] == case.tracking_code
    assert shown["status"] == "open"
    assert shown["status_notes"] == "已派遣至处置部门"
    assert shown["agency_responsible"] == "东丽区城市管理委"
    assert (shown["service_code"], shown["service_name"]) == ("E0101", "暴露垃圾")
    assert (shown["lat"], shown["long"]) == (city.POINT_A[1], city.POINT_A[0])
    assert shown["requested_datetime"].endswith("+08:00")
    assert shown["expected_datetime"].endswith("+08:00")
    assert shown["media_url"] is None
    root = xml(client.get(f"{BASE}/requests/{case.tracking_code.lower()}.xml"))
    assert root.findtext("request/agency_responsible") == "东丽区城市管理委"
    assert root.findtext("request/status") == "open"


def test_an_unknown_request_is_a_404(client: Client, catalog: None) -> None:
    response = client.get(f"{BASE}/requests/NOSUCHCODE.xml")
    assert response.status_code == 404
    assert xml(response).findtext("error/code") == "request_not_found"


def test_a_token_is_the_tracking_code(client: Client, api_key: str) -> None:
    case = filed(client, api_key)
    assert client.get(f"{BASE}/tokens/{case.tracking_code}.json").json() == [
        {"service_request_id": case.tracking_code, "token": case.tracking_code}]
    assert client.get(f"{BASE}/tokens/123456.json").status_code == 404


def test_an_internal_case_by_id_shows_status_but_not_its_content(
        client: Client, worker_a: Any, catalog: None) -> None:
    case = make_case(worker_a, description="3号楼王某与邻居争吵", address_text="幸福里3号楼")
    [shown] = listed(client, service_request_id=case.tracking_code)
    assert shown["status"] == "open" and shown["agency_responsible"] == "东丽区城市管理委"
    assert shown["description"] is None and shown["address"] is None
    assert shown["lat"] is None and shown["long"] is None


def test_the_list_shows_only_public_requests(client: Client, api_key: str, worker_a: Any,
                                             admin_user: Any) -> None:
    public = filed(client, api_key)
    resident = make_case(None, channel=Channel.RESIDENT, description="小区门口垃圾成堆发臭",
                         lon=city.POINT_B[0], lat=city.POINT_B[1])
    make_case(worker_a)  # a grid worker's case is internal
    waiting = filed(client, api_key, lat=None, long=None, address_string="某处")
    rejected = filed(client, api_key, lat=None, long=None, address_string="别处")
    step(rejected, admin_user, "reject", note="重复骚扰")
    codes = {r["service_request_id"] for r in listed(client)}
    assert codes == {public.tracking_code, resident.tracking_code}
    assert waiting.tracking_code not in codes
    # …but each can still be followed by its own id.
    [shown] = listed(client, service_request_id=rejected.tracking_code)
    assert shown["status"] == "closed" and shown["status_notes"] == "不予立案：重复骚扰"


def test_the_list_filters_by_status_service_code_and_date(
        client: Client, api_key: str, viewer: Any) -> None:
    now = timezone.now()
    garbage = filed(client, api_key)
    lamp = filed(client, api_key, service_code="C0201", lat=city.POINT_B[1], long=city.POINT_B[0])
    cancelled = filed(client, api_key, service_code="E0501", lat=city.POINT_C[1],
                      long=city.POINT_C[0])
    step(cancelled, viewer, "cancel", note="经核实为误报")
    old = make_case(None, channel=Channel.RESIDENT, at=now - timedelta(days=100),
                    lon=city.POINT_C[0], lat=city.POINT_C[1])

    def codes(**params: str) -> set[str]:
        return {r["service_request_id"] for r in listed(client, **params)}

    assert codes() == {garbage.tracking_code, lamp.tracking_code, cancelled.tracking_code}
    assert codes(status="open") == {garbage.tracking_code, lamp.tracking_code}
    assert codes(status="closed") == {cancelled.tracking_code}
    assert codes(status="open,closed") == codes()
    assert codes(service_code="C0201,E0501") == {lamp.tracking_code, cancelled.tracking_code}
    old_day = (now - timedelta(days=100)).astimezone(TZ).date().isoformat()
    assert codes(start_date=f"{old_day}T00:00:00+08:00",
                 end_date=f"{old_day}T23:59:59+08:00") == {old.tracking_code}
    assert codes(start_date=old_day, end_date=old_day) == {old.tracking_code}
    since = (now - timedelta(minutes=5)).isoformat()
    assert codes(start_date=since) == codes()
    assert codes(end_date=(now - timedelta(days=99)).strftime("%Y-%m-%dT%H:%M:%SZ")) == {
        old.tracking_code}
    assert codes(end_date=(now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")) == set()
    # An unencoded "+" of the offset reaches the server as a space.
    spaced = client.get(f"{BASE}/requests.json?start_date={old_day}T00:00:00+08:00"
                        f"&end_date={old_day}T23:59:59+08:00")
    assert {r["service_request_id"] for r in spaced.json()} == {old.tracking_code}
    # service_request_id overrides everything else.
    assert codes(service_request_id=f"{old.tracking_code}, {lamp.tracking_code}",
                 status="closed") == {old.tracking_code, lamp.tracking_code}


def test_bad_list_arguments_are_400s(client: Client, catalog: None) -> None:
    for params, code in (({"status": "pending"}, "invalid_status"),
                         ({"start_date": "yesterday"}, "invalid_date"),
                         ({"start_date": "2025-01-01", "end_date": "2025-06-01"},
                          "date_range_too_long"),
                         ({"start_date": "2025-02-01", "end_date": "2025-01-01"},
                          "invalid_date_range")):
        response = client.get(f"{BASE}/requests.json", params)
        assert response.status_code == 400, params
        assert response.json()[0]["code"] == code


def test_the_list_never_carries_contact_or_reporter(client: Client, api_key: str) -> None:
    filed(client, api_key, first_name="小明", last_name="王", phone=PHONE, email="wang@example.org",
          description="垃圾堆在我家门口，电话13800001111，身份证120110199001011234")
    for fmt in ("json", "xml"):
        body = client.get(f"{BASE}/requests.{fmt}").content.decode()
        assert "垃圾堆在我家门口" in body
        for private in (PHONE, "王小明", "小明", "wang@example.org", "street_app", "街拍应用",
                        "13800001111", "120110199001011234"):
            assert private not in body, (fmt, private)
        assert "138****1111" in body
    [shown] = listed(client)
    assert not {"contact_name", "contact_phone", "reporter", "email", "phone"} & set(shown)


def test_xml_escapes_what_clients_send(client: Client, api_key: str) -> None:
    # \x01 cannot appear in XML 1.0 at all: it is dropped, not escaped.
    text = '井盖<破了>&很\x01危险 "注意"'
    case = filed(client, api_key, description=text, address_string="A&B 路<口>")
    raw = client.get(f"{BASE}/requests/{case.tracking_code}.xml").content
    root = xml(client.get(f"{BASE}/requests/{case.tracking_code}.xml"))
    assert root.findtext("request/description") == '井盖<破了>&很危险 "注意"'
    assert root.findtext("request/address") == "A&B 路<口>"
    assert b"&lt;" in raw and b"&amp;" in raw


def test_the_list_reads_in_a_fixed_number_of_queries(client: Client, api_key: str,
                                                     django_assert_max_num_queries: Any) -> None:
    for i in range(5):
        # 200 m apart: closer, each would wait for the centre as a possible duplicate.
        photo = SimpleUploadedFile("p.png", png_bytes(), "image/png")
        post(client, form(api_key, lat=39.005 + i * 0.009, media=photo), multipart=True)
    with django_assert_max_num_queries(4):
        assert len(listed(client)) == 5


def test_only_listed_methods_are_allowed(client: Client, catalog: None) -> None:
    for method, url in (("put", "requests.json"), ("delete", "requests.xml"),
                        ("post", "services.json"), ("post", "requests/ABC.json")):
        response = getattr(client, method)(f"{BASE}/{url}")
        assert response.status_code == 405, (method, url)
    root = xml(client.put(f"{BASE}/services.xml"))
    assert root.findtext("error/code") == "method_not_allowed"
    assert client.delete(f"{BASE}/services.json")["Allow"] == "GET, HEAD"


def test_an_unknown_format_is_a_404(client: Client, catalog: None) -> None:
    response = client.get(f"{BASE}/services.html")
    assert response.status_code == 404
    assert xml(response).findtext("error/code") == "format_not_supported"


# --- a third-party client, end to end ----------------------------------------------------


def test_a_third_party_client_files_then_follows_a_request_to_closed(
        client: Client, api_key: str, chengguan: Any, worker_a: Any) -> None:
    discovered = xml(client.get(f"{BASE}/discovery.xml"))
    endpoint = discovered.findtext("endpoints/endpoint/url") or ""
    path = endpoint.removeprefix("http://testserver")
    services = xml(client.get(f"{path}services.xml"))
    code = next(s.findtext("service_code") for s in services.findall("service")
                if s.findtext("service_name") == "暴露垃圾")
    photo = SimpleUploadedFile("p.jpg", png_bytes(), "image/png")
    created = xml(client.post(f"{path}requests.xml", {
        "api_key": api_key, "jurisdiction_id": "dongli.wangge", "service_code": code,
        "lat": str(city.POINT_A[1]), "long": str(city.POINT_A[0]),
        "description": "人行道上垃圾散落", "media": photo, "device_id": "ios-123"}))
    request_id = created.findtext("request/service_request_id") or ""
    assert created.find("request/token") is None

    def poll() -> ET.Element:
        root = xml(client.get(f"{path}requests/{request_id}.xml",
                              {"jurisdiction_id": "dongli.wangge"}))
        request = root.find("request")
        assert request is not None
        return request

    first = poll()
    assert first.findtext("status") == "open"
    assert first.findtext("agency_responsible") == "东丽区城市管理委"
    assert (first.findtext("media_url") or "").endswith(f"/media/{request_id}.png")

    case = Case.objects.get(tracking_code=request_id)
    step(case, chengguan, "accept")
    assert poll().findtext("status_notes") == "部门已签收"
    step(case, chengguan, "handle", note="已清运完毕")
    handled = poll()
    assert handled.findtext("status") == "open"
    assert handled.findtext("status_notes") == "部门已处置：已清运完毕"
    step(case, worker_a, "verify", note="现场已清理")

    closed = poll()
    assert closed.findtext("status") == "closed"
    assert closed.findtext("status_notes") == "已结案"
    case.refresh_from_db()
    assert case.closed_at is not None
    assert closed.findtext("updated_datetime") == case.closed_at.astimezone(TZ).isoformat(
        timespec="seconds")
    listed_closed = xml(client.get(f"{path}requests.xml", {"status": "closed"}))
    assert [r.findtext("service_request_id") for r in listed_closed.findall("request")] == [
        request_id]
