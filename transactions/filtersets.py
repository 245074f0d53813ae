"""One FilterSet per model, shared by the API and the HTML lists."""

import django_filters

from .choices import TransactionStatus, TransactionType
from .models import Transaction


class TransactionFilterSet(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
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
