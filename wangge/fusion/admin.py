from django.contrib import admin

from wangge.fusion import models


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "area_code", "tag", "max_age_days", "active", "created_at")
    list_filter = ("active",)


@admin.register(models.ResolutionRun)
class ResolutionRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "mode", "records", "clusters", "uncertain", "created", "merged", "seconds")
