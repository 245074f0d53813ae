"""Forms of the compliance officer's admin: rule versions, status moves, try-it, back-tests."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError

from transactions.choices import TransactionType
from transactions.models import PartnerBank

from . import selectors, services
from .aggregates import format_window, parse_window
from .choices import ChangeKind, RuleStatus, Typology
from .models import DecisionThresholds, ListEntry, Rule, RuleVersion

MAX_SUPPRESSION_SECONDS = 180 * 86400


def parse_duration(text: str) -> int:
    """A suppression window written like a rule's windows ('24h', '7d'), at most 180 days."""
    try:
        return parse_window(text, maximum=MAX_SUPPRESSION_SECONDS, what="suppression")
    except ValueError as error:
        raise ValidationError(str(error)) from None


class RuleForm(forms.ModelForm):
    """A rule's code plus the content of its next version; saving makes a new version."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    typologies = forms.MultipleChoiceField(
        choices=Typology.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    expression = forms.CharField(
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "cols": 100,
                "class": "vLargeTextField rule-expression",
                "spellcheck": "false",
            }
        ),
        help_text="See docs/rules.md for fields, operators and functions. Checked as you type.",
    )
    severity = forms.ChoiceField(choices=RuleVersion._meta.get_field("severity").choices)
    score = forms.IntegerField(min_value=0, max_value=1000)
    outcome = forms.ChoiceField(choices=RuleVersion._meta.get_field("outcome").choices)
    partners = forms.ModelMultipleChoiceField(
        queryset=PartnerBank.objects.order_by("name"),
        required=False,
        help_text="Leave empty to apply to every partner.",
    )
    transaction_types = forms.MultipleChoiceField(
        choices=TransactionType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty for every type.",
    )
    suppression = forms.CharField(
        initial="24h",
        help_text="Repeated hits on one subject within this time update one alert (max 180d).",
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Why this change: kept with the version and shown to the approver.",
    )

    class Meta:
        model = Rule
        fields = ["code"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = self.instance.version if self.instance.pk else None
        if version is not None:
            for name in services.VERSION_CONTENT:
                if name in self.fields:
                    self.initial.setdefault(name, getattr(version, name))
            self.initial.setdefault("partners", list(version.partners.all()))
            self.initial.setdefault("suppression", format_window(version.suppression_seconds))
        if self.instance.pk and "code" in self.fields:  # absent on a view-only page
            self.fields["code"].disabled = True

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk and selectors.change_pending(rule=self.instance) is not None:
            raise ValidationError(
                "A change to this rule is awaiting approval: it cannot be edited until that "
                "request is approved, rejected or withdrawn."
            )
        return cleaned

    def clean_expression(self) -> str:
        expression = self.cleaned_data["expression"]
        try:
            services.expression_validate(expression)
        except ValidationError as error:
            raise ValidationError(error.message_dict["expression"]) from None
        return expression

    def clean_suppression(self) -> int:
        return parse_duration(self.cleaned_data["suppression"])

    def version_content(self) -> dict:
        data = self.cleaned_data
        content = {name: data[name] for name in services.VERSION_CONTENT if name in data}
        content["suppression_seconds"] = data["suppression"]
        return content

    def content_changed(self) -> bool:
        watched = {*services.VERSION_CONTENT, "partners", "suppression"}
        return bool(watched & set(self.changed_data))


class StatusChangeForm(forms.Form):
    target_status = forms.ChoiceField(choices=RuleStatus.choices)
    comment = forms.CharField(required=False, max_length=2000)


class DecisionForm(forms.Form):
    """The approver's or rejecter's comment on a change request."""

    comment = forms.CharField(required=False, max_length=2000)


class TryForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=PartnerBank.objects.order_by("name"))
    payload = forms.CharField(
        label="Transaction JSON",
        widget=forms.Textarea(attrs={"rows": 16, "cols": 90, "spellcheck": "false"}),
        help_text="As a partner would send it (see the API documentation).",
    )

    def clean_payload(self) -> object:
        try:
            return json.loads(self.cleaned_data["payload"])
        except json.JSONDecodeError as error:
            raise ValidationError(f"Not valid JSON: {error.msg} at line {error.lineno}.") from None


class BacktestForm(forms.Form):
    occurred_after = forms.DateTimeField(help_text="UTC, e.g. 2026-11-01 00:00")
    occurred_before = forms.DateTimeField(help_text="UTC; at most 31 days after the start.")
    partner = forms.ModelChoiceField(
        queryset=PartnerBank.objects.order_by("name"), required=False, empty_label="All partners"
    )


class ListEntryForm(forms.ModelForm):
    """Stores the normalised form next to the value, refusing values the list cannot hold."""

    class Meta:
        model = ListEntry
        fields = ["value", "note"]

    def __init__(self, *args, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if self.instance.pk and "value" in self.fields:
            # A new value in place of an old one removes the old: delete it (four eyes) and add.
            self.fields["value"].disabled = True

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        kind = self.kind or self.instance.rule_list.kind
        self.instance.normalized = services.list_entry_normalize(kind=kind, value=value)
        return value


class ListEntryFormSet(forms.BaseInlineFormSet):
    """A list's entries on its admin page: deletions become one removal request."""

    def clean(self) -> None:
        super().clean()
        if selectors.change_pending(rule_list=self.instance) is None:
            return
        adding = any(form.has_changed() for form in self.extra_forms)
        if self.deleted_forms or (
            adding and selectors.list_exempting_rules(rule_list=self.instance)
        ):
            raise ValidationError(
                "A change to this list is awaiting approval: approve, reject or withdraw it "
                "before asking for another."
            )


class DecisionThresholdsForm(forms.ModelForm):
    class Meta:
        model = DecisionThresholds
        fields = ["review_score", "block_score"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if selectors.change_pending(kind=ChangeKind.THRESHOLDS) is not None:
            raise ValidationError(
                "A change to the thresholds is awaiting approval: approve, reject or withdraw "
                "it first."
            )
        return cleaned


class ListImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a value column and an optional note column.")
    replace = forms.BooleanField(
        required=False,
        help_text="Make the list exactly this file: new entries are added at once, entries not "
        "in it are removed once another compliance officer approves.",
    )
    comment = forms.CharField(
        required=False, max_length=2000, help_text="Why: shown to the approver and kept."
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > 20 * 1024 * 1024:
            raise ValidationError("The file is larger than 20 MiB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text.") from None
