"""The compliance officer's workshop: rules, their versions and approvals, lists, back-tests.

Every change goes through rules.services; the admin only collects input and shows results.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from sentinel.admin import ReadOnlyAdmin

from . import services
from .choices import ChangeKind, ChangeState, RuleStatus
from .forms import DecisionThresholdsForm, ListEntryForm, ListEntryFormSet, RuleForm
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
from .urls import list_urlpatterns, rule_urlpatterns
from .views import change_requests_context, rule_page_context


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
        css = {"all": ["rules/admin.css"]}

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
        # A class, not a style attribute: the Content-Security-Policy refuses those.
        return format_html(
            '<strong class="rule-status rule-status-{}">{}</strong>',
            obj.status,
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

    # --- Extra pages (rules.views) --------------------------------------------------------

    def get_urls(self):
        return [*rule_urlpatterns(self.admin_site), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rule = self.get_object(request, object_id)
        if rule is not None:
            extra_context = {**(extra_context or {}), **rule_page_context(request, rule)}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(RuleChange)
class RuleChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "subject",
        "kind",
        "summary",
        "target_status",
        "state",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["state", "kind", "target_status"]
    list_select_related = ["rule", "rule_list", "version", "requested_by", "decided_by"]
    search_fields = ["rule__code", "rule_list__name", "comment", "decision_comment"]

    @admin.display(description="About")
    def subject(self, obj: RuleChange):
        """A link to the page where the request is approved or rejected."""
        if obj.kind == ChangeKind.LIST:
            url, text = (
                reverse("admin:rules_rulelist_change", args=[obj.rule_list_id]),
                obj.rule_list,
            )
        elif obj.kind == ChangeKind.THRESHOLDS:
            url, text = reverse("admin:rules_decisionthresholds_change", args=[1]), "thresholds"
        else:
            url, text = reverse("admin:rules_rule_change", args=[obj.rule_id]), obj.rule
        return format_html('<a href="{}">{}</a>', url, text)


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["rule", "number", "name", "severity", "outcome", "author", "created_at"]
    list_filter = ["severity", "outcome"]
    list_select_related = ["rule", "author"]
    search_fields = ["rule__code", "name", "expression"]


class ListEntryInline(admin.TabularInline):
    model = ListEntry
    form = ListEntryForm
    formset = ListEntryFormSet
    fields = ["value", "normalized", "note", "added_at"]
    readonly_fields = ["normalized", "added_at"]
    extra = 1
    show_change_link = False


class _PendingAware(admin.ModelAdmin):
    """Saves that may only ask for a change: say so, instead of "changed successfully"."""

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and getattr(request, "rules_pending", None):
            return
        super().message_user(request, message, level, *args, **kwargs)


@admin.register(RuleList)
class RuleListAdmin(_PendingAware):
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

    def save_formset(self, request, form, formset, change):
        entries = formset.save(commit=False)
        pending = services.list_entries_edit(
            rule_list=form.instance,
            actor=request.user,
            added=[entry for entry in entries if entry.pk is None],
            noted=[entry for entry in entries if entry.pk is not None],
            removed=formset.deleted_objects,
        )
        _pending_notice(request, pending)

    def has_delete_permission(self, request, obj=None):
        return False  # rules may refer to it; empty it instead

    def get_urls(self):
        return [*list_urlpatterns(self.admin_site), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rule_list = self.get_object(request, object_id)
        if rule_list is not None:
            extra_context = {
                **(extra_context or {}),
                **change_requests_context(request, rule_list=rule_list),
                "import_url": reverse("admin:rules_rulelist_import", args=[rule_list.pk]),
                "export_url": reverse("admin:rules_rulelist_export", args=[rule_list.pk]),
            }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(DecisionThresholds)
class DecisionThresholdsAdmin(_PendingAware):
    form = DecisionThresholdsForm
    list_display = ["review_score", "block_score", "updated_at"]

    def has_add_permission(self, request):
        return not DecisionThresholds.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pending = services.decision_thresholds_update(
            review_score=obj.review_score, block_score=obj.block_score, actor=request.user
        )
        _pending_notice(request, pending)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **change_requests_context(request)}
        return super().change_view(request, object_id, form_url, extra_context)


def _pending_notice(request, change: RuleChange | None) -> None:
    if change is not None and change.state == ChangeState.PENDING:
        request.rules_pending = change
        messages.warning(
            request,
            f"Requested: {change.summary}. It takes effect when another compliance officer "
            "approves it.",
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
