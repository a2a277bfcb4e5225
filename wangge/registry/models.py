"""三实: the golden records of people, households, houses and organisations, and
the source records they were built from.

A golden record is never typed in directly: every value on it was chosen from
source records (a department's file, a grid worker's form, a resident's
self-registration) and `Provenance` says which. Where sources disagree the
losing values stay as an open `Conflict`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.registry import vocab


def _choices(table: dict[str, str]) -> list[tuple[str, str]]:
    return list(table.items())


class Organisation(models.Model):
    name = models.CharField(_("单位名称"), max_length=200, db_index=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True)
    org_type = models.CharField(_("单位类型"), max_length=16, choices=_choices(vocab.ORG_TYPES), blank=True)
    address = models.ForeignKey("addresses.Address", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="organisations", verbose_name=_("地址"))
    address_text = models.CharField(_("地址原文"), max_length=300, blank=True)
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, db_index=True)
    legal_rep = models.CharField(_("法定代表人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    staff_count = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("实有单位")
        verbose_name_plural = _("实有单位")

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    former_names = models.JSONField(_("曾用名"), default=list, blank=True)
    id_number = models.CharField(_("身份证号"), max_length=18, unique=True, null=True, blank=True)
    gender = models.CharField(_("性别"), max_length=1, choices=_choices(vocab.GENDERS), blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True, db_index=True)
    phones = models.JSONField(_("电话"), default=list, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    hukou_area = models.CharField(_("户籍地"), max_length=100, blank=True)
    residence_type = models.CharField(_("人口类型"), max_length=16, blank=True,
                                      choices=_choices(vocab.RESIDENCE_TYPES))
    address = models.ForeignKey("addresses.Address", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="residents", verbose_name=_("现住址"))
    address_text = models.CharField(_("住址原文"), max_length=300, blank=True)
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, db_index=True)
    employer = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="staff", verbose_name=_("工作单位"))
    # The resolution run's cluster this golden record stands for; stable across runs.
    cluster_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("实有人口")
        verbose_name_plural = _("实有人口")

    def __str__(self) -> str:
        return self.name


class PersonTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(_("人群类别"), max_length=32, choices=_choices(vocab.TAGS), db_index=True)
    since = models.DateField(_("起始"), null=True, blank=True)
    until = models.DateField(_("截止"), null=True, blank=True)
    record = models.ForeignKey("registry.SourceRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    class Meta:
        verbose_name = _("人群标签")
        verbose_name_plural = _("人群标签")
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="one_tag_per_person")]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.tag}"


class Household(models.Model):
    key = models.CharField(_("户号"), max_length=64, unique=True)
    address = models.ForeignKey("addresses.Address", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="households", verbose_name=_("住址"))
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, db_index=True)
    head = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="headed_households", verbose_name=_("户主"))

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return self.key


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    relation = models.CharField(_("与户主关系"), max_length=16, choices=_choices(vocab.RELATIONS))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household", "person"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.person_id}"


class House(models.Model):
    address = models.OneToOneField("addresses.Address", on_delete=models.PROTECT, related_name="house",
                                   verbose_name=_("房屋地址"))
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, db_index=True)
    use = models.CharField(_("房屋用途"), max_length=16, choices=_choices(vocab.HOUSE_USES), blank=True)
    owner = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_houses", verbose_name=_("产权人"))
    owner_organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="owned_houses", verbose_name=_("产权单位"))

    class Meta:
        verbose_name = _("实有房屋")
        verbose_name_plural = _("实有房屋")

    def __str__(self) -> str:
        return str(self.address_id)


class Tenancy(models.Model):
    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="tenancies")
    tenant = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tenancies",
                               verbose_name=_("承租人"))
    start = models.DateField(_("起租日期"))
    end = models.DateField(_("到期日期"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("租赁")
        verbose_name_plural = _("租赁")
        constraints = [models.UniqueConstraint(fields=["house", "tenant", "start"], name="one_tenancy")]

    def __str__(self) -> str:
        return f"{self.house_id}:{self.tenant_id}"


class Channel(models.TextChoices):
    DEPARTMENT_FILE = "department_file", _("部门文件")
    GRID_FORM = "grid_form", _("网格员采集")
    SELF_REPORT = "self_report", _("居民自主申报")
    API = "api", _("接口")


class Source(models.Model):
    """Who supplies records: a department's file, the grid workers' forms, the
    residents' self-registration. Its trust per field drives survivorship."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    department = models.ForeignKey("accounts.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="sources", verbose_name=_("部门"))
    trust = models.JSONField(_("各字段可信度"), default=dict, blank=True,
                             help_text=_("字段→0到1的权重；未列出的字段取 default 或 0.5"))
    mappings = models.JSONField(_("列映射"), default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")

    def __str__(self) -> str:
        return self.name

    def trust_of(self, field: str) -> float:
        return float(self.trust.get(field, self.trust.get("default", 0.5)))


class RecordKind(models.TextChoices):
    PERSON = "person", _("人口")
    ORGANISATION = "organisation", _("单位")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Batch(models.Model):
    """One imported file (or one day of forms from a channel)."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(_("类别"), max_length=16, choices=RecordKind.choices)
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    stored_path = models.CharField(max_length=300, blank=True, editable=False)
    mapping = models.JSONField(_("列映射"), default=dict, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(_("状态"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    rows_ok = models.PositiveIntegerField(_("成功行"), default=0)
    rows_bad = models.PositiveIntegerField(_("错误行"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("未变化行"), default=0)
    message = models.TextField(_("说明"), blank=True)
    errors = models.JSONField(_("错误行"), default=list, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} · {self.file_name or self.pk}"


class LinkStatus(models.TextChoices):
    PENDING = "pending", _("待关联")
    LINKED = "linked", _("已关联")
    REVIEW = "review", _("待人工核对")


class SourceRecord(models.Model):
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="records")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="records")
    kind = models.CharField(max_length=16, choices=RecordKind.choices, db_index=True)
    record_key = models.CharField(_("来源记录编号"), max_length=64)
    line = models.PositiveIntegerField(_("行号"), null=True, blank=True)
    raw = models.JSONField(_("原始值"), default=dict)
    values = models.JSONField(_("规范值"), default=dict)
    warnings = models.JSONField(default=list, blank=True)
    fingerprint = models.CharField(max_length=64)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+", verbose_name=_("采集人"))
    collected_at = models.DateTimeField(_("采集时间"))
    address = models.ForeignKey("addresses.Address", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    address_candidates = models.JSONField(default=list, blank=True)
    grid_code = models.CharField(max_length=15, blank=True, db_index=True)
    # A newer version of the same record key replaces this one as evidence.
    superseded = models.BooleanField(default=False, db_index=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="records")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="records")
    link_status = models.CharField(max_length=16, choices=LinkStatus.choices, default=LinkStatus.PENDING,
                                   db_index=True)
    match_probability = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("来源记录")
        verbose_name_plural = _("来源记录")
        constraints = [models.UniqueConstraint(fields=["source", "record_key", "fingerprint"],
                                               name="one_version_per_record")]
        indexes = [models.Index(fields=["source", "record_key"])]

    def __str__(self) -> str:
        return f"{self.source.code}:{self.record_key}"


class Provenance(models.Model):
    """Which source record gave a value, and whether the golden record took it."""

    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="provenance")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="provenance")
    field = models.CharField(max_length=32)
    value = models.TextField()
    record = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    observed_at = models.DateTimeField()
    chosen = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["person", "field"]), models.Index(fields=["organisation", "field"])]

    def __str__(self) -> str:
        return f"{self.field}={self.value}"


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已处理")


class Conflict(models.Model):
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="conflicts")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="conflicts")
    field = models.CharField(_("字段"), max_length=32)
    values = models.JSONField(_("各来源取值"), default=list)
    status = models.CharField(max_length=16, choices=ConflictStatus.choices, default=ConflictStatus.OPEN,
                              db_index=True)
    chosen = models.TextField(_("采用值"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("数据冲突")
        verbose_name_plural = _("数据冲突")
        constraints = [
            models.UniqueConstraint(fields=["person", "field"], name="one_conflict_per_person_field"),
            models.UniqueConstraint(fields=["organisation", "field"], name="one_conflict_per_org_field"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id or self.organisation_id}:{self.field}"
