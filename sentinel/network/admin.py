"""What the network searches and the window scan found, read-only in the admin: the pattern's
members and its transactions (a ring's alert names them too, docs/network.md). And the
detectors' parameters: versions drafted here, put in force under four eyes (governance)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect

from sentinel.admin import ReadOnlyAdmin

from . import governance, selectors
from .forms import ParameterVersionForm
from .models import (
    BOUNDS,
    AccountProximity,
    NetworkFinding,
    NetworkPattern,
    ParameterChange,
    ParametersInForce,
    ParameterVersion,
)
from .urls import parameter_urlpatterns


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
        "parameters",
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
        "parameters",
    )


@admin.register(ParameterVersion)
class ParameterVersionAdmin(admin.ModelAdmin):
    """Versions are drafted here (the form starts from the version in force) and never edited:
    their page shows what differs from the version in force and the four-eyes actions."""

    form = ParameterVersionForm
    list_display = ("number", "in_force", "author", "created_at", "comment")
    list_select_related = ("author",)
    fieldsets = (
        (
            "The searches from each new transfer",
            {
                "fields": (
                    "max_hops",
                    "walk_nodes",
                    "edges_per_node",
                    "round_trip_days",
                    "carried_days",
                    "fee_tolerance_percent",
                    "round_sum_multiple",
                    "everyday_sum_below",
                    "forward_share_percent",
                    "forward_hours",
                    "forward_most_percent",
                    "counterparty_days",
                    "loop_days",
                    "value_spread_percent",
                )
            },
        ),
        (
            "The window scan",
            {
                "fields": (
                    "window_days",
                    "history_days",
                    "fan_min",
                    "gather_scatter_min",
                    "scatter_gather_min",
                    "bipartite_min",
                    "bipartite_degree_max",
                    "bipartite_density_percent",
                    "ring_amount_min",
                )
            },
        ),
        (
            "Proximity to known-bad accounts",
            {"fields": ("proximity_hops", "proximity_hub_counterparties")},
        ),
        ("Why", {"fields": ("comment",)}),
    )

    def get_queryset(self, request):
        in_force = ParametersInForce.objects.filter(version=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_in_force=Exists(in_force))

    @admin.display(description="In force", boolean=True)
    def in_force(self, obj: ParameterVersion) -> bool:
        return obj.is_in_force

    def has_change_permission(self, request, obj=None):
        return False  # append-only: a new version instead

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        current = selectors.parameters_in_force()
        return current.version.values() if current else {}

    def save_model(self, request, obj, form, change):
        version = governance.parameter_version_create(
            author=request.user,
            comment=form.cleaned_data["comment"],
            **{name: form.cleaned_data[name] for name in BOUNDS},
        )
        obj.pk, obj.number = version.pk, version.number

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(
            request,
            f"Version {obj.number} is saved as a draft. Nothing changes until it is asked for "
            "below and another compliance officer approves.",
        )
        return redirect("admin:network_parameterversion_change", obj.pk)

    def get_urls(self):
        return [*parameter_urlpatterns(self.admin_site), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        if version is not None:
            extra_context = {**(extra_context or {}), **_version_page(request, version)}
        return super().change_view(request, object_id, form_url, extra_context)


def _version_page(request, version: ParameterVersion) -> dict:
    """What the version's page shows under its fields: how it differs from the version in
    force, the pending request with the actions open to this user, and the history."""
    current = selectors.parameters_in_force()
    pending = selectors.parameter_change_pending()
    refusal = None
    if pending is not None and pending.requested_by_id != request.user.pk:
        refusal = governance.parameter_change_refusal(change=pending, approver=request.user)
    theirs = current.version.values() if current else {}
    return {
        "parameter_in_force": current,
        "parameter_differences": [
            (ParameterVersion._meta.get_field(name).verbose_name, theirs.get(name), value)
            for name, value in version.values().items()
            if theirs.get(name) != value
        ],
        "rollback_to": selectors.parameter_version_before(current.version) if current else None,
        "pending_change": pending,
        "approval_refusal": refusal,
        "can_approve": request.user.has_perm(governance.APPROVE_PERMISSION),
        "can_request": request.user.has_perm(governance.REQUEST_PERMISSION),
        "changes": selectors.parameter_changes(),
        "backtests": selectors.parameter_backtests(version=version),
        "can_backtest": request.user.has_perm(governance.BACKTEST_PERMISSION),
        "history_title": "Requests for the parameters",
    }


@admin.register(ParameterChange)
class ParameterChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "summary",
        "state",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("state", "action")
    list_select_related = ("version", "requested_by", "decided_by")


@admin.register(AccountProximity)
class AccountProximityAdmin(ReadOnlyAdmin):
    """Who is near a known-bad account and through whom: what an investigator checks before
    trusting a ``network.hops_to_flagged`` hit."""

    list_display = ("account", "partner", "hops", "seed", "seed_reason", "computed_at")
    list_filter = ("partner", "hops", "seed_reason")
    search_fields = ("account", "seed")
    list_select_related = ("partner",)
    readonly_fields = (
        "partner",
        "account",
        "hops",
        "seed",
        "seed_reason",
        "seed_note",
        "path",
        "computed_at",
    )
