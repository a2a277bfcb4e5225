from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Department, DepartmentType


def case_code(reported_at: datetime | None, pk: int | None) -> str:
    return f"{reported_at:%Y%m%d}{pk:06d}" if reported_at and pk else ""


def pk_from_code(code: str) -> int | None:
    code = code.strip()
    return int(code[8:]) if len(code) > 8 and code.isdigit() else None


class Kind(models.TextChoices):
    COMPONENT = "component", _("部件")
    EVENT = "event", _("事件")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    EMERGENCY = "emergency", _("特急")


class Category(models.Model):
    """A catalog item (小类) with its group (大类). Limits are written "3d"
    (working days) or "4h" (working hours), per urgency."""

    code = models.CharField(_("编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    group = models.CharField(_("大类"), max_length=30)
    department_type = models.CharField(_("默认处置部门类型"), max_length=32,
                                       choices=DepartmentType.choices, blank=True)
    default_department = models.ForeignKey(
        Department, verbose_name=_("默认处置部门"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+")
    limit_normal = models.CharField(_("一般时限"), max_length=8, default="5d")
    limit_urgent = models.CharField(_("紧急时限"), max_length=8, default="1d")
    limit_emergency = models.CharField(_("特急时限"), max_length=8, default="4h")
    verify_limit = models.CharField(_("核查时限"), max_length=8, default="1d")
    phrases = models.TextField(_("示例描述（每行一条）"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")

    def __str__(self) -> str:
        return f"{self.code} {self.group}/{self.name}"

    def limit_for(self, urgency: str) -> str:
        return {"urgent": self.limit_urgent, "emergency": self.limit_emergency}.get(
            urgency, self.limit_normal)

    @property
    def phrase_list(self) -> list[str]:
        return [p.strip() for p in self.phrases.splitlines() if p.strip()]


class RoutingRule(models.Model):
    """Which department handles a category in an area. Blank category means
    every category; blank area prefix means everywhere; a layer grid narrows
    to one grid of a specialised layer (a police beat, a river section)."""

    category = models.ForeignKey(Category, verbose_name=_("类别"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="rules")
    group = models.CharField(_("大类"), max_length=30, blank=True,
                             help_text=_("不选类别时，可按大类匹配"))
    area_prefix = models.CharField(_("区域编码前缀"), max_length=15, blank=True, db_index=True)
    layer = models.CharField(_("专业图层"), max_length=32, blank=True)
    layer_code = models.CharField(_("专业网格编码"), max_length=32, blank=True)
    department = models.ForeignKey(Department, verbose_name=_("处置部门"), on_delete=models.CASCADE,
                                   related_name="routing_rules")
    active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则")

    def __str__(self) -> str:
        what = self.category.name if self.category else (self.group or "全部类别")
        return f"{what} @ {self.area_prefix or '全部区域'} → {self.department}"


class Channel(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员上报")
    RESIDENT = "resident", _("居民随手拍")
    HOTLINE = "hotline", _("热线")
    SENSOR = "sensor", _("感知设备")
    RULE = "rule", _("数据规则")
    OPEN311 = "open311", _("Open311")


class State(models.TextChoices):
    REPORTED = "reported", _("待受理")
    REGISTERED = "registered", _("已立案")
    REJECTED = "rejected", _("不予立案")
    DISPATCHED = "dispatched", _("已派遣")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("处置中")
    HANDLED = "handled", _("已处置待核查")
    VERIFIED = "verified", _("已核查")
    CLOSED = "closed", _("已结案")
    SUSPENDED = "suspended", _("已挂起")
    CANCELLED = "cancelled", _("已撤销")


class Level(models.TextChoices):
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DISTRICT = "district", _("区")
    CITY = "city", _("市")


class Case(models.Model):
    # The resident's key to status and rating: random, so codes cannot be walked.
    tracking_code = models.CharField(_("查询码"), max_length=16, unique=True)
    channel = models.CharField(_("来源"), max_length=16, choices=Channel.choices)
    description = models.TextField(_("描述"))
    address_text = models.CharField(_("地址描述"), max_length=200, blank=True)
    category = models.ForeignKey(Category, verbose_name=_("类别"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="cases")
    category_confidence = models.FloatField(_("分类置信度"), null=True, blank=True)
    # The classifier's top guesses [[code, confidence], …], kept for the operator.
    suggestions = models.JSONField(default=list, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    grid_code = models.CharField(_("网格"), max_length=15, blank=True, db_index=True)
    # What scope filtering uses: the grid, or for a point outside every grid the
    # district of the nearest one, so the district's centre sees it.
    area_code = models.CharField(_("区域"), max_length=15, db_index=True)
    outside = models.BooleanField(_("不在网格内"), default=False)
    layers = models.JSONField(_("专业网格"), default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.REPORTED, db_index=True)
    level = models.CharField(_("处置层级"), max_length=16, choices=Level.choices,
                             default=Level.DISTRICT)
    department = models.ForeignKey(Department, verbose_name=_("处置部门"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="cases")
    routed_by = models.CharField(_("派遣依据"), max_length=200, blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上报人"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="reported_cases")
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    device = models.ForeignKey("Device", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="cases")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="duplicates")
    # A report of the same category close by in place and time, offered to the
    # centre to merge; the case waits for the centre until it decides.
    possible_duplicate = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+")
    # Hash of the reporting client's address, for the anonymous rate limit.
    client = models.CharField(max_length=64, blank=True, db_index=True)
    # Open311 clients may send their own id for the request.
    external_id = models.CharField(max_length=64, blank=True)

    reported_at = models.DateTimeField(_("上报时间"), db_index=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    handle_due = models.DateTimeField(_("处置时限"), null=True, blank=True, db_index=True)
    handle_warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    verify_due = models.DateTimeField(_("核查时限"), null=True, blank=True, db_index=True)
    verify_warn_at = models.DateTimeField(null=True, blank=True)
    overdue = models.BooleanField(_("超期"), default=False, db_index=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    verify_overdue = models.BooleanField(_("核查超期"), default=False)
    closed_on_time = models.BooleanField(null=True, blank=True)
    verified_on_time = models.BooleanField(null=True, blank=True)
    supervised = models.BooleanField(_("督办"), default=False)
    provisional_due = models.BooleanField(default=False)

    rework_count = models.PositiveIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveIntegerField(_("退回次数"), default=0)
    postpone_until = models.DateTimeField(_("申请延期至"), null=True, blank=True)
    postpone_reason = models.CharField(max_length=200, blank=True)
    # Suspension stops the clock: the working seconds left, restored on resume.
    suspended_from = models.CharField(max_length=16, blank=True)
    suspended_left = models.FloatField(null=True, blank=True)

    feedback = models.TextField(_("处置反馈"), blank=True)
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=200, blank=True)

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        indexes = [
            models.Index(fields=["state", "area_code"]),
            models.Index(fields=["department", "state"]),
            models.Index(fields=["category", "state", "reported_at"]),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        """案件编号: the report's date and the row id, so it needs no counter
        row that every intake would queue on."""
        return case_code(self.reported_at, self.pk)

    @property
    def is_open(self) -> bool:
        return self.state not in (State.CLOSED, State.REJECTED, State.CANCELLED)


class CaseEvent(models.Model):
    """One step on the case's timeline; the transition's name is the action."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("案件流转记录")
        verbose_name_plural = _("案件流转记录")

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class PhotoStage(models.TextChoices):
    REPORT = "report", _("上报")
    HANDLE = "handle", _("处置")
    VERIFY = "verify", _("核查")


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=16, choices=PhotoStage.choices)
    file = models.FileField(upload_to="cases/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} {self.file.name}"


class Device(models.Model):
    """A sensor or camera that files cases with its own key (only the hash kept)."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=32, default="camera")
    area_code = models.CharField(_("所在区域"), max_length=15, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, db_index=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("感知设备")
        verbose_name_plural = _("感知设备")

    def __str__(self) -> str:
        return self.name
