"""The admin's list upload: a file in one of the published formats, checked before import."""

from __future__ import annotations

from django import forms

from rules.choices import ListKind as RuleListKind
from rules.models import RuleList

from .choices import ListKind, ListSource
from .formats import ListFormatError, parse_list
from .models import ListImport, ScreeningList

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class ListUploadForm(forms.ModelForm):
    list_name = forms.CharField(max_length=100, help_text="e.g. OFAC SDN; created on first import")
    source = forms.ChoiceField(choices=ListSource.choices, label="Format")
    kind = forms.ChoiceField(choices=ListKind.choices, initial=ListKind.SANCTIONS)
    file = forms.FileField()

    class Meta:
        model = ListImport
        fields: list[str] = []

    def clean(self):
        cleaned = super().clean()
        upload, source = cleaned.get("file"), cleaned.get("source")
        if upload is None or source is None:
            return cleaned
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 200 MiB.")
        cleaned["content"] = upload.read()
        try:
            parse_list(source, cleaned["content"])
        except ListFormatError as error:
            raise forms.ValidationError(f"Nothing was imported: {error}") from None
        existing = ScreeningList.objects.filter(name=cleaned.get("list_name")).first()
        if existing and existing.source != source:
            raise forms.ValidationError(
                f"{existing.name} is imported from {existing.get_source_display()}."
            )
        if existing and existing.imports.filter(removal_state="pending").exists():
            raise forms.ValidationError(
                "An earlier import of this list has removals awaiting approval."
            )
        return cleaned


class PartyForm(forms.Form):
    """A party to screen: its name as written, and its country when known."""

    name = forms.CharField(max_length=200, strip=True)
    country = forms.RegexField(
        regex=r"^[A-Z]{2}$",
        required=False,
        max_length=2,
        error_messages={"invalid": "A country is two capital letters (ISO 3166), e.g. YE."},
    )

    def clean_country(self) -> str:
        return self.cleaned_data.get("country") or ""


class FalsePositiveForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        strip=True,
        help_text="Why this party is not the listed one (date of birth, nationality, ...).",
    )


class WatchListForm(forms.Form):
    """Which of the rule engine's name lists a true match goes on."""

    rule_list = forms.ModelChoiceField(
        queryset=RuleList.objects.filter(kind=RuleListKind.NAME),
        error_messages={"invalid_choice": "Choose one of the lists of names."},
    )
