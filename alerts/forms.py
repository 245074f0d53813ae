"""Forms of the alert page; they validate input only, the services decide."""

from __future__ import annotations

from django import forms

from .models import MAX_DISMISS_REASON, MAX_SNOOZE_COMMENT, MAX_SNOOZE_DAYS


class DismissForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_DISMISS_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this is not suspicious; kept in the alert's history.",
    )


class SnoozeForm(forms.Form):
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_SNOOZE_DAYS,
        initial=30,
        help_text=f"1 to {MAX_SNOOZE_DAYS} days.",
    )
    comment = forms.CharField(
        max_length=MAX_SNOOZE_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why these hits are expected, e.g. a verified monthly payroll.",
    )
