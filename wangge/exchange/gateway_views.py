"""The gateway's HTTP face: every path under /gateway/v1/ goes to
exchange.gateway.handle, which checks, serves and logs it."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from wangge.exchange import gateway, signing

HEADERS = (signing.HEADER_KEY, signing.HEADER_TIMESTAMP, signing.HEADER_NONCE,
           signing.HEADER_SIGNATURE, signing.HEADER_PURPOSE)


@csrf_exempt
def serve(request: HttpRequest, rest: str = "") -> JsonResponse:
    headers = {name: request.headers.get(name, "") for name in HEADERS}
    reply = gateway.handle(request.method or "GET", request.path, request.META.get("QUERY_STRING", ""),
                           request.body, headers, content_type=request.content_type or "")
    response = JsonResponse(reply.body, status=reply.status, json_dumps_params={"ensure_ascii": False})
    for name, value in reply.headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response
