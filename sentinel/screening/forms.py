"""The admin's list upload: a file in one of the published formats, checked before import."""

from __future__ import annotations

from django import forms

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
