"""What an administrator edits: workers and their grids, the patrol schedule,
visit frequencies and the assessment weights. Patrols, visits and tasks are
shown, not edited: they change through the services, which audit."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from wangge.registry.vocab import TAGS
from wangge.workforce import models


class AssignmentInline(admin.TabularInline):
    model = models.Assignment
    extra = 0


@admin.register(models.Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ("user", "duty", "party_member", "active", "last_at", "last_grid_code")
    list_filter = ("duty", "party_member", "active")
    search_fields = ("user__username", "user__display_name", "assignments__grid_code")
    inlines = [AssignmentInline]


@admin.register(models.PatrolSchedule)
class PatrolScheduleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "morning_start", "morning_end", "morning_minutes", "afternoon_start",
                    "afternoon_end", "afternoon_minutes", "coverage_metres", "max_speed_kmh", "outside_minutes")


class VisitPolicyForm(forms.ModelForm):
    tag = forms.ChoiceField(label="人群类别", choices=list(TAGS.items()))

    class Meta:
        model = models.VisitPolicy
        fields = ("tag", "every_days", "closed_door_alert")


@admin.register(models.VisitPolicy)
class VisitPolicyAdmin(admin.ModelAdmin):
    form = VisitPolicyForm
    list_display = ("tag", "every_days", "closed_door_alert")


@admin.register(models.AssessmentScheme)
class AssessmentSchemeAdmin(admin.ModelAdmin):
    list_display = ("__str__", "patrol", "reports", "visits", "tasks", "verify", "rating", "report_target")


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Task)
class TaskAdmin(ReadOnly):
    list_display = ("title", "kind", "grid_code", "assignee", "due_at", "status")
    list_filter = ("kind", "status")
    search_fields = ("title", "grid_code", "subject_id")


@admin.register(models.Patrol)
class PatrolAdmin(ReadOnly):
    list_display = ("worker", "started_at", "ended_at", "points", "distance_m", "inside_s", "coverage")


@admin.register(models.Visit)
class VisitAdmin(ReadOnly):
    list_display = ("household", "worker", "at", "outcome", "grid_code")
    list_filter = ("outcome",)
