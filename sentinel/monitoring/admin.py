"""Admin for the operational monitor: per-partner settings (editable), operational alerts
and minute aggregates (read-only: only the monitor writes them)."""

from __future__ import annotations

from django.contrib import admin

from sentinel.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import MinuteStat, MonitorSettings, OperationalAlert, OperationalAlertEvent


@admin.register(MonitorSettings)
class MonitorSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "partner",
        "baseline_method",
        "baseline_days",
        "sigmas",
        "min_volume",
        "info_minutes",
        "warning_minutes",
        "critical_minutes",
        "severe_minutes",
        "is_enabled",
    ]
    list_filter = ["baseline_method", "is_enabled"]
    autocomplete_fields = ["partner"]


class OperationalAlertEventInline(ReadOnlyInline):
    model = OperationalAlertEvent
    fields = ["type", "severity", "minute", "persistence_minutes", "value", "threshold"]
    readonly_fields = fields


@admin.register(OperationalAlert)
class OperationalAlertAdmin(ReadOnlyAdmin):
    """The searchable history of operational alerts (their events are append-only)."""

    list_display = [
        "opened_at",
        "partner",
        "metric",
        "severity",
        "status",
        "persistence_minutes",
        "started_minute",
        "resolved_at",
    ]
    list_filter = ["status", "severity", "metric", "partner"]
    search_fields = ["partner__name", "partner__slug", "metric"]
    date_hierarchy = "opened_at"
    list_select_related = ["partner"]
    inlines = [OperationalAlertEventInline]


@admin.register(MinuteStat)
class MinuteStatAdmin(ReadOnlyAdmin):
    list_display = ["minute", "partner", "dimension", "value", "total", "failed", "denied"]
    list_filter = ["dimension"]
    list_select_related = ["partner"]
    show_full_result_count = False  # months of minutes: no COUNT(*) per page
