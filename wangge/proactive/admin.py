from typing import Any

from django.contrib import admin

from wangge.proactive import models, rules, services


@admin.register(models.Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "enabled", "every_minutes", "last_run_at")
    list_filter = ("enabled",)
    readonly_fields = ("code", "description", "defaults", "last_run_at")
    fields = ("code", "name", "description", "enabled", "params", "defaults", "every_minutes", "last_run_at")

    @admin.display(description="默认参数")
    def defaults(self, obj: models.Rule) -> str:
        definition = rules.CATALOGUE.get(obj.code)
        if definition is None:
            return ""
        return "；".join(f"{p.name}（{p.label}）= {p.default:g}，范围 {p.lo:g}–{p.hi:g}" for p in definition.params)

    def has_add_permission(self, request: Any) -> bool:
        return False  # the built-in rules are created by the migration and at run time

    def save_model(self, request: Any, obj: models.Rule, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.record_rule_change(by=request.user, rule=obj, fields=form.changed_data)


@admin.register(models.RuleRun)
class RuleRunAdmin(admin.ModelAdmin):
    list_display = ("rule", "started_at", "matched", "opened", "kept", "closed", "snoozed", "seconds", "error")
    list_filter = ("rule",)
    readonly_fields = [f.name for f in models.RuleRun._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(models.Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ("person", "kind", "issued_on", "note")
    list_filter = ("kind",)
    raw_id_fields = ("person",)

    def save_model(self, request: Any, obj: models.Entitlement, form: Any, change: bool) -> None:
        services.grant_entitlement(by=request.user, person_id=obj.person_id, kind=obj.kind,
                                   issued_on=obj.issued_on, note=obj.note)
        obj.pk = models.Entitlement.objects.get(person_id=obj.person_id, kind=obj.kind).pk


@admin.register(models.WaterAccount)
class WaterAccountAdmin(admin.ModelAdmin):
    list_display = ("account_no", "address_text", "grid_code", "house", "match_note")
    search_fields = ("account_no", "address_text")
    list_filter = (("house", admin.EmptyFieldListFilter),)
    raw_id_fields = ("address", "house")


@admin.register(models.WaterImport)
class WaterImportAdmin(admin.ModelAdmin):
    list_display = ("pk", "file_name", "by", "created_at", "rows_ok", "rows_bad", "rows_unmatched")
    readonly_fields = [f.name for f in models.WaterImport._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False
