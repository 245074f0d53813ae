"""Forms of the second-factor pages and the hardened user admin."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError

from .services import user_access_check


class OtpCodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        label="Code from your authenticator app",
        error_messages={"invalid": "Enter the 6-digit code your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class StaffUserChangeForm(UserChangeForm):
    """The admin's user form, refusing on the server any change of rights the editor may not
    make (sentinel.accounts.services.user_access_check), whatever the browser sent."""

    editor = None  # set by StaffUserAdmin.get_form for each request

    def clean(self):
        cleaned = super().clean()
        if self.editor is None:
            raise ValidationError("No editor: this form is only used through the admin.")
        stored = type(self.instance).objects.get(pk=self.instance.pk) if self.instance.pk else None
        user_access_check(
            editor=self.editor,
            user=stored,
            groups=cleaned.get("groups", stored.groups.all() if stored else []),
            permissions=cleaned.get(
                "user_permissions", stored.user_permissions.all() if stored else []
            ),
            is_staff=cleaned.get("is_staff", stored.is_staff if stored else False),
            is_superuser=cleaned.get("is_superuser", stored.is_superuser if stored else False),
            is_active=cleaned.get("is_active", stored.is_active if stored else True),
        )
        return cleaned
