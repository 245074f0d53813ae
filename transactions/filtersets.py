"""One FilterSet per model, shared by the API and the HTML lists."""

from datetime import UTC

import django_filters
from django import forms

from .choices import TransactionStatus, TransactionType
from .models import Transaction


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 in, UTC out: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Enter a valid date/time.", code="invalid") from exc


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class TransactionFilterSet(django_filters.FilterSet):
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    account = django_filters.CharFilter(method="filter_account", label="Account id (either side)")
    type = django_filters.ChoiceFilter(choices=TransactionType.choices)
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")
    partner = django_filters.CharFilter(field_name="partner__slug", label="Partner slug (staff)")

    class Meta:
        model = Transaction
        fields = ["type", "status", "currency"]

    def filter_account(self, queryset, name, value):
        return queryset.involving_account(value)
