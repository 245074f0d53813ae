"""Forms of the detector parameters' admin pages: they collect input; governance writes."""

from __future__ import annotations

from django import forms

from transactions.models import PartnerBank

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


class ParameterBacktestForm(forms.Form):
    """A back-test's partner and period (the service checks the period against the graph)."""

    partner = forms.ModelChoiceField(
        queryset=PartnerBank.objects.order_by("name"),
        error_messages={"invalid_choice": "No such partner."},
    )
    occurred_after = forms.DateTimeField(help_text="UTC, e.g. 2026-11-01 00:00")
    occurred_before = forms.DateTimeField(
        help_text="UTC; at most the graph's retention (SENTINEL_NETWORK_RETENTION_DAYS) later."
    )
