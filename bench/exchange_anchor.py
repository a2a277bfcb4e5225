"""The benchmark's anchor: the gateway's verification and query with no
signature, rate, grant or item checks, no masking and no call log — the
same source lookups behind a bare Django view. Served only by the bench's
own settings (bench.exchange_settings); never part of the platform's URLs."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from wangge.exchange.models import Catalog
from wangge.exchange.sources import Filter, source_for


def _catalog(code: str) -> Catalog:
    return Catalog.objects.get(code=code)


@csrf_exempt
def verify(request: HttpRequest, code: str) -> JsonResponse:
    catalog = _catalog(code)
    data = json.loads(request.body)
    pk = source_for(catalog).verify(catalog, "", {"name": data["name"], "id_number": data["id_number"]})
    return JsonResponse({"match": pk is not None})


@csrf_exempt
def rows(request: HttpRequest, code: str) -> JsonResponse:
    catalog = _catalog(code)
    filters = [Filter("grid_code", request.GET["grid_code"], prefix=True)]
    page = source_for(catalog).page(catalog, "", filters, 0, int(request.GET.get("_limit", "20")))
    keys = ("name", "id_number", "grid_code", "birth_date")
    return JsonResponse({"rows": [{k: row[k] for k in keys} for _, row in page]},
                        json_dumps_params={"ensure_ascii": False})


urlpatterns = [
    path("anchor/catalogs/<str:code>/verify", verify),
    path("anchor/catalogs/<str:code>/rows", rows),
    path("", include("wangge.urls")),
]
