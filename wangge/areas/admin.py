from django.contrib import admin

from wangge.areas.models import Area, Layer


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "sort"]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "layer", "households", "responsible_unit"]
    list_filter = ["layer", "level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["centroid_lon", "centroid_lat", "area_m2", "updated_at"]
