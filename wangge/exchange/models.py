"""Catalogs that departments publish, the grants that let other departments
read them, the gateway's clients and every call made through it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core.masking import Sensitivity


class ShareClass(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NONE = "none", _("不予共享")


class Frequency(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")
    IRREGULAR = "irregular", _("不定期")


class Backing(models.TextChoices):
    PERSON = "registry.person", _("实有人口")
    HOUSE = "registry.house", _("实有房屋")
    ORGANISATION = "registry.organisation", _("实有单位")
    DATASET = "dataset", _("部门上传数据集")


class CatalogStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已下线")


class Grade(models.TextChoices):
    PUBLIC = Sensitivity.PUBLIC.value, _("公开")
    INTERNAL = Sensitivity.INTERNAL.value, _("内部")
    SENSITIVE = Sensitivity.SENSITIVE.value, _("敏感")
    CORE = Sensitivity.CORE.value, _("核心")


class ItemType(models.TextChoices):
    STRING = "string", _("文本")
    INTEGER = "integer", _("整数")
    NUMBER = "number", _("数值")
    DATE = "date", _("日期")
    BOOLEAN = "boolean", _("是/否")
    AREA = "area", _("区划/网格编码")
    LIST = "list", _("列表")


class Mask(models.TextChoices):
    NONE = "none", _("不脱敏")
    NAME = "name", _("姓名（张*三）")
    ID_NUMBER = "id_number", _("身份证号（保留前6后4）")
    PHONE = "phone", _("手机号（保留前3后4）")
    TEXT = "text", _("文本（保留首尾）")
    YEAR = "year", _("日期只留年份")
    HIDE = "hide", _("完全隐藏")


class Catalog(models.Model):
    code = models.CharField(_("目录编码"), max_length=32, unique=True)
    name = models.CharField(_("目录名称"), max_length=100, db_index=True)
    description = models.TextField(_("说明"), blank=True)
    owner = models.ForeignKey("accounts.Department", verbose_name=_("提供部门"),
                              on_delete=models.PROTECT, related_name="catalogs")
    share_class = models.CharField(_("共享类型"), max_length=16, choices=ShareClass.choices)
    condition = models.CharField(_("共享条件"), max_length=300, blank=True)
    frequency = models.CharField(_("更新频率"), max_length=16, choices=Frequency.choices,
                                 default=Frequency.DAILY)
    backing = models.CharField(_("数据来源"), max_length=32, choices=Backing.choices)
    status = models.CharField(_("状态"), max_length=16, choices=CatalogStatus.choices,
                              default=CatalogStatus.DRAFT, db_index=True)
    # The items a verification must supply, all of them and nothing else (name
    # and ID number for identity); empty when the catalog offers no verification.
    verify_items = models.JSONField(_("核验项"), default=list, blank=True)
    # Items a batch comparison may be keyed on (an ID number, an address).
    compare_keys = models.JSONField(_("比对键"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    data_updated_at = models.DateTimeField(_("数据更新时间"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("数据目录")
        verbose_name_plural = _("数据目录")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CatalogItem(models.Model):
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(_("字段标识"), max_length=40)
    name = models.CharField(_("信息项名称"), max_length=60)
    type = models.CharField(_("类型"), max_length=12, choices=ItemType.choices, default=ItemType.STRING)
    sensitivity = models.CharField(_("敏感级别"), max_length=12, choices=Grade.choices,
                                   default=Grade.INTERNAL)
    mask = models.CharField(_("脱敏方式"), max_length=12, choices=Mask.choices, default=Mask.NONE)
    # A field of the registry source (see exchange.sources) or a dataset column.
    source = models.CharField(_("来源字段"), max_length=60)
    filterable = models.BooleanField(_("可作查询条件"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["catalog", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["catalog", "key"], name="item_key_per_catalog")]
        verbose_name = _("信息项")
        verbose_name_plural = _("信息项")

    def __str__(self) -> str:
        return f"{self.catalog.code}.{self.key}"


class DatasetUpload(models.Model):
    """One file a department uploaded for a dataset catalog; the rows it
    brought replace the catalog's rows, the refused lines are kept here."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="uploads")
    file_name = models.CharField(_("文件名"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    rows = models.PositiveIntegerField(_("导入行数"), default=0)
    errors = models.JSONField(_("错误行"), default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("数据集上传")
        verbose_name_plural = _("数据集上传")

    def __str__(self) -> str:
        return f"{self.catalog_id} · {self.file_name}"


class DatasetRow(models.Model):
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="dataset_rows")
    line = models.PositiveIntegerField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["catalog", "pk"]

    def __str__(self) -> str:
        return f"{self.catalog_id}:{self.line}"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    PARTIAL = "partial", _("部分批准")
    REFUSED = "refused", _("已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")


class Application(models.Model):
    catalog = models.ForeignKey(Catalog, verbose_name=_("数据目录"), on_delete=models.PROTECT,
                                related_name="applications")
    department = models.ForeignKey("accounts.Department", verbose_name=_("申请部门"),
                                   on_delete=models.PROTECT, related_name="share_applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    items = models.ManyToManyField(CatalogItem, verbose_name=_("申请信息项"), related_name="+")
    purpose = models.CharField(_("用途"), max_length=300)
    legal_basis = models.CharField(_("依据"), max_length=300)
    starts = models.DateField(_("起始日期"))
    ends = models.DateField(_("截止日期"))
    status = models.CharField(_("状态"), max_length=16, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.PENDING, db_index=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_reason = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("共享申请")
        verbose_name_plural = _("共享申请")

    def __str__(self) -> str:
        return f"{self.department} → {self.catalog.code}"


class Grant(models.Model):
    """What one department may read of one catalog, until when, masked how."""

    catalog = models.ForeignKey(Catalog, on_delete=models.PROTECT, related_name="grants")
    department = models.ForeignKey("accounts.Department", verbose_name=_("使用部门"),
                                   on_delete=models.PROTECT, related_name="grants")
    application = models.OneToOneField(Application, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="grant")
    purpose = models.CharField(_("用途"), max_length=300)
    legal_basis = models.CharField(_("依据"), max_length=300, blank=True)
    # The rows this grant reaches: area codes starting with this (the using
    # department's own area); empty for catalogs without area.
    area_code = models.CharField(_("数据范围"), max_length=15, blank=True)
    starts = models.DateField(_("起始日期"))
    ends = models.DateField(_("截止日期"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.CharField(_("撤销原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["department", "catalog"], name="grant_lookup")]
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")

    def __str__(self) -> str:
        return f"{self.department} · {self.catalog.code}"


class GrantItem(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="grant_items")
    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="+")
    masked = models.BooleanField(_("脱敏提供"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grant", "item"], name="grant_item_once")]

    def __str__(self) -> str:
        return f"{self.grant_id}.{self.item_id}"


class Client(models.Model):
    """A department's gateway credentials. The secret is never stored: it is
    derived from the server's key, the key id and the salt (exchange.signing),
    so a copy of the database does not let anyone sign requests."""

    department = models.ForeignKey("accounts.Department", verbose_name=_("部门"),
                                   on_delete=models.PROTECT, related_name="gateway_clients")
    name = models.CharField(_("系统名称"), max_length=100)
    key_id = models.CharField(_("Key"), max_length=40, unique=True)
    salt = models.CharField(max_length=64, editable=False)
    rate_per_minute = models.PositiveIntegerField(_("每分钟调用上限"), default=600)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        ordering = ["department", "name"]
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")

    def __str__(self) -> str:
        return f"{self.department} · {self.name} ({self.key_id})"


class RateWindow(models.Model):
    """Calls a client made in one minute, shared by every server process."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "minute"], name="rate_window_once")]

    def __str__(self) -> str:
        return f"{self.client_id}@{self.minute}: {self.calls}"


class Endpoint(models.TextChoices):
    QUERY = "query", _("目录查询")
    VERIFY = "verify", _("核验")
    COMPARE = "compare", _("批量比对")
    OTHER = "other", _("其他")


class CallLog(models.Model):
    """One row per gateway call, refused and failed ones included."""

    at = models.DateTimeField(_("时间"), db_index=True)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="calls", db_constraint=False)
    key_id = models.CharField(_("Key"), max_length=64, blank=True)
    department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    endpoint = models.CharField(_("接口"), max_length=12, choices=Endpoint.choices)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    catalog = models.ForeignKey(Catalog, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="calls", db_constraint=False)
    grant = models.ForeignKey(Grant, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="calls", db_constraint=False)
    items = models.JSONField(_("信息项"), default=list, blank=True)
    rows = models.PositiveIntegerField(_("返回行数"), default=0)
    purpose = models.CharField(_("用途"), max_length=300, blank=True)
    latency_ms = models.FloatField(_("耗时(ms)"), default=0)
    status = models.PositiveSmallIntegerField(_("状态码"))
    error = models.CharField(_("错误"), max_length=40, blank=True)
    # Set once the signature is verified: a second call with the same nonce is a replay.
    nonce = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL: no nonce claimed
    # The one person a verification matched (the person's access report).
    subject_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["client", "nonce"], condition=Q(nonce__isnull=False),
                                    name="call_nonce_once"),
        ]
        indexes = [
            models.Index(fields=["department", "at"], name="call_by_department"),
            models.Index(fields=["catalog", "at"], name="call_by_catalog"),
        ]
        verbose_name = _("调用日志")
        verbose_name_plural = _("调用日志")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.key_id} {self.path} {self.status}"


class CallSubject(models.Model):
    """A person whose data a query or comparison returned."""

    call = models.ForeignKey(CallLog, on_delete=models.CASCADE, related_name="subjects",
                             db_constraint=False)
    person_id = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.call_id} → {self.person_id}"
