"""What the network searches found, read-only in the admin: the pattern's members and its
transactions, until one alert and one case per ring show them to investigators."""

from __future__ import annotations

from django.contrib import admin

from .models import NetworkFinding


@admin.register(NetworkFinding)
class NetworkFindingAdmin(admin.ModelAdmin):
    list_display = (
        "transaction",
        "partner",
        "cycle_length",
        "cycle_time_ordered",
        "carried_hops",
        "chain_depth",
        "found_at",
    )
    list_filter = ("partner", "cycle_time_ordered")
    search_fields = ("transaction__external_id", "members")
    list_select_related = ("transaction", "partner")
    readonly_fields = (
        "transaction",
        "partner",
        "cycle_length",
        "cycle_days",
        "cycle_time_ordered",
        "carried_hops",
        "chain_depth",
        "members",
        "transactions",
        "found_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
