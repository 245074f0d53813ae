"""What the network searches and the window scan found, read-only in the admin: the pattern's
members and its transactions (a ring's alert names them too, docs/network.md)."""

from __future__ import annotations

from django.contrib import admin

from sentinel.admin import ReadOnlyAdmin

from .models import NetworkFinding, NetworkPattern


@admin.register(NetworkFinding)
class NetworkFindingAdmin(ReadOnlyAdmin):
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


@admin.register(NetworkPattern)
class NetworkPatternAdmin(ReadOnlyAdmin):
    list_display = ("kind", "hub", "partner", "first_at", "last_at", "found_at")
    list_filter = ("kind", "partner")
    search_fields = ("hub", "members")
    list_select_related = ("partner",)
    readonly_fields = (
        "partner",
        "kind",
        "hub",
        "members",
        "transactions",
        "first_at",
        "last_at",
        "found_at",
        "updated_at",
    )
