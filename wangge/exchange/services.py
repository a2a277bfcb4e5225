"""Every write of the exchange: catalogs and their items, dataset uploads,
applications and their decisions, grants, gateway clients."""

from __future__ import annotations

import re
import secrets
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wangge.accounts.models import Department, Role
from wangge.core import audit, notify
from wangge.core.errors import DomainError, InvalidInput, NotFound, OutOfScope
from wangge.exchange import rules, signing
from wangge.exchange.models import (
    Application,
    ApplicationStatus,
    Backing,
    Catalog,
    CatalogItem,
    CatalogStatus,
    Client,
    DatasetRow,
    DatasetUpload,
    Frequency,
    Grade,
    Grant,
    GrantItem,
    ItemType,
    Mask,
    ShareClass,
)
from wangge.exchange.sources import registry_fields

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") == Role.ADMIN)


def speaks_for(user: Any, department: Department) -> bool:
    """The user acts for this department: its staff, or an administrator."""
    return is_admin(user) or (getattr(user, "role", "") == Role.DEPARTMENT_STAFF
                              and getattr(user, "department_id", None) == department.pk)


def _require_department(user: Any, department: Department, doing: str) -> None:
    if not speaks_for(user, department):
        raise OutOfScope("not_your_department", f"只有{department.name}的工作人员或系统管理员可以{doing}")


# --- catalogs -----------------------------------------------------------------


@dataclass
class ItemIn:
    key: str
    name: str = ""
    source: str = ""
    type: str = ""
    sensitivity: str = ""
    mask: str = ""
    filterable: bool | None = None


def _choice(value: str, choices: Iterable[str], default: str, what: str) -> str:
    value = value or default
    if value not in set(choices):
        raise InvalidInput("invalid_choice", f"{what}取值无效：{value}")
    return value


def _items(backing: str, items: list[ItemIn]) -> list[CatalogItem]:
    if not items:
        raise InvalidInput("no_items", "目录至少要有一个信息项")
    known = registry_fields(backing)
    out: list[CatalogItem] = []
    for n, it in enumerate(items):
        key = it.key.strip()
        if not KEY.match(key):
            raise InvalidInput("bad_item_key", f"第 {n + 1} 个信息项的标识“{key}”无效：用小写字母开头的字母、数字和下划线")
        source = it.source.strip() or key
        spec = known.get(source)
        if backing != Backing.DATASET and spec is None:
            raise InvalidInput("unknown_source_field",
                               f"信息项“{key}”的来源字段“{source}”不存在；可选：{'、'.join(known)}")
        out.append(CatalogItem(
            key=key, name=(it.name.strip() or (spec.label if spec else key))[:60], source=source,
            type=_choice(it.type, ItemType.values, spec.type if spec else ItemType.STRING, "类型"),
            sensitivity=_choice(it.sensitivity, Grade.values, spec.grade if spec else Grade.INTERNAL, "敏感级别"),
            mask=_choice(it.mask, Mask.values, spec.mask if spec else Mask.NONE, "脱敏方式"),
            filterable=bool(spec.filterable if it.filterable is None and spec else it.filterable),
            order=n))
        if spec and out[-1].filterable and not spec.filterable:
            raise InvalidInput("not_filterable", f"信息项“{key}”的来源字段没有索引，不能作查询条件")
    keys = [i.key for i in out]
    if len(set(keys)) != len(keys):
        raise InvalidInput("duplicate_item_key", "信息项标识重复")
    return out


def create_catalog(*, by: Any, owner: Department, code: str, name: str, share_class: str,
                   backing: str, items: list[ItemIn], description: str = "",
                   frequency: str = Frequency.DAILY, condition: str = "",
                   verify_items: Iterable[str] = (), compare_keys: Iterable[str] = ()) -> Catalog:
    _require_department(by, owner, "为本部门编制目录")
    if backing != Backing.DATASET and not is_admin(by):
        raise OutOfScope("registry_catalog_admin_only", "以实有人口、房屋、单位为来源的目录由系统管理员编制")
    if not CODE.match(code or "") or code.lower() == "new":
        raise InvalidInput("bad_code", "目录编码为 2–32 位字母、数字、- 或 _", fields={"code": "无效"})
    if Catalog.objects.filter(code=code).exists():
        raise InvalidInput("duplicate_code", f"目录编码 {code} 已被使用", fields={"code": "重复"})
    if not name.strip():
        raise InvalidInput("name_required", "请填写目录名称", fields={"name": "不能为空"})
    _choice(share_class, ShareClass.values, "", "共享类型")
    _choice(backing, Backing.values, "", "数据来源")
    if share_class == ShareClass.CONDITIONAL and not condition.strip():
        raise InvalidInput("condition_required", "有条件共享的目录须写明共享条件", fields={"condition": "不能为空"})
    built = _items(backing, items)
    keys = {i.key for i in built}
    verify, compare = list(verify_items), list(compare_keys)
    for what, chosen in (("核验项", verify), ("比对键", compare)):
        unknown = [k for k in chosen if k not in keys]
        if unknown:
            raise InvalidInput("unknown_item", f"{what}不是目录的信息项：{'、'.join(unknown)}")
    with transaction.atomic():
        catalog = Catalog.objects.create(
            code=code, name=name.strip()[:100], description=description, owner=owner,
            share_class=share_class, condition=condition.strip()[:300],
            frequency=_choice(frequency, Frequency.values, Frequency.DAILY, "更新频率"),
            backing=backing, verify_items=verify, compare_keys=compare, created_by=by)
        for item in built:
            item.catalog = catalog
        CatalogItem.objects.bulk_create(built)
        audit.record(by, "create", "exchange.Catalog", catalog.pk, fields=sorted(keys))
    return catalog


def _forget_grants() -> None:
    # Now for this process's next call, and again after commit so that a call
    # served meanwhile cannot keep the old state.
    from wangge.exchange.gateway import forget_grants

    forget_grants()
    transaction.on_commit(forget_grants)


def publish_catalog(*, catalog: Catalog, by: Any) -> Catalog:
    _require_department(by, catalog.owner, "发布本部门的目录")
    if catalog.backing == Backing.DATASET and not catalog.dataset_rows.exists():
        raise DomainError("dataset_empty", "数据集还没有数据，请先上传文件再发布")
    catalog.status = CatalogStatus.PUBLISHED
    catalog.published_at = catalog.published_at or timezone.now()
    catalog.save(update_fields=["status", "published_at"])
    audit.record(by, "publish", "exchange.Catalog", catalog.pk)
    return catalog


def withdraw_catalog(*, catalog: Catalog, by: Any, reason: str) -> Catalog:
    _require_department(by, catalog.owner, "下线本部门的目录")
    catalog.status = CatalogStatus.WITHDRAWN
    catalog.save(update_fields=["status"])
    audit.record(by, "withdraw", "exchange.Catalog", catalog.pk, reason=reason)
    _forget_grants()
    return catalog


# --- datasets -----------------------------------------------------------------


def _typed(item: CatalogItem, text: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if item.type in (ItemType.INTEGER, ItemType.NUMBER):
        digits = unicodedata.normalize("NFKC", text).replace(",", "")
        try:
            return int(digits) if item.type == ItemType.INTEGER else float(digits)
        except ValueError:
            raise ValueError(f"“{text[:20]}”不是{'整数' if item.type == ItemType.INTEGER else '数值'}") from None
    if item.type == ItemType.DATE:
        from wangge.fusion.validation import parse_date

        return parse_date(text).isoformat()
    if item.type == ItemType.BOOLEAN:
        if text.lower() in ("1", "true", "yes", "是", "y"):
            return True
        if text.lower() in ("0", "false", "no", "否", "n"):
            return False
        raise ValueError("应为 是/否")
    if item.type == ItemType.LIST:
        return [p.strip() for p in re.split(r"[;；,，、]", text) if p.strip()]
    from wangge.exchange.sources import normalise

    return normalise(item.type, item.key, text)


def upload_dataset(*, catalog: Catalog, by: Any, data: bytes, file_name: str) -> DatasetUpload:
    """Replace a dataset's rows with a CSV/XLSX file's. Each column is the
    item's source (or its name or key); a bad row is refused with its line and
    reason and the good rows land."""
    from wangge.fusion.reading import ReadError, read_table

    _require_department(by, catalog.owner, "上传本部门的数据集")
    if catalog.backing != Backing.DATASET:
        raise DomainError("not_a_dataset", "该目录的数据来自实有人口库，不需要上传")
    with tempfile.TemporaryDirectory(prefix="dataset-") as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        try:
            table = read_table(path)
        except ReadError as exc:
            raise InvalidInput("unreadable_file", str(exc), fields={"file": "无法读取"}) from exc
    items = list(catalog.items.all())
    columns = {c.strip(): c for c in table.columns}
    where: dict[str, str] = {}
    for item in items:
        for name in (item.source, item.name, item.key):
            if name in columns:
                where[item.key] = columns[name]
                break
    missing = [i.name for i in items if i.key not in where]
    if missing:
        raise InvalidInput("missing_columns", f"文件缺少列：{'、'.join(missing)}（按信息项的来源字段或名称对应）")
    rows: list[DatasetRow] = []
    errors: list[dict[str, Any]] = []
    for row in table.rows:
        values: dict[str, Any] = {}
        problems = list(row.problems)
        for item in items:
            try:
                values[item.key] = _typed(item, row.values.get(where[item.key], ""))
            except (ValueError, TypeError) as exc:
                problems.append(f"{item.name}：{exc}")
        if problems:
            errors.append({"line": row.line, "reason": "；".join(problems)})
        else:
            rows.append(DatasetRow(catalog=catalog, line=row.line, data=values))
    with transaction.atomic():
        DatasetRow.objects.filter(catalog=catalog).delete()
        DatasetRow.objects.bulk_create(rows, batch_size=2000)
        upload = DatasetUpload.objects.create(catalog=catalog, file_name=file_name[:255], uploaded_by=by,
                                              rows=len(rows), errors=errors[:1000])
        catalog.data_updated_at = upload.uploaded_at
        catalog.save(update_fields=["data_updated_at"])
        audit.record(by, "upload", "exchange.Catalog", catalog.pk,
                     reason=f"{file_name}: {len(rows)} 行导入，{len(errors)} 行有误")
    return upload


# --- applications and grants --------------------------------------------------


def _staff_of(department: Department) -> list[Any]:
    return list(department.staff.filter(is_active=True, role=Role.DEPARTMENT_STAFF))


def apply_for(*, by: Any, department: Department, catalog: Catalog, items: Iterable[str],
              purpose: str, legal_basis: str, starts: date, ends: date) -> Application:
    """Apply for some items of a catalog. An unconditional catalog grants on
    request; one not to be shared cannot be applied for."""
    _require_department(by, department, "以本部门名义申请")
    if catalog.status != CatalogStatus.PUBLISHED:
        raise NotFound("catalog_not_found", "目录不存在或未发布")
    if catalog.share_class == ShareClass.NONE:
        raise DomainError("not_shareable", f"目录“{catalog.name}”为不予共享，不能申请", status=403)
    if catalog.owner_id == department.pk:
        raise DomainError("own_catalog", "本部门的目录无需申请")
    if len(purpose.strip()) < 4:
        raise InvalidInput("purpose_required", "请写明用途（至少 4 个字）", fields={"purpose": "过短"})
    if not legal_basis.strip() and catalog.share_class == ShareClass.CONDITIONAL:
        raise InvalidInput("legal_basis_required", "有条件共享须写明依据（法规、文件或协议）",
                           fields={"legal_basis": "不能为空"})
    problem = rules.period_problem(starts, ends, timezone.localdate())
    if problem:
        raise InvalidInput("bad_period", problem, fields={"ends": problem})
    by_key = {i.key: i for i in catalog.items.all()}
    wanted = list(dict.fromkeys(items))
    unknown = [k for k in wanted if k not in by_key]
    if unknown or not wanted:
        raise InvalidInput("unknown_item", f"请选择目录中的信息项{('：' + '、'.join(unknown) + ' 不存在') if unknown else ''}")
    with transaction.atomic():
        application = Application.objects.create(
            catalog=catalog, department=department, applicant=by, purpose=purpose.strip()[:300],
            legal_basis=legal_basis.strip()[:300], starts=starts, ends=ends)
        application.items.set([by_key[k] for k in wanted])
        audit.record(by, "apply", "exchange.Application", application.pk, fields=wanted, reason=purpose)
        if catalog.share_class == ShareClass.UNCONDITIONAL:
            _grant(application, {k: by_key[k].mask != Mask.NONE for k in wanted}, by=None,
                   reason="无条件共享，申请即授权")
        else:
            notify.notify(_staff_of(catalog.owner), key=f"exchange:application:{application.pk}",
                          kind="exchange", title=f"{department.name}申请共享“{catalog.name}”",
                          body=purpose, link=f"/exchange/applications/{application.pk}/")
    return application


def _grant(application: Application, masked: Mapping[str, bool], *, by: Any, reason: str) -> Grant:
    catalog = application.catalog
    requested = {i.key for i in application.items.all()}
    status = ApplicationStatus.APPROVED if set(masked) == requested else ApplicationStatus.PARTIAL
    application.status = status
    application.decided_by = by
    application.decided_at = timezone.now()
    application.decision_reason = reason[:300]
    application.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    grant = Grant.objects.create(
        catalog=catalog, department=application.department, application=application,
        purpose=application.purpose, legal_basis=application.legal_basis,
        area_code=application.department.area_code, starts=application.starts, ends=application.ends,
        granted_by=by)
    by_key = {i.key: i for i in catalog.items.all()}
    GrantItem.objects.bulk_create([GrantItem(grant=grant, item=by_key[k], masked=m) for k, m in masked.items()])
    audit.record(by, "grant", "exchange.Grant", grant.pk, fields=sorted(masked), reason=reason)
    _forget_grants()
    if application.applicant_id:
        notify.notify([application.applicant], key=f"exchange:decision:{application.pk}", kind="exchange",
                      title=f"“{catalog.name}”共享申请{application.get_status_display()}",
                      body=reason, link=f"/exchange/applications/{application.pk}/")
    return grant


def decide_application(*, application: Application, by: Any, items: Mapping[str, bool] | None,
                       reason: str = "") -> Grant | None:
    """Approve the items in `items` (key → delivered masked?) or, with no
    items, refuse; a refusal needs a reason."""
    _require_department(by, application.catalog.owner, "审批本部门目录的申请")
    if application.status != ApplicationStatus.PENDING:
        raise DomainError("already_decided", f"该申请已{application.get_status_display()}，不能再审批")
    requested = {i.key: i for i in application.items.all()}
    with transaction.atomic():
        if not items:
            if len(reason.strip()) < 2:
                raise InvalidInput("reason_required", "拒绝申请须说明理由", fields={"reason": "不能为空"})
            application.status = ApplicationStatus.REFUSED
            application.decided_by = by
            application.decided_at = timezone.now()
            application.decision_reason = reason.strip()[:300]
            application.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
            audit.record(by, "refuse", "exchange.Application", application.pk, reason=reason)
            if application.applicant_id:
                notify.notify([application.applicant], key=f"exchange:decision:{application.pk}",
                              kind="exchange", title=f"“{application.catalog.name}”共享申请被拒绝",
                              body=reason, link=f"/exchange/applications/{application.pk}/")
            return None
        extra = [k for k in items if k not in requested]
        if extra:
            raise InvalidInput("item_not_requested", f"只能批准申请中的信息项：{'、'.join(extra)} 未申请")
        return _grant(application, dict(items), by=by, reason=reason.strip() or "同意")


def revoke_grant(*, grant: Grant, by: Any, reason: str) -> Grant:
    _require_department(by, grant.catalog.owner, "撤销本部门目录的授权")
    if len(reason.strip()) < 2:
        raise InvalidInput("reason_required", "撤销授权须说明原因", fields={"reason": "不能为空"})
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.revoked_by = by
        grant.revoke_reason = reason.strip()[:300]
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit.record(by, "revoke", "exchange.Grant", grant.pk, reason=reason)
        _forget_grants()
    return grant


# --- gateway clients ----------------------------------------------------------


def client_secret(client: Client) -> str:
    return signing.derive_secret(settings.SECRET_KEY, client.key_id, client.salt)


def create_client(*, by: Any, department: Department, name: str,
                  rate_per_minute: int = 600) -> tuple[Client, str]:
    """New credentials; the secret is shown once and never stored."""
    _require_department(by, department, "为本部门申请接入凭据")
    if not name.strip():
        raise InvalidInput("name_required", "请填写接入系统名称", fields={"name": "不能为空"})
    if not 1 <= rate_per_minute <= 600_000:
        raise InvalidInput("bad_rate", "每分钟调用上限应在 1–600000 之间")
    client = Client.objects.create(department=department, name=name.strip()[:100],
                                   key_id=signing.new_key_id(), salt=secrets.token_hex(16),
                                   rate_per_minute=rate_per_minute, created_by=by)
    audit.record(by, "create", "exchange.Client", client.pk, reason=client.key_id)
    return client, client_secret(client)


def revoke_client(*, client: Client, by: Any) -> Client:
    from wangge.exchange.gateway import forget_client

    _require_department(by, client.department, "停用本部门的接入凭据")
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        audit.record(by, "revoke", "exchange.Client", client.pk, reason=client.key_id)
    forget_client(client.key_id)
    return client
