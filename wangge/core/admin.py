from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.models import (
    AuditEntry,
    DeliveryStatus,
    ExportLog,
    ExportRequest,
    Notification,
    NotificationDelivery,
    TemporaryMeasure,
    TickRun,
)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, even for administrators."""

    list_display = ["seq", "at", "actor_name", "action", "object_type", "object_id", "reason"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_name", "object_id", "reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = NotificationDelivery
    extra = 0
    can_delete = False
    fields = readonly_fields = ("channel", "status", "attempts", "done_at", "detail")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """For looking into who was told what; notices are written by core.notify only."""

    list_display = ["created_at", "recipient", "kind", "title", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "key", "recipient__username", "recipient__display_name"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "kind", "title", "body", "link", "key", "created_at", "read_at"]
    exclude = ["batch"]
    inlines = [DeliveryInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "status", "attempts", "done_at", "detail"]
    list_filter = ["channel", "status"]
    list_select_related = ["notification"]
    readonly_fields = ["notification", "channel", "status", "attempts", "done_at", "detail"]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=gettext_lazy("重新发送失败的通知"))
    def retry(self, request: HttpRequest, queryset: QuerySet[NotificationDelivery]) -> None:
        # Only FAILED rows: a SENT one is never sent twice.
        n = queryset.filter(status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, done_at=None)
        self.message_user(request, _("已将 %(n)d 条重新排队，将在一分钟内发送") % {"n": n})


@admin.register(TickRun)
class TickRunAdmin(admin.ModelAdmin):
    """Read-only: the worker writes these rows (core.ticks)."""

    list_display = ["name", "last_run_at", "last_finished_at", "last_error"]
    readonly_fields = ["name", "last_run_at", "last_finished_at", "last_result", "last_error"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportRequest)
class ExportRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are decided on the /exports/ page, which audits the
    decision and tells the requester (core.exports)."""

    list_display = ["pk", "created_at", "requester", "kind", "rows", "status", "decided_by",
                    "decided_at", "expires_at"]
    list_filter = ["status", "kind"]
    search_fields = ["requester__username", "requester__display_name", "kind", "purpose"]
    list_select_related = ["requester", "decided_by"]
    readonly_fields = ["requester", "kind", "params", "rows", "purpose", "status", "decided_by",
                       "decided_at", "decision_reason", "created_at", "used_at", "expires_at"]
    exclude = ["params_key"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    """Read-only: every file that left the platform; part of the access record."""

    list_display = ["pk", "at", "user", "kind", "rows", "purpose", "approval"]
    list_filter = ["kind"]
    search_fields = ["user__username", "user__display_name", "kind", "purpose"]
    list_select_related = ["user"]
    readonly_fields = ["user", "at", "kind", "params", "rows", "fields", "purpose", "approval"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TemporaryMeasure)
class TemporaryMeasureAdmin(admin.ModelAdmin):
    """Administrators open and end measures; the core.retention tick deletes
    their data once the retention after the end has passed."""

    list_display = ["code", "name", "start", "end", "retention_days", "purged_at", "created_by"]
    list_filter = [("end", admin.EmptyFieldListFilter), ("purged_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name", "purpose"]
    readonly_fields = ["purged_at", "created_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A purged measure's data is gone; reopening it would promise data that is not there.
        if obj is not None and obj.purged_at is not None:
            return [f.name for f in obj._meta.fields if f.name != "id"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: TemporaryMeasure, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
