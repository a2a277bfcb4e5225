from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from wangge.accounts.models import ApiToken, Department, User, UserArea


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "type", "area_code"]
    list_filter = ["type"]
    search_fields = ["code", "name"]


class UserAreaInline(admin.TabularInline):
    model = UserArea
    extra = 0


@admin.register(User)
class WanggeUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "role", "area_code", "department", "is_active",
                    "locked_until"]
    list_filter = ["role", "department", "is_active"]
    search_fields = ["username", "display_name", "area_code"]
    inlines = [UserAreaInline]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("网格权限", {"fields": ("role", "area_code", "department", "display_name", "phone")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
    list_filter = ["revoked"]
