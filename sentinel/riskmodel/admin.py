"""Model versions and their changes: read-only records with one action each for the four-eyes
steps (ask to put live, approve, reject) and the one-click rollback. Every step is a service
in services/governance.py; the admin only passes the user on."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html

from sentinel.admin import ReadOnlyAdmin

from . import services
from .models import ModelChange, ModelDrift, ModelVersion


def _outcome(admin_view, request, action, *, done: str) -> None:
    try:
        action()
    except (PermissionDenied, ValidationError) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        admin_view.message_user(request, message, messages.ERROR)
    else:
        admin_view.message_user(request, done, messages.SUCCESS)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "status",
        "trained_at",
        "window_start",
        "window_end",
        "train_rows",
        "train_positives",
        "pr_auc",
        "rules_pr_auc",
    ]
    list_filter = ["status"]
    exclude = ["artefact", "anomaly_artefact"]
    readonly_fields = ["report_display"]
    actions = ["request_live", "roll_back"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artefact", "anomaly_artefact")

    @admin.display(description="PR-AUC (hold-out)")
    def pr_auc(self, obj: ModelVersion):
        return (obj.report.get("model") or {}).get("pr_auc")

    @admin.display(description="rules alone")
    def rules_pr_auc(self, obj: ModelVersion):
        return (obj.report.get("rules_alone") or {}).get("pr_auc")

    @admin.display(description="report")
    def report_display(self, obj: ModelVersion):
        return format_html("<pre>{}</pre>", json.dumps(obj.report, indent=2))

    @admin.action(description="Ask for the selected version to go live (a second officer approves)")
    def request_live(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select one version.", messages.ERROR)
            return
        version = queryset.first()
        _outcome(
            self,
            request,
            lambda: services.model_live_request(version=version, actor=request.user),
            done=f"Model v{version.number} awaits a second officer's approval.",
        )

    @admin.action(description="Roll back the live model to the one before it")
    def roll_back(self, request, queryset):
        _outcome(
            self,
            request,
            lambda: services.model_rollback(actor=request.user),
            done="Rolled back: the version live before it is live again (or none).",
        )


@admin.register(ModelChange)
class ModelChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "model_version",
        "action",
        "state",
        "requested_by",
        "requested_at",
        "decided_by",
    ]
    list_filter = ["state", "action"]
    list_select_related = ["model_version", "requested_by", "decided_by"]
    actions = ["approve", "reject"]

    @admin.action(description="Approve the selected change (puts the version live)")
    def approve(self, request, queryset):
        for change in queryset:
            _outcome(
                self,
                request,
                lambda change=change: services.model_change_approve(
                    change=change, approver=request.user
                ),
                done=f"Approved: {change.model_version} is live.",
            )

    @admin.action(description="Reject the selected change")
    def reject(self, request, queryset):
        for change in queryset:
            _outcome(
                self,
                request,
                lambda change=change: services.model_change_reject(
                    change=change, approver=request.user
                ),
                done="Rejected.",
            )


@admin.register(ModelDrift)
class ModelDriftAdmin(ReadOnlyAdmin):
    list_display = ["model_version", "window_end", "decisions", "score_psi", "worst_input_psi"]
    list_select_related = ["model_version"]
