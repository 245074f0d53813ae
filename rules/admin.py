"""The compliance officer's workshop: rules, their versions and approvals, lists, back-tests.

Every change goes through rules.services; the admin only collects input and shows results.
"""

from __future__ import annotations

import csv
import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from sentinel.admin import ReadOnlyAdmin

from . import services
from .choices import ChangeState, RuleStatus
from .expressions import ExpressionError, compile_expression
from .forms import (
    BacktestForm,
    DecisionForm,
    ListEntryForm,
    ListImportForm,
    RuleForm,
    StatusChangeForm,
    TryForm,
)
from .models import (
    Backtest,
    Decision,
    DecisionThresholds,
    ListEntry,
    Rule,
    RuleChange,
    RuleFailure,
    RuleHit,
    RuleList,
    RuleVersion,
    TypologyLabel,
)
from .selectors import rule_hit_counts

_STATUS_COLOURS = {
    RuleStatus.DRAFT: "#6b7280",
    RuleStatus.SHADOW: "#7c3aed",
    RuleStatus.LIVE: "#15803d",
    RuleStatus.PAUSED: "#b45309",
}


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = [
        "code",
        "name",
        "status_badge",
        "version_number",
        "severity",
        "outcome",
        "hits_24h",
        "hits_7d",
        "shadow_hits_7d",
        "failures_7d",
        "pending",
    ]
    list_filter = ["status", "version__severity", "version__outcome"]
    search_fields = ["code", "version__name", "version__expression"]
    list_select_related = ["version"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "typologies"]}),
        ("What it checks", {"fields": ["expression", "transaction_types", "partners"]}),
        ("What a hit means", {"fields": ["severity", "score", "outcome", "suppression"]}),
        ("Change", {"fields": ["comment"]}),
    ]

    class Media:
        js = ["rules/expression.js"]

    def get_queryset(self, request):
        now = timezone.now()
        day, week = now - timezone.timedelta(days=1), now - timezone.timedelta(days=7)
        failures = (
            RuleFailure.objects.filter(rule=OuterRef("pk"), created_at__gte=week)
            .values("rule")
            .annotate(n=Count("pk"))
            .values("n")
        )
        pending = RuleChange.objects.filter(rule=OuterRef("pk"), state=ChangeState.PENDING)
        return (
            super()
            .get_queryset(request)
            .annotate(
                live_24h=Count("hits", filter=Q(hits__shadow=False, hits__created_at__gte=day)),
                live_7d=Count("hits", filter=Q(hits__shadow=False, hits__created_at__gte=week)),
                shadow_7d=Count("hits", filter=Q(hits__shadow=True, hits__created_at__gte=week)),
                failed_7d=Coalesce(Subquery(failures), 0),
                pending_id=Subquery(pending.values("pk")[:1]),
            )
        )

    @admin.display(description="Name", ordering="version__name")
    def name(self, obj: Rule) -> str:
        return obj.version.name if obj.version else "—"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Rule) -> str:
        return format_html(
            '<strong style="color:{}">{}</strong>',
            _STATUS_COLOURS[obj.status],
            obj.get_status_display(),
        )

    @admin.display(description="Version")
    def version_number(self, obj: Rule) -> str:
        return f"v{obj.version.number}" if obj.version else "—"

    @admin.display(description="Severity", ordering="version__severity")
    def severity(self, obj: Rule) -> str:
        return obj.version.get_severity_display() if obj.version else "—"

    @admin.display(description="Outcome", ordering="version__outcome")
    def outcome(self, obj: Rule) -> str:
        return obj.version.outcome if obj.version else "—"

    @admin.display(description="Hits 24 h", ordering="live_24h")
    def hits_24h(self, obj: Rule) -> int:
        return obj.live_24h

    @admin.display(description="Hits 7 d", ordering="live_7d")
    def hits_7d(self, obj: Rule) -> int:
        return obj.live_7d

    @admin.display(description="Shadow hits 7 d", ordering="shadow_7d")
    def shadow_hits_7d(self, obj: Rule) -> int:
        return obj.shadow_7d

    @admin.display(description="Errors 7 d", ordering="failed_7d")
    def failures_7d(self, obj: Rule) -> int:
        return obj.failed_7d

    @admin.display(description="Awaiting approval", boolean=True)
    def pending(self, obj: Rule) -> bool:
        return obj.pending_id is not None

    def has_delete_permission(self, request, obj=None):
        return False  # decisions refer to rule versions; pause a rule instead

    # --- Saving goes through the services ----------------------------------------------------

    def save_model(self, request, obj, form, change):
        content = form.version_content()
        partners = form.cleaned_data["partners"]
        comment = form.cleaned_data["comment"]
        if not change:
            rule = services.rule_create(
                code=obj.code, author=request.user, partners=partners, comment=comment, **content
            )
            obj.pk, obj.version, obj.status = rule.pk, rule.version, rule.status
            return
        if not form.content_changed():
            return
        version = services.rule_version_create(
            rule=obj, author=request.user, partners=partners, comment=comment, **content
        )
        if obj.status == RuleStatus.LIVE:
            messages.warning(
                request,
                f"Version {version.number} is saved and waits for another compliance "
                "officer's approval; the live rule is unchanged until then.",
            )

    def save_related(self, request, form, formsets, change):
        pass  # partners belong to the version, saved by the service

    def construct_change_message(self, request, form, formsets, add=False):
        return "Created the rule." if add else "Saved a new version."

    # --- Extra pages -------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("validate/", view(self.validate_view), name="rules_rule_validate"),
            path("<int:rule_id>/status/", view(self.status_view), name="rules_rule_status"),
            path(
                "change/<int:change_id>/<str:decision>/",
                view(self.decide_view),
                name="rules_rule_decide",
            ),
            path(
                "<int:rule_id>/restore/<int:version_id>/",
                view(self.restore_view),
                name="rules_rule_restore",
            ),
            path("<int:rule_id>/try/", view(self.try_view), name="rules_rule_try"),
            path("<int:rule_id>/backtest/", view(self.backtest_view), name="rules_rule_backtest"),
            path(
                "backtest/<int:backtest_id>/",
                view(self.backtest_detail_view),
                name="rules_backtest_detail",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rule = self.get_object(request, object_id)
        if rule is not None:
            extra_context = {**(extra_context or {}), **self._rule_context(request, rule)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _rule_context(self, request, rule: Rule) -> dict:
        versions = rule.versions.select_related("author", "restored_from").order_by("-number")
        return {
            "rule": rule,
            "versions": versions,
            "pending_change": rule.changes.filter(state=ChangeState.PENDING)
            .select_related("version", "requested_by")
            .first(),
            "changes": rule.changes.exclude(state=ChangeState.PENDING).select_related(
                "version", "requested_by", "decided_by"
            )[:20],
            "status_moves": _status_moves(rule),
            "backtests": Backtest.objects.filter(rule_version__rule=rule).select_related(
                "rule_version", "partner"
            )[:10],
            "can_approve": request.user.has_perm(services.APPROVE_PERMISSION),
            "hit_counts": rule_hit_counts(rule_ids=[rule.pk])[rule.pk],
        }

    def validate_view(self, request):
        """Checks an expression as the officer types (the form checks again on save)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        source = request.POST.get("expression", "")
        try:
            compiled = compile_expression(source)
        except ExpressionError as error:
            return JsonResponse(
                {"ok": False, "error": str(error), "line": error.line, "column": error.column}
            )
        try:
            services.expression_validate(source)
        except ValidationError as error:
            return JsonResponse({"ok": False, "error": _error_text(error)})
        return JsonResponse(
            {"ok": True, "aggregates": [spec.describe() for spec in compiled.aggregates]}
        )

    def status_view(self, request, rule_id: int):
        rule = get_object_or_404(Rule, pk=rule_id)
        if request.method != "POST" or not self.has_change_permission(request, rule):
            raise PermissionDenied
        form = StatusChangeForm(request.POST)
        if form.is_valid():
            try:
                change = services.rule_status_change(
                    rule=rule,
                    target_status=form.cleaned_data["target_status"],
                    actor=request.user,
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                messages.error(request, _error_text(error))
            else:
                if change.state == ChangeState.PENDING:
                    messages.warning(request, "Going live waits for another officer's approval.")
                else:
                    messages.success(request, f"The rule is now {change.target_status}.")
        return redirect("admin:rules_rule_change", rule.pk)

    def decide_view(self, request, change_id: int, decision: str):
        change = get_object_or_404(RuleChange, pk=change_id)
        if request.method != "POST":
            raise PermissionDenied
        form = DecisionForm(request.POST)
        comment = form.data.get("comment", "")
        actions = {
            "approve": lambda: services.rule_change_approve(
                change=change, approver=request.user, comment=comment
            ),
            "reject": lambda: services.rule_change_reject(
                change=change, approver=request.user, comment=comment
            ),
            "withdraw": lambda: services.rule_change_withdraw(change=change, actor=request.user),
        }
        if decision not in actions:
            raise PermissionDenied
        try:
            actions[decision]()
        except (ValidationError, PermissionDenied) as error:
            text = _error_text(error) if isinstance(error, ValidationError) else str(error)
            messages.error(request, text)
        else:
            done = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}
            messages.success(request, f"Change {done[decision]}.")
        return redirect("admin:rules_rule_change", change.rule_id)

    def restore_view(self, request, rule_id: int, version_id: int):
        rule = get_object_or_404(Rule, pk=rule_id)
        version = get_object_or_404(RuleVersion, pk=version_id, rule=rule)
        if request.method != "POST" or not self.has_change_permission(request, rule):
            raise PermissionDenied
        try:
            restored = services.rule_version_restore(
                rule=rule, version=version, author=request.user
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                f"Version {version.number} restored as version {restored.number}"
                + (" (awaiting approval)." if rule.status == RuleStatus.LIVE else "."),
            )
        return redirect("admin:rules_rule_change", rule.pk)

    def try_view(self, request, rule_id: int):
        rule = get_object_or_404(Rule.objects.select_related("version"), pk=rule_id)
        version = rule.versions.filter(pk=request.GET.get("version")).first() or rule.version
        form = TryForm(request.POST or None)
        result = error = None
        if request.method == "POST" and form.is_valid():
            try:
                result = services.rule_try(
                    version=version,
                    partner=form.cleaned_data["partner"],
                    payload=form.cleaned_data["payload"],
                )
            except ValidationError as invalid:
                error = invalid.messages
        return self._page(
            request,
            "admin/rules/rule_try.html",
            f"Try {rule.code} v{version.number}",
            rule=rule,
            version=version,
            form=form,
            result=result,
            errors=error,
        )

    def backtest_view(self, request, rule_id: int):
        rule = get_object_or_404(Rule.objects.select_related("version"), pk=rule_id)
        version = rule.versions.filter(pk=request.GET.get("version")).first() or rule.version
        form = BacktestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if not request.user.has_perm("rules.add_backtest"):
                raise PermissionDenied
            try:
                backtest = services.backtest_request(
                    version=version,
                    occurred_after=form.cleaned_data["occurred_after"],
                    occurred_before=form.cleaned_data["occurred_before"],
                    partner=form.cleaned_data["partner"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("admin:rules_backtest_detail", backtest.pk)
        return self._page(
            request,
            "admin/rules/rule_backtest.html",
            f"Back-test {rule.code} v{version.number}",
            rule=rule,
            version=version,
            form=form,
        )

    def backtest_detail_view(self, request, backtest_id: int):
        backtest = get_object_or_404(
            Backtest.objects.select_related("rule_version__rule", "partner"), pk=backtest_id
        )
        return self._page(
            request,
            "admin/rules/backtest_detail.html",
            f"Back-test #{backtest.pk}",
            backtest=backtest,
            rule=backtest.rule_version.rule,
        )

    def _page(self, request, template: str, title: str, **context):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                **context,
            },
        )


def _status_moves(rule: Rule) -> list[tuple[str, str]]:
    """Buttons for the status moves open to this rule: (target status, label)."""
    labels = {
        RuleStatus.SHADOW: "Run in shadow",
        RuleStatus.LIVE: "Request go-live",
        RuleStatus.PAUSED: "Pause",
        RuleStatus.DRAFT: "Back to draft",
    }
    allowed = {
        RuleStatus.DRAFT: [RuleStatus.SHADOW, RuleStatus.LIVE],
        RuleStatus.SHADOW: [RuleStatus.LIVE, RuleStatus.PAUSED, RuleStatus.DRAFT],
        RuleStatus.LIVE: [RuleStatus.PAUSED, RuleStatus.SHADOW],
        RuleStatus.PAUSED: [RuleStatus.LIVE, RuleStatus.SHADOW, RuleStatus.DRAFT],
    }[rule.status]
    return [(status, labels[status]) for status in allowed]


@admin.register(RuleChange)
class RuleChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "rule",
        "version",
        "target_status",
        "state",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["state", "target_status"]
    list_select_related = ["rule", "version", "requested_by", "decided_by"]
    search_fields = ["rule__code", "comment", "decision_comment"]


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["rule", "number", "name", "severity", "outcome", "author", "created_at"]
    list_filter = ["severity", "outcome"]
    list_select_related = ["rule", "author"]
    search_fields = ["rule__code", "name", "expression"]


class ListEntryInline(admin.TabularInline):
    model = ListEntry
    form = ListEntryForm
    fields = ["value", "normalized", "note", "added_at"]
    readonly_fields = ["normalized", "added_at"]
    extra = 1
    show_change_link = False


@admin.register(RuleList)
class RuleListAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "entry_count", "source", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description", "entries__value"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_total=Count("entries"))

    @admin.display(description="Entries", ordering="entry_total")
    def entry_count(self, obj: RuleList) -> int:
        return obj.entry_total

    def get_readonly_fields(self, request, obj=None):
        return ["name", "kind"] if obj else []  # entries are normalised for their kind

    def get_inlines(self, request, obj):
        return [ListEntryInline] if obj else []

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from . import engine

        engine.rules_changed()

    def has_delete_permission(self, request, obj=None):
        return False  # rules may refer to it; empty it instead

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:list_id>/import/", view(self.import_view), name="rules_rulelist_import"),
            path("<int:list_id>/export/", view(self.export_view), name="rules_rulelist_export"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "import_url": reverse("admin:rules_rulelist_import", args=[object_id]),
            "export_url": reverse("admin:rules_rulelist_export", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def import_view(self, request, list_id: int):
        rule_list = get_object_or_404(RuleList, pk=list_id)
        if not self.has_change_permission(request, rule_list):
            raise PermissionDenied
        form = ListImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                outcome = services.list_entries_import(
                    rule_list=rule_list,
                    csv_text=form.cleaned_data["file"],
                    replace=form.cleaned_data["replace"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("file", message)
            else:
                messages.success(
                    request,
                    f"Imported: {outcome.added} added, {outcome.removed} removed, "
                    f"{outcome.unchanged} already there.",
                )
                return redirect("admin:rules_rulelist_change", rule_list.pk)
        return TemplateResponse(
            request,
            "admin/rules/rulelist_import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Import entries into {rule_list.name}",
                "rule_list": rule_list,
                "form": form,
            },
        )

    def export_view(self, request, list_id: int):
        rule_list = get_object_or_404(RuleList, pk=list_id)
        if not self.has_view_permission(request, rule_list):
            raise PermissionDenied
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["value", "note"])
        for value, note in rule_list.entries.order_by("normalized").values_list("value", "note"):
            writer.writerow([value, note])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{rule_list.name}.csv"'
        return response


@admin.register(DecisionThresholds)
class DecisionThresholdsAdmin(admin.ModelAdmin):
    list_display = ["review_score", "block_score", "updated_at"]

    def has_add_permission(self, request):
        return not DecisionThresholds.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.decision_thresholds_update(
            review_score=obj.review_score, block_score=obj.block_score
        )


class RuleHitInline(admin.TabularInline):
    model = RuleHit
    fields = ["rule", "rule_version", "shadow", "severity", "score", "outcome", "explanation"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["transaction", "partner", "outcome", "score", "decided_at", "rules_failed"]
    list_filter = ["outcome", "partner"]
    list_select_related = ["transaction", "partner"]
    search_fields = ["=transaction__id", "transaction__external_id"]
    date_hierarchy = "decided_at"
    show_full_result_count = False
    inlines = [RuleHitInline]


@admin.register(RuleHit)
class RuleHitAdmin(ReadOnlyAdmin):
    list_display = ["rule", "rule_version", "shadow", "severity", "score", "created_at"]
    list_filter = ["shadow", "severity", "rule"]
    list_select_related = ["rule", "rule_version"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(RuleFailure)
class RuleFailureAdmin(ReadOnlyAdmin):
    list_display = ["rule", "rule_version", "transaction_id", "message", "created_at"]
    list_filter = ["rule"]
    list_select_related = ["rule", "rule_version"]
    show_full_result_count = False


@admin.register(Backtest)
class BacktestAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "partner", "occurred_after", "occurred_before", "state", "progress"]
    list_filter = ["state"]
    list_select_related = ["rule_version__rule", "partner"]

    @admin.display(description="Progress")
    def progress(self, obj: Backtest) -> str:
        url = reverse("admin:rules_backtest_detail", args=[obj.pk])
        return format_html('<a href="{}">{}%</a>', url, obj.progress_percent)


@admin.register(TypologyLabel)
class TypologyLabelAdmin(ReadOnlyAdmin):
    list_display = ["typology", "partner", "account_external_id", "source", "created_at"]
    list_filter = ["typology", "source", "partner"]
    search_fields = ["account_external_id"]
