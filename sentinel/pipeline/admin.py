"""Dead letters in the admin: what the pipeline set aside, why, and a retry."""

from __future__ import annotations

from django.contrib import admin, messages

from . import orchestrator
from .models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("transaction", "partner", "attempts", "last_failed_at", "resolved_at")
    list_filter = ("partner", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("transaction__external_id", "error")
    readonly_fields = (
        "transaction",
        "partner",
        "error",
        "attempts",
        "first_failed_at",
        "last_failed_at",
        "resolved_at",
    )
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry the selected transactions", permissions=["change"])
    def retry(self, request, queryset) -> None:
        ids = list(queryset.waiting().values_list("transaction_id", flat=True))
        done = orchestrator.dead_letters_retry(transaction_ids=ids)
        level = messages.SUCCESS if done == len(ids) else messages.WARNING
        self.message_user(request, f"{done} of {len(ids)} went through the pipeline.", level)
