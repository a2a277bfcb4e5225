from django.contrib import admin

from wangge.registry import models


@admin.register(models.Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "channel", "department")
    search_fields = ("code", "name")


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "org_type", "grid_code", "staff_count")
    search_fields = ("name", "credit_code")
    raw_id_fields = ("address",)


@admin.register(models.Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "source", "kind", "file_name", "status", "rows_ok", "rows_unchanged", "rows_bad",
                    "created_at")
    list_filter = ("status", "kind", "source")
    readonly_fields = ("sha256", "stored_path", "errors")


# People are read through the registry pages, which mask and audit; the admin
# lists only what identifies a record, never ID numbers or phones.
@admin.register(models.Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("pk", "grid_code", "residence_type", "updated_at")
    list_filter = ("residence_type",)
    fields = ("residence_type", "grid_code")
    readonly_fields = ("grid_code",)

    def has_add_permission(self, request: object) -> bool:
        return False
