"""The audit page's filters: who, what model, which object, when, what happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms

from .choices import AuditAction
from .models import AuditEvent
from .triggers import AUDITED_MODELS


class AuditFilterForm(forms.Form):
    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data


class AuditEventFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        field_name="actor_username", lookup_expr="exact", label="Who (username)"
    )
    model = django_filters.ChoiceFilter(
        choices=[(label, label) for label in AUDITED_MODELS], label="What"
    )
    object_id = django_filters.CharFilter(label="Object id", max_length=64)
    action = django_filters.MultipleChoiceFilter(
        choices=AuditAction.choices, widget=forms.CheckboxSelectMultiple
    )
    since = django_filters.DateFilter(
        method="filter_since", label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="filter_until",
        label="To (UTC, inclusive)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "model", "object_id", "action", "since", "until"]
        form = AuditFilterForm

    def filter_since(self, queryset, name, value: date):
        return queryset.filter(at__gte=datetime.combine(value, time.min, tzinfo=UTC))

    def filter_until(self, queryset, name, value: date):
        end = datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)
        return queryset.filter(at__lt=end)
