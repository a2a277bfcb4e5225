"""What the fusion pipeline keeps besides the records themselves: human
decisions on uncertain pairs, the runs that built golden records, and the
collection campaigns and self-registrations that feed new source records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Decision(models.TextChoices):
    PENDING = "pending", _("待核对")
    SAME = "same", _("同一人，合并")
    DIFFERENT = "different", _("不是同一人")


class ReviewPair(models.Model):
    """Two source records the model could not decide on. A decision survives
    every later run: it becomes a must-link or cannot-link constraint."""

    left = models.ForeignKey("registry.SourceRecord", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("registry.SourceRecord", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField(_("匹配概率"))
    grid_code = models.CharField(max_length=15, blank=True, db_index=True)
    decision = models.CharField(_("结论"), max_length=16, choices=Decision.choices, default=Decision.PENDING,
                                db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("待核对记录对")
        verbose_name_plural = _("待核对记录对")
        constraints = [models.UniqueConstraint(fields=["left", "right"], name="one_review_per_pair")]

    def __str__(self) -> str:
        return f"{self.left_id}~{self.right_id}"


class ResolutionRun(models.Model):
    MODES = [("full", _("全量")), ("incremental", _("增量"))]
    mode = models.CharField(max_length=16, choices=MODES)
    started_at = models.DateTimeField(auto_now_add=True)
    seconds = models.FloatField(default=0)
    records = models.PositiveIntegerField(default=0)
    clusters = models.PositiveIntegerField(default=0)
    uncertain = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.mode} {self.started_at:%Y-%m-%d %H:%M}"


class Campaign(models.Model):
    """采集任务: which fields to collect, for whom, and how old a value may be
    before it is asked again."""

    name = models.CharField(_("名称"), max_length=100)
    fields = models.JSONField(_("采集字段"), default=list)
    area_code = models.CharField(_("范围"), max_length=15, db_index=True)
    tag = models.CharField(_("人群"), max_length=32, blank=True)
    max_age_days = models.PositiveIntegerField(_("过期天数"), default=365)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(_("进行中"), default=True)

    class Meta:
        verbose_name = _("采集任务")
        verbose_name_plural = _("采集任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignSubmission(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="submissions")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey("registry.SourceRecord", on_delete=models.CASCADE, related_name="+")
    grid_code = models.CharField(max_length=15, blank=True, db_index=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="one_submission_per_person")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.person_id}"


class SelfRegistrationStatus(models.TextChoices):
    PENDING = "pending", _("待网格员确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已退回")


class SelfRegistration(models.Model):
    """What a resident sent from the QR code of their house; it becomes a source
    record only when the grid worker confirms it."""

    address = models.ForeignKey("addresses.Address", on_delete=models.CASCADE, related_name="+")
    grid_code = models.CharField(max_length=15, blank=True, db_index=True)
    values = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(auto_now_add=True)
    client = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=SelfRegistrationStatus.choices,
                              default=SelfRegistrationStatus.PENDING, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    record = models.ForeignKey("registry.SourceRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    class Meta:
        verbose_name = _("居民自主申报")
        verbose_name_plural = _("居民自主申报")
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.address_id} {self.status}"
