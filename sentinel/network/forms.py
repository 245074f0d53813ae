"""Forms of the detector parameters' admin pages: they collect input; governance writes."""

from __future__ import annotations

from django import forms

from .models import BOUNDS, ParameterVersion


class ParameterVersionForm(forms.ModelForm):
    """A new version: every parameter (prefilled with the version in force) and why."""

    class Meta:
        model = ParameterVersion
        fields = [*BOUNDS, "comment"]


class ParameterDecisionForm(forms.Form):
    """The comment beside a request, an approval, a rejection (required there: the service
    says so) or a withdrawal."""

    comment = forms.CharField(required=False, max_length=2000)
