from typing import Any

from django import forms
from django.contrib import admin

from wangge.cases import models, rules


class CategoryForm(forms.ModelForm):
    class Meta:
        model = models.Category
        exclude: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("limit_normal", "limit_urgent", "limit_emergency", "verify_limit"):
            value = data.get(name)
            if value:
                try:
                    rules.parse_limit(value)
                except ValueError as exc:
                    self.add_error(name, str(exc))
        return data


@admin.register(models.Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ("code", "name", "kind", "group", "department_type", "default_department",
                    "limit_normal", "limit_urgent", "limit_emergency", "verify_limit", "active")
    list_filter = ("kind", "group", "department_type", "active")
    search_fields = ("code", "name", "phrases")


@admin.register(models.RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "category", "group", "area_prefix", "layer", "layer_code", "department",
                    "active")
    list_filter = ("active", "department")
    search_fields = ("area_prefix", "layer_code", "note", "category__name")
    autocomplete_fields = ("category",)


@admin.register(models.Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "area_code", "prefix", "active", "created_at")
    readonly_fields = ("key_hash", "prefix")


class EventInline(admin.TabularInline):
    model = models.CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "actor_name", "action", "from_state", "to_state", "note")
    fields = readonly_fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(models.Case)
class CaseAdmin(admin.ModelAdmin):
    # Cases change only through the workflow (services.take_step), so that every
    # step is checked, audited and on the timeline; admin shows them read-only.
    list_display = ("id", "reported_at", "channel", "category", "state", "level", "department",
                    "grid_code", "overdue")
    list_filter = ("state", "channel", "level", "overdue")
    search_fields = ("tracking_code", "description", "grid_code")
    inlines = [EventInline]

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: Any) -> bool:
        return False
