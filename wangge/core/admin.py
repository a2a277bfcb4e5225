from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.models import (
    AuditEntry,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
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
