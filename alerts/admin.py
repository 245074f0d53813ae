"""Alerts in the admin: read-only; they change through the staff API and services only."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from sentinel.admin import ReadOnlyAdmin, ReadOnlyInline

from . import services
from .choices import DeliveryState
from .models import (
    Alert,
    AlertEvent,
    AlertMember,
    AlertTransaction,
    Snooze,
    SnoozedHit,
    WebhookDelivery,
    WebhookEndpoint,
)


class AlertTransactionInline(ReadOnlyInline):
    model = AlertTransaction
    fields = ["transaction", "hit", "suppressed", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transaction")


class AlertMemberInline(ReadOnlyInline):
    model = AlertMember
    fields = ["account_external_id", "role", "created_at"]
    readonly_fields = fields


class AlertEventInline(ReadOnlyInline):
    model = AlertEvent
    fields = ["created_at", "type", "actor", "parameters"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "rule",
        "partner",
        "account_external_id",
        "severity",
        "status",
        "occurrences",
        "priority",
        "last_seen_at",
    ]
    list_filter = ["status", "severity", "partner", "rule"]
    search_fields = ["account_external_id", "customer_external_id", "rule__code"]
    list_select_related = ["rule", "partner"]
    date_hierarchy = "created_at"
    inlines = [AlertMemberInline, AlertTransactionInline, AlertEventInline]


class SnoozedHitInline(ReadOnlyInline):
    model = SnoozedHit
    fields = ["transaction", "hit", "created_at"]
    readonly_fields = fields


@admin.register(Snooze)
class SnoozeAdmin(ReadOnlyAdmin):
    """Read-only audit of snoozes; they are created and lifted through the staff API."""

    list_display = [
        "id",
        "rule",
        "partner",
        "account_external_id",
        "created_by",
        "created_at",
        "ends_at",
        "lifted_at",
        "lifted_by",
    ]
    list_filter = ["partner", "rule"]
    search_fields = ["account_external_id", "rule__code", "comment"]
    list_select_related = ["rule", "partner", "created_by", "lifted_by"]
    date_hierarchy = "created_at"
    inlines = [SnoozedHitInline]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Where each partner wants its review and block decisions; signed with its API key."""

    list_display = ["partner", "url", "is_active", "updated_at"]
    list_filter = ["is_active"]
    list_select_related = ["partner"]
    search_fields = ["partner__name", "url"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Deliveries and their attempts; dead-lettered ones can be replayed."""

    list_display = [
        "id",
        "endpoint",
        "event",
        "transaction",
        "state",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["state", "event", "endpoint__partner"]
    list_select_related = ["endpoint__partner"]
    search_fields = ["transaction__external_id", "last_error"]
    date_hierarchy = "created_at"
    actions = ["replay"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Replay the selected dead-lettered deliveries")
    def replay(self, request, queryset):
        replayed = 0
        for delivery in queryset.filter(state=DeliveryState.DEAD):
            try:
                services.webhook_replay(delivery=delivery, actor=request.user)
                replayed += 1
            except (PermissionDenied, ValidationError) as error:
                self.message_user(request, str(error), messages.ERROR)
                return
        skipped = queryset.count() - replayed
        note = f" ({skipped} skipped: only dead-lettered ones replay)" if skipped else ""
        self.message_user(request, f"Replaying {replayed} deliveries{note}.", messages.SUCCESS)
