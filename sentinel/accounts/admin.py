"""The user admin, hardened against self-escalation, and staff API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.timezone import now

from sentinel.roles import APPROVAL_PERMISSIONS

from .forms import StaffUserChangeForm
from .models import ApiToken
from .services import api_token_create, api_token_revoke, user_rights

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin with the rules of sentinel.accounts.services.user_access_check.

    The form refuses forbidden changes on the server; the fields an editor may never change
    are also shown read-only, and accounts beyond the editor's reach (a superuser, or anyone
    holding rights the editor lacks) cannot be opened for change at all, which also closes
    their password-change page.
    """

    form = StaffUserChangeForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"editor": request.user})

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            readonly += ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]
        elif not request.user.is_superuser:
            readonly += ["is_superuser"]
        return readonly

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser or obj.pk == request.user.pk:
            return True
        if obj.is_superuser:
            return False
        return user_rights(obj) <= user_rights(request.user) - APPROVAL_PERMISSIONS


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Superusers issue and revoke staff API tokens; the secret is shown once, on creation."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_changeform_initial_data(self, request):
        lifetime = timedelta(days=settings.SENTINEL_API_TOKEN_DAYS)
        return {**super().get_changeform_initial_data(request), "expires_at": now() + lifetime}

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "user", "name", "expires_at"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record of who held a token stays

    def save_model(self, request, obj, form, change):
        if change:
            return
        lifetime = obj.expires_at - obj.created_at if obj.expires_at else None
        token, secret = api_token_create(user=obj.user, name=obj.name, lifetime=lifetime)
        obj.pk, obj.digest, obj.prefix = token.pk, token.digest, token.prefix
        messages.warning(
            request,
            f"The token for {token.user} is {secret} — copy it now; it is not stored and "
            "will not be shown again.",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)
        messages.success(request, f"Revoked {queryset.count()} token(s).")
