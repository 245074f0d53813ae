"""Forms of the alert page; they validate input only, the services decide."""

from __future__ import annotations

from django import forms

from .models import (
    MAX_DISMISS_REASON,
    MAX_SNOOZE_COMMENT,
    MAX_SNOOZE_DAYS,
    MAX_VIEW_NAME,
    MAX_VIEW_QUERY,
)


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


class BulkActionForm(forms.Form):
    """The queue's bulk actions on the selected alerts; the services check each alert."""

    ACTIONS = (("acknowledge", "Acknowledge"), ("dismiss", "Dismiss"), ("snooze", "Snooze"))

    action = forms.ChoiceField(choices=ACTIONS)
    alerts = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Alerts")
    reason = forms.CharField(
        required=False,
        max_length=MAX_DISMISS_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason (to dismiss)",
    )
    days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_SNOOZE_DAYS, label="Days (to snooze)"
    )
    comment = forms.CharField(
        required=False,
        max_length=MAX_SNOOZE_COMMENT,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why (to snooze)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the services report the ones they could not act on.
        self.fields["alerts"].valid_value = _is_id

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("action")
        if action == "dismiss" and not (data.get("reason") or "").strip():
            self.add_error("reason", "A reason is required to dismiss alerts.")
        if action == "snooze":
            if not data.get("days") and "days" not in self.errors:
                self.add_error("days", "Say for how many days to snooze.")
            if not (data.get("comment") or "").strip():
                self.add_error("comment", "A comment is required: say why these hits are expected.")
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=MAX_VIEW_NAME, label="Save these filters as")
    query = forms.CharField(max_length=MAX_VIEW_QUERY, required=False)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the view a name.")
        return name


def _is_id(value) -> bool:
    """A primary key PostgreSQL can compare (a bigint), not just any string of digits."""
    text = str(value)
    return text.isdigit() and len(text) <= 18
