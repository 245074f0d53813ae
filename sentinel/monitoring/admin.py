"""Admin for the operational monitor: per-partner settings (editable), operational alerts
and minute aggregates (read-only: only the monitor writes them)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from sentinel.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    MinuteStat,
    MonitorSettings,
    OperationalAlert,
    OperationalAlertEvent,
    SlackDelivery,
)
from .services import operational_alert_accept


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
        "rebaseline_after_hours",
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
        "accepted_at",
    ]
    list_filter = ["status", "severity", "metric", "partner"]
    search_fields = ["partner__name", "partner__slug", "metric"]
    date_hierarchy = "opened_at"
    list_select_related = ["partner"]
    inlines = [OperationalAlertEventInline]
    actions = ["accept_as_new_normal"]

    @admin.action(description="Accept as the new normal (the baseline restarts at its start)")
    def accept_as_new_normal(self, request, queryset):
        if not request.user.has_perm("monitoring.change_operationalalert"):
            self.message_user(request, "You may not accept operational alerts.", messages.ERROR)
            return
        for alert in queryset.select_related("partner"):
            try:
                operational_alert_accept(alert=alert, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{alert}: {error.messages[0]}", messages.WARNING)
            else:
                self.message_user(request, f"{alert}: accepted as the new normal.")


@admin.register(SlackDelivery)
class SlackDeliveryAdmin(ReadOnlyAdmin):
    """Operational alerts sent to Slack: failures stay visible here with their last error."""

    list_display = ["created_at", "event", "status", "attempts", "last_error", "delivered_at"]
    list_filter = ["status"]
    list_select_related = ["event__alert__partner"]


@admin.register(MinuteStat)
class MinuteStatAdmin(ReadOnlyAdmin):
    list_display = ["minute", "partner", "dimension", "value", "total", "failed", "denied"]
    list_filter = ["dimension"]
    list_select_related = ["partner"]
    show_full_result_count = False  # months of minutes: no COUNT(*) per page
