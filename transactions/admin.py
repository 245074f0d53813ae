"""Admin for partners, keys (secret shown once), parties and transactions (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from sentinel.admin import ReadOnlyAdmin, ReadOnlyInline

from . import keyring, services
from .forms import AccountProfileForm, ApiKeyCreateForm
from .models import (
    Account,
    AccountProfile,
    ApiKey,
    Customer,
    ExchangeRate,
    PartnerBank,
    Transaction,
    TransactionLabel,
    TransactionLabelEvent,
)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["key_id", "label", "allowed_networks", "created_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PartnerBank)
class PartnerBankAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "is_active",
        "reporting_currency",
        "rate_limit_per_minute",
        "live_keys",
        "created_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ApiKeyInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        keyring.keys_changed()  # activation and rate limits are read through the key cache

    @admin.display(description="Live keys")
    def live_keys(self, obj: PartnerBank) -> int:
        return obj.api_keys.live().count()

    def get_urls(self):
        return [
            path(
                "<int:partner_id>/create-key/",
                self.admin_site.admin_view(self.create_key_view),
                name="transactions_partnerbank_create_key",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "create_key_url": reverse(
                "admin:transactions_partnerbank_create_key", args=[object_id]
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def create_key_view(self, request, partner_id: int):
        """Create a key and show its secret on this one page; it is never shown again."""
        if not request.user.has_perm("transactions.add_apikey"):
            messages.error(request, "You may not create API keys.")
            return redirect("admin:transactions_partnerbank_change", partner_id)
        partner = get_object_or_404(PartnerBank, pk=partner_id)
        form = ApiKeyCreateForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "partner": partner,
            "form": form,
            "title": f"New API key for {partner}",
            "opts": self.model._meta,
        }
        if request.method == "POST" and form.is_valid():
            api_key, secret = services.api_key_create(
                partner=partner,
                label=form.cleaned_data["label"],
                allowed_networks=form.cleaned_data["allowed_networks"],
                created_by=request.user,
            )
            context.update(api_key=api_key, secret=secret)
            response = TemplateResponse(request, "admin/transactions/api_key_created.html", context)
            response["Cache-Control"] = "no-store"
            return response
        return TemplateResponse(request, "admin/transactions/api_key_create.html", context)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Rates by day: imported with ``manage.py import_rates``, entered or corrected here by
    compliance officers and administrators (sentinel.roles); the audit trail keeps every
    change. On the same day a rate entered here ('manual') wins over the import's."""

    list_display = ["date", "base", "quote", "rate", "source", "updated_at"]
    list_filter = ["source", "base", "quote"]
    search_fields = ["=base", "=quote"]
    date_hierarchy = "date"
    fields = ["date", "base", "quote", "rate", "source", "updated_at"]
    readonly_fields = ["updated_at"]
    show_full_result_count = False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["key_id", "partner", "label", "created_at", "revoked_at"]
    list_filter = ["partner", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["key_id", "label", "partner__name"]
    fields = [
        "key_id",
        "partner",
        "label",
        "allowed_networks",
        "created_at",
        "created_by",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = ["key_id", "partner", "created_at", "created_by", "revoked_at", "revoked_by"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are created from their partner's page, which shows the secret once

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        keyring.keys_changed()  # a new allow-list applies from the next request

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay for the audit trail

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for api_key in queryset.live():
            services.api_key_revoke(api_key=api_key, revoked_by=request.user)
            count += 1
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "name", "partner", "country", "first_seen_at", "last_seen_at"]
    list_filter = ["partner", "country"]
    search_fields = ["external_id", "name"]
    list_select_related = ["partner"]


class AccountProfileInline(admin.StackedInline):
    model = AccountProfile
    form = AccountProfileForm
    can_delete = False
    readonly_fields = [*AccountProfile.FOLDED_FIELDS, "awaiting_approval", "updated_at"]

    @admin.display(description="Awaiting approval")
    def awaiting_approval(self, profile: AccountProfile) -> str:
        pending = profile.pending_change
        if not pending:
            return "—"
        after = ", ".join(f"{name}: {value or '—'}" for name, value in pending["after"].items())
        asked = f"{profile.pending_change_at:%Y-%m-%d %H:%M} UTC"
        weakens = "; ".join(pending["weakens"])
        return (
            f"{after} (asked by {profile.pending_change_by} on {asked}; it {weakens}). "
            "Approve or reject it from the accounts list."
        )


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["external_id", "partner", "customer", "risk_rating", "created_at"]
    list_filter = ["partner", "profile__risk_rating"]
    search_fields = ["external_id", "customer__external_id", "customer__name"]
    list_select_related = ["partner", "customer", "profile"]
    readonly_fields = ["partner", "external_id", "customer", "created_at"]
    inlines = [AccountProfileInline]
    actions = ["approve_profile_changes", "reject_profile_changes"]

    @admin.action(description="Approve the selected accounts' pending profile changes")
    def approve_profile_changes(self, request, queryset):
        self._decide(request, queryset, services.account_profile_change_approve, "approved")

    @admin.action(description="Reject the selected accounts' pending profile changes")
    def reject_profile_changes(self, request, queryset):
        self._decide(request, queryset, services.account_profile_change_reject, "rejected")

    def _decide(self, request, queryset, service, verb: str) -> None:
        done = 0
        for profile in AccountProfile.objects.filter(
            account__in=queryset, pending_change__isnull=False
        ).select_related("account"):
            try:
                service(profile=profile, actor=request.user)
                done += 1
            except (PermissionDenied, ValidationError) as error:
                message = error.messages[0] if hasattr(error, "messages") else str(error)
                self.message_user(request, f"{profile.account}: {message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} pending profile change(s) {verb}.")

    @admin.display(description="Risk rating", ordering="profile__risk_rating")
    def risk_rating(self, obj: Account) -> str:
        profile = getattr(obj, "profile", None)
        return profile.get_risk_rating_display() if profile else "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_formset(self, request, form, formset, change):
        """Profile edits go through the service, which also drops the Redis copy."""
        # The admin's change message reads what formset.save() would have recorded.
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for profile_form in formset.forms:
            if profile_form.has_changed() and profile_form.instance.pk:
                data = profile_form.cleaned_data
                try:
                    stored = services.account_profile_update(
                        profile=profile_form.instance,
                        risk_rating=data["risk_rating"],
                        single_transaction_limit=data["single_transaction_limit"],
                        daily_limit=data["daily_limit"],
                        limit_currency=data["limit_currency"],
                        actor=request.user,
                    )
                except ValidationError as error:
                    self.message_user(request, error.messages[0], messages.ERROR)
                    continue
                if stored.pending_change and stored.pending_change_by_id == request.user.pk:
                    self.message_user(
                        request,
                        f"The profile change {'; '.join(stored.pending_change['weakens'])}: it "
                        "takes effect once another senior investigator or compliance officer "
                        "approves it.",
                        messages.WARNING,
                    )
                formset.changed_objects.append((profile_form.instance, profile_form.changed_data))


_LABEL_FIELDS = ["source", "outcome", "weight", "occurred_at", "reason", "actor", "reference"]


class TransactionLabelInline(ReadOnlyInline):
    """The current label from each source: what the transaction turned out to be."""

    model = TransactionLabel
    fields = readonly_fields = [*_LABEL_FIELDS, "received_at"]
    verbose_name_plural = "Labels (current, one per source)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class TransactionLabelEventInline(ReadOnlyInline):
    """Every label recorded, oldest first (append-only)."""

    model = TransactionLabelEvent
    fields = readonly_fields = ["received_at", *_LABEL_FIELDS]
    verbose_name_plural = "Label history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "partner",
        "occurred_at",
        "amount_display",
        "type",
        "status",
        "direction",
        "originator_account_id",
        "beneficiary_account_id",
    ]
    list_filter = ["partner", "type", "status", "direction", "channel"]
    search_fields = ["external_id", "originator_account_id", "beneficiary_account_id", "=id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["partner"]
    show_full_result_count = False
    inlines = [TransactionLabelInline, TransactionLabelEventInline]

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Transaction) -> str:
        from .money import format_amount

        return format_html("{} {}", format_amount(obj.amount, obj.currency), obj.currency)
