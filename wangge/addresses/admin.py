from django.contrib import admin

from wangge.addresses.models import Address


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["code", "full_name", "level", "grid_code"]
    list_filter = ["level"]
    search_fields = ["code", "full_name", "compound"]
    raw_id_fields = ["parent"]
    readonly_fields = ["updated_at"]
