"""The benchmark's anchor: the gateway's verification and query with no
signature, rate, grant or item checks, no masking and no call log — the same
source lookups served the same lean way (straight from WSGI, as
exchange.gateway_wsgi serves the gateway). The bench's server runs
`bench.exchange_anchor:application`; the platform never mounts it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from wangge.wsgi import application as platform  # first: it sets Django up  # isort: skip

from django.core import signals

from wangge.exchange.gateway_wsgi import Environ, StartResponse, _body, json_response
from wangge.exchange.models import Catalog
from wangge.exchange.sources import Filter, source_for

PREFIX = "/anchor/catalogs/"
KEYS = ("name", "id_number", "grid_code", "birth_date")


def _answer(environ: Environ) -> dict[str, Any]:
    code, _, op = environ["PATH_INFO"].removeprefix(PREFIX).partition("/")
    catalog = Catalog.objects.get(code=code)
    source = source_for(catalog)
    if op == "verify":
        data = json.loads(_body(environ))
        return {"match": source.verify(catalog, "", {"name": data["name"], "id_number": data["id_number"]})
                is not None}
    query = parse_qs(environ.get("QUERY_STRING", ""))
    page = source.page(catalog, "", [Filter("grid_code", query["grid_code"][0], prefix=True)], 0,
                       int(query.get("_limit", ["20"])[0]), set(KEYS))
    return {"rows": [{k: row[k] for k in KEYS} for _, row in page]}


def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    if not environ.get("PATH_INFO", "").startswith(PREFIX):
        return platform(environ, start_response)
    signals.request_started.send(sender=None, environ=environ)
    try:
        return json_response(start_response, 200, _answer(environ))
    finally:
        signals.request_finished.send(sender=None)
