"""The gateway's promises, each tried by a caller who wants more than the
grant gives: every refusal is a clear message and leaves one call-log row."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from wangge.core import access
from wangge.exchange import gateway, services, signing
from wangge.exchange.models import CallLog, CallSubject, Grant
from wangge.testing import city

ROWS = "/gateway/v1/catalogs/GA-RK-001/rows"
VERIFY = "/gateway/v1/catalogs/GA-RK-001/verify"
COMPARE = "/gateway/v1/catalogs/GA-RK-001/compare"

pytestmark = pytest.mark.django_db


def _last() -> CallLog:
    return CallLog.objects.order_by("-pk").first()  # type: ignore[return-value]


def test_query_returns_only_granted_items_masked_as_granted(grant: Any, call: Any, people: Any) -> None:
    r = call.get(ROWS)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["items"] == ["name", "id_number", "grid_code"]
    rows = {row["name"]: row for row in body["rows"]}
    # Civil affairs serves the west street: the east street's 赵东 is outside its grant.
    assert set(rows) == {"王小明", "李红"}
    a = rows["王小明"]
    assert set(a) == {"name", "id_number", "grid_code"}
    assert a["id_number"] != people["a"].id_number and len(a["id_number"]) == 18
    assert a["id_number"].startswith(people["a"].id_number[:6]) and "*" in a["id_number"]
    assert "phones" not in a and "birth_date" not in a
    log = _last()
    assert (log.status, log.rows, log.endpoint, log.department_id) == (200, 2, "query", grant.department_id)
    assert log.items == ["name", "id_number", "grid_code"] and log.purpose == "低保对象身份核对"
    assert set(CallSubject.objects.filter(call=log).values_list("person_id", flat=True)) == {
        people["a"].pk, people["b"].pk}


def test_an_item_not_granted_cannot_be_read_or_filtered_on(grant: Any, call: Any) -> None:
    r = call.get(ROWS, {"_items": "name,phones"})
    assert r.status_code == 403 and r.json()["code"] == "item_not_granted" and "phones" in r.json()["message"]
    r = call.get(ROWS, {"birth_date": "1980-01-01"})  # applied for, not granted
    assert r.status_code == 403 and r.json()["code"] == "item_not_granted"
    assert CallLog.objects.filter(status=403).count() == 2


def test_a_filter_cannot_reach_rows_outside_the_grant(grant: Any, call: Any, people: Any) -> None:
    # 赵东 lives in the east street: asking for him by name or by grid finds nothing.
    assert call.get(ROWS, {"name": "赵东"}).json()["rows"] == []
    assert call.get(ROWS, {"grid_code": city.STREET_EAST}).json()["rows"] == []
    assert call.get(ROWS, {"grid_code": city.DISTRICT}).json()["rows"] != []  # only the west street's
    # Lookup syntax, operators and SQL are values, not instructions.
    for crafted in ("赵东' OR '1'='1", "%", "赵%"):
        assert call.get(ROWS, {"name": crafted}).json()["rows"] == []
    r = call.get(ROWS, {"name__startswith": "赵"})
    assert r.status_code == 403 and r.json()["code"] == "item_not_granted"
    r = call.get(ROWS, {"_where": "1=1"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_parameter"


def test_filters_normalise_full_width_and_traditional_input(grant: Any, call: Any, people: Any) -> None:
    full_width = people["a"].id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert [row["name"] for row in call.get(ROWS, {"id_number": full_width}).json()["rows"]] == ["王小明"]
    assert [row["name"] for row in call.get(ROWS, {"name": "王小明"}).json()["rows"]] == ["王小明"]


def test_pages_follow_the_cursor(grant: Any, call: Any) -> None:
    first = call.get(ROWS, {"_limit": "1"}).json()
    assert len(first["rows"]) == 1 and first["next"]
    second = call.get(ROWS, {"_limit": "1", "_after": first["next"]}).json()
    assert second["rows"][0]["name"] != first["rows"][0]["name"]
    assert call.get(ROWS, {"_limit": "5000"}).status_code == 400


def test_identity_verification_answers_match_or_not_and_nothing_else(grant: Any, call: Any, people: Any) -> None:
    a = people["a"]
    r = call.post(VERIFY, {"name": "王小明", "id_number": a.id_number})
    assert r.status_code == 200 and r.json() == {"match": True}
    assert call.post(VERIFY, {"name": "王小红", "id_number": a.id_number}).json() == {"match": False}
    # 15-digit form of the same number, lower-case: still the same person.
    assert call.post(VERIFY, {"name": "王小明", "id_number": a.id_number.lower()}).json() == {"match": True}
    # Outside the grant's area: no match, as for a stranger.
    c = people["c"]
    assert call.post(VERIFY, {"name": "赵东", "id_number": c.id_number}).json() == {"match": False}
    r = call.post(VERIFY, {"id_number": a.id_number})
    assert r.status_code == 400 and r.json()["code"] == "verify_fields"
    assert CallLog.objects.filter(subject_id=a.pk).count() == 2


def test_batch_comparison_flags_each_value(grant: Any, call: Any, people: Any) -> None:
    values = [people["a"].id_number, people["c"].id_number, "110101199003077777", "乱码"]
    r = call.post(COMPARE, {"key": "id_number", "values": values, "items": ["name", "id_number"]})
    assert r.status_code == 200, r.json()
    results = r.json()["results"]
    assert [x["found"] for x in results] == [True, False, False, False]
    assert results[0]["row"]["name"] == "王小明" and "*" in results[0]["row"]["id_number"]
    assert r.json()["found"] == 1 and r.json()["missing"] == 3
    r = call.post(COMPARE, {"key": "id_number", "values": values, "items": ["phones"]})
    assert r.status_code == 403
    # A department's list as a CSV export, header row and all.
    body = ("公民身份号码,备注\n" + "\n".join(f"{v},x" for v in values[:2]) + "\n").encode()
    headers = call.headers("POST", COMPARE, "", body)
    r = call.http.generic("POST", COMPARE, body, content_type="text/csv", **headers)
    assert r.status_code == 200, r.json()
    assert [x["found"] for x in r.json()["results"]] == [True, False]


def test_expired_and_revoked_grants_are_refused(grant: Grant, call: Any, police_staff: Any) -> None:
    Grant.objects.filter(pk=grant.pk).update(ends=timezone.localdate() - timedelta(days=1))
    gateway.forget_grants()  # as GRANT_TTL passing would
    r = call.get(ROWS)
    assert r.status_code == 403 and r.json()["code"] == "grant_expired"
    Grant.objects.filter(pk=grant.pk).update(ends=timezone.localdate() + timedelta(days=30))
    gateway.forget_grants()
    assert call.get(ROWS).status_code == 200
    services.revoke_grant(grant=grant, by=police_staff, reason="救助核对已结束")
    r = call.get(ROWS)
    assert r.status_code == 403 and r.json()["code"] == "grant_revoked" and "救助核对已结束" in r.json()["message"]


def test_a_department_without_a_grant_is_refused(person_catalog: Any, civil_client: Any) -> None:
    from wangge.exchange.tests.conftest import Caller

    client, secret = civil_client
    r = Caller(client.key_id, secret).get(ROWS)
    assert r.status_code == 403 and r.json()["code"] == "no_grant"


def test_tampered_signatures_are_refused(grant: Any, call: Any, people: Any) -> None:
    headers = call.headers("GET", ROWS, "name=%E7%8E%8B%E5%B0%8F%E6%98%8E", b"")
    # Same signature, different filter.
    r = call.http.get(ROWS + "?name=%E6%9D%8E%E7%BA%A2", **headers)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"
    body = b'{"name": "\\u738b\\u5c0f\\u660e", "id_number": "x"}'
    headers = call.headers("POST", VERIFY, "", body)
    r = call.http.generic("POST", VERIFY, body.replace(b"x", b"y"), content_type="application/json", **headers)
    assert r.status_code == 401
    wrong = call.headers("GET", ROWS, "", b"")
    wrong["HTTP_X_WG_KEY"] = "wgk_0000000000000000"
    assert call.http.get(ROWS, **wrong).json()["code"] == "unknown_key"
    assert call.http.get(ROWS).json()["code"] == "signature_missing"
    assert CallLog.objects.filter(status=401).count() == 4
    assert CallLog.objects.filter(status=200).count() == 0


def test_replays_and_stale_timestamps_are_refused(grant: Any, call: Any) -> None:
    headers = call.headers("GET", ROWS, "", b"")
    assert call.http.get(ROWS, **headers).status_code == 200
    r = call.http.get(ROWS, **headers)
    assert r.status_code == 409 and r.json()["code"] == "replayed" and "rows" not in r.json()
    r = call.get(ROWS, now=time.time() - signing.WINDOW_SECONDS - 5)
    assert r.status_code == 401 and r.json()["code"] == "stale_timestamp"
    r = call.get(ROWS, now=time.time() + signing.WINDOW_SECONDS + 5)
    assert r.status_code == 401
    assert CallLog.objects.count() == 4  # one row per call, the replay's included


def test_a_revoked_client_is_refused(grant: Any, call: Any, civil_client: Any, civil_staff: Any) -> None:
    assert call.get(ROWS).status_code == 200
    services.revoke_client(client=civil_client[0], by=civil_staff)
    r = call.get(ROWS)
    assert r.status_code == 401 and r.json()["code"] == "client_revoked"


def test_rate_limit_per_client(grant: Any, civil_client: Any) -> None:
    from wangge.exchange.models import Client

    client, secret = civil_client
    Client.objects.filter(pk=client.pk).update(rate_per_minute=3)
    gateway.forget_client(client.key_id)
    minute_start = (time.time() // 60) * 60

    def one(at: float) -> gateway.Reply:
        headers = signing.sign_headers(client.key_id, secret, "GET", ROWS, now=at)
        return gateway.handle("GET", ROWS, "", b"", headers, now=at)

    replies = [one(minute_start + n) for n in range(5)]
    assert [r.status for r in replies] == [200, 200, 200, 429, 429]
    assert "每分钟上限 3 次" in replies[3].body["message"] and replies[3].headers["Retry-After"]
    assert one(minute_start + 60).status == 200  # a new minute
    assert CallLog.objects.filter(status=429, error="rate_limited").count() == 2


def test_unknown_paths_and_methods(grant: Any, call: Any) -> None:
    assert call.get("/gateway/v1/catalogs/GA-RK-001/dump").status_code == 404
    assert call.get(VERIFY).status_code == 405
    assert call.get("/gateway/v1/catalogs/NOPE/rows").status_code == 404


def test_calls_appear_in_the_persons_access_report(grant: Any, call: Any, people: Any) -> None:
    call.post(VERIFY, {"name": "王小明", "id_number": people["a"].id_number})
    call.get(ROWS, {"name": "王小明"})
    report = [a for a in access.access_report(people["a"].pk) if a.channel == "gateway"]
    assert len(report) == 2
    assert all("民政局" in a.who and a.purpose == "低保对象身份核对" for a in report)
    assert not [a for a in access.access_report(people["c"].pk) if a.channel == "gateway"]


def test_the_wsgi_entry_point_serves_the_gateway_and_leaves_the_rest_to_django(grant: Any, call: Any,
                                                                               people: Any) -> None:
    import io
    import json
    from wsgiref.util import setup_testing_defaults

    from django.core import signals
    from django.db import close_old_connections

    from wangge.wsgi import application

    def wsgi(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[str, Any]:
        environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
                                   "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
                                   "wsgi.input": io.BytesIO(body)}
        setup_testing_defaults(environ)
        environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()})
        started: list[str] = []
        # As Django's test client does: the request signals must not close the
        # connection that holds the test's transaction.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            chunks = application(environ, lambda status, hdrs, *_: started.append(status))
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return started[0], json.loads(b"".join(chunks))

    body = json.dumps({"name": "王小明", "id_number": people["a"].id_number}).encode()
    status, answer = wsgi("POST", VERIFY, body, signing.sign_headers(call.key_id, call.secret, "POST", VERIFY, "", body))
    assert status == "200 OK" and answer == {"match": True}
    status, answer = wsgi("POST", VERIFY, body)
    assert status == "401 Unauthorized" and answer["code"] == "signature_missing"
    status, answer = wsgi("GET", "/api/v1/health")
    assert status.startswith("200") and answer == {"status": "ok"}
    assert CallLog.objects.count() == 2
    from wangge.wsgi import gateway_application

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/admin/", "wsgi.input": io.BytesIO(b"")}
    statuses: list[str] = []
    gateway_application(environ, lambda status, hdrs, *_: statuses.append(status))
    assert statuses == ["404 Not Found"]  # the gateway's own port shows nothing of the site

