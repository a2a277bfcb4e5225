"""Proactive service: the rules that turn registry data and utility feeds into
tasks, their runs, the entitlements they check, and the water-meter feed.

A rule's row holds what an administrator may change (on/off, parameters, how
often); what the rule does lives in code (`rules.CATALOGUE`, `engine`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.proactive import rules


class Rule(models.Model):
    code = models.CharField(_("规则编码"), max_length=40, unique=True)
    name = models.CharField(_("规则名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    params = models.JSONField(_("参数"), default=dict, blank=True,
                              help_text=_("未填写的参数取默认值；各参数的含义与范围见说明"))
    every_minutes = models.PositiveIntegerField(_("运行间隔（分钟）"), default=60)
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("主动服务规则")
        verbose_name_plural = _("主动服务规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        definition = rules.CATALOGUE.get(self.code)
        if definition is None:
            raise ValidationError({"code": f"没有编码为 {self.code} 的内置规则"})
        try:
            rules.effective_params(definition, self.params)
        except rules.ParamError as exc:
            raise ValidationError({"params": str(exc)}) from exc
        if self.every_minutes < 1:
            raise ValidationError({"every_minutes": "运行间隔至少 1 分钟"})


class RuleRun(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs", verbose_name=_("规则"))
    started_at = models.DateTimeField(_("开始时间"), db_index=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+", verbose_name=_("手动运行人"))
    matched = models.PositiveIntegerField(_("命中"), default=0)
    opened = models.PositiveIntegerField(_("新建任务"), default=0)
    kept = models.PositiveIntegerField(_("已有待办"), default=0)
    closed = models.PositiveIntegerField(_("撤销任务"), default=0)
    # Matches whose task was completed within the rule's cooldown: not raised again yet.
    snoozed = models.PositiveIntegerField(_("冷却中"), default=0)
    # Matches with no grid: nobody's inbox could take them.
    ungridded = models.PositiveIntegerField(_("无网格"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("规则运行记录")
        verbose_name_plural = _("规则运行记录")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule.code} {self.started_at:%Y-%m-%d %H:%M}"


class EntitlementKind(models.TextChoices):
    ELDERLY_CARD = "elderly_card", _("老年人优待证")


class Entitlement(models.Model):
    """A benefit a person already holds; the rules ask only those without it."""

    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="entitlements",
                               verbose_name=_("人员"))
    kind = models.CharField(_("类别"), max_length=32, choices=EntitlementKind.choices)
    issued_on = models.DateField(_("办理日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("已享待遇")
        verbose_name_plural = _("已享待遇")
        constraints = [models.UniqueConstraint(fields=["person", "kind"], name="one_entitlement_per_kind")]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.kind}"


class WaterAccount(models.Model):
    """A water company's customer account (户号) and where it was placed: the
    standard address its text matched, and the house at that address."""

    account_no = models.CharField(_("用水户号"), max_length=40, unique=True)
    address = models.ForeignKey("addresses.Address", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("标准地址"))
    address_text = models.CharField(_("用水地址"), max_length=300, blank=True)
    house = models.ForeignKey("registry.House", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="water_accounts", verbose_name=_("房屋"))
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, db_index=True)
    # Why the account has no house (or how it got one); shown on the import result.
    match_note = models.CharField(_("匹配说明"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("用水户")
        verbose_name_plural = _("用水户")
        ordering = ["account_no"]

    def __str__(self) -> str:
        return self.account_no


class WaterReading(models.Model):
    """One meter reading as the file gave it: the cumulative reading, the use
    since the previous reading, or both. Use missing is derived from readings
    when the rules run (rules.derive_use), so a late file never leaves a stale
    derived value behind."""

    account = models.ForeignKey(WaterAccount, on_delete=models.CASCADE, related_name="readings")
    date = models.DateField(_("抄表日期"))
    reading = models.FloatField(_("表底数"), null=True, blank=True)
    use = models.FloatField(_("用水量（吨）"), null=True, blank=True)

    class Meta:
        verbose_name = _("抄表记录")
        verbose_name_plural = _("抄表记录")
        constraints = [models.UniqueConstraint(fields=["account", "date"], name="one_reading_per_day")]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date}"


class WaterImport(models.Model):
    file_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+", verbose_name=_("导入人"))
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    rows_ok = models.PositiveIntegerField(_("入库行"), default=0)
    rows_bad = models.PositiveIntegerField(_("错误行"), default=0)
    rows_unmatched = models.PositiveIntegerField(_("未关联房屋的行"), default=0)
    accounts_new = models.PositiveIntegerField(_("新用水户"), default=0)
    errors = models.JSONField(_("错误行"), default=list, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    # [{account_no, address_text, note}] of the accounts in this file without a house.
    unmatched = models.JSONField(_("未关联房屋的用水户"), default=list, blank=True)
    message = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("用水数据导入")
        verbose_name_plural = _("用水数据导入")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} #{self.pk}"


class FlagKind(models.TextChoices):
    ZERO = "zero", _("长期零用水")
    SPIKE = "spike", _("用水异常波动")


class WaterFlag(models.Model):
    account = models.ForeignKey(WaterAccount, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(_("类别"), max_length=16, choices=FlagKind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    evidence = models.JSONField(_("依据"), default=dict)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("用水异常")
        verbose_name_plural = _("用水异常")
        ordering = ["-period_end", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "kind", "period_end"],
                                               name="one_flag_per_period")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.kind}:{self.period_end}"

    @property
    def reason(self) -> Any:
        return self.evidence.get("reason", "")
