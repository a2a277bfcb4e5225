from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document_lists_the_foundation_endpoints(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/v1/areas/tree", "/api/v1/areas/geojson", "/api/v1/areas/{code}",
                 "/api/v1/locate", "/api/v1/locate/batch", "/api/v1/addresses/match",
                 "/api/v1/addresses/search"):
        assert path in paths


def test_errors_are_json_with_code_and_message(client, viewer, auth_header):
    r = client.get("/api/v1/areas/tree", {"depth": 9}, **auth_header(viewer))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_input" and "depth" in body["fields"]
    assert body["message"].startswith("请求参数有误")
