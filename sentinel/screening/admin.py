"""Screening lists in the admin: upload a file (Add list import), look at entries and diffs,
approve or reject another officer's removals."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from sentinel.admin import ReadOnlyAdmin, ReadOnlyInline

from . import services
from .forms import ListUploadForm
from .models import (
    EntryChange,
    FalsePositive,
    ListImport,
    ScreeningEntry,
    ScreeningList,
    ScreeningMatch,
)


@admin.register(ScreeningList)
class ScreeningListAdmin(ReadOnlyAdmin):
    list_display = ["name", "source", "kind", "version", "imported_at"]
    list_filter = ["source", "kind"]


@admin.register(ScreeningEntry)
class ScreeningEntryAdmin(ReadOnlyAdmin):
    list_display = ["primary_name", "screening_list", "source_id", "entry_type", "removed_at"]
    list_filter = ["screening_list", "entry_type"]
    search_fields = ["source_id", "names"]
    list_select_related = ["screening_list"]


class EntryChangeInline(ReadOnlyInline):
    model = EntryChange
    fields = ["action", "entry", "before", "after"]
    readonly_fields = fields
    raw_id_fields = ["entry"]


@admin.register(ListImport)
class ListImportAdmin(admin.ModelAdmin):
    form = ListUploadForm
    list_display = [
        "screening_list",
        "version",
        "imported_at",
        "imported_by",
        "added",
        "changed",
        "removed",
        "removal_state",
    ]
    list_filter = ["removal_state", "screening_list"]
    list_select_related = ["screening_list", "imported_by"]
    actions = ["approve_removals", "reject_removals"]

    def get_fields(self, request, obj=None):
        return ["list_name", "source", "kind", "file"] if obj is None else []

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "screening_list",
            "version",
            "file_name",
            "file_sha256",
            "imported_by",
            "added",
            "changed",
            "unchanged",
            "removed",
            "removal_state",
            "decided_by",
            "decided_at",
        ]

    def get_inlines(self, request, obj):
        return [EntryChangeInline] if obj else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """The upload goes through the import service; the saved object is its result."""
        result = services.screening_list_import(
            list_name=form.cleaned_data["list_name"],
            source=form.cleaned_data["source"],
            kind=form.cleaned_data["kind"],
            content=form.cleaned_data["content"],
            file_name=form.cleaned_data["file"].name,
            actor=request.user,
        )
        obj.__dict__.update(result.__dict__)
        messages.info(
            request,
            f"{result.added} added, {result.changed} changed, {result.unchanged} unchanged"
            + (f"; {result.removed} removals await another officer" if result.removed else ""),
        )

    def save_related(self, request, form, formsets, change):
        pass  # the import wrote its own rows

    @admin.action(description="Approve the selected imports' removals")
    def approve_removals(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected imports' removals")
    def reject_removals(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve: bool) -> None:
        for list_import in queryset:
            try:
                services.list_import_decide(
                    list_import=list_import, approver=request.user, approve=approve
                )
            except PermissionDenied as error:
                messages.error(request, f"{list_import}: {error}")
            else:
                messages.info(request, f"{list_import}: {'approved' if approve else 'rejected'}")


@admin.register(ScreeningMatch)
class ScreeningMatchAdmin(ReadOnlyAdmin):
    """Continuous screening's findings: known parties found on a list after it changed."""

    list_display = ["party_name", "party_kind", "entry", "score", "found_at"]
    list_filter = ["party_kind", "entry__screening_list"]
    list_select_related = ["entry", "entry__screening_list"]
    search_fields = ["party_name"]


@admin.register(FalsePositive)
class FalsePositiveAdmin(ReadOnlyAdmin):
    """Remembered "not this person" decisions; a second person approves them here."""

    list_display = ["party_name", "entry", "requested_by", "approved_by", "approved_at"]
    list_select_related = ["entry", "requested_by", "approved_by"]
    actions = ["approve"]

    @admin.action(description="Approve the selected false positives")
    def approve(self, request, queryset):
        for decision in queryset:
            try:
                services.false_positive_approve(decision=decision, approver=request.user)
            except (PermissionDenied, ValidationError) as error:
                messages.error(
                    request, f"{decision}: {' '.join(getattr(error, 'messages', [str(error)]))}"
                )
