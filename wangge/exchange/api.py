"""Exchange management API (mounted at /api/v1/exchange): catalogs,
applications, grants, gateway clients, call logs and statistics. The
gateway itself is at /gateway/v1/ and takes signed requests (exchange.gateway)."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from wangge.accounts.models import Department
from wangge.core.errors import NotFound
from wangge.exchange import selectors, services
from wangge.exchange.models import Application, CallLog, Catalog, Client

router = Router(tags=["exchange"])


class ItemOut(Schema):
    key: str
    name: str
    type: str
    sensitivity: str
    mask: str
    filterable: bool


class CatalogOut(Schema):
    code: str
    name: str
    description: str
    owner: str
    owner_code: str
    share_class: str
    condition: str
    frequency: str
    backing: str
    status: str
    verify_items: list[str]
    compare_keys: list[str]
    published_at: datetime | None
    data_updated_at: datetime | None
    items: list[ItemOut]

    @staticmethod
    def resolve_owner(obj: Catalog) -> str:
        return obj.owner.name

    @staticmethod
    def resolve_owner_code(obj: Catalog) -> str:
        return obj.owner.code

    @staticmethod
    def resolve_items(obj: Catalog) -> list[Any]:
        return list(obj.items.all())


class ItemIn(Schema):
    key: str
    name: str = ""
    source: str = ""
    type: str = ""
    sensitivity: str = ""
    mask: str = ""
    filterable: bool | None = None


class CatalogIn(Schema):
    code: str
    name: str
    owner: str = ""  # department code; defaults to the caller's department
    description: str = ""
    share_class: str
    condition: str = ""
    frequency: str = "daily"
    backing: str
    items: list[ItemIn]
    verify_items: list[str] = []
    compare_keys: list[str] = []


class UploadOut(Schema):
    id: int
    file_name: str
    uploaded_at: datetime
    rows: int
    errors: list[dict[str, Any]]


class ApplicationIn(Schema):
    catalog: str
    items: list[str]
    purpose: str
    legal_basis: str = ""
    starts: date
    ends: date
    department: str = ""  # department code; defaults to the caller's department


class ApplicationOut(Schema):
    id: int
    catalog: str
    catalog_name: str
    department: str
    applicant: str | None
    items: list[str]
    purpose: str
    legal_basis: str
    starts: date
    ends: date
    status: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str
    grant_id: int | None

    @staticmethod
    def resolve_catalog(obj: Application) -> str:
        return obj.catalog.code

    @staticmethod
    def resolve_catalog_name(obj: Application) -> str:
        return obj.catalog.name

    @staticmethod
    def resolve_department(obj: Application) -> str:
        return obj.department.name

    @staticmethod
    def resolve_applicant(obj: Application) -> str | None:
        return str(obj.applicant) if obj.applicant else None

    @staticmethod
    def resolve_items(obj: Application) -> list[str]:
        return [i.key for i in obj.items.all()]

    @staticmethod
    def resolve_grant_id(obj: Application) -> int | None:
        grant = getattr(obj, "grant", None)
        return grant.pk if grant else None


class DecisionIn(Schema):
    # item key → delivered masked (true) or in full (false); empty refuses.
    items: dict[str, bool] = {}
    reason: str = ""


class GrantItemOut(Schema):
    key: str
    name: str
    masked: bool


class GrantOut(Schema):
    id: int
    catalog: str
    department: str
    purpose: str
    area_code: str
    starts: date
    ends: date
    state: str
    revoke_reason: str
    items: list[GrantItemOut]


class ReasonIn(Schema):
    reason: str


class ClientIn(Schema):
    name: str
    rate_per_minute: int = 600
    department: str = ""


class ClientOut(Schema):
    id: int
    name: str
    department: str
    key_id: str
    rate_per_minute: int
    created_at: datetime
    revoked_at: datetime | None

    @staticmethod
    def resolve_department(obj: Client) -> str:
        return obj.department.name


class NewClientOut(ClientOut):
    secret: str


class CallOut(Schema):
    id: int
    at: datetime
    department: str | None
    key_id: str
    endpoint: str
    catalog: str | None
    items: list[str]
    rows: int
    purpose: str
    latency_ms: float
    status: int
    error: str

    @staticmethod
    def resolve_department(obj: CallLog) -> str | None:
        return obj.department.name if obj.department else None

    @staticmethod
    def resolve_catalog(obj: CallLog) -> str | None:
        return obj.catalog.code if obj.catalog else None


def _department(request: HttpRequest, code: str) -> Department:
    if code:
        found = Department.objects.filter(code=code).first()
        if found is None:
            raise NotFound("department_not_found", f"部门 {code} 不存在")
        return found
    own = selectors.department_of(request.user)
    if own is None:
        raise NotFound("no_department", "您的账号未关联部门，请指明 department（部门编码）")
    return own


@router.get("/catalogs", response=list[CatalogOut], summary="数据目录（搜索：名称、说明、信息项、提供部门）")
@paginate(LimitOffsetPagination)
def list_catalogs(request: HttpRequest, q: str = "", share_class: str = "", owner: str = "",
                  backing: str = "") -> Any:
    return selectors.catalogs_for(request.user, q[:50], share_class=share_class, owner=owner,
                                  backing=backing).prefetch_related("items")


@router.get("/catalogs/{code}", response=CatalogOut, summary="一个目录及其信息项")
def get_catalog(request: HttpRequest, code: str) -> Any:
    return selectors.catalog_for(request.user, code)


@router.post("/catalogs", response={201: CatalogOut}, summary="编制目录（草稿）")
def create_catalog(request: HttpRequest, payload: CatalogIn) -> Any:
    catalog = services.create_catalog(
        by=request.user, owner=_department(request, payload.owner), code=payload.code, name=payload.name,
        description=payload.description, share_class=payload.share_class, condition=payload.condition,
        frequency=payload.frequency, backing=payload.backing,
        items=[services.ItemIn(**i.dict()) for i in payload.items],
        verify_items=payload.verify_items, compare_keys=payload.compare_keys)
    return 201, catalog


@router.post("/catalogs/{code}/publish", response=CatalogOut, summary="发布目录")
def publish_catalog(request: HttpRequest, code: str) -> Any:
    return services.publish_catalog(catalog=selectors.catalog_for(request.user, code), by=request.user)


@router.post("/catalogs/{code}/withdraw", response=CatalogOut, summary="下线目录")
def withdraw_catalog(request: HttpRequest, code: str, payload: ReasonIn) -> Any:
    return services.withdraw_catalog(catalog=selectors.catalog_for(request.user, code), by=request.user,
                                     reason=payload.reason)


@router.post("/catalogs/{code}/dataset", response={201: UploadOut},
             summary="上传数据集（CSV/XLSX，替换原有数据；错误行返回行号和原因）")
def upload_dataset(request: HttpRequest, code: str, file: UploadedFile = File(...)) -> Any:  # noqa: B008
    upload = services.upload_dataset(catalog=selectors.catalog_for(request.user, code), by=request.user,
                                     data=file.read(), file_name=file.name or "dataset.csv")
    return 201, upload


@router.post("/applications", response={201: ApplicationOut},
             summary="申请共享（无条件共享的目录申请即授权；不予共享的目录不能申请）")
def apply(request: HttpRequest, payload: ApplicationIn) -> Any:
    application = services.apply_for(
        by=request.user, department=_department(request, payload.department),
        catalog=selectors.catalog_for(request.user, payload.catalog), items=payload.items,
        purpose=payload.purpose, legal_basis=payload.legal_basis, starts=payload.starts, ends=payload.ends)
    return 201, Application.objects.select_related("grant").get(pk=application.pk)


@router.get("/applications", response=list[ApplicationOut], summary="共享申请（box: mine 本部门提出，incoming 待本部门审批）")
@paginate(LimitOffsetPagination)
def list_applications(request: HttpRequest, box: str = "all", status: str = "") -> Any:
    return selectors.applications_for(request.user, box=box, status=status)


@router.get("/applications/{pk}", response=ApplicationOut, summary="一个共享申请")
def get_application(request: HttpRequest, pk: int) -> Any:
    return selectors.application_for(request.user, pk)


@router.post("/applications/{pk}/decision", response=ApplicationOut,
             summary="审批：items 为批准的信息项及是否脱敏提供；items 为空即拒绝（须填 reason）")
def decide(request: HttpRequest, pk: int, payload: DecisionIn) -> Any:
    application = selectors.application_for(request.user, pk)
    services.decide_application(application=application, by=request.user, items=payload.items,
                                reason=payload.reason)
    return selectors.application_for(request.user, pk)


def _grant_out(row: selectors.GrantRow) -> dict[str, Any]:
    g = row.grant
    return {"id": g.pk, "catalog": g.catalog.code, "department": g.department.name, "purpose": g.purpose,
            "area_code": g.area_code, "starts": g.starts, "ends": g.ends, "state": row.state,
            "revoke_reason": g.revoke_reason,
            "items": [{"key": k, "name": n, "masked": m} for k, n, m in row.items]}


@router.get("/grants", response=list[GrantOut], summary="共享授权（本部门获得的和本部门目录授出的）")
def list_grants(request: HttpRequest, state: str = "") -> Any:
    return [_grant_out(r) for r in selectors.grants_for(request.user, state=state)]


@router.post("/grants/{pk}/revoke", response=GrantOut, summary="撤销授权（须说明原因）")
def revoke(request: HttpRequest, pk: int, payload: ReasonIn) -> Any:
    services.revoke_grant(grant=selectors.grant_for(request.user, pk), by=request.user, reason=payload.reason)
    return next(_grant_out(r) for r in selectors.grants_for(request.user) if r.grant.pk == pk)


@router.get("/clients", response=list[ClientOut], summary="本部门的网关接入凭据")
def list_clients(request: HttpRequest) -> Any:
    return selectors.clients_for(request.user)


@router.post("/clients", response={201: NewClientOut}, summary="新建接入凭据（secret 只返回这一次）")
def new_client(request: HttpRequest, payload: ClientIn) -> Any:
    client, secret = services.create_client(by=request.user, department=_department(request, payload.department),
                                            name=payload.name, rate_per_minute=payload.rate_per_minute)
    return 201, {**ClientOut.from_orm(client).dict(), "secret": secret}


@router.post("/clients/{pk}/revoke", response=ClientOut, summary="停用接入凭据")
def revoke_client(request: HttpRequest, pk: int) -> Any:
    return services.revoke_client(client=selectors.client_for(request.user, pk), by=request.user)


@router.get("/calls", response=list[CallOut], summary="网关调用日志")
@paginate(LimitOffsetPagination)
def list_calls(request: HttpRequest, department: str = "", catalog: str = "", endpoint: str = "",
               status: str = "", since: date | None = None, until: date | None = None) -> Any:
    return selectors.calls_for(request.user, department=department, catalog=catalog, endpoint=endpoint,
                               status=status, since=since, until=until)


@router.get("/stats", summary="共享交换统计：按接口、部门、日期的调用量，目录接入部门排行，共享类型占比")
def stats(request: HttpRequest, days: int = 30) -> dict[str, Any]:
    return selectors.stats(request.user, days=days)
