"""The gateway served straight from WSGI, beside Django's handler.

A gateway call is authenticated by its signature, not by a session, a CSRF
token or a language cookie, so the site's middleware and URL resolver have
nothing to do for it; skipping them is a third of the cost of a verification.
`GatewayDispatch` wraps the Django application: paths under /gateway/v1/ go to
exchange.gateway.handle, everything else to Django as before; `gateway_only`
serves the gateway alone on its own port (`wangge gateway`). Database
connections are managed as for any request (request_started/finished).
gateway_views.serve answers the same calls through Django, for the test client
and for deployments that mount only the Django handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.core import signals

from wangge.exchange import gateway, signing

PREFIX = "/gateway/v1/"
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_HEADERS = {name: "HTTP_" + name.upper().replace("-", "_")
            for name in (signing.HEADER_KEY, signing.HEADER_TIMESTAMP, signing.HEADER_NONCE,
                         signing.HEADER_SIGNATURE, signing.HEADER_PURPOSE)}
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
            429: "Too Many Requests", 500: "Internal Server Error"}


def _path(environ: Environ) -> str:
    # PEP 3333 hands the path over as latin-1; the client signed its UTF-8.
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _body(environ: Environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # One byte past the limit is enough for the gateway to refuse the size.
    return environ["wsgi.input"].read(min(length, gateway.MAX_BODY + 1)) if length > 0 else b""


def json_response(start_response: StartResponse, status: int, body: dict[str, Any],
                  headers: dict[str, str] | None = None) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    start_response(f"{status} {_REASONS.get(status, 'Error')}", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
        *(headers or {}).items()])
    return [data]


def serve(environ: Environ, start_response: StartResponse) -> list[bytes]:
    signals.request_started.send(sender=GatewayDispatch, environ=environ)
    try:
        reply = gateway.handle(
            environ.get("REQUEST_METHOD", "GET"), _path(environ), environ.get("QUERY_STRING", ""),
            _body(environ), {name: environ.get(key, "") for name, key in _HEADERS.items()},
            content_type=environ.get("CONTENT_TYPE", ""))
        return json_response(start_response, reply.status, reply.body, reply.headers)
    finally:
        signals.request_finished.send(sender=GatewayDispatch)


class GatewayDispatch:
    def __init__(self, django_app: WsgiApp) -> None:
        self.django_app = django_app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return serve(environ, start_response)
        return self.django_app(environ, start_response)


def gateway_only(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The gateway with nothing of the site beside it (`wangge gateway`):
    other paths are 404, /healthz answers for a load balancer."""
    path = environ.get("PATH_INFO", "")
    if path.startswith(PREFIX):
        return serve(environ, start_response)
    if path == "/healthz":
        return json_response(start_response, 200, {"status": "ok"})
    return json_response(start_response, 404, {"code": "no_such_endpoint", "message": "接口不存在；网关地址为 /gateway/v1/"})

