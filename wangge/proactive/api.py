"""Proactive service API (mounted at /api/v1/proactive): the rules and their
runs, water-meter imports, accounts and flags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from wangge.proactive import selectors, services
from wangge.proactive.models import Rule, RuleRun, WaterAccount, WaterFlag, WaterImport

router = Router(tags=["proactive"])


class RunOut(Schema):
    id: int
    rule: str
    started_at: datetime
    finished_at: datetime | None
    by: str | None
    matched: int
    opened: int
    kept: int
    closed: int
    snoozed: int
    ungridded: int
    seconds: float
    error: str

    @staticmethod
    def resolve_rule(obj: RuleRun) -> str:
        return obj.rule.code

    @staticmethod
    def resolve_by(obj: RuleRun) -> str | None:
        return str(obj.by) if obj.by else None


class RuleOut(Schema):
    code: str
    name: str
    description: str
    enabled: bool
    params: dict[str, Any]
    every_minutes: int
    last_run_at: datetime | None
    last_run: RunOut | None
    open_tasks: int


class LineIssue(Schema):
    line: int
    reason: str


class UnmatchedAccount(Schema):
    account_no: str
    address_text: str
    note: str


class ImportOut(Schema):
    id: int
    file_name: str
    created_at: datetime
    by: str | None
    rows_ok: int
    rows_bad: int
    rows_unmatched: int
    accounts_new: int
    message: str
    errors: list[LineIssue]
    warnings: list[LineIssue]
    unmatched: list[UnmatchedAccount]

    @staticmethod
    def resolve_by(obj: WaterImport) -> str | None:
        return str(obj.by) if obj.by else None


class FlagOut(Schema):
    id: int
    kind: str
    kind_name: str
    account_no: str
    address: str
    grid_code: str
    period_start: date
    period_end: date
    reason: str
    evidence: dict[str, Any]
    created_at: datetime

    @staticmethod
    def resolve_kind_name(obj: WaterFlag) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_account_no(obj: WaterFlag) -> str:
        return obj.account.account_no

    @staticmethod
    def resolve_address(obj: WaterFlag) -> str:
        house = obj.account.house
        return house.address.full_name if house else obj.account.address_text

    @staticmethod
    def resolve_grid_code(obj: WaterFlag) -> str:
        return obj.account.grid_code

    @staticmethod
    def resolve_reason(obj: WaterFlag) -> str:
        return str(obj.reason)


class AccountOut(Schema):
    id: int
    account_no: str
    address_text: str
    address: str | None
    house_id: int | None
    grid_code: str
    match_note: str

    @staticmethod
    def resolve_address(obj: WaterAccount) -> str | None:
        return obj.address.full_name if obj.address else None


def rule_out(rule: Rule, last: RuleRun | None, open_tasks: int) -> dict[str, Any]:
    return {"code": rule.code, "name": rule.name, "description": rule.description, "enabled": rule.enabled,
            "params": selectors.rule_params(rule) or rule.params, "every_minutes": rule.every_minutes,
            "last_run_at": rule.last_run_at, "last_run": last, "open_tasks": open_tasks}


@router.get("/rules", response=list[RuleOut], summary="主动服务规则及最近一次运行情况",
            description="open_tasks 为本人权限范围内该规则生成、尚未办结的任务数。")
def list_rules(request: HttpRequest) -> Any:
    last = selectors.last_runs(request.user)
    open_tasks = selectors.open_tasks_by_rule(request.user)
    return [rule_out(r, last.get(r.code), open_tasks.get(r.code, 0)) for r in selectors.rules_for(request.user)]


@router.get("/rules/{code}/runs", response=list[RunOut], summary="规则的运行记录")
@paginate(LimitOffsetPagination)
def list_runs(request: HttpRequest, code: str) -> Any:
    selectors.rule_for(request.user, code)
    return selectors.runs_for(request.user, code)


@router.post("/rules/{code}/run", response=RunOut, summary="立即运行规则（区级工作人员、管理员）",
             description="重复运行不会重复生成任务：已有待办的对象保持不变，不再满足条件的待办自动撤销。")
def run_rule(request: HttpRequest, code: str) -> Any:
    return services.run_rule_now(by=request.user, code=code)


@router.post("/water/imports", response={201: ImportOut}, summary="导入抄表数据（CSV/XLSX）",
             description="列：用水户号（账号/户号/用户号/account）、用水地址（地址/address）、"
                         "抄表日期（日期/date）、表底数（读数/reading）或用水量（水量/use）。"
                         "UTF-8、GB18030 自动识别。合格行入库，错误行返回行号和原因；同一户号同一日期重复导入只会更新。")
def import_water(request: HttpRequest, file: UploadedFile = File(...)) -> Any:  # noqa: B008
    imp = services.import_water_csv(by=request.user, file_name=file.name or "water.csv", data=file.read())
    return 201, imp


@router.get("/water/imports", response=list[ImportOut], summary="用水数据导入记录")
@paginate(LimitOffsetPagination)
def list_imports(request: HttpRequest) -> Any:
    return selectors.imports_for(request.user)


@router.get("/water/imports/{import_id}", response=ImportOut, summary="一次导入的结果：错误行与未关联的用水户")
def get_import(request: HttpRequest, import_id: int) -> Any:
    return selectors.import_for(request.user, import_id)


@router.get("/water/flags", response=list[FlagOut], summary="用水异常（本人权限范围内）",
            description="kind 取 zero（长期零用水）或 spike（用水异常波动），不填为全部。")
@paginate(LimitOffsetPagination)
def list_flags(request: HttpRequest, kind: str | None = None) -> Any:
    return selectors.flags_for(request.user, kind=kind)


@router.get("/water/accounts", response=list[AccountOut], summary="用水户（本人权限范围内）",
            description="unmatched=true 只列未关联到房屋的用水户。")
@paginate(LimitOffsetPagination)
def list_accounts(request: HttpRequest, unmatched: bool | None = None) -> Any:
    return selectors.accounts_for(request.user, unmatched=unmatched)
