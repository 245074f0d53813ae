"""Cases in the admin: teams are edited here; cases are read-only (they change through the
services only, so every change leaves its event)."""

from django.contrib import admin

from sentinel.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Case, CaseEvent, CaseSubject, SarReportingEntity, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["created_at", "type", "actor", "parameters"]
    readonly_fields = fields


class CaseSubjectInline(ReadOnlyInline):
    """The other subjects whose ring alerts joined the case (one case per ring)."""

    model = CaseSubject
    fields = ["customer_external_id", "account_external_id", "alert", "active", "created_at"]
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "partner", "customer_external_id", "status", "severity", "assignee"]
    list_filter = ["status", "severity", "team"]
    search_fields = ["customer_external_id", "account_external_id"]
    inlines = [CaseSubjectInline, CaseEventInline]


@admin.register(SarReportingEntity)
class SarReportingEntityAdmin(admin.ModelAdmin):
    """Each partner's goAML registration: without one its reports cannot be exported."""

    list_display = ["partner", "rentity_id", "swift", "country"]
    list_select_related = ["partner"]
    search_fields = ["partner__name", "swift"]
