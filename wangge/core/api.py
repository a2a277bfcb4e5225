"""The one Ninja API under /api/v1; each app's router is mounted here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from wangge.accounts.services import user_for_token
from wangge.core.errors import DomainError


class TokenAuth(HttpBearer):
    """`Authorization: Bearer wg_…` for programs."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class TokenHeaderAuth(APIKeyHeader):
    param_name = "X-Api-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = user_for_token(key) if key else None
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="wangge 网格 API",
    version="1",
    description="网格化社会治理平台接口。错误统一返回 {code, message, fields}。",
    urls_namespace="api",
    auth=[TokenAuth(), TokenHeaderAuth(), django_auth],
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, code: str, message: str,
           fields: dict[str, Any] | None = None) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "fields": fields or {}}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
        fields[".".join(loc) or "request"] = str(err.get("msg", "invalid"))
    summary = "；".join(f"{k}: {v}" for k, v in list(fields.items())[:5])
    return _error(request, 422, "invalid_input", f"请求参数有误：{summary}", fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "请先登录，或在 Authorization 头中提供有效的接口令牌")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


@api.get("/health", auth=None, tags=["system"], summary="健康检查")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


def _mount_routers() -> None:
    # Imported here: the routers import services that import this module's auth.
    from wangge.addresses.api import router as addresses_router
    from wangge.areas.api import locate_router
    from wangge.areas.api import router as areas_router
    from wangge.cases.api import router as cases_router
    from wangge.core.audit_api import router as audit_router
    from wangge.core.exports_api import router as exports_router
    from wangge.core.inbox_api import router as inbox_router
    from wangge.exchange.api import router as exchange_router
    from wangge.fusion.api import router as fusion_router
    from wangge.proactive.api import router as proactive_router
    from wangge.registry.api import router as registry_router
    from wangge.workforce.api import router as workforce_router

    api.add_router("/areas", areas_router)
    api.add_router("/locate", locate_router)
    api.add_router("/addresses", addresses_router)
    api.add_router("/registry", registry_router)
    api.add_router("/fusion", fusion_router)
    api.add_router("/inbox", inbox_router)
    api.add_router("/cases", cases_router)
    api.add_router("/workforce", workforce_router)
    api.add_router("/proactive", proactive_router)
    api.add_router("/exchange", exchange_router)
    api.add_router("/audit", audit_router)
    api.add_router("/exports", exports_router)


_mount_routers()
