"""Input of the case page and the queue: validation only; the services decide."""

from __future__ import annotations

from django import forms

from rules.choices import Typology

from .choices import Disposition
from .models import MAX_NOTE_LENGTH, Team
from .selectors import case_workers


class VersionForm(forms.Form):
    """The case version the person saw: a stale one is refused (409) rather than applied."""

    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class AssignForm(VersionForm):
    assignee = forms.ModelChoiceField(
        queryset=case_workers(), required=False, empty_label="(nobody)", label="Assign to"
    )


class TeamForm(VersionForm):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="(no team)", label="Team"
    )


class NoteForm(VersionForm):
    body = forms.CharField(
        label="Note",
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown: **bold**, _italic_, lists, links, `code`.",
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label="File", allow_empty_file=True)


class TagForm(VersionForm):
    add = forms.CharField(
        label="Add tags", required=False, max_length=500, help_text="Comma-separated."
    )
    remove = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        for name in ("add", "remove"):
            data[name] = [tag for tag in (data.get(name) or "").split(",") if tag.strip()]
        return data


class ProposeClosureForm(VersionForm):
    disposition = forms.ChoiceField(choices=Disposition.choices, label="Disposition")
    reason = forms.CharField(
        label="Reason", max_length=MAX_NOTE_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class ApproveForm(VersionForm):
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The SAR export the approver was shown (a hidden field of the page), for a SAR closure.
    sar_sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", required=False)


class SendBackForm(VersionForm):
    comment = forms.CharField(
        label="Why it goes back",
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BulkAssignForm(forms.Form):
    cases = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Cases")
    assignee = forms.ModelChoiceField(queryset=case_workers(), label="Assign to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the service reports the ones it could not assign.
        self.fields["cases"].valid_value = lambda value: str(value).isdigit()


class AlertsForm(forms.Form):
    """Alerts chosen on the alert queue, by id; the service reports the ones it cannot use."""

    alerts = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Alerts")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alerts"].valid_value = _is_id


class SarForm(VersionForm):
    indicators = forms.MultipleChoiceField(
        choices=Typology.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Indicators (typologies)",
    )
    reason = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Narrative: why the activity is suspicious",
    )
    action = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Action taken (account frozen, relationship exited ...)",
    )


def _is_id(value) -> bool:
    """A primary key PostgreSQL can compare (a bigint), not just any string of digits."""
    text = str(value)
    return text.isdigit() and len(text) <= 18
