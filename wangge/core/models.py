from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit log.

    `hash` is SHA-256 over this entry's canonical form and `prev_hash`; see
    core.audit. Rows are never updated or deleted by the application.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_constraint=False,
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True, blank=True)
    fields = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_name} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """The chain's last link, one row; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class Notification(models.Model):
    """One message in one user's inbox; see core.notify.

    `key` names the occasion (say `case:12:overdue:1767225600`), and a user gets
    a key at most once, so a job that re-runs after a crash cannot repeat itself.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=40, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    key = models.CharField(_("幂等键"), max_length=200)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # The notify() call that inserted the row: bulk_create(ignore_conflicts=True)
    # cannot say which rows were new, so notify() asks for the rows carrying its
    # own token afterwards.
    batch = models.UUIDField(editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self) -> str:
        return f"{self.recipient_id} · {self.title}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    SKIPPED = "skipped", _("未发送")
    FAILED = "failed", _("发送失败")


class NotificationDelivery(models.Model):
    """A notification's trip through one external channel (sms, email).

    A sender claims the row by moving it from PENDING to SENDING in one UPDATE,
    so two processes never both send it; SENT and SKIPPED are final. A row left
    SENDING longer than WANGGE_NOTIFY_LEASE_SECONDS was claimed by a process that
    died, and is claimed again.
    """

    notification = models.ForeignKey(
        Notification, verbose_name=_("通知"), on_delete=models.CASCADE, related_name="deliveries",
    )
    channel = models.CharField(_("渠道"), max_length=20)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    detail = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"],
                                    name="delivery_once_per_channel"),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="delivery_pending")]
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")

    def __str__(self) -> str:
        return f"{self.notification_id} · {self.channel} · {self.status}"


class TickRun(models.Model):
    """When a periodic tick (core.ticks) last ran, shared by every worker process."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("上次结束"), null=True, blank=True)
    last_result = models.JSONField(_("上次结果"), null=True, blank=True)
    last_error = models.TextField(_("上次错误"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return self.name


# ---- exports (core.exports) and temporary measures (core.retention) ------------


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("已拒绝")
    USED = "used", _("已下载")
    EXPIRED = "expired", _("已过期")


class ExportRequest(models.Model):
    """Asking to export more rows than WANGGE_EXPORT_APPROVAL_ROWS; see core.exports.

    An approval covers exactly one export: the same user, `kind` and filters
    (`params_key` is the hash of the canonical `params`), at most `rows` rows,
    once, before `expires_at`.
    """

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
        related_name="export_requests",
    )
    kind = models.CharField(_("导出内容"), max_length=64)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    params_key = models.CharField(max_length=64, editable=False)
    rows = models.PositiveIntegerField(_("行数"))
    purpose = models.CharField(_("用途"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_reason = models.CharField(_("审批意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    used_at = models.DateTimeField(_("下载时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Asking again for the same export finds the open request instead
            # of queueing a second one for the approvers.
            models.UniqueConstraint(
                fields=["requester", "kind", "params_key"], condition=models.Q(status="pending"),
                name="export_request_one_pending",
            ),
        ]
        indexes = [
            models.Index(fields=["requester", "kind", "params_key", "status"],
                         name="export_request_lookup"),
            models.Index(fields=["status", "created_at"], name="export_request_queue"),
        ]
        verbose_name = _("导出申请")
        verbose_name_plural = _("导出申请")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.rows}"


class ExportLog(models.Model):
    """One file that left the platform: every export has one, approved or not.

    Kept for good: with its subjects it is part of each person's access report.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导出人"), on_delete=models.PROTECT,
        related_name="exports",
    )
    at = models.DateTimeField(_("导出时间"), default=timezone.now, db_index=True)
    kind = models.CharField(_("导出内容"), max_length=64, db_index=True)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("行数"))
    fields = models.JSONField(_("导出字段"), default=list, blank=True)
    purpose = models.CharField(_("用途"), max_length=200)
    # One-to-one: an approval is consumed by the one download it allowed.
    approval = models.OneToOneField(
        ExportRequest, verbose_name=_("审批"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="export",
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.rows}"


class ExportSubject(models.Model):
    """A person whose data was in an export (registry.Person's id; core does not
    depend on registry)."""

    export = models.ForeignKey(ExportLog, on_delete=models.CASCADE, related_name="subjects")
    person_id = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export", "person_id"], name="export_subject_once"),
        ]
        verbose_name = _("导出涉及人员")
        verbose_name_plural = _("导出涉及人员")

    def __str__(self) -> str:
        return f"{self.export_id} · {self.person_id}"


class TemporaryMeasure(models.Model):
    """A temporary measure (an epidemic campaign, say) that data is collected for.

    Data attached to it (a `measure` foreign key, see
    core.retention.register_measure_model) is deleted `retention_days` after
    `end`; while `end` is empty the measure is running and nothing is deleted.
    """

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    purpose = models.TextField(_("目的"))
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), null=True, blank=True,
                           help_text=_("措施结束后填写；留空表示仍在进行，数据不会清除。"))
    retention_days = models.PositiveIntegerField(
        _("保留天数"), default=30, help_text=_("措施结束后再保留的天数，期满自动删除相关数据。"),
    )
    purged_at = models.DateTimeField(_("清除时间"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-start", "code"]
        verbose_name = _("临时措施")
        verbose_name_plural = _("临时措施")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
